"""Feeds: one async feed per pane, fetching through the resilience core and publishing state."""
