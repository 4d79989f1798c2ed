"""NO_COLOR: what the terminal shows after Textual's monochrome filter still separates a
failed job and the cursor line from the rest (red on dark grey turns into two greys)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import Monochrome

from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.widgets._virtual_table import CursorTable
from resync_tui.ui.widgets.jobs_table import JobsTable
from tests.ui.dashboard_support import DEADLINE, make_app, ready, sim

__all__ = ["sim"]

MIN_CONTRAST = 0.6
"""Luminance apart (0..1) of text and background that reads as "different", greys only."""


def _luminance(color: RichColor | None) -> float:
    assert color is not None
    return float(Color.from_rich_color(color).brightness)


def _cells(table: JobsTable, y: int) -> list[Segment]:
    """Table line ``y`` as the terminal gets it under NO_COLOR (monochrome filter)."""
    strip = table.render_line(y)
    background = Color.from_rich_color(table.rich_style.bgcolor)
    return Monochrome().apply(list(strip), background)


def _status_cell(table: JobsTable, y: int) -> Segment:
    status = table.view.row_at(round(table.scroll_y) + y - 1).status
    return next(s for s in _cells(table, y) if s.text.split()[-1:] == [status])


def _contrast(style: Style | None) -> float:
    assert style is not None
    return abs(_luminance(style.color) - _luminance(style.bgcolor))


def _stands_out(cell: Segment, plain: Segment) -> bool:
    """Readable, and not like an ordinary cell: its own text style or its own greys."""
    style, other = cell.style, plain.style
    assert style is not None and other is not None
    own_style = (style.bold, style.reverse, style.underline) != (
        other.bold, other.reverse, other.underline)
    own_greys = (style.color, style.bgcolor) != (other.color, other.bgcolor)
    return _contrast(style) >= MIN_CONTRAST and (own_style or own_greys)


async def test_no_color_keeps_failed_status_and_cursor_in_full_contrast(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # before the App: Textual reads it in __init__
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert app.no_color
        table = app.dashboard.jobs.table
        view = table.view
        abend = next(i for i in range(len(view)) if view.row_at(i).status == "ABEND")
        cursor_at = next(i for i in range(abend + 1, len(view))
                         if view.row_at(i).status != "ABEND")
        table.move_cursor(cursor_at)
        await pilot.pause()
        assert table.scroll_y == 0 and max(abend, cursor_at) < table.page_height

        plain_cell = _cells(table, abend + 1)[0]  # the stream name: ordinary text
        assert _contrast(plain_cell.style) >= MIN_CONTRAST
        failed_cell = _status_cell(table, abend + 1)
        assert _stands_out(failed_cell, plain_cell), failed_cell.style
        cursor_cell = _status_cell(table, cursor_at + 1)
        assert _stands_out(cursor_cell, plain_cell), cursor_cell.style

        table.move_cursor(abend)  # a failed job under the cursor: both still tell
        await pilot.pause()
        both = _status_cell(table, abend + 1)
        assert _contrast(both.style) >= MIN_CONTRAST, both.style


@pytest.mark.parametrize("pane_id", ["streams", "workstations"])
async def test_no_color_keeps_every_tables_failures_and_cursor_in_full_contrast(
        pane_id: str, sim: Simulator, redis_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The streams and workstations tables had only the coloured rules: under NO_COLOR a
    failed stream or workstation, and the cursor, turned into greys near their text."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        app.dashboard.action_show_pane(pane_id)
        table: CursorTable[Any] = app.dashboard.panes[pane_id].query_one(CursorTable)

        async def drawn() -> None:
            while table.row_count() < 3 or not _failed_lines(table):
                await pilot.pause(0.05)

        await asyncio.wait_for(drawn(), DEADLINE)
        failed = _failed_lines(table)
        calm = next(y for y in range(1, min(table.row_count(), table.page_height) + 1)
                    if y not in failed)
        plain_cell = next(s for s in _line(table, calm) if s.text.strip())
        assert _contrast(plain_cell.style) >= MIN_CONTRAST
        y = failed[0]
        failed_cell = next(s for s in _line(table, y) if s.text.startswith("✖"))
        assert _stands_out(failed_cell, plain_cell), failed_cell.style
        other = next(row for row in range(1, table.row_count() + 1)
                     if row not in (calm, y) and row <= table.page_height)
        table.move_cursor(round(table.scroll_y) + other - 1)
        await pilot.pause()
        cursor_cell = next(s for s in _line(table, other) if s.text.strip())
        plain_again = next(s for s in _line(table, calm) if s.text.strip())
        assert _stands_out(cursor_cell, plain_again), cursor_cell.style


def _line(table: CursorTable[Any], y: int) -> list[Segment]:
    """Line ``y`` of any table under NO_COLOR (monochrome filter)."""
    strip = table.render_line(y)
    return Monochrome().apply(list(strip), Color.from_rich_color(table.rich_style.bgcolor))


def _failed_lines(table: CursorTable[Any]) -> list[int]:
    """Lines on screen (1: the first row below the header) with a failed mark."""
    lines = range(1, min(table.row_count(), table.size.height - 1) + 1)
    return [y for y in lines if any(s.text.startswith("✖") for s in _line(table, y))]
