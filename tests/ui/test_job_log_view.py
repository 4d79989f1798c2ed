"""The job log as an operator reads it: lines that look like errors marked (``✖`` in the
gutter, so without colour too, and the error colour) and reached with ``e``/``E``; ``W``
wraps long lines; ``s`` saves what is shown to a file, control characters stripped.

The first test reads a failed job's log from the simulator over HTTP; the others serve a
fixed log (a loader of the screen's own protocol, not our HWA client) to pin exactly
which lines count as errors and what a saved file holds."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input, Static

from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.screens.job_detail import JobDetailScreen, JobLogView, SaveLogScreen
from tests.ui.dashboard_support import DEADLINE, make_app, ready, sim

__all__ = ["sim"]

JOB = JobRow(job_id="JOB1", stream="PAYROLL", job="CALC/NIGHT", workstation="CPU1",
             status="ABEND", run_id="R;2")

LOG_LINES = [
    "=== JOB LOG ===",                                           # 0
    "06:00:01 INFO  step 1: processed 12 rows, 0 errors",         # 1
    "06:00:02 ERROR disk full",                                   # 2 error
    "06:00:03 DEBUG exit code 0",                                 # 3
    "Traceback (most recent call last):",                         # 4 error
    '  File "load.py", line 3, in <module>',                      # 5
    "06:00:04 AWKJMJ123E step failed: java.io.IOException: gone",  # 6 error
    "06:00:05 WARN  slow response, retrying",                     # 7
    "06:00:06 job ended, exit status 12",                         # 8 error
    "rc=0 all good",                                              # 9
    "FATAL: cannot continue",                                     # 10 error
    "= Exit Status           : 0",                                # 11
    "ConnectionResetError: [Errno 104] Connection reset by peer",  # 12 error
    "06:00:07 INFO  no Errors: none",                             # 13
]
ERROR_LINES = [2, 4, 6, 8, 10, 12]


class _FixedLoader:
    """A fixed job log; everything else empty."""

    def __init__(self, log: str) -> None:
        self.log = log

    async def job(self, job_id: str) -> Mapping[str, str]:
        return {"Job": JOB.job}

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        return []

    async def predecessors(self, job_id: str) -> list[str]:
        return []

    async def successors(self, job_id: str) -> list[str]:
        return []

    async def job_log(self, run_id: str) -> str:
        await asyncio.sleep(0)
        return self.log


class _Host(App[None]):
    def __init__(self, log: str) -> None:
        super().__init__()
        self.loader = _FixedLoader(log)

    def on_mount(self) -> None:
        self.push_screen(JobDetailScreen(JOB, self.loader))


async def _open(app: App[Any], pilot: Pilot[Any]) -> JobLogView:
    await pilot.pause()
    await pilot.press("l")
    log = app.screen.query_one(JobLogView)
    for _ in range(int(DEADLINE / 0.02)):
        await pilot.pause(0.02)
        if log.line_count:
            break
    await pilot.pause()
    assert log.line_count
    return log


def _row_text(strip: Strip) -> str:
    return "".join(segment.text for segment in strip)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _status(app: App[Any]) -> str:
    return str(app.screen.query_one("#job-detail-log-status", Static).render())


def _on_screen(log: JobLogView, line: int) -> bool:
    top = round(log.scroll_y)
    return top <= log.row_of(line) < top + log.scrollable_content_region.height


async def test_e_and_shift_e_go_through_the_lines_that_look_like_errors() -> None:
    app = _Host("\n".join(LOG_LINES) + "\n")
    async with app.run_test(size=(100, 12)) as pilot:  # a few lines on screen at a time
        log = await _open(app, pilot)
        assert log.errors == ERROR_LINES
        assert "6 error lines ✖ (e/E)" in _status(app)
        await pilot.press("home")
        found = []
        for _ in ERROR_LINES:
            await pilot.press("e")
            await pilot.pause()
            assert log.current_error is not None
            line = log.errors[log.current_error]
            assert _on_screen(log, line)
            found.append(line)
        assert found == ERROR_LINES
        assert "error line 6 of 6 (line 13)" in _status(app)
        await pilot.press("e")  # wraps around to the first
        await pilot.pause()
        assert log.current_error == 0
        await pilot.press("E")
        await pilot.pause()
        assert log.current_error == len(ERROR_LINES) - 1
        # The mark is in the gutter (it shows without colour) and the line is coloured.
        await pilot.press("home")
        await pilot.pause()
        error_row = log.render_line(2)
        plain_row = log.render_line(1)
        assert _row_text(error_row).startswith("✖ 06:00:02 ERROR disk full")
        assert _row_text(plain_row).startswith("  06:00:01 INFO")
        assert next(iter(error_row)).style != next(iter(plain_row)).style
        # Search keeps working beside it.
        await pilot.press("slash", *"retrying", "enter")
        await pilot.pause()
        assert log.matches == [7] and _on_screen(log, 7)


async def test_a_failed_jobs_log_from_the_engine_has_its_error_lines_found(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        job = next(r for r in app.view.rows_in(0, len(app.view))
                   if r.status == "ABEND" and r.run_id)
        table = app.dashboard.jobs.table
        assert table.select_job(job.job_id)
        table.focus()
        log = await _open(app, pilot)
        lines = list(log.lines)
        failed = next(i for i, line in enumerate(lines) if f"{job.job} failed: exit status" in line)
        exit_status = next(i for i, line in enumerate(lines) if line.startswith("= Exit Status"))
        assert {failed, exit_status} <= set(log.errors)
        assert not any(" INFO " in lines[i] or " DEBUG " in lines[i] for i in log.errors)
        await pilot.press("home", "e")
        await pilot.pause()
        assert log.current_error == 0 and _on_screen(log, log.errors[0])


async def test_shift_w_wraps_long_lines_and_back() -> None:
    long_line = "06:00:01 INFO  " + "".join(f"{i:04d}-" for i in range(60))  # 315 characters
    app = _Host(f"first\n{long_line}\nlast\n")
    async with app.run_test(size=(100, 20)) as pilot:
        log = await _open(app, pilot)
        width = log.scrollable_content_region.width
        assert log.virtual_size.height == 3 and log.max_scroll_x > 0  # one row per line
        await pilot.press("W")
        await pilot.pause()
        assert log.wrap and "wrap on" in _status(app)
        rows = -(-(len(long_line) + 2) // width)
        assert rows > 1 and log.virtual_size.height == 2 + rows and log.max_scroll_x == 0
        shown = "".join(_row_text(log.render_line(y)) for y in range(1, 1 + rows))
        assert shown.replace(" ", "") == ("  " + long_line).replace(" ", "")  # whole, in rows
        assert _row_text(log.render_line(1 + rows)).startswith("  last")
        await pilot.press("W")
        await pilot.pause()
        assert not log.wrap and log.virtual_size.height == 3 and "wrap off" in _status(app)


async def test_s_saves_the_lines_shown_with_control_characters_stripped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    raw = ("header\r\n\x1b[31mERROR\x1b[0m red alert\n\x07bell\x1b]0;title\x07 here\n"
           "tab\there\nprogress 10%\rprogress 100%\n[bold]not markup[/]\n")
    app = _Host(raw)
    async with app.run_test(size=(100, 24)) as pilot:
        log = await _open(app, pilot)
        shown = list(log.lines)
        await pilot.press("s")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, SaveLogScreen)
        path_input = modal.query_one(Input)
        assert path_input.value == "CALC_NIGHT-R_2.log"  # JOBNAME-RUNID, safe for a file
        await pilot.press("enter")
        target = tmp_path / "CALC_NIGHT-R_2.log"
        for _ in range(int(DEADLINE / 0.02)):
            await pilot.pause(0.02)
            if "saved" in _status(app):
                break
        assert f"saved {len(shown)} lines to {target}" in _status(app)
        saved = target.read_text(encoding="utf-8").splitlines()
        assert saved == shown  # exactly what the screen shows: a stray control is the � there
        assert saved == ["header", "ERROR red alert", "\N{REPLACEMENT CHARACTER}bell here",
                         "tab     here",
                         "progress 100%", "[bold]not markup[/]"]
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in target.read_text()
                       if c != "\n")
        assert _names(tmp_path) == [target.name]  # no temporary file left behind

        # A place it cannot be written: said, nothing written, the log still there.
        await pilot.press("s")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, SaveLogScreen)
        modal.query_one(Input).value = str(tmp_path / "missing" / "x.log")
        await pilot.press("enter")
        for _ in range(int(DEADLINE / 0.02)):
            await pilot.pause(0.02)
            if "not saved" in _status(app):
                break
        assert "log not saved to" in _status(app) and "No such file or directory" in _status(app)
        assert list(log.lines) == shown

        await pilot.press("s")
        await pilot.pause()
        await pilot.press("escape")  # Esc saves nothing
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)


async def _at_end(pilot: Pilot[Any], log: JobLogView) -> bool:
    """Waits (bounded) for the view to reach the end after a resize's layout."""
    for _ in range(int(DEADLINE / 0.02)):
        await pilot.pause(0.02)
        if log.scroll_y == log.max_scroll_y:
            return True
    return False


