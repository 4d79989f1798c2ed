"""The workstations pane's job counts follow the jobs view: counted again when the view
changed, the same when it did not (a poll with the view unchanged counts nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.status import ALL_GROUPS, group_of
from tests.ui.dashboard_support import frozen_clock, make_settings, sim

__all__ = ["sim"]
DEADLINE = 20.0


@pytest.fixture
async def runtime(sim: Simulator, redis_url: str) -> AsyncIterator[Runtime]:
    rt = build_runtime(make_settings(sim.base_url, redis_url), clock=frozen_clock)
    yield rt
    await rt.aclose()


def _expected(view: JobsView, name: str) -> tuple[int, ...]:
    counts = [0] * len(ALL_GROUPS)
    for row in view.all_rows():
        if row.workstation == name:
            counts[ALL_GROUPS.index(group_of(row.status).name)] += 1
    return tuple(counts)


async def test_counts_follow_each_change_of_the_view(sim: Simulator, runtime: Runtime) -> None:
    names = [ws.name for ws in sim.plan.workstations][:3]
    view = JobsView(clock=frozen_clock)
    view.apply([JobRow(f"j{i}", workstation=names[i % 3], status=("SUCC", "ABEND")[i % 2])
                for i in range(30)])
    feed = WorkstationsFeed(runtime, 0.0, jobs=view)

    async def check() -> None:
        state = await asyncio.wait_for(feed.poll(), DEADLINE)
        assert state.health.ok
        shown = {row.name: row.jobs for row in state.rows}
        for name in names:
            assert shown[name] == _expected(view, name)

    await check()
    await check()  # unchanged view: the same counts
    view.apply_changes([JobRow("j0", workstation=names[0], status="EXEC"),
                        JobRow("new", workstation=names[1], status="FAIL")], ["j1", "j2"])
    await check()


async def test_no_job_counts_before_the_job_list_is_read(sim: Simulator,
                                                         runtime: Runtime) -> None:
    """While the first read of the plan runs, the view is empty: a 0 on every workstation
    would say it has no jobs. The columns stay blank until a job list was applied; an
    empty plan, once read, does count 0."""
    view = JobsView(clock=frozen_clock)
    feed = WorkstationsFeed(runtime, 0.0, jobs=view)
    state = await asyncio.wait_for(feed.poll(), DEADLINE)
    assert state.health.ok and state.rows
    assert all(row.jobs == () for row in state.rows)
    assert state.jobs_counted == 0

    view.apply_changes([], [])  # the plan was read: it has no jobs
    state = await asyncio.wait_for(feed.poll(), DEADLINE)
    assert all(row.jobs == (0,) * len(ALL_GROUPS) for row in state.rows)
