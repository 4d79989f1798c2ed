"""Desktop notifications through the terminal: OSC 9 or OSC 777, where it is known to work.

A terminal that does not understand these sequences may print them, so they are sent
only to terminals that announce themselves as supporting one (``TERM_PROGRAM`` /
``TERM``), never to a wall screen, and never with control characters inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from resync_tui.sanitize import safe_text

__all__ = ["desktop_notification"]

#: TERM_PROGRAM values of terminals that show OSC 9 as a notification.
_OSC9_PROGRAMS: Final = frozenset({"iTerm.app", "WezTerm", "ghostty"})
#: TERM prefixes of terminals that show OSC 777 ("notify").
_OSC777_TERMS: Final = ("foot", "rxvt-unicode")


def desktop_notification(text: str, env: Mapping[str, str], *, wall: bool = False,
                         title: str = "resync-tui") -> str:
    """The escape sequence that asks this terminal for a notification, or ``""``."""
    if wall or env.get("TMUX"):  # tmux would swallow (or print) it
        return ""
    body = safe_text(text, 200).replace(";", ",")
    head = safe_text(title, 40).replace(";", ",")
    if env.get("TERM_PROGRAM", "") in _OSC9_PROGRAMS:
        return f"\x1b]9;{head}: {body}\x07"
    if env.get("TERM", "").startswith(_OSC777_TERMS):
        return f"\x1b]777;notify;{head};{body}\x07"
    return ""
