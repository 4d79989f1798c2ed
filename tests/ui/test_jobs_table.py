"""The jobs pane as an operator uses it: keys, filter, sort, next failure, updates."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Input, Static

from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.ui.widgets._pane import changed_span
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.jobs_table import JobsTable, _changed_cells, _strip_cells
from resync_tui.ui.widgets.status_counts import StatusCounts

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _rows(count: int = 200) -> list[JobRow]:
    rows = []
    for i in range(count):
        status = "ABEND" if i in (17, 120) else ("EXEC" if i % 10 == 0 else "SUCC")
        rows.append(
            JobRow(
                job_id=f"id{i:04d}",
                stream=f"STREAM{i // 10:03d}",
                job=f"JOB{i:04d}",
                workstation=f"WS{i % 3}",
                folder="/PROD/",
                status=status,
                return_code=8 if status == "ABEND" else 0,
                started=datetime(2026, 11, 25, 11, 30, tzinfo=UTC),
                duration=125.0,
            )
        )
    return rows


class _Host(App[None]):
    def __init__(self, rows: list[JobRow]) -> None:
        super().__init__()
        self.jobs = JobsView(clock=lambda: NOW)
        self.jobs.apply(rows)
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield JobsPane(self.jobs, id="pane")

    def on_mount(self) -> None:
        self.query_one(JobsTable).focus()

    def on_jobs_table_job_selected(self, message: JobsTable.JobSelected) -> None:
        self.selected.append(message.job_id)


def _table(app: App[None]) -> JobsTable:
    return app.query_one(JobsTable)


def _line(table: JobsTable, y: int) -> str:
    return table.render_line(y).text


def _screen_lines(table: JobsTable) -> list[str]:
    return [_line(table, y) for y in range(table.scrollable_content_region.height)]


async def test_table_shows_header_and_status_symbols_at_80_columns() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = _table(app)
        header = _line(table, 0)
        for title in ("Stream", "Job", "Status", "Sub/RC", "Dur"):
            assert title in header
        # Dropped to fit 80 columns, so that stream and job names are not cut.
        assert "Folder" not in header and "Start" not in header
        lines = _screen_lines(table)
        # Attention order: the two ABENDs first, then the running jobs.
        assert "✖ ABEND" in lines[1] and "JOB0017" in lines[1]
        assert "RC 8" in lines[1]
        assert "✖ ABEND" in lines[2] and "JOB0120" in lines[2]
        assert "▶ EXEC" in lines[3]
        assert all(len(line) <= 80 for line in lines)


async def test_wide_terminal_shows_the_folder_column() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        assert "Folder" in _line(_table(app), 0)


async def test_cursor_keys_move_and_scroll() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("up")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + table.page_height
        await pilot.press("end")
        assert table.cursor_row == 199
        await pilot.pause()
        assert table.view.row_at(199).job in _screen_lines(table)[-1]
        await pilot.press("home")
        assert table.cursor_row == 0
        assert table.scroll_y == 0


async def test_enter_and_double_click_post_job_selected() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == ["id0120"]
        await pilot.click(JobsTable, offset=(5, 1), times=2)
        await pilot.pause()
        assert app.selected[-1] == "id0017"


async def test_filter_as_you_type_and_escape_clears() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press("slash")
        assert app.focused is not None and app.focused.id == "jobs-filter-input"
        await pilot.press(*"job001")
        await pilot.pause()
        assert len(table.view) == 10
        assert "10 of 200 jobs" in str(app.query_one("#jobs-filter-line", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert len(table.view) == 200
        assert not app.query_one(Input).display
        assert app.focused is not None and app.focused.id == "jobs-table"


async def test_status_filter_and_attention_toggle() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press("f")  # failed
        assert [table.view.row_at(i).status for i in range(len(table.view))] == ["ABEND"] * 2
        await pilot.press("f", "f")  # stuck, running
        assert len(table.view) == 19
        await pilot.press("f", "f", "f", "f", "f")  # waiting, cancelled, done, other, all
        assert len(table.view) == 200
        await pilot.press("a")
        assert len(table.view) == 2
        await pilot.press("a")
        assert len(table.view) == 200


async def test_sort_keys_cycle_columns_and_reverse() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press("s")
        await pilot.pause()
        assert "Stream ▲" in _line(table, 0)
        # A new order is read from its top: the cursor goes to its first row.
        assert table.cursor_row == 0 and table.cursor_job_id == table.view.row_at(0).job_id
        await pilot.press("S", "home")
        await pilot.pause()
        assert "Stream ▼" in _line(table, 0)
        assert "STREAM019" in _line(table, 1)
        await pilot.click(JobsTable, offset=(_line(table, 0).index("Job") + 1, 0))
        await pilot.pause()
        assert "Job ▲" in _line(table, 0)
        assert table.view.sort_column == "job"
        assert table.view.row_at(0).job == "JOB0000"


async def test_n_jumps_to_the_next_failure_and_wraps() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press("s", "s", "home")  # sort by job: failures at 17 and 120
        await pilot.press("n")
        assert table.cursor_job_id == "id0017"
        await pilot.press("n")
        assert table.cursor_job_id == "id0120"
        await pilot.pause()
        assert "JOB0120" in "".join(_screen_lines(table))
        await pilot.press("n")
        assert table.cursor_job_id == "id0017"


async def test_cursor_stays_on_its_job_when_data_changes() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        pane = app.query_one(JobsPane)
        await pilot.press(*["down"] * 30)
        job_id = table.cursor_job_id
        assert job_id is not None
        new_failures = [
            JobRow(job_id=f"new{i}", stream="AAA", job=f"NEW{i}", status="ABEND") for i in range(5)
        ]
        change = app.jobs.apply_changes(new_failures, removed_ids=["id0003"])
        pane.update_jobs(app.jobs, change)
        await pilot.pause()
        assert table.cursor_job_id == job_id
        assert table.view.row_at(table.cursor_row).job_id == job_id
        # Filtering the cursor's job out keeps the cursor near where it was, not at the top.
        pane.view.set_filter("stream0")
        pane.update_jobs(app.jobs)
        assert table.cursor_row > 0


async def test_hostile_job_names_render_as_plain_text() -> None:
    hostile = JobRow(
        job_id="evil",
        stream="\x1b[2J\x1b]0;pwned\x07S",
        job="[bold red]X[/]",
        workstation="\x9b31mWS",
        status="ABEND",
        substatus="a\x00b\rc",
    )
    app = _Host([hostile])
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        line = _line(_table(app), 1)
        assert "[bold red]X[/]" in line
        assert "pwned" not in line
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in line)


class _CountingTable(JobsTable):
    def __init__(self, view: JobsView) -> None:
        super().__init__(view)
        self.repainted_lines: list[int] = []

    def refresh_line(self, y: int) -> None:
        self.repainted_lines.append(y)
        super().refresh_line(y)


class _TableHost(App[None]):
    def __init__(self, clock: Callable[[], datetime] = lambda: NOW) -> None:
        super().__init__()
        self.jobs = JobsView(_rows(), clock=clock)

    def compose(self) -> ComposeResult:
        yield _CountingTable(self.jobs)


async def test_update_repaints_only_visible_lines_that_changed() -> None:
    app = _TableHost()
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(_CountingTable)
        table.refresh_data()
        table.repainted_lines.clear()
        off_screen = app.jobs.row_at(150)
        change = app.jobs.apply_changes([msgspec.structs.replace(off_screen, duration=9.0)])
        table.refresh_data(change)
        assert table.repainted_lines == []
        on_screen = app.jobs.row_at(1)  # an ABEND: its duration is the engine's figure
        change = app.jobs.apply_changes([msgspec.structs.replace(on_screen, duration=9.0)])
        table.refresh_data(change)
        assert table.repainted_lines == [2]
        assert "9s" in _line(table, 2)


async def test_many_jobs_turning_new_at_once_mark_and_repaint_only_the_visible_ones() -> None:
    """A refresh in which 60 jobs fail (new since you last looked): the ones on screen get
    their ``●``, the ones off screen cost no repaint."""
    app = _TableHost()
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(_CountingTable)
        app.jobs.set_sort("job")  # an order the failures do not move
        table.refresh_data()
        table.move_cursor(0)
        first = app.jobs.row_at(3)
        table.refresh_data(app.jobs.apply_changes([msgspec.structs.replace(first,
                                                                           status="FAIL")]))
        assert table.new_jobs == {first.job_id}  # the gutter is there now
        await pilot.pause()
        table.repainted_lines.clear()
        failing = [app.jobs.row_at(i) for i in (5, 6, *range(140, 198))]
        table.refresh_data(app.jobs.apply_changes(
            [msgspec.structs.replace(row, status="ABEND") for row in failing]))
        assert len(table.new_jobs) == 61
        assert set(table.repainted_lines) == {6, 7}
        await pilot.pause()
        marked = [y for y in range(1, table.page_height + 1)
                  if _line(table, y).startswith("●")]
        assert marked == [4, 6, 7]


async def test_running_jobs_show_elapsed_time_ticking_on_the_view_clock() -> None:
    now = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]
    app = _TableHost(clock=lambda: now[0])
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(_CountingTable)
        table.refresh_data()
        assert app.jobs.row_at(2).status == "EXEC"
        assert _line(table, 3).rstrip().endswith("30:00")  # started 11:30, the view says 12:00
        table.repainted_lines.clear()
        table._tick_running()  # what the one-second timer calls
        assert table.repainted_lines == []  # nothing changed: nothing repainted
        now[0] += timedelta(seconds=5)
        table._tick_running()
        running_lines = [i + 1 for i, row in enumerate(app.jobs.rows_in(0, table.page_height))
                         if row.status == "EXEC"]
        assert table.repainted_lines == running_lines  # only visible running rows
        assert _line(table, 3).rstrip().endswith("30:05")


def _shown(widget: Static) -> bool:
    return bool(widget.display)


async def test_stale_marker_and_counts() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(100, 24)) as pilot:
        pane = app.query_one(JobsPane)
        counts = str(app.query_one(StatusCounts).render())
        assert "✖ ABEND 2" in counts and "▶ running 19" in counts and "total 200" in counts
        marker = app.query_one("#jobs-stale", Static)
        assert not _shown(marker)
        pane.set_stale("engine unreachable", datetime(2026, 11, 25, 10, 42, 7))
        await pilot.pause()
        assert _shown(marker)
        assert str(marker.render()) == "⚠ STALE — data from 10:42:07 — engine unreachable"
        pane.set_stale(None)
        await pilot.pause()
        assert not _shown(marker)


class _EscapeHost(_Host):
    BINDINGS = [("escape", "note_escape", "")]  # noqa: RUF012

    def __init__(self, rows: list[JobRow]) -> None:
        super().__init__(rows)
        self.escapes = 0

    def action_note_escape(self) -> None:
        self.escapes += 1


async def test_escape_reaches_the_app_when_no_filter_is_open() -> None:
    app = _EscapeHost(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        assert app.escapes == 1
        await pilot.press("slash", "x", "escape")
        assert app.escapes == 1  # that Esc cleared the filter
        assert len(_table(app).view) == 200


async def test_a_new_filter_or_sort_starts_at_the_top_of_the_new_list() -> None:
    app = _Host(_rows())
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(app)
        await pilot.press(*["pagedown"] * 5)
        assert table.cursor_row > 50 and table.scroll_y > 0
        await pilot.press("o")  # already the attention order: nothing changes
        await pilot.press("s")  # sort by stream
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press(*["pagedown"] * 5)
        await pilot.press("o")  # back to the attention order: the failures come first
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        assert table.view.row_at(0).status == "ABEND"
        await pilot.press(*["pagedown"] * 5)
        await pilot.press("slash", *"STREAM01")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        assert table.cursor_job_id == table.view.row_at(0).job_id


async def test_table_messages_carry_their_table_so_id_selectors_match() -> None:
    from textual import on

    class Host(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.selected: list[str] = []

        def compose(self) -> ComposeResult:
            yield JobsTable(JobsView(_rows(), clock=lambda: NOW), id="mine")

        @on(JobsTable.JobSelected, "#mine")
        def _picked(self, message: JobsTable.JobSelected) -> None:
            assert message.control is self.query_one("#mine")
            self.selected.append(message.job_id)

    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        app.query_one(JobsTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [app.query_one(JobsTable).cursor_job_id]


def test_the_cells_a_repaint_writes_are_the_cells_that_differ() -> None:
    """A line repainted writes one span: from its first cell that differs (a character or
    a style) to its last; the quick comparison of whole runs finds what comparing cell by
    cell finds, also with wide or odd characters and lines of other lengths."""
    rnd = random.Random(5)
    styles = [None, Style(bold=True), Style(color="red"), Style(color="red", bold=True)]
    alphabet = ["a", "b", " ", "✖", "…", "界", "\u200b", "é"]  # the table's, then odd ones

    def strip() -> Strip:
        segments = [Segment("".join(rnd.choice(alphabet[: 5 if plain else 8])
                                    for _ in range(rnd.randrange(0, 6))),
                            rnd.choice(styles))
                    for _ in range(rnd.randrange(1, 6))]
        return Strip(segments)

    for case in range(3000):
        plain = case % 3 != 0
        before = strip()
        after = before if case % 7 == 0 else strip()
        if case % 5 == 0:  # a line that changed in one place only
            cells = list(before)
            if cells:
                at = rnd.randrange(len(cells))
                cells[at] = Segment(cells[at].text, rnd.choice(styles))
            after = Strip(cells)
        expected = changed_span(_strip_cells(before), _strip_cells(after))
        assert _changed_cells(before, after) == expected, (list(before), list(after))


async def test_another_engines_failures_are_not_new_after_a_switch() -> None:
    """The app empties the view on an engine switch, then reads the other engine's plan:
    its failures were there before the operator saw it, so no ``●`` and no "N new"."""
    app = _Host(_rows())
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        pane = app.query_one(JobsPane)
        view = app.jobs
        pane.update_jobs(view, view.apply_changes([msgspec.structs.replace(
            view.row_at(5), status="FAIL")]))
        assert pane.new_count == 1
        pane.update_jobs(view, view.apply([]))  # the switch
        other = [msgspec.structs.replace(row, job_id=f"other-{row.job_id}",
                                         status="ABEND" if i % 4 == 0 else row.status)
                 for i, row in enumerate(_rows())]
        load = view.bulk_load(other)
        load.build()
        pane.update_jobs(view, view.adopt(load))
        await pilot.pause()
        line = str(app.query_one("#jobs-filter-line", Static).render())
        assert pane.new_count == 0 and "new" not in line, line
        assert not any(_line(_table(app), y).startswith("●") for y in range(1, 10))
