"""The job detail screen: fields, runs, dependencies, job log on demand (opened at its end,
searchable), errors inline, a one-line title."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from rich.style import Style
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, Static, TabbedContent

from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.screens.job_detail import JobDetailLoader, JobDetailScreen, JobLogView

JOB = JobRow(
    job_id="JOB1", stream="PAYROLL", job="CALC", workstation="CPU1", status="ABEND", run_id="R2"
)


class _PlainLoader:
    """Serves fixed data; ``log_error`` makes the job log fail like an unreachable engine."""

    def __init__(self, log_error: Exception | None = None) -> None:
        self.log_error = log_error
        self.log_calls: list[str] = []

    async def job(self, job_id: str) -> Mapping[str, str]:
        return {"Name": "CALC", "Folder": "/HR/", "Priority": "[bold]10[/]"}

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        return [
            {"Run": "R2", "Status": "ABEND", "RC": "12"},
            {"Run": "R1", "Status": "SUCC", "RC": "0"},
        ]

    async def predecessors(self, job_id: str) -> list[str]:
        return ["PAYROLL.EXTRACT", "\x1b]0;pwned\x07HR.LOAD"]

    async def successors(self, job_id: str) -> list[str]:
        raise ConnectionError("engine unreachable")

    async def job_log(self, run_id: str) -> str:
        self.log_calls.append(run_id)
        await asyncio.sleep(0)
        if self.log_error is not None:
            raise self.log_error
        return "=== JOB LOG ===\r\n\x1b[31mERROR\x1b[0m disk full\n[red]not markup[/]\nEXIT 12\n"


class _Host(App[None]):
    def __init__(self, loader: JobDetailLoader) -> None:
        super().__init__()
        self.loader = loader

    def on_mount(self) -> None:
        self.push_screen(JobDetailScreen(JOB, self.loader))


async def _settle(app: App[None]) -> None:
    await app.workers.wait_for_complete()


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_fields_runs_and_dependencies_are_shown_as_plain_text() -> None:
    app = _Host(_PlainLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        fields = screen.query_one("#job-detail-fields", DataTable)
        assert [str(fields.get_row_at(i)[1]) for i in range(fields.row_count)] == [
            "CALC", "/HR/", "[bold]10[/]"
        ]
        runs = screen.query_one("#job-detail-runs", DataTable)
        assert runs.row_count == 2
        preds = _text(screen.query_one("#job-detail-preds", Static))
        assert "PAYROLL.EXTRACT" in preds and "HR.LOAD" in preds and "pwned" not in preds
        succs = _text(screen.query_one("#job-detail-succs", Static))
        assert succs == "successors unavailable: engine unreachable"


async def test_job_log_is_loaded_only_when_asked_and_sanitized() -> None:
    loader = _PlainLoader()
    app = _Host(loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        assert loader.log_calls == []
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        assert loader.log_calls == ["R2"]
        assert app.screen.query_one(TabbedContent).active == "tab-log"
        log = app.screen.query_one("#job-detail-log", Log)
        assert list(log.lines) == [
            "=== JOB LOG ===", "ERROR disk full", "[red]not markup[/]", "EXIT 12"
        ]
        await pilot.press("l")
        await _settle(app)
        assert loader.log_calls == ["R2"]  # already shown: no second fetch


async def test_log_error_is_shown_inline_and_l_retries() -> None:
    loader = _PlainLoader(log_error=ConnectionError("engine unreachable"))
    app = _Host(loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        status = app.screen.query_one("#job-detail-log-status", Static)
        assert _text(status) == "job log unavailable: engine unreachable"
        loader.log_error = None
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        assert loader.log_calls == ["R2", "R2"]
        assert "4 lines" in _text(status)


async def test_escape_closes_the_screen() -> None:
    app = _Host(_PlainLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, JobDetailScreen)


LONG_LOG = "".join(
    f"12:00:{i % 60:02d} {'ERROR disk full' if i % 50 == 7 else 'INFO  step ok'} #{i}\n"
    for i in range(300)
)
"""300 lines, ERROR on lines 8, 58, 108, ... (six matches)."""


class _LongLogLoader(_PlainLoader):
    async def job_log(self, run_id: str) -> str:
        self.log_calls.append(run_id)
        return LONG_LOG


async def _open_log(app: App[None], pilot: Pilot[None]) -> JobLogView:
    await _settle(app)
    await pilot.press("l")
    await _settle(app)
    await pilot.pause()
    log = app.screen.query_one(JobLogView)
    assert log.line_count == 300
    return log


async def test_job_log_opens_at_its_end_with_the_keys_working_at_once() -> None:
    app = _Host(_LongLogLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        log = await _open_log(app, pilot)
        assert app.focused is log
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y  # newest lines shown
        await pilot.press("home")
        await pilot.pause()
        assert log.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert 0 < log.scroll_y < log.max_scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y
        await pilot.press("pageup")
        await pilot.pause()
        assert log.scroll_y < log.max_scroll_y


def _styles_of(log: JobLogView, line: int, word: str) -> tuple[Style | None, Style | None]:
    """The style of ``word`` on log line ``line`` (on screen), and of the line's start."""
    strip = log.render_line(line - round(log.scroll_y))
    found = next(seg.style for seg in strip if word in seg.text)
    return found, next(iter(strip)).style


