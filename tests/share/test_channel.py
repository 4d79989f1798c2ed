"""A feed's rows through Redis: chunked snapshot, deltas, fencing, gaps — on a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from resync_tui.model.job_row import JobRow
from resync_tui.share.channel import BaseMoved, Follower, Publisher, SnapshotMissing
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Lease

KEYS = ShareKeys.for_engine("https://engine.example:31116")


def rows(n: int, status: str = "SUCC") -> list[JobRow]:
    start = datetime(2026, 12, 1, 3, 12, tzinfo=UTC)
    return [JobRow(f"id{i:06d}", stream=f"PAYROLL_{i % 97}", job=f"LOAD_{i}", workstation="FTA_1",
                   status=status, return_code=i % 3, started=start, duration=1.5) for i in range(n)]


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    yield client
    await client.aclose()


async def leader(r: aioredis.Redis, owner: str = "lead:1:x", **kw: int) -> Publisher[JobRow]:
    lease = Lease(r, KEYS, ttl=30, owner=owner)
    assert await lease.try_acquire() is not None
    return Publisher(lease, "jobs", **kw)


def follower(r: aioredis.Redis) -> Follower[JobRow]:
    return Follower(r, KEYS, "jobs", JobRow, block=0.05)


def apply(held: dict[str, JobRow], changed: list[JobRow], removed: list[str]) -> None:
    for row in changed:
        held[row.job_id] = row
    for job_id in removed:
        held.pop(job_id, None)


async def test_a_big_snapshot_is_chunked_and_a_follower_loads_it_whole(
        r: aioredis.Redis) -> None:
    plan = rows(12_345)
    pub = await leader(r, chunk_rows=2_000)
    assert await pub.snapshot(plan, {"read_at": "2026-12-01T03:12:00+00:00"})
    chunk_keys = [k async for k in r.scan_iter(match=KEYS.tag.replace("{", "[{]") + ":snap:jobs:*")]
    assert len(chunk_keys) == 7  # never one huge value
    assert max([await r.strlen(k) for k in chunk_keys]) < 1_000_000
    snap = await follower(r).load()
    assert snap.rows == plan
    assert snap.meta == {"read_at": "2026-12-01T03:12:00+00:00"}


async def test_followers_apply_deltas_and_end_with_the_leaders_rows(r: aioredis.Redis) -> None:
    plan = {row.job_id: row for row in rows(50)}
    pub = await leader(r)
    assert await pub.snapshot(list(plan.values()), {})
    f = follower(r)
    held = {row.job_id: row for row in (await f.load()).rows}
    assert await f.deltas() == []  # nothing new: an empty answer, not a reload
    changed = [JobRow("id000003", job="LOAD_3", status="ABEND", return_code=12),
               JobRow("new1", job="NEW", status="EXEC")]
    assert await pub.delta(changed, ["id000007"], {"poll": 2})
    assert await pub.delta([], [], {"poll": 3})
    apply(plan, changed, ["id000007"])
    deltas = await f.deltas()
    assert deltas is not None and [d.meta for d in deltas] == [{"poll": 2}, {"poll": 3}]
    for d in deltas:
        apply(held, d.changed, d.removed)
    assert held == plan


async def test_a_former_leader_can_neither_replace_the_snapshot_nor_add_deltas(
        r: aioredis.Redis) -> None:
    old = await leader(r, owner="old:1:x")
    assert await old.snapshot(rows(5, "SUCC"), {"by": "old"})
    await r.delete(KEYS.lease)  # its lease expired while it was paused
    new = await leader(r, owner="new:2:y")
    assert await new.snapshot(rows(5, "ABEND"), {"by": "new"})
    assert not await old.delta([JobRow("id000001", status="SUCC")], [], {"by": "old"})
    old.lease.token = 1  # even if it still believed in its token
    assert not await old.snapshot(rows(5, "SUCC"), {"by": "old"})
    snap = await follower(r).load()
    assert snap.meta == {"by": "new"} and {row.status for row in snap.rows} == {"ABEND"}


async def test_a_new_snapshot_makes_followers_reload(r: aioredis.Redis) -> None:
    pub = await leader(r, max_deltas=10)
    assert await pub.snapshot(rows(3), {"v": 1})
    for _ in range(4):
        assert await pub.delta([], [], {}) and not pub.snapshot_due
    assert await pub.delta([], [], {}) and pub.snapshot_due
    f = follower(r)
    await f.load()
    assert await pub.snapshot(rows(4), {"v": 2})
    assert await f.deltas() is None
    snap = await f.load()
    assert snap.meta == {"v": 2} and len(snap.rows) == 4


async def test_a_follower_behind_the_trim_reloads_instead_of_missing_changes(
        r: aioredis.Redis) -> None:
    pub = await leader(r, max_deltas=10)
    plan = {row.job_id: row for row in rows(20)}
    assert await pub.snapshot(list(plan.values()), {})
    f = follower(r)
    held = {row.job_id: row for row in (await f.load()).rows}
    for i in range(600):  # approximate MAXLEN trims whole nodes (100 entries) at a time
        row = JobRow(f"id{i % 20:06d}", status="EXEC" if i % 2 else "ABEND")
        plan[row.job_id] = row
        assert await pub.delta([row], [], {"i": i})
    assert await r.xlen(KEYS.deltas("jobs")) < 600  # the trim happened
    assert await f.deltas() is None  # a gap: never applied on the wrong base
    held = {row.job_id: row for row in (await f.load()).rows}
    assert held != plan  # the snapshot is older than the deltas since...
    assert await f.deltas() is None  # ...and those it needs are trimmed: it needs a new one,
    assert pub.snapshot_due  # which the leader knew was due long before the trim reached it
    assert await pub.snapshot(list(plan.values()), {})
    assert {row.job_id: row for row in (await f.load()).rows} == plan


async def test_no_snapshot_or_an_expired_one_is_said_not_shown(r: aioredis.Redis) -> None:
    f = follower(r)
    with pytest.raises(SnapshotMissing, match="no snapshot"):
        await f.load()
    pub = await leader(r, chunk_rows=2)
    assert await pub.snapshot(rows(5), {})
    await r.delete(KEYS.chunk("jobs", 1, 1))  # expired: no leader for chunk_ttl
    with pytest.raises(SnapshotMissing, match="expired"):
        await f.load()


async def test_a_loaded_snapshot_holds_each_repeated_value_once(r: aioredis.Redis) -> None:
    """msgpack decodes every string and time anew: 200k rows held ~90 MB of copies of a
    few thousand names, statuses and times. Loaded with ``shared_fields``, equal values
    are one object, and the rows are still exactly the leader's."""
    plan = [JobRow(f"id{i:06d}", stream="PAYROLL_" + str(i % 7), workstation="FTA_" + "1",
                   status="SU" + "CC", started=datetime(2026, 12, 1, 3, i % 5, tzinfo=UTC),
                   duration=1.5 + i % 2, run_id=f"r{i}") for i in range(3_000)]
    pub = await leader(r, chunk_rows=1_000)
    assert await pub.snapshot(plan, {})
    got = (await Follower(r, KEYS, "jobs", JobRow, block=0.05, shared_fields=(
        "stream", "workstation", "status", "started", "duration")).load()).rows
    assert got == plan
    first, other = got[0], got[2_100]  # same stream, minute and duration; another chunk
    assert first.stream == other.stream and first.stream is other.stream
    assert first.workstation is other.workstation and first.status is other.status
    assert first.started is other.started and first.duration is other.duration
    assert len({id(row.stream) for row in got}) == 7
    assert first.run_id != other.run_id  # fields not listed keep their own values
    plain = (await follower(r).load()).rows
    assert plain[0].stream is not plain[2_100].stream  # what it was without


