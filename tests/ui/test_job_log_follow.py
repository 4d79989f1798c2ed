"""Following a running job's log (``f``) against the simulator over HTTP: only the new
lines are read (``from_line``: the simulator's stats count how its log was read), they are
appended, the view stays at the bottom unless the operator scrolled up, a failed read says
so and keeps what was shown, and following stops by itself when the run ends.

The simulator's clock is frozen and moved by the test (``sim.tick``); each follow read is
awaited (``screen.follow_once()``), so nothing depends on timing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.hwa.simulator.model import Job
from resync_tui.sanitize import safe_lines
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.job_detail import JobDetailScreen, JobLogView
from tests.ui.dashboard_support import DEADLINE, make_app, ready, sim

__all__ = ["sim"]


@pytest.fixture(autouse=True)
def _no_timed_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the reads the test awaits: the follow timer (every 3 s) would race them on a
    loaded machine (e.g. stop following before the test's own read of the ended run)."""
    monkeypatch.setattr(JobDetailScreen, "follow_seconds", 3600.0)


def engine_log(sim: Simulator, run_id: str) -> list[str]:
    """The whole log as the engine holds it now (read from its plan, not over HTTP: the
    simulator's stats count only the dashboard's reads)."""
    return safe_lines("".join(line + "\n" for line in sim.plan.joblog(run_id)))


def growing_job(sim: Simulator) -> Job:
    """A running job whose log still grows (the one that started last)."""
    running = [job for job in sim.plan.jobs if job.status == "EXEC" and job.last_run
               and job.last_run.end is None and job.last_run.start is not None]
    assert running, "the plan has a running job"
    return max(running, key=lambda job: job.last_run.start if job.last_run else 0.0)


def grow(sim: Simulator, job: Job, shown: int) -> None:
    """Move the engine's clock until the job's log has more than ``shown`` lines (the job
    still running)."""
    run = job.last_run
    assert run is not None
    for _ in range(200):
        sim.tick(run.estimated / 50)
        assert run.end is None, "the job ended before its log grew"
        if len(sim.plan.joblog(run.id)) > shown:
            return
    raise AssertionError("the log did not grow")


async def open_log(app: ResyncApp, pilot: Pilot[Any], job_id: str) -> JobDetailScreen:
    table = app.dashboard.jobs.table
    assert table.select_job(job_id)
    table.focus()
    await pilot.press("l")
    screen = app.screen
    assert isinstance(screen, JobDetailScreen)
    log = screen.query_one(JobLogView)
    for _ in range(int(DEADLINE / 0.05)):
        await pilot.pause(0.05)
        if log.line_count:
            break
    assert log.line_count
    return screen


def status_text(screen: JobDetailScreen) -> str:
    return str(screen.query_one("#job-detail-log-status", Static).render())


async def test_f_appends_only_the_new_lines_of_a_growing_log_read_from_the_last_line(
        sim: Simulator, redis_url: str) -> None:
    job = growing_job(sim)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        screen = await open_log(app, pilot, job.id)
        log = screen.query_one(JobLogView)
        run_id = screen.job.run_id
        assert run_id is not None
        first = list(log.lines)
        assert first == engine_log(sim, run_id)
        assert sim.stats()["joblog"] == {"whole": 1}

        await pilot.press("f")
        await pilot.pause()
        assert screen.following and "following" in status_text(screen)
        grow(sim, job, len(first))
        assert await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        now = engine_log(sim, run_id)
        assert len(now) > len(first)
        assert list(log.lines) == now  # the new lines appended, none twice
        reads = sim.stats()["joblog"]
        assert reads["whole"] == 1 and reads["from_line"] >= 1  # never the whole log again
        assert log.scroll_y == log.max_scroll_y  # the newest line on screen

        # Scrolled up to read: new lines come, the view stays where the operator put it.
        await pilot.press("home")
        await pilot.pause()
        assert log.scroll_y == 0
        grow(sim, job, len(now))
        assert await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        assert list(log.lines) == engine_log(sim, run_id)
        assert log.scroll_y == 0 and log.max_scroll_y > 0
        assert "scrolled up" in status_text(screen)

        # The run ends (killed): the next read brings the footer, following stops by itself.
        sim.plan.act(job.id, "kill")
        sim.tick(1)
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        assert await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        final = engine_log(sim, run_id)
        assert list(log.lines) == final and any("Exit Status" in line for line in final)
        assert not screen.following
        assert "follow stopped: the run has ended" in status_text(screen)
        assert sim.stats()["joblog"]["whole"] == 1


async def test_a_failed_follow_read_says_so_and_keeps_the_lines_shown(
        sim: Simulator, redis_url: str) -> None:
    job = growing_job(sim)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        screen = await open_log(app, pilot, job.id)
        log = screen.query_one(JobLogView)
        run_id = screen.job.run_id
        assert run_id is not None
        await pilot.press("f")
        await pilot.pause()
        shown = list(log.lines)
        sim.set_faults(Faults(outage="reset"))
        assert not await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        assert list(log.lines) == shown  # what was read is still there
        text = status_text(screen)
        assert "follow: the last read failed" in text and "trying again" in text
        assert screen.following  # it keeps trying

        sim.set_faults(Faults())
        grow(sim, job, len(shown))
        assert await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        assert list(log.lines) == engine_log(sim, run_id)
        assert "failed" not in status_text(screen)
        await pilot.press("f")  # off again
        await pilot.pause()
        assert not screen.following and "follow off" in status_text(screen)


async def test_a_long_followed_log_keeps_its_newest_lines_and_says_older_ones_were_dropped(
        sim: Simulator, redis_url: str) -> None:
    job = growing_job(sim)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        screen = await open_log(app, pilot, job.id)
        log = screen.query_one(JobLogView)
        run_id = screen.job.run_id
        assert run_id is not None
        log.max_lines = len(log.lines)  # as if the log had already filled the cap
        await pilot.press("f")
        await pilot.pause()
        grow(sim, job, len(log.lines))
        assert await asyncio.wait_for(screen.follow_once(), DEADLINE)
        await pilot.pause()
        now = engine_log(sim, run_id)
        dropped = len(now) - len(log.lines)
        assert dropped > 0 and list(log.lines) == now[dropped:]  # the newest kept
        assert f"{dropped} older lines dropped" in status_text(screen)


async def test_a_read_from_a_line_on_is_never_the_cached_whole_log(
        sim: Simulator, redis_url: str) -> None:
    """A finished run's whole log is cached; a read from line N must still be lines N..,
    read from the engine (a cached whole log served there would repeat every line)."""
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)):
        await ready(app)
        row = next(r for r in app.view.rows_in(0, len(app.view))
                   if r.status == "ABEND" and r.run_id)
        assert row.run_id is not None
        await asyncio.wait_for(app.loader.job(row.job_id), DEADLINE)  # the run is known ended
        whole = await asyncio.wait_for(app.loader.job_log(row.run_id), DEADLINE)
        again = await asyncio.wait_for(app.loader.job_log(row.run_id), DEADLINE)
        assert again == whole and sim.stats()["joblog"] == {"whole": 1}  # the cache
        tail = await asyncio.wait_for(app.loader.job_log(row.run_id, from_line=5), DEADLINE)
        assert tail.splitlines() == whole.splitlines()[4:]
        assert sim.stats()["joblog"] == {"whole": 1, "from_line": 1}
