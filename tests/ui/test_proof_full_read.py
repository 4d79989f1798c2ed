"""Equal counts per status do not hide a change for ever: two jobs that swap statuses
leave every count as it was, and only a full read of the plan shows the swap. The
jobs feed reads the whole plan again after ``full_read_every`` seconds, and at once
when the operator refreshes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from resync_tui.feeds.jobs import JobsFeed, JobsState
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.plan import Job
from resync_tui.model.jobs_view import JobsView
from tests.ui.dashboard_support import DEADLINE, frozen_clock, make_app, make_settings, ready, sim

__all__ = ["sim"]


def _swap(simulator: Simulator) -> tuple[Job, Job]:
    """An ABEND job becomes SUCC and a SUCC job ABEND: every count stays equal."""
    plan = simulator.plan
    with plan.lock:
        failed = next(job for job in plan.jobs if job.status == "ABEND")
        done = next(job for job in plan.jobs if job.status == "SUCC")
        before = plan.counts()
        plan.set_status(failed, "SUCC")
        plan.set_status(done, "ABEND")
        assert plan.counts() == before
    return failed, done


@pytest.fixture
async def runtime(sim: Simulator, redis_url: str) -> AsyncIterator[Runtime]:
    rt = build_runtime(make_settings(sim.base_url, redis_url), clock=frozen_clock)
    yield rt
    await rt.aclose()


def _statuses(view: JobsView, *jobs: Job) -> list[str | None]:
    rows = [view.get(job.id) for job in jobs]
    return [row.status if row is not None else None for row in rows]


async def _poll(feed: JobsFeed) -> JobsState:
    return await asyncio.wait_for(feed.poll(), DEADLINE)


async def test_a_swap_that_keeps_the_counts_shows_after_the_periodic_full_read(
        sim: Simulator, runtime: Runtime) -> None:
    view = JobsView(clock=frozen_clock)
    feed = JobsFeed(runtime, view, full_read_every=0.0)  # every poll is past the period
    assert (await _poll(feed)).full_read
    failed, done = _swap(sim)
    state = await _poll(feed)
    assert state.full_read
    assert _statuses(view, failed, done) == ["SUCC", "ABEND"]


async def test_within_the_period_equal_counts_skip_the_full_read(
        sim: Simulator, runtime: Runtime) -> None:
    """The other half: what the periodic read is for (the swap stays unseen until then)."""
    view = JobsView(clock=frozen_clock)
    feed = JobsFeed(runtime, view, full_read_every=3600.0)
    assert (await _poll(feed)).full_read
    failed, done = _swap(sim)
    state = await _poll(feed)
    assert not state.full_read
    assert _statuses(view, failed, done) == ["ABEND", "SUCC"]
    feed.force_full_read()
    state = await _poll(feed)
    assert state.full_read
    assert _statuses(view, failed, done) == ["SUCC", "ABEND"]


async def test_refresh_shows_a_swap_the_counts_did_not(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        failed, done = _swap(sim)
        await asyncio.wait_for(app.runners["jobs"].poll_once(), DEADLINE)  # a timed poll
        await pilot.pause()
        row = app.view.get(failed.id)
        assert row is not None and row.status == "ABEND"  # counts equal: not read again
        runner = app.runners["jobs"]
        polled = runner.results
        await pilot.press("r")
        await asyncio.wait_for(runner.wait_results(polled + 1), DEADLINE)
        await pilot.pause()
        swapped, abended = app.view.get(failed.id), app.view.get(done.id)
        assert swapped is not None and swapped.status == "SUCC"
        assert abended is not None and abended.status == "ABEND"
        table = app.dashboard.jobs.table
        assert table.select_job(done.id)
        await pilot.pause()
        line = table.render_line(table.cursor_row - round(table.scroll_y) + 1).text
        assert "✖ ABEND" in line and done.name in line
