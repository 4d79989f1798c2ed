"""A follower's Streams pane: the leader's counted streams, shown as they are; behind a
leader that publishes none (an older version), counted from its own jobs view at a
cadence its plan's size allows (a count of 200k jobs per delta was nearly all an idle
follower spent).

Real simulator over HTTP, real redis-server; one leader and one follower in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from resync_tui.feeds import shared as shared_module
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.shared import SharedJobsFeed, SharedStreamsFeed
from resync_tui.feeds.streams import StreamsFeed, StreamsState
from resync_tui.hwa.models import JobStreamInPlan
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.streams import StreamRow
from resync_tui.share.channel import Follower, Publisher
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Election, Lease, Role
from tests.ui.dashboard_support import frozen_clock, make_settings, sim

__all__ = ["sim"]


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    yield client
    await client.aclose()


@pytest.fixture
async def runtimes(sim: Simulator, redis_url: str) -> AsyncIterator[list[Runtime]]:
    made = [build_runtime(make_settings(sim.base_url, redis_url), clock=frozen_clock)
            for _ in range(2)]
    yield made
    for rt in made:
        await rt.aclose()


class Screen:
    """One process's shared jobs and streams feeds over one jobs view."""

    def __init__(self, rt: Runtime, r: aioredis.Redis, keys: ShareKeys, name: str,
                 streams_interval: float, *, rows: bool = False) -> None:
        lease = Lease(r, keys, ttl=30, owner=f"{name}:1:x")
        self.election = Election(lease)
        self.view = JobsView(clock=frozen_clock)
        self.jobs = SharedJobsFeed(JobsFeed(rt, self.view), self.election,
                                   Publisher(lease, "jobs"),
                                   Follower(r, keys, "jobs", JobRow, block=0.05),
                                   engine_interval=0.0)
        self.streams = SharedStreamsFeed(
            StreamsFeed(rt, self.view, 3600), self.election, Publisher(lease, "streams"),
            Follower(r, keys, "streams", JobStreamInPlan, block=0.05),
            engine_interval=streams_interval,
            rows=(Publisher(lease, "streamrows"),
                  Follower(r, keys, "streamrows", StreamRow, block=0.05)) if rows else None)


def per_stream(state: StreamsState) -> dict[str, int]:
    return {row.name: row.jobs for row in state.view.rows_in(0, len(state.view))}


def held(view: JobsView) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in view.all_rows():
        out[row.stream] = out.get(row.stream, 0) + 1
    return out


async def setup(sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis,
                monkeypatch: pytest.MonkeyPatch) -> tuple[Screen, Screen]:
    monkeypatch.setattr(shared_module, "_RECOUNT_SECONDS", 0.0)
    keys = ShareKeys.for_engine(sim.base_url)
    leader = Screen(runtimes[0], r, keys, "lead", streams_interval=0.0)
    follower = Screen(runtimes[1], r, keys, "f", streams_interval=3600.0)
    assert await leader.election.step() is Role.LEADER
    assert await follower.election.step() is Role.FOLLOWER
    await leader.jobs.poll()
    await leader.streams.poll()
    await follower.jobs.poll()
    first = await follower.streams.poll()
    assert per_stream(first) and per_stream(first) == {
        name: n for name, n in held(follower.view).items() if name in per_stream(first)}
    # A job of the plan leaves it: the leader publishes a delta, the follower applies it.
    gone = next(iter(leader.view.all_rows()))
    sim.plan.delete_job(gone.job_id)
    await leader.jobs.poll()
    await follower.jobs.poll()
    assert follower.view.get(gone.job_id) is None
    return leader, follower


async def test_a_follower_shows_the_leaders_counted_streams_without_counting_them(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    keys = ShareKeys.for_engine(sim.base_url)
    leader = Screen(runtimes[0], r, keys, "lead", streams_interval=0.0, rows=True)
    follower = Screen(runtimes[1], r, keys, "f", streams_interval=3600.0, rows=True)
    assert await leader.election.step() is Role.LEADER
    assert await follower.election.step() is Role.FOLLOWER
    await leader.jobs.poll()
    counted = await leader.streams.poll()
    assert counted.jobs_counted == 200
    # The follower has not even read the jobs yet: the counts are the leader's.
    shown = await follower.streams.poll()
    assert follower.view.total == 0
    assert shown.health.ok and shown.jobs_counted == 200
    assert shown.view.all_rows() == counted.view.all_rows()
    assert await follower.streams.poll() is shown  # nothing new: the same state
    sim.plan.delete_job(next(iter(leader.view.all_rows())).job_id)
    await leader.jobs.poll()
    again = await leader.streams.poll()
    assert (await follower.streams.poll()).view.all_rows() == again.view.all_rows()
    assert again.jobs_counted == 199


async def test_a_small_plans_stream_counts_follow_the_jobs_at_once(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _leader, follower = await setup(sim, runtimes, r, monkeypatch)
    gone_stream = per_stream(await follower.streams.poll())
    assert gone_stream == {name: n for name, n in held(follower.view).items()
                           if name in gone_stream}


async def test_a_big_plans_stream_counts_wait_for_the_leaders_next_stream_list(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``_RECOUNT_BIG_JOBS`` a delta does not make every follower count its whole
    plan again; the counts move with the leader's next stream list (as a dashboard alone
    counts at each stream read)."""
    monkeypatch.setattr(shared_module, "_RECOUNT_BIG_JOBS", 10)
    leader, follower = await setup(sim, runtimes, r, monkeypatch)
    before = per_stream(follower.streams._last) if follower.streams._last else {}
    still = await follower.streams.poll()
    assert per_stream(still) == before != {name: n for name, n in held(follower.view).items()
                                           if name in before}
    await leader.streams.poll()  # the leader's next stream list
    counted = per_stream(await follower.streams.poll())
    assert counted == {name: n for name, n in held(follower.view).items() if name in counted}


async def test_a_leader_whose_stream_list_came_before_its_jobs_leaves_no_follower_at_zero(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    """The leader's first stream list came before its first job list (feeds poll at once):
    it published rows without counts. A follower that holds the jobs counts them itself
    until the leader's next list, instead of showing every stream with 0 jobs."""
    keys = ShareKeys.for_engine(sim.base_url)
    leader = Screen(runtimes[0], r, keys, "lead", streams_interval=0.0, rows=True)
    follower = Screen(runtimes[1], r, keys, "f", streams_interval=3600.0, rows=True)
    assert await leader.election.step() is Role.LEADER
    assert await follower.election.step() is Role.FOLLOWER
    uncounted = await leader.streams.poll()  # no jobs yet: nothing to count
    assert uncounted.jobs_counted == 0 and len(uncounted.view)
    await leader.jobs.poll()
    await follower.jobs.poll()
    assert follower.view.total == 200
    shown = await follower.streams.poll()
    assert shown.health.ok
    assert shown.jobs_counted == 200
    assert per_stream(shown) == {name: n for name, n in held(follower.view).items()
                                 if name in per_stream(shown)}