def _visible(log: JobLogView, line: int) -> bool:
    return log.scroll_y <= line < log.scroll_y + log.scrollable_content_region.height


async def test_slash_searches_the_log_enter_n_and_shift_n_move_between_highlighted_matches(
) -> None:
    app = _Host(_LongLogLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        log = await _open_log(app, pilot)
        await pilot.press("slash")
        await pilot.pause()
        search = app.screen.query_one("#job-detail-search", Input)
        assert search.display and app.focused is search
        for key in "error":  # case does not matter
            await pilot.press(key)
        await pilot.pause()
        assert log.matches == [7, 57, 107, 157, 207, 257]
        await pilot.press("enter")
        await pilot.pause()
        status = app.screen.query_one("#job-detail-log-status", Static)
        # From the end of the log, the next match wraps around to the first one.
        assert _visible(log, 7) and "match 1 of 6 (line 8)" in _text(status)
        assert app.focused is log
        match_style, plain_style = _styles_of(log, 7, "ERROR")
        assert match_style != plain_style  # the match is highlighted
        await pilot.press("n")
        await pilot.pause()
        assert _visible(log, 57) and "match 2 of 6 (line 58)" in _text(status)
        await pilot.press("N")
        await pilot.press("N")
        await pilot.pause()
        assert _visible(log, 257) and "match 6 of 6 (line 258)" in _text(status)
        await pilot.press("escape")  # closes the search, not the screen
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        assert not search.display and log.pattern == "" and app.focused is log
        assert "300 lines" in _text(status)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, JobDetailScreen)


async def test_a_10k_character_name_keeps_the_title_on_one_line_and_shows_whole_below() -> None:
    huge = "\x1b]0;pwned\x07[bold]" + "N" * 10_000
    row = JobRow(job_id="JOB1", stream="PAYROLL", job=huge, workstation="CPU1",
                 status="ABEND", run_id="R2")

    class HugeLoader(_PlainLoader):
        async def job(self, job_id: str) -> Mapping[str, str]:
            return {"Job": huge, "Folder": "/HR/"}

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(JobDetailScreen(row, HugeLoader()))

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        await pilot.pause()
        screen = app.screen
        title = screen.query_one("#job-detail-title")
        assert title.size.height == 1
        shown = str(title.render())
        assert shown.startswith("PAYROLL › [bold]NNN") and "pwned" not in shown
        assert "…" in shown and shown.rstrip().endswith("ABEND")  # status still there
        assert len(shown) <= title.content_size.width
        fields = screen.query_one("#job-detail-fields", DataTable)
        name_cell = str(fields.get_row_at(0)[1])
        assert name_cell == "[bold]" + "N" * 10_000  # whole, sanitized, no markup
        assert fields.rows[fields.coordinate_to_cell_key((0, 0)).row_key].height > 1
