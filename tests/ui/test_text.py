"""Hostile strings from the engine or Redis must never reach the terminal as controls."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from resync_tui.ui.text import (
    DEFAULT_MAX_LEN,
    ELLIPSIS,
    plain_content,
    plain_text,
    safe_lines,
    safe_text,
)

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE = [
    "\x1b[2J\x1b]0;pwned\x07",
    "\x1b]52;c;ZXZpbA==\x1b\\",
    "\x9b31mred",
    "\x9d0;title\x9c",
    "nul\x00byte",
    "car\rriage",
    "new\nline",
    "bell\x07",
    "del\x7f",
    "\x1bPdevice control\x1b\\",
    "\x1b[31",  # a CSI cut short
    "admin\u202egnp.exe",
    "\u2066isolated\u2069",
    "x" * 10_000,
    "\x1b" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_control_character_survives(hostile: str) -> None:
    cleaned = safe_text(hostile)
    assert not _CONTROL.search(cleaned)
    assert len(cleaned) <= DEFAULT_MAX_LEN


def test_escape_sequences_are_removed_with_their_payload() -> None:
    assert safe_text("\x1b[2J\x1b]0;pwned\x07ok") == "ok"
    assert safe_text("\x1b]52;c;ZXZpbA==\x1b\\after") == "after"
    assert safe_text("\x9b31mred") == "red"


def test_stray_controls_become_visible_replacements_and_breaks_spaces() -> None:
    assert safe_text("a\x00b") == "a\ufffdb"
    assert safe_text("a\rb\nc\td") == "a b c d"


def test_bidi_override_is_dropped() -> None:
    assert safe_text("admin\u202egnp.exe") == "admingnp.exe"


def test_long_string_is_cut_with_an_ellipsis() -> None:
    cleaned = safe_text("y" * 10_000, max_len=50)
    assert len(cleaned) == 50
    assert cleaned.endswith(ELLIPSIS)


def test_ordinary_text_is_unchanged() -> None:
    for text in ("PAYROLL_DAILY", "/PROD/FINANCE/", "Überweisung Zürich", "日本語ジョブ"):
        assert safe_text(text) == text


def test_markup_is_kept_literally() -> None:
    assert plain_text("[bold red]X[/]").plain == "[bold red]X[/]"
    assert not plain_text("[bold red]X[/]").spans
    assert plain_content("[b]X[/b]").plain == "[b]X[/b]"


def test_job_log_lines_are_split_and_cleaned() -> None:
    log = "start\r\n\x1b[31merror\x1b[0m\n10%\r50%\r100%\nend\tok\n"
    assert safe_lines(log) == ["start", "error", "100%", "end     ok"]


class _HostileApp(App[None]):
    def compose(self) -> ComposeResult:
        for index, text in enumerate(HOSTILE[:8]):
            yield Static(plain_text(text), id=f"s{index}")
        yield Static(plain_text("[bold red]X[/]"), id="markup")


def _rendered(widget: Static) -> str:
    return "\n".join(strip.text for strip in widget.render_lines(widget.region.reset_offset))


async def test_hostile_strings_render_as_plain_text() -> None:
    app = _HostileApp()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        assert "[bold red]X[/]" in _rendered(app.query_one("#markup", Static))
        for index in range(8):
            assert not _CONTROL.search(_rendered(app.query_one(f"#s{index}", Static)))
        assert "pwned" not in app.export_screenshot()
