"""The job table as the terminal shows it: the cursor highlight follows the cursor, ``n``
goes to the next failure after the cursor, ``S`` and a second header click reverse."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.segment import Segment
from textual._compositor import LayoutUpdate
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.jobs_table import JobsTable

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FAILED_AT = (17, 120)
"""Indexes of the two ABEND jobs (JOB0017, JOB0120) once sorted by job name."""


def _rows(count: int = 200) -> list[JobRow]:
    rows = []
    for i in range(count):
        status = "ABEND" if i in FAILED_AT else ("EXEC" if i % 10 == 0 else "SUCC")
        rows.append(JobRow(
            job_id=f"id{i:04d}", stream=f"STREAM{i // 10:03d}", job=f"JOB{i:04d}",
            workstation=f"WS{i % 3}", folder="/PROD/", status=status,
            return_code=8 if status == "ABEND" else 0,
            started=datetime(2026, 11, 25, 11, 30, tzinfo=UTC), duration=125.0))
    return rows


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.jobs = JobsView(clock=lambda: NOW)
        self.jobs.apply(_rows())

    def compose(self) -> ComposeResult:
        yield JobsPane(self.jobs, id="pane")

    def on_mount(self) -> None:
        self.query_one(JobsTable).focus()


def _on_screen(app: App[None], table: JobsTable, line: int) -> list[Segment]:
    """The segments the terminal holds for ``line`` of the table (0 is its header).

    Read from the compositor, which reuses a widget's cached lines unless the widget
    asked for them to be repainted: a line left out of a repaint shows here as it was.
    """
    update = app.screen._compositor.render_update(full=True)
    assert isinstance(update, LayoutUpdate)
    return [segment for strip in update.strips[table.region.y + line] for segment in strip]


def _descending(table: JobsTable) -> bool:
    """Read afresh each time (a property: keys change it between two reads)."""
    return table.view.descending


def _sort_column(table: JobsTable) -> str | None:
    return table.view.sort_column


def _highlighted(app: App[None], table: JobsTable, line: int) -> bool:
    cursor = table.get_component_rich_style("jobs-table--cursor")
    first = _on_screen(app, table, line)[0]
    assert first.style is not None
    return first.style.bgcolor == cursor.bgcolor


async def test_moving_the_cursor_repaints_the_line_it_left_without_the_highlight() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(JobsTable)
        assert _highlighted(app, table, 1)
        assert not _highlighted(app, table, 4)
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert table.cursor_row == 3
        assert _highlighted(app, table, 4)
        for line in (1, 2, 3, 5):
            assert not _highlighted(app, table, line), f"line {line} still highlighted"
        await pilot.press("up")
        await pilot.pause()
        assert _highlighted(app, table, 3) and not _highlighted(app, table, 4)


async def _by_job(pilot: Pilot[None], app: _Host) -> JobsTable:
    """Sorted by job name (``s`` twice: stream, then job): JOB0000 … JOB0199."""
    await pilot.press("s", "s")
    table = app.query_one(JobsTable)
    assert _sort_column(table) == "job" and not _descending(table)
    return table


async def test_n_goes_to_the_next_failure_after_the_cursor_and_wraps() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _by_job(pilot, app)
        table.move_cursor(50)  # between the two failures
        await pilot.press("n")
        assert table.cursor_row == 120 and table.cursor_job_id == "id0120"
        await pilot.press("n")  # on a failure: the next one, not itself
        assert table.cursor_job_id == "id0017"  # wrapped past the end
        table.move_cursor(121)  # after the last failure
        await pilot.press("n")
        assert table.cursor_job_id == "id0017"
        table.move_cursor(16)  # just before the first one
        await pilot.press("n")
        assert table.cursor_job_id == "id0017"


async def test_n_after_the_cursor_in_a_reversed_sort() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _by_job(pilot, app)
        await pilot.press("S")  # job names descending: JOB0199 first, JOB0120 at 79
        assert table.view.row_at(0).job == "JOB0199"
        table.move_cursor(100)  # below JOB0120, above JOB0017 (at 182)
        await pilot.press("n")
        assert table.cursor_job_id == "id0017" and table.cursor_row == 182
        await pilot.press("n")
        assert table.cursor_job_id == "id0120" and table.cursor_row == 79


async def test_S_reverses_and_S_again_restores_the_order() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _by_job(pilot, app)
        await pilot.press("S", "home")
        await pilot.pause()
        assert _descending(table) and "Job ▼" in table.render_line(0).text
        assert [table.view.row_at(i).job for i in range(3)] == ["JOB0199", "JOB0198", "JOB0197"]
        assert "JOB0199" in table.render_line(1).text
        await pilot.press("S", "home")
        await pilot.pause()
        assert not _descending(table) and "Job ▲" in table.render_line(0).text
        assert "JOB0000" in table.render_line(1).text


async def test_a_second_click_on_the_same_header_column_reverses_the_sort() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(JobsTable)
        x = table.render_line(0).text.index("Job") + 1
        await pilot.click(JobsTable, offset=(x, 0))
        await pilot.pause()
        assert _sort_column(table) == "job" and not _descending(table)
        assert "JOB0000" in table.render_line(1).text
        await pilot.click(JobsTable, offset=(x, 0))
        await pilot.pause()
        assert _sort_column(table) == "job" and _descending(table)
        assert "Job ▼" in table.render_line(0).text
        table.move_cursor(0)
        await pilot.pause()
        assert "JOB0199" in table.render_line(1).text
        await pilot.click(JobsTable, offset=(x, 0))
        await pilot.pause()
        assert not _descending(table)
        x_stream = table.render_line(0).text.index("Stream") + 1
        await pilot.click(JobsTable, offset=(x_stream, 0))  # another column starts ascending
        await pilot.pause()
        assert _sort_column(table) == "stream" and not _descending(table)