async def test_a_log_at_its_end_stays_at_its_end_when_the_terminal_is_resized() -> None:
    """Found trying it in tmux: from 200x60 to 80x24 the view stayed mid-log."""
    app = _Host("".join(f"06:00:{i % 60:02d} INFO  line {i}\n" for i in range(200)))
    async with app.run_test(size=(120, 50)) as pilot:
        log = await _open(app, pilot)
        assert log.scroll_y == log.max_scroll_y
        await pilot.resize_terminal(80, 16)
        assert await _at_end(pilot, log) and log.max_scroll_y > 0
        await pilot.press("W")  # wrapped too
        await pilot.resize_terminal(60, 14)
        assert await _at_end(pilot, log)
        await pilot.press("home")  # scrolled up: a resize leaves it where it is
        await pilot.pause()
        await pilot.resize_terminal(80, 20)
        await pilot.pause()
        await pilot.pause()
        assert log.scroll_y == 0


async def test_text_selected_with_the_mouse_is_the_log_text_without_the_gutter() -> None:
    """The gutter is drawn before each line: a selection from the drawn cells must copy the
    log's own characters (not two characters off, not the ✖)."""
    from textual.geometry import Offset
    from textual.selection import Selection

    app = _Host("\n".join(LOG_LINES) + "\n")
    async with app.run_test(size=(100, 24)) as pilot:
        log = await _open(app, pilot)
        # From the start of line 1 (gutter included) to the 13th cell of line 2.
        picked = log.get_selection(Selection(Offset(0, 1), Offset(13, 2)))
        assert picked is not None
        assert picked[0] == LOG_LINES[1] + "\n" + LOG_LINES[2][:11]
        inside = log.get_selection(Selection(Offset(11, 2), Offset(21, 2)))
        assert inside is not None and inside[0] == "ERROR disk"  # as drawn at those cells


async def test_e_before_the_log_has_arrived_keeps_saying_it_is_loading() -> None:
    """Not "no line looks like an error": nothing was read yet."""
    arrived = asyncio.Event()

    class _SlowLoader(_FixedLoader):
        async def job_log(self, run_id: str) -> str:
            await asyncio.wait_for(arrived.wait(), DEADLINE)
            return self.log

    class _SlowHost(App[None]):
        def on_mount(self) -> None:
            self.push_screen(JobDetailScreen(JOB, _SlowLoader("\n".join(LOG_LINES) + "\n")))

    app = _SlowHost()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert "loading the job log" in _status(app)
        arrived.set()
        log = app.screen.query_one(JobLogView)
        for _ in range(int(DEADLINE / 0.02)):
            await pilot.pause(0.02)
            if log.line_count:
                break
        assert log.errors == ERROR_LINES