async def test_a_follower_started_after_the_chunk_ttl_still_loads_the_plan(
        r: aioredis.Redis) -> None:
    """A leader publishes deltas for a long while before a snapshot is due (500 polls:
    over 80 minutes at the default 10 s) and a new leader may take over with a delta:
    the snapshot's chunks must live as long as deltas keep coming, or a dashboard
    started after ``chunk_ttl`` (15 minutes) said "no data from the leader" for the
    rest of the hour."""
    pub = await leader(r, chunk_rows=1_000)
    pub.chunk_ttl_ms = 3_000
    plan = rows(2_500)
    assert await pub.snapshot(plan, {})
    for i in range(8):  # 4 s of deltas, one every 0.5 s: past the chunks' 3 s
        await asyncio.sleep(0.5)
        assert await pub.delta([JobRow(f"id{i:06d}", status="ABEND")], [], {})
    late = follower(r)
    snap = await late.load()
    assert len(snap.rows) == 2_500
    got = await late.deltas()
    assert got is not None and len(got) == 8


async def test_a_delta_against_a_base_that_is_not_the_last_entry_is_refused(
        r: aioredis.Redis) -> None:
    pub = await leader(r)
    assert await pub.snapshot(rows(10), {})
    base = (await r.hgetall(KEYS.snapshot("jobs")))[b"last"]
    assert await pub.delta(rows(1, "EXEC"), [], {}, base=base)  # the base is the last: taken
    with pytest.raises(BaseMoved):
        await pub.delta(rows(1, "ABEND"), [], {}, base=base)
    held = follower(r)
    await held.load()
    got = await held.deltas()
    assert got is not None and [d.changed[0].status for d in got] == ["EXEC"]
    # A fenced-off leader's delta is refused as before, base or not.
    await r.incr(KEYS.fence)
    assert not await pub.delta(rows(1, "SUCC"), [], {},
                               base=(await r.hgetall(KEYS.snapshot("jobs")))[b"last"])


async def test_a_due_snapshot_of_what_followers_hold_does_not_make_them_reload(
        r: aioredis.Redis) -> None:
    """Every max_deltas/2 polls the leader publishes a snapshot (before the trim reaches
    the current one): each follower reloaded the whole plan then, 50 screens at once.
    Published after the poll's delta, as the state that delta leaves, followers that
    applied it go on past its marker; a new follower loads it."""
    pub = await leader(r, max_deltas=10)
    plan = {row.job_id: row for row in rows(30)}
    assert await pub.snapshot(list(plan.values()), {"v": 1})
    f = follower(r)
    await f.load()
    held = dict(plan)
    for i in range(5):
        change = [JobRow(f"id{i:06d}", status="ABEND")]
        apply(plan, change, [])
        assert await pub.delta(change, [], {})
    assert pub.snapshot_due
    last = [JobRow("id000029", status="EXEC")]
    apply(plan, last, [])
    assert await pub.delta(last, [], {})
    assert await pub.snapshot(list(plan.values()), {"v": 2}, same_as_last=True)
    after = [JobRow("id000028", status="FAIL")]
    apply(plan, after, [])
    assert await pub.delta(after, [], {})
    got = await f.deltas()
    assert got is not None  # no reload asked
    for delta in got:
        apply(held, delta.changed, delta.removed)
    assert held == plan and f.version == 2
    late = follower(r)
    snap = await late.load()
    assert snap.meta == {"v": 2}
    new = await late.deltas()
    assert new is not None and [d.changed for d in new] == [after]
    # A snapshot that is not the state of the stream's last entry still makes them reload.
    assert await pub.snapshot(rows(3), {"v": 3})
    assert await f.deltas() is None
