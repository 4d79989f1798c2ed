"""The jobs feed's memory with a big plan: a read is mapped as it arrives, never held whole.

Measured with tracemalloc against a baseline taken in the same test (the whole decoded
plan, as ``fetch_plan`` returns it without a sink), so no figure is hard-coded and no
time is measured.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import tracemalloc
from collections.abc import Iterator

import pytest

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.process import SimulatorProcess
from resync_tui.model.job_row import RowMapper
from resync_tui.model.jobs_view import JobsView, PlanDiff
from tests.feeds.probed_view import ProbedView
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


def _runtime(sim: Simulator, redis_url: str) -> Runtime:
    settings = make_settings(sim.base_url, redis_url)
    settings = settings.replace(hwa=dataclasses.replace(
        settings.hwa, page_size=150, parallel_pages=2, read_timeout=20.0, call_deadline=60.0))
    return build_runtime(settings, clock=frozen_clock)


async def test_a_full_re_read_holds_a_few_pages_not_the_decoded_plan(
        plan_sim: Simulator, redis_url: str) -> None:
    """Before: the whole decoded plan (and a second copy of every row) was held until the
    diff ended; at 200k jobs that was ~400 MB more while a poll ran, and fragmented the
    heap so the process never gave it back."""
    runtime = _runtime(plan_sim, redis_url)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        read = await asyncio.wait_for(runtime.client.fetch_plan(), DEADLINE)
        assert len(read.jobs) == JOBS
        whole_plan = tracemalloc.get_traced_memory()[0] - start
        del read
        feed = JobsFeed(runtime)
        first = await asyncio.wait_for(feed.poll(), DEADLINE)
        assert first.full_read and first.view.total == JOBS
        feed.force_full_read()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        again = await asyncio.wait_for(feed.poll(), DEADLINE)
        held_at_peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
        await runtime.aclose()
    assert again.full_read and again.health.ok and again.view.total == JOBS
    assert not again.change  # nothing moved: the same rows, nothing re-applied
    assert held_at_peak < whole_plan / 2, (held_at_peak, whole_plan)


async def test_rows_share_repeated_names_and_times(plan_sim: Simulator, redis_url: str) -> None:
    """3,000 jobs in a few streams on a few workstations: one object per distinct name
    and scheduled time, not one per job (200k copies of a handful of names before)."""
    runtime = _runtime(plan_sim, redis_url)
    try:
        state = await asyncio.wait_for(JobsFeed(runtime).poll(), DEADLINE)
    finally:
        await runtime.aclose()
    rows = list(state.view.all_rows())
    assert len(rows) == JOBS
    for field in ("stream", "workstation", "folder", "job", "scheduled"):
        values = [getattr(row, field) for row in rows if getattr(row, field) is not None]
        assert len({id(value) for value in values}) == len(set(values)), field


def _blocks() -> int:
    """Memory blocks traced now (a string is one block; a set's table, however big, is one),
    cyclic garbage collected first (httpx's requests and answers wait for it)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    return sum(stat.count for stat in snapshot.statistics("filename"))


async def test_a_re_read_holds_no_second_copy_of_the_plans_ids(redis_url: str) -> None:
    """A re-read remembers every id it saw until it ends (to see a job come twice); it
    kept the decoded strings, a second copy of the plan's ids, and its row mapper kept
    every distinct time it decoded: at 200k jobs ~20 MB more at the end of every
    re-read, and pymalloc kept the arenas that had held them (RSS +17 MB for good after
    the first re-read). Now the read keeps the view's own strings and a re-read maps
    without a table of values: it holds a few pages' worth, not a block or two per job.
    (The simulator runs in a process of its own: only this process's blocks count.)"""
    with SimulatorProcess(jobs=JOBS, seed=2, user="demo", password="demo") as sim:
        sim.wait_ready(timeout=DEADLINE)
        settings = make_settings(sim.base_url, redis_url)
        settings = settings.replace(hwa=dataclasses.replace(
            settings.hwa, page_size=20, parallel_pages=1, read_timeout=20.0,
            call_deadline=60.0))
        runtime = build_runtime(settings, clock=frozen_clock)
        view = ProbedView(_blocks, JOBS)
        feed = JobsFeed(runtime, view)
        tracemalloc.start()
        try:
            first = await asyncio.wait_for(feed.poll(), DEADLINE)
            assert first.full_read and first.view.total == JOBS
            feed.force_full_read()
            before = _blocks()
            again = await asyncio.wait_for(feed.poll(), DEADLINE)
        finally:
            tracemalloc.stop()
            await runtime.aclose()
    assert again.full_read and again.health.ok and not again.change
    assert len(view.samples) >= 2
    held_at_most = max(view.samples) - before
    assert held_at_most < JOBS // 2, held_at_most  # before: over 2 * JOBS


async def test_a_re_read_of_the_engines_plan_is_diffed_in_the_views_order(
        plan_sim: Simulator, redis_url: str) -> None:
    """The engine lists its plan in the same order each read (pages read in parallel are
    handed on in offset order), so a re-read is diffed entry by entry, no look-up by id,
    and still finds every job that changed."""
    diffs: list[PlanDiff] = []

    class Watched(JobsView):
        def plan_diff(self, mapper: RowMapper | None = None) -> PlanDiff:
            diffs.append(super().plan_diff(mapper))
            return diffs[-1]

    runtime = _runtime(plan_sim, redis_url)
    feed = JobsFeed(runtime, Watched(clock=frozen_clock))
    try:
        first = await asyncio.wait_for(feed.poll(), DEADLINE)
        assert first.full_read and first.view.total == JOBS
        victim = next(row for row in first.view.all_rows() if row.status != "ABEND")
        plan_sim.plan.set_status(plan_sim.plan.job(victim.job_id), "ABEND")
        feed.force_full_read()
        again = await asyncio.wait_for(feed.poll(), DEADLINE)
    finally:
        await runtime.aclose()
    assert again.full_read and again.view.total == JOBS
    assert diffs[-1].in_order
    held = again.view.get(victim.job_id)
    assert held is not None and held.status == "ABEND"
    assert victim.job_id in again.change.changed
