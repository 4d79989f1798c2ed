"""Widgets: render state, never fetch."""
