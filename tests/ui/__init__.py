"""Tests of the user interface layer (widgets, screens, text safety)."""
