"""Make text from the engine or Redis safe to put on the operator's terminal.

Pure string functions with no UI dependency, so feeds can clean the reasons they
publish and widgets can clean what they draw; ``resync_tui.ui.text`` adds the
Rich/Textual wrappers.

Job names, folders, substatus and job logs are written by whoever defines the jobs; a job
log is whatever the job printed. Any of them may hold escape sequences (clear screen, set
the window title, OSC 52 clipboard writes), bidi overrides that reorder what is shown,
or Rich/Textual markup. Every such string goes through ``safe_text`` (one line) or
``safe_lines`` (a log) before display, and becomes a ``Text``/``Content`` built without
markup parsing (``plain_text`` / ``plain_content``).

Public API: ``safe_text(s, max_len=DEFAULT_MAX_LEN)``, ``safe_lines(s, max_len=...)``.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "DEFAULT_MAX_LEN",
    "ELLIPSIS",
    "LOG_LINE_MAX_LEN",
    "REPLACEMENT",
    "safe_lines",
    "safe_text",
]

DEFAULT_MAX_LEN: Final = 256
"""Longest single field shown; longer strings end with an ellipsis."""
LOG_LINE_MAX_LEN: Final = 2000
ELLIPSIS: Final = "…"
REPLACEMENT: Final = "\N{REPLACEMENT CHARACTER}"
"""Shown in place of a stray control character, so the operator sees something was there."""

# Whole escape sequences are removed (their payload, e.g. an OSC title, is not shown).
_ESCAPE_SEQUENCES: Final = re.compile(
    r"""
      \x1b\[[0-?]*[\x20-/]*[@-~]?              # CSI (7-bit), possibly cut short
    | \x9b[0-?]*[\x20-/]*[@-~]?                # CSI (8-bit C1)
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC, DCS, SOS, PM, APC
    | [\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # same, 8-bit
    | \x1b[\x20-/]*[0-~]?                      # other ESC sequences (charset, keypad...)
    """,
    re.VERBOSE,
)
# Separators that would break a one-line field become a space.
_SPACES: Final = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]")
# What is left of C0/C1 controls and DEL becomes a visible replacement character;
# bidi embeddings/overrides/isolates, marks and BOM are dropped (they only reorder text).
_CONTROLS: Final = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_INVISIBLE: Final = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe_text(s: str, max_len: int = DEFAULT_MAX_LEN) -> str:
    """One printable line: no control characters, escape sequences or bidi overrides.

    Longer than ``max_len`` characters: cut, ending with an ellipsis.
    """
    if s.isascii() and s.isprintable():
        # The common case (plain job names) costs two C-level scans.
        return s if len(s) <= max_len else s[: max(max_len - 1, 0)] + ELLIPSIS
    # Bound the work on hostile megabyte strings; sequences may shorten it, so keep slack.
    if len(s) > max_len * 4 + 64:
        s = s[: max_len * 4 + 64]
    s = _ESCAPE_SEQUENCES.sub("", s)
    s = _SPACES.sub(" ", s)
    s = _CONTROLS.sub(REPLACEMENT, s)
    s = _INVISIBLE.sub("", s)
    if len(s) > max_len:
        s = s[: max(max_len - 1, 0)] + ELLIPSIS
    return s


def safe_lines(s: str, max_len: int = LOG_LINE_MAX_LEN) -> list[str]:
    """Split a text (a job log) into safe lines; tabs expanded, CRLF and lone CR handled."""
    lines = s.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A lone CR (progress bars) would return the cursor: keep the text after the last one.
    return [safe_text(line.rsplit("\r", 1)[-1].expandtabs(), max_len) for line in lines]
