"""Is the terminal still there? A dropped SSH session leaves stdin at EOF or hung up.

Textual 8.2.8's input thread spins at 100% CPU on EOF forever; the app checks these
once a second and leaves cleanly instead.
"""

from __future__ import annotations

import os
import select
import sys

__all__ = ["stdin_alive", "terminal_alive"]


def stdin_alive() -> bool:
    """False when stdin is no longer a terminal, or is hung up / at EOF."""
    stream = sys.__stdin__
    if stream is None:
        return False
    try:
        return terminal_alive(stream.fileno())
    except (OSError, ValueError):
        return False


def terminal_alive(fd: int) -> bool:
    """False when ``fd`` is not a terminal or its other end hung up (dropped SSH)."""
    try:
        if not os.isatty(fd):
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL)
        for _fd, events in poller.poll(0):
            if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return False
    except (OSError, ValueError):
        return False
    return True
