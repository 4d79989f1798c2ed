"""The jobs feed leaves the event loop free while a big plan is applied to the view."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime

import pytest

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import ChangeSet, JobRow, JobsView
from tests.ui.dashboard_support import frozen_clock, make_settings

DEADLINE = 60.0
JOBS = 3000


@pytest.fixture
def plan_sim() -> Iterator[Simulator]:
    sim = Simulator(jobs=JOBS, seed=2, user="demo", password="demo", time_scale=0.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        yield sim
    finally:
        sim.stop()


class _WatchedView(JobsView):
    """Notes how many turns the loop had taken at each write."""

    def __init__(self, turns: list[int]) -> None:
        super().__init__(clock=frozen_clock)
        self._turns = turns
        self.turns_at_writes: list[int] = []

    def apply_changes(self, changed: Iterable[JobRow], removed_ids: Iterable[str] = (),
                      now: datetime | None = None) -> ChangeSet:
        self.turns_at_writes.append(self._turns[0])
        return super().apply_changes(changed, removed_ids, now)


async def test_a_whole_plan_is_applied_with_the_loop_turning_between_slices(
        plan_sim: Simulator, redis_url: str) -> None:
    """Before: the first read's 3,000 rows (200k in production, over a second) went into
    the view in one call, no key press or frame in between."""
    turns = [0]

    async def other_work() -> None:
        while True:
            turns[0] += 1
            await asyncio.sleep(0)

    view = _WatchedView(turns)
    runtime = build_runtime(make_settings(plan_sim.base_url, redis_url), clock=frozen_clock)
    ticker = asyncio.create_task(other_work())
    try:
        state = await asyncio.wait_for(JobsFeed(runtime, view).poll(), DEADLINE)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await runtime.aclose()
    assert state.health.ok and state.view.total == JOBS
    assert len(state.change.added) == JOBS and state.change.order_changed
    assert state.change.changed_ids == frozenset(row.job_id for row in view.all_rows())
    writes = view.turns_at_writes
    assert len(writes) > 1 and all(b > a for a, b in itertools.pairwise(writes))
