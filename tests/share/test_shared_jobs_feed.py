"""One poll for many dashboards: a leader's jobs feed through Redis to followers.

Real simulator over HTTP, real redis-server. The followers' views must hold exactly
the jobs the leader's does, and the engine must see only the leader's requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime

import pytest
import redis.asyncio as aioredis

from resync_tui.feeds.jobs import JobsFeed, JobsState
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.shared import Share, SharedJobsFeed
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import BulkLoad, ChangeSet, JobsView
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
            for _ in range(3)]
    yield made
    for rt in made:
        await rt.aclose()


def shared(rt: Runtime, r: aioredis.Redis, keys: ShareKeys, name: str) -> SharedJobsFeed:
    lease = Lease(r, keys, ttl=30, owner=f"{name}:1:x")
    return SharedJobsFeed(JobsFeed(rt, JobsView(clock=frozen_clock)), Election(lease),
                          Publisher(lease, "jobs"),
                          Follower(r, keys, "jobs", JobRow, block=0.05),
                          engine_interval=0.0)


def engine_calls(sim: Simulator) -> int:
    return sum(n for path, n in sim.stats()["requests"].items() if not path.startswith("GET /_sim"))


def jobs(feed: SharedJobsFeed) -> dict[str, JobRow]:
    return {row.job_id: row for row in feed.view.all_rows()}


async def test_followers_hold_the_leaders_jobs_and_never_call_the_engine(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    keys = ShareKeys.for_engine(sim.base_url)
    leader, *followers = [shared(rt, r, keys, f"host{i}") for i, rt in enumerate(runtimes)]
    assert await leader.election.step() is Role.LEADER
    for f in followers:
        assert await f.election.step() is Role.FOLLOWER
    state = await leader.poll()
    assert state.full_read and state.view.total == 200
    calls = engine_calls(sim)
    for f in followers:
        got = await f.poll()
        assert got.health.ok and got.health.last_success == state.health.last_success
        assert jobs(f) == jobs(leader)
    # The plan moves: the leader reads it again and publishes a delta, not a snapshot.
    sim.tick(3 * 3600)
    state = await leader.poll()
    assert state.full_read and state.change
    assert leader.publisher.deltas_since_snapshot == 1
    leader_calls = engine_calls(sim) - calls
    for f in followers:
        assert (await f.poll()).change
        assert jobs(f) == jobs(leader)
    assert engine_calls(sim) - calls == leader_calls  # the followers added none
    # Nothing new: a follower's poll hands back the very same state (not published again).
    quiet = followers[0]
    last = quiet._last
    assert await quiet.poll() is last


async def test_a_leader_that_cannot_reach_the_engine_makes_followers_say_so(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    keys = ShareKeys.for_engine(sim.base_url)
    leader, follower = shared(runtimes[0], r, keys, "lead"), shared(runtimes[1], r, keys, "f")
    await leader.election.step()
    await follower.election.step()
    good = await leader.poll()
    await follower.poll()
    sim.set_faults(Faults(outage="reset"))
    leader.refresh()
    bad = await leader.poll()
    assert not bad.health.ok
    seen = await follower.poll()
    assert not seen.health.ok and seen.health.reason == bad.health.reason
    assert seen.health.last_success == good.health.last_success  # its data ages as the leader's
    assert jobs(follower) == jobs(leader)


async def test_a_follower_that_becomes_leader_polls_and_publishes_its_read_as_a_delta(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    """At takeover the new leader holds the plan as a follower: its first engine read is
    published as a delta against what every follower holds, which they apply without
    loading the snapshot again (200k rows each, at once, on every screen)."""
    keys = ShareKeys.for_engine(sim.base_url)
    old, new, other = (shared(rt, r, keys, n) for rt, n in zip(runtimes, "abc", strict=True))
    await old.election.step()
    await new.election.step()
    await other.election.step()
    await old.poll()
    await new.poll()
    await other.poll()
    sim.tick(1800)
    await old.poll()  # a last delta of the old leader, which the new one has not read yet
    version = await r.hget(keys.snapshot("jobs"), "version")
    await r.delete(keys.lease)  # the leader died; its lease expired
    assert await new.election.step() is Role.LEADER
    sim.tick(3 * 3600)
    calls = engine_calls(sim)
    state = await new.poll()
    assert state.full_read and engine_calls(sim) > calls
    assert 0 < len(state.change.changed_ids) < state.view.total
    assert await r.hget(keys.snapshot("jobs"), "version") == version  # no new snapshot
    assert new.publisher.deltas_since_snapshot == 2  # the old leader's count, carried on
    seen = await other.poll()
    assert other.follower.version == int(version or 0)  # no reload
    assert state.change.changed_ids <= seen.change.changed_ids
    assert jobs(other) == jobs(new)
    assert seen.health.last_success == state.health.last_success
    # A dashboard started now loads the old snapshot and both deltas: the same jobs.
    late = shared(runtimes[0], r, keys, "d")
    assert await late.election.step() is Role.FOLLOWER
    await late.poll()  # the snapshot...
    await late.poll()  # ...then the deltas after it
    assert jobs(late) == jobs(new)
    # The old leader, back, is fenced off and follows.
    assert await old.election.step() is Role.FOLLOWER
    await old.poll()
    await old.poll()
    assert jobs(old) == jobs(new)


async def test_a_new_leader_whose_base_is_not_the_streams_end_publishes_a_snapshot(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    """A delta computed against an entry that is no longer the stream's last would be
    applied by followers to a base it was not made from: Redis refuses it, and the new
    leader publishes a full snapshot instead, which followers reload."""
    keys = ShareKeys.for_engine(sim.base_url)
    old, new, other = (shared(rt, r, keys, n) for rt, n in zip(runtimes, "abc", strict=True))
    for feed in (old, new, other):
        await feed.election.step()
        await feed.poll()
    marker = (await r.hgetall(keys.snapshot("jobs")))[b"id"]
    sim.tick(1800)
    await old.poll()  # a delta after the snapshot's marker
    await new.poll()
    await other.poll()
    await r.delete(keys.lease)
    assert await new.election.step() is Role.LEADER

    async def stale() -> None:  # as if it held the plan as of the marker, not the end
        new._base = marker

    new._take_over = stale  # type: ignore[method-assign]
    version = await r.hget(keys.snapshot("jobs"), "version")
    sim.tick(3 * 3600)
    state = await new.poll()
    assert state.full_read
    assert await r.hget(keys.snapshot("jobs"), "version") != version
    assert new.publisher.deltas_since_snapshot == 0
    await other.poll()
    await other.poll()
    assert jobs(other) == jobs(new)


async def test_redis_down_means_each_dashboard_polls_the_engine_itself(
        sim: Simulator, runtimes: list[Runtime], redis_server: object, redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        keys = ShareKeys.for_engine(sim.base_url)
        leader, follower = (shared(rt, client, keys, n) for rt, n in zip(runtimes, "ab",
                                                                          strict=False))
        await leader.election.step()
        await follower.election.step()
        await leader.poll()
        await follower.poll()
        redis_server.stop()  # type: ignore[attr-defined]
        assert await follower.election.step() is Role.ALONE
        calls = engine_calls(sim)
        sim.tick(3 * 3600)
        state = await follower.poll()
        assert state.full_read and state.health.ok and engine_calls(sim) > calls
        assert follower.election.describe() == "own poll (Redis down)"
    finally:
        redis_server.start()  # type: ignore[attr-defined]
        await client.aclose()


async def test_followers_show_the_engines_times_in_its_own_offset(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    keys = ShareKeys.for_engine(sim.base_url)
    leader, follower = shared(runtimes[0], r, keys, "lead"), shared(runtimes[1], r, keys, "f")
    await leader.election.step()
    await follower.election.step()
    zone = timezone(timedelta(hours=1))  # an engine that writes +01:00 times
    start = datetime(2026, 12, 1, 3, 12, tzinfo=zone)
    change = leader.view.apply_changes(
        [JobRow("j1", job="LOAD", status="EXEC", started=start)])
    await leader._publish(JobsState(leader.view, change))  # as after a poll: a snapshot
    await follower.poll()
    later = start + timedelta(minutes=5)
    change = leader.view.apply_changes(
        [JobRow("j1", job="LOAD", status="SUCC", started=start, ended=later)])
    await leader._publish(JobsState(leader.view, change))  # then a delta
    await follower.poll()
    got = follower.view.get("j1")
    assert got is not None and got.started == start and got.ended == later
    assert got.started.utcoffset() == got.ended.utcoffset() == timedelta(hours=1)
    assert got.started.astimezone(UTC).hour == 2  # 03:12+01:00 shown as 03:12, not 02:12


async def test_workstations_are_shared_whole_and_followers_do_not_ask_the_engine(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    from resync_tui.feeds.shared import SharedStateFeed
    from resync_tui.feeds.workstations import WorkstationsFeed, WorkstationsState

    keys = ShareKeys.for_engine(sim.base_url)

    def make(rt: Runtime, name: str) -> SharedStateFeed[WorkstationsState]:
        lease = Lease(r, keys, ttl=30, owner=f"{name}:1:x")
        return SharedStateFeed(WorkstationsFeed(rt, 60.0), Election(lease),
                               Publisher(lease, "workstations"),
                               Follower(r, keys, "workstations", WorkstationsState, block=0.05),
                               engine_interval=0.0, empty=WorkstationsState())

    leader, follower = make(runtimes[0], "lead"), make(runtimes[1], "f")
    assert await leader.election.step() is Role.LEADER
    assert await follower.election.step() is Role.FOLLOWER
    calls = engine_calls(sim)
    early = await follower.poll()  # the leader has published nothing yet: it waits
    assert not early.health.ok and early.health.reason == "waiting for the leader's first data"
    assert engine_calls(sim) == calls
    state = await leader.poll()
    assert state.total > 0
    calls = engine_calls(sim)
    seen = await follower.poll()
    assert (seen.total, seen.problems) == (state.total, state.problems)
    assert seen.health.last_success == state.health.last_success
    assert await follower.poll() is seen  # nothing new: the same state
    assert engine_calls(sim) == calls


async def test_a_follower_judges_ages_on_the_engines_clock_it_never_asked(
        redis_url: str, r: aioredis.Redis) -> None:
    engine = Simulator(jobs=50, seed=3, time_scale=1.0, clock_offset=3600.0)  # an hour ahead
    engine.start_in_thread("127.0.0.1", 0)
    leader_rt = build_runtime(make_settings(engine.base_url, redis_url))
    follower_rt = build_runtime(make_settings(engine.base_url, redis_url))
    try:
        keys = ShareKeys.for_engine(engine.base_url)
        leader = Share(leader_rt, owner="lead:1:x").wrap(JobsFeed(leader_rt), 0.0)
        follower = Share(follower_rt, owner="f:2:y").wrap(JobsFeed(follower_rt), 0.0)
        assert await leader.election.step() is Role.LEADER
        assert await follower.election.step() is Role.FOLLOWER
        assert follower_rt.client.clock_offset is None
        await leader.poll()
        calls = engine_calls(engine)
        state = await follower.poll()
        assert state.view.total == 50 and engine_calls(engine) == calls
        offset = follower_rt.client.clock_offset
        assert offset is not None and abs(offset - 3600) < 5  # learnt from the leader
        lag = abs((follower_rt.clock() - leader_rt.clock()).total_seconds())
        assert lag < 5
        assert keys.engine  # (the same engine's keys)
    finally:
        await leader_rt.aclose()
        await follower_rt.aclose()
        engine.stop()


async def test_a_delta_keeps_the_values_a_follower_already_holds(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    """A delta's rows come with their own copies of every name and time; applied, a row
    keeps the objects the follower held where the values did not change (over a day,
    every job that runs would otherwise undo the snapshot's sharing)."""
    keys = ShareKeys.for_engine(sim.base_url)
    leader, follower = shared(runtimes[0], r, keys, "lead"), shared(runtimes[1], r, keys, "f")
    await leader.election.step()
    await follower.election.step()
    await leader.poll()
    await follower.poll()
    before = jobs(follower)
    sim.tick(3 * 3600)
    state = await leader.poll()
    seen = await follower.poll()
    assert jobs(follower) == jobs(leader)
    moved = [before[job_id] for job_id in seen.change.changed if job_id in before]
    assert moved
    for old in moved:
        now = follower.view.get(old.job_id)
        assert now is not None and now != old
        assert now.stream is old.stream and now.workstation is old.workstation
        assert now.job is old.job and now.folder is old.folder
        if now.scheduled == old.scheduled and now.scheduled is not None:
            assert now.scheduled is old.scheduled
    assert state.change


class _CountingView(JobsView):
    """Counts the rows written on the loop, and the installs of a bulk load."""

    def __init__(self) -> None:
        super().__init__(clock=frozen_clock)
        self.rows_written = 0
        self.adopted = 0

    def apply_changes(self, changed: Iterable[JobRow], removed_ids: Iterable[str] = (),
                      now: datetime | None = None) -> ChangeSet:
        changed = list(changed)
        self.rows_written += len(changed)
        return super().apply_changes(changed, removed_ids, now)

    def adopt(self, load: BulkLoad) -> ChangeSet | None:
        self.adopted += 1
        return super().adopt(load)


async def test_a_followers_first_snapshot_is_built_off_the_loop(
        sim: Simulator, runtimes: list[Runtime], r: aioredis.Redis) -> None:
    """A follower's first plan from Redis went into its view in one call on the loop
    (200k rows: about a second without a key press or a frame); it is built in a worker
    thread and installed at once, as the jobs feed's own first read is."""
    keys = ShareKeys.for_engine(sim.base_url)
    leader = shared(runtimes[0], r, keys, "host0")
    lease = Lease(r, keys, ttl=30, owner="host1:1:x")
    view = _CountingView()
    follower = SharedJobsFeed(JobsFeed(runtimes[1], view), Election(lease),
                              Publisher(lease, "jobs"),
                              Follower(r, keys, "jobs", JobRow, block=0.05),
                              engine_interval=0.0)
    assert await leader.election.step() is Role.LEADER
    assert await follower.election.step() is Role.FOLLOWER
    await leader.poll()
    got = await follower.poll()
    assert got.health.ok and jobs(follower) == jobs(leader)
    assert view.adopted == 1 and view.rows_written == 0
