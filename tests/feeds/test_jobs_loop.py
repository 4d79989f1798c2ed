"""The jobs feed leaves the event loop free while a big plan is applied to the view."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

import pytest

from resync_tui.feeds.jobs import JobsFeed, JobsState
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import BulkLoad, ChangeSet, JobRow, JobsView
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
        self.turns_at_loads: list[tuple[int, int]] = []
        self._load_started = 0

    def apply_changes(self, changed: Iterable[JobRow], removed_ids: Iterable[str] = (),
                      now: datetime | None = None) -> ChangeSet:
        self.turns_at_writes.append(self._turns[0])
        return super().apply_changes(changed, removed_ids, now)

    def bulk_load(self, rows: Sequence[JobRow], now: datetime | None = None) -> BulkLoad:
        self._load_started = self._turns[0]
        return super().bulk_load(rows, now)

    def adopt(self, load: BulkLoad) -> ChangeSet | None:
        self.turns_at_loads.append((self._load_started, self._turns[0]))
        return super().adopt(load)


class _BusyLoop:
    """A task taking loop turns (counted) while a test awaits something else."""

    def __init__(self) -> None:
        self.turns = [0]
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.turns[0] += 1
            await asyncio.sleep(0)

    async def __aenter__(self) -> _BusyLoop:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _poll(sim: Simulator, redis_url: str, view: JobsView) -> JobsState:
    runtime = build_runtime(make_settings(sim.base_url, redis_url), clock=frozen_clock)
    try:
        return await asyncio.wait_for(JobsFeed(runtime, view).poll(), DEADLINE)
    finally:
        await runtime.aclose()


async def test_a_re_read_is_applied_with_the_loop_turning_between_slices(
        plan_sim: Simulator, redis_url: str) -> None:
    """Before: the read's 3,000 rows (200k in production, over a second) went into the
    view in one call, no key press or frame in between. A view holding a job (here one
    the plan no longer has) is not a first read: its changes go in slices."""
    async with _BusyLoop() as busy:
        view = _WatchedView(busy.turns)
        view.apply_changes([JobRow(job_id="gone", stream="OLD", status="SUCC")])
        view.turns_at_writes.clear()
        state = await _poll(plan_sim, redis_url, view)
    assert state.health.ok and state.view.total == JOBS and view.get("gone") is None
    assert len(state.change.added) == JOBS and state.change.removed == ("gone",)
    assert not view.turns_at_loads
    writes = view.turns_at_writes
    assert len(writes) > 1 and all(b > a for a, b in itertools.pairwise(writes))


async def test_a_first_read_is_built_off_the_loop_and_installed_at_once(
        plan_sim: Simulator, redis_url: str) -> None:
    """An empty view (start, engine switch) gets the whole plan in one install, built in
    a worker thread while the loop kept turning; the view is the one a sliced apply of
    the same rows builds."""
    async with _BusyLoop() as busy:
        view = _WatchedView(busy.turns)
        state = await _poll(plan_sim, redis_url, view)
    assert state.health.ok and state.view.total == JOBS
    assert len(state.change.added) == JOBS and state.change.order_changed
    assert state.change.changed_ids == frozenset(row.job_id for row in view.all_rows())
    assert not view.turns_at_writes  # not one row inserted on the loop
    [(started, installed)] = view.turns_at_loads
    assert installed > started
    sliced = JobsView(clock=frozen_clock)
    sliced.apply_changes(list(view.all_rows()))
    assert _ids(view) == _ids(sliced) and dict(view.counts) == dict(sliced.counts)


def _ids(view: JobsView) -> list[str]:
    return [row.job_id for row in view.rows_in(0, len(view))]


class _MeddledView(JobsView):
    """Runs ``meddle`` on the loop as soon as the bulk build has started in its thread:
    an operator's key press (sort, filter) or an action's re-read of one job landing
    while the first read is built."""

    def __init__(self, meddle: Callable[[JobsView], object]) -> None:
        super().__init__(clock=frozen_clock)
        self._meddle = meddle
        self.meddled = False

    def bulk_load(self, rows: Sequence[JobRow], now: datetime | None = None) -> BulkLoad:
        load = super().bulk_load(rows, now)

        def meddle() -> None:
            self.meddled = True
            self._meddle(self)

        asyncio.get_running_loop().call_soon(meddle)
        return load


def _reference(view: JobsView, extra: Sequence[JobRow] = ()) -> JobsView:
    """The same rows, added on the loop the incremental way, sorted and filtered alike."""
    fresh = JobsView(clock=frozen_clock)
    fresh.apply_changes([*extra, *(r for r in view.all_rows() if r not in extra)])
    fresh.set_sort(view.sort_column, view.descending)
    fresh.set_filter(view.filter_text)
    fresh.set_status_filter(view.status_filter)
    return fresh


async def test_a_sort_chosen_while_the_first_read_is_built_is_the_order_shown(
        plan_sim: Simulator, redis_url: str) -> None:
    view = _MeddledView(lambda v: v.set_sort("job", descending=True))
    state = await _poll(plan_sim, redis_url, view)
    assert view.meddled and state.view.total == JOBS
    assert view.sort_column == "job"
    reference = _reference(view)
    assert _ids(view) == _ids(reference)
    first = view.row_at(0)
    assert view.position_of(first.job_id) == 0
    assert first.job == max(row.job for row in view.all_rows())


async def test_a_filter_typed_while_the_first_read_is_built_filters_the_plan(
        plan_sim: Simulator, redis_url: str) -> None:
    view = _MeddledView(lambda v: (v.set_filter("_0"), v.set_status_filter({"SUCC"})))
    state = await _poll(plan_sim, redis_url, view)
    assert view.meddled and state.view.total == JOBS
    assert 0 < len(view) < JOBS
    assert all(row.status == "SUCC" for row in view.rows_in(0, len(view)))
    assert _ids(view) == _ids(_reference(view))


async def test_a_job_written_while_the_first_read_is_built_is_kept(
        plan_sim: Simulator, redis_url: str) -> None:
    """An action's re-read puts one job into the view while the thread builds the plan:
    installing the build would drop it (and count it nowhere)."""
    extra = JobRow(job_id="extra-job", stream="ZZ_EXTRA", status="ABEND")
    view = _MeddledView(lambda v: v.apply_changes([extra]))
    state = await _poll(plan_sim, redis_url, view)
    assert view.meddled and state.health.ok
    assert view.total == JOBS + 1 and view.get("extra-job") == extra
    assert view.counts["ABEND"] == sum(1 for r in view.all_rows() if r.status == "ABEND")
    assert view.row_at(0).job_id == "extra-job" or view.row_at(0).status in ("ABEND", "FAIL")
    assert view.next_failure(-1) is not None
    assert _ids(view) == _ids(_reference(view, [extra]))
