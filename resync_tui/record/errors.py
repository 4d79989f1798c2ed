"""The recording's error, on its own: the commands that may record catch it, and
importing it must not import the format (zstandard, every state's record type)."""

from __future__ import annotations

__all__ = ["RecordingError"]


class RecordingError(Exception):
    """The file cannot be replayed (newer format, not a recording, corrupt); the message
    says why in words an operator can act on."""
