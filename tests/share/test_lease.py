"""Leader election by lease, on a real redis-server: one leader, takeover, fencing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from resync_tui.redis_server import EmbeddedRedis
from resync_tui.share.keys import ShareKeys, engine_id
from resync_tui.share.lease import Election, Holder, Lease, Role

KEYS = ShareKeys.for_engine("https://engine.example:31116", "current")


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    yield client
    await client.aclose()


async def until_leader(e: Election, *, tries: int, pause: float) -> None:
    """Rounds until ``e`` leads (a bounded number: a test never hangs)."""
    for _ in range(tries):
        if await e.step() is Role.LEADER:
            return
        await asyncio.sleep(pause)
    raise AssertionError(f"no takeover after {tries} rounds: {e.describe()}")


def election(r: aioredis.Redis, name: str, *, ttl: float = 5.0, **kw: object) -> Election:
    return Election(Lease(r, KEYS, ttl=ttl, owner=f"host{name}:{100 + len(name)}:n{name}", **kw))  # type: ignore[arg-type]


def test_keys_of_one_engine_share_a_slot_and_name_no_user() -> None:
    keys = ShareKeys.for_engine("HTTPS://ops:secret@Engine.Example:31116/", "current")
    assert keys.engine == KEYS.engine  # user info, case and trailing slash do not matter
    names = [keys.lease, keys.fence, keys.snapshot("jobs"), keys.chunk("jobs", 3, 0),
             keys.deltas("jobs")]
    assert all(name.startswith(keys.tag + ":") for name in names)
    assert not any("ops" in name or "secret" in name or "engine" in name for name in names)
    assert engine_id("https://engine.example:31116", "tomorrow") != KEYS.engine
    assert engine_id("https://other:31116") != KEYS.engine


async def test_one_leader_among_several(r: aioredis.Redis) -> None:
    elections = [election(r, str(i)) for i in range(6)]
    roles = await asyncio.gather(*(e.step() for e in elections))
    assert roles.count(Role.LEADER) == 1
    leader = elections[roles.index(Role.LEADER)]
    for e in elections:
        if e is not leader:
            assert e.role is Role.FOLLOWER
            assert e.describe() == f"shared · follower of {leader.lease.owner.rsplit(':', 1)[0]}"
    assert leader.describe() == "shared · leader"
    # A second round changes nothing: the leader renews, the others still follow.
    roles = await asyncio.gather(*(e.step() for e in elections))
    assert [e.role for e in elections] == list(roles)
    assert roles.count(Role.LEADER) == 1 and leader.role is Role.LEADER


async def test_every_acquisition_gets_a_larger_fencing_token(r: aioredis.Redis) -> None:
    a, b = Lease(r, KEYS, ttl=5, owner="a:1:x"), Lease(r, KEYS, ttl=5, owner="b:2:y")
    first = await a.try_acquire()
    assert first is not None and await b.try_acquire() is None
    await a.release()
    second = await b.try_acquire()
    assert second is not None and second > first
    assert await b.holder() == Holder("b:2:y", second)


async def test_a_paused_former_leader_can_no_longer_publish(r: aioredis.Redis) -> None:
    stream = KEYS.deltas("jobs")
    old = Lease(r, KEYS, ttl=5, owner="old:1:x")
    assert await old.try_acquire() is not None
    assert await old.fenced_xadd(stream, {"v": 1}, max_len=100) is not None
    await r.delete(KEYS.lease)  # its lease ran out while it was stopped (kill -STOP)
    new = Lease(r, KEYS, ttl=5, owner="new:2:y")
    assert await new.try_acquire() is not None
    # It wakes up and writes with its old token: refused, and it knows it lost.
    assert await old.fenced_xadd(stream, {"v": 2}, max_len=100) is None
    assert old.token is None
    assert await new.fenced_xadd(stream, {"v": 3}, max_len=100) is not None
    assert [fields[b"v"] for _, fields in await r.xrange(stream)] == [b"1", b"3"]
    # Nor can it renew the new leader's lease.
    old.token = 1
    assert not await old.renew()
    assert (await new.holder()) == Holder("new:2:y", new.token or 0)


async def test_a_follower_takes_an_expired_lease(r: aioredis.Redis) -> None:
    leader, follower = election(r, "L", ttl=0.3), election(r, "F", ttl=0.3)
    assert await leader.step() is Role.LEADER
    assert await follower.step() is Role.FOLLOWER
    # The leader stops renewing (paused); within its ttl the follower leads.
    await until_leader(follower, tries=100, pause=0.05)
    assert not leader.lease.held()  # on its own clock it knows it may no longer lead
    assert await leader.step() is Role.FOLLOWER


async def test_redis_down_means_own_poll_and_a_leader_stops_at_its_own_deadline(
        redis_server: EmbeddedRedis, redis_url: str) -> None:
    now = [100.0]
    client = aioredis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        e = Election(Lease(client, KEYS, ttl=6, owner="h:1:x", clock=lambda: now[0]))
        follower = Election(Lease(client, KEYS, ttl=6, owner="f:2:y"))
        assert await e.step() is Role.LEADER
        assert await follower.step() is Role.FOLLOWER
        redis_server.stop()
        assert await follower.step() is Role.ALONE
        assert follower.describe() == "own poll (Redis down)"
        assert await e.step() is Role.LEADER  # lease still valid on its own clock
        now[0] += 6 * 0.95  # past ttl less the drift margin
        assert await e.step() is Role.ALONE
        assert e.describe() == "own poll (Redis down)"
    finally:
        redis_server.start()
        await client.aclose()


def test_backoff_while_redis_is_down_is_jittered_and_bounded() -> None:
    import random

    delays = []
    for seed in range(20):
        lease = Lease.__new__(Lease)
        lease.ttl = 3.0
        e = Election(lease, rng=random.Random(seed), max_backoff=30)
        assert e.delay() == 1.0  # healthy: ttl/3
        e._failures = 5
        delays.append(e.delay())
    assert all(0.5 <= d <= 30 for d in delays)
    assert len({round(d, 3) for d in delays}) > 15  # spread, not one stampede


async def test_run_releases_the_lease_on_stop_so_a_follower_leads_at_once(
        r: aioredis.Redis) -> None:
    leader, follower = election(r, "L", ttl=30), election(r, "F", ttl=30)
    stop = asyncio.Event()
    changes: list[Role] = []
    task = asyncio.create_task(leader.run(stop, changes.append))
    for _ in range(500):
        if leader.role is Role.LEADER:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert changes == [Role.LEADER]
    assert await follower.step() is Role.LEADER  # no 30 s wait for the ttl


async def test_a_leader_killed_with_sigkill_is_replaced_within_its_ttl(
        r: aioredis.Redis, redis_url: str) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys
        import redis.asyncio as aioredis
        from resync_tui.share.keys import ShareKeys
        from resync_tui.share.lease import Election, Lease
        async def main():
            r = aioredis.Redis.from_url({redis_url!r}, socket_timeout=2)
            e = Election(Lease(r, ShareKeys({KEYS.engine!r}), ttl=1.0))
            await e.step()
            print(e.role.value, flush=True)
            await e.run(asyncio.Event())
        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script,
                                                stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.strip() == b"leader"
        follower = election(r, "F", ttl=1.0)
        assert await follower.step() is Role.FOLLOWER
        assert follower.leader is not None and follower.leader.where.endswith(f":{proc.pid}")
        os.kill(proc.pid, signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 5)
        await until_leader(follower, tries=100, pause=0.1)
        assert follower.describe() == "shared · leader"
    finally:
        if proc.returncode is None:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 5)


async def test_a_follower_tries_again_right_when_the_leaders_lease_runs_out(
        r: aioredis.Redis) -> None:
    """A follower waited ttl/3 between tries whatever the lease said: a dead leader's
    lease was taken up to ttl/3 after it expired (ttl 10 s: a takeover at 13 s, past a
    failover target of ttl + one poll). It now looks again when the lease runs out."""
    leader, follower = election(r, "a", ttl=30.0), election(r, "b", ttl=30.0)
    assert await leader.step() is Role.LEADER
    await r.pexpire(KEYS.lease, 2_000)  # the leader's last renewal, 28 s ago
    assert await follower.step() is Role.FOLLOWER
    assert 1.0 < follower.delay() <= 2.1 < 30.0 / 3
    await r.pexpire(KEYS.lease, 30_000)  # renewed: the usual pace again
    await follower.step()
    assert follower.delay() == 10.0
