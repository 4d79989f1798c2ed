"""A re-read of the plan keeps the ids it has seen where the garbage collector does not
look: a young collection during a re-read visited every slot of two sets of the plan's
ids (the client's and the diff's), 15-20 ms each on the event loop at 200k jobs, a
stall a key pressed then waited for. Counted, not timed: the items of the containers a
young collection visits, as the last tenth of a re-read is handed over."""

from __future__ import annotations

import asyncio
import dataclasses
import gc

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator.process import SimulatorProcess
from tests.feeds.probed_view import ProbedView
from tests.ui.dashboard_support import frozen_clock, make_settings

DEADLINE = 60.0
JOBS = 3000


def _young_items() -> int:
    """Items of the containers the collector's young generations hold (what a young
    collection visits besides the objects themselves)."""
    young = gc.get_objects(0) + gc.get_objects(1)
    try:
        return sum(len(o) for o in young if isinstance(o, dict | list | set | frozenset))
    finally:
        del young


async def test_a_re_read_holds_its_ids_out_of_the_young_collections_sight(
        redis_url: str) -> None:
    with SimulatorProcess(jobs=JOBS, seed=2, user="demo", password="demo") as sim:
        sim.wait_ready(timeout=DEADLINE)
        settings = make_settings(sim.base_url, redis_url)
        settings = settings.replace(hwa=dataclasses.replace(
            settings.hwa, page_size=100, parallel_pages=2, read_timeout=20.0,
            call_deadline=60.0))
        runtime = build_runtime(settings, clock=frozen_clock)
        view = ProbedView(_young_items, JOBS)
        feed = JobsFeed(runtime, view)
        try:
            first = await asyncio.wait_for(feed.poll(), DEADLINE)
            assert first.full_read and first.view.total == JOBS
            gc.collect()  # what the first read built is old now, as in the app (frozen)
            feed.force_full_read()
            again = await asyncio.wait_for(feed.poll(), DEADLINE)
        finally:
            await runtime.aclose()
    assert again.full_read and again.health.ok and again.view.total == JOBS
    assert view.samples
    assert max(view.samples) < JOBS, view.samples  # before: two sets of ~JOBS ids each
