"""Text from the engine or Redis, ready for widgets: sanitized and never parsed as markup.

``safe_text``/``safe_lines`` (in :mod:`resync_tui.sanitize`) strip escape sequences,
controls and bidi overrides; the wrappers here build ``Text``/``Content`` without
markup parsing, so ``[bold]`` in a job name shows literally.

Public API: ``safe_text``, ``safe_lines``, ``plain_text(s, style="", max_len=...)``,
``plain_content(s, max_len=...)``.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content

from resync_tui.sanitize import (
    DEFAULT_MAX_LEN,
    ELLIPSIS,
    LOG_LINE_MAX_LEN,
    REPLACEMENT,
    safe_lines,
    safe_text,
)

__all__ = [
    "DEFAULT_MAX_LEN",
    "ELLIPSIS",
    "LOG_LINE_MAX_LEN",
    "REPLACEMENT",
    "plain_content",
    "plain_text",
    "safe_lines",
    "safe_text",
]


def plain_text(s: str, style: str | Style = "", max_len: int = DEFAULT_MAX_LEN) -> Text:
    """A Rich ``Text`` of the sanitized string; markup like ``[bold]`` shows literally."""
    return Text(safe_text(s, max_len), style=style, no_wrap=True, end="")


def plain_content(s: str, max_len: int = DEFAULT_MAX_LEN) -> Content:
    """A Textual ``Content`` of the sanitized string, never parsed as markup."""
    return Content(safe_text(s, max_len))
