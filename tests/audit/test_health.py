"""AuditLog.health(): what the Redis pane and the header show of the trail, read for
real (spool on disk, XLEN and the newest record in Redis), also with Redis down."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
from resync_tui.redis_server import EmbeddedRedis

from .conftest import client

JOB = JobRef("WS1;JS1;J1", "J1", "JS1", "WS1")


async def test_health_counts_the_spool_of_every_process_and_reads_the_stream(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    ours = AuditLog(spool, durable, clock=lambda: 1_700_000_000.0)
    first = await ours.health()
    assert (first.spool_records, first.stream_length, first.last_write) == (0, 0, None)
    rid = await ours.intent("hold", JOB, justification=Justification(description="x"))
    await ours.outcome(rid, Outcome.done(200))
    other = AuditLog(spool, None)  # another process with no Redis (``act``): spool only
    await other.intent("kill", JOB)
    read = await ours.health(recent=10)
    assert read.spool_records == 1 and ours.spool_records == 1  # the metric follows
    assert read.stream_length == 2
    assert read.last_write is not None and read.last_write > 1_700_001_000.0  # the spool's, newer
    assert [r["kind"] for r in read.recent] == ["outcome", "intent"]  # newest first
    assert [r["action"] for r in read.spooled] == ["kill"]
    assert read.redis_error is None and read.drain_errors == 0


async def test_with_redis_down_the_spool_depth_is_still_known_and_drain_errors_count(
        tmp_path: Path, durable_url: str, durable_redis: EmbeddedRedis) -> None:
    r = client(durable_url)
    try:
        log = AuditLog(tmp_path / "spool", r)
        durable_redis.stop()
        rid = await log.intent("rerun", JOB)
        await log.outcome(rid, Outcome.unknown("no answer"))
        read = await log.health(redis_timeout=2.0)
        assert read.spool_records == 2 and read.stream_length is None
        assert read.redis_error is not None
        assert read.drain_errors == 2 and read.last_error  # one per failed drain
        assert read.last_exception is not None
        durable_redis.start()
    finally:
        await r.aclose()
    r = client(durable_url)
    try:
        log.stream.redis = r  # type: ignore[union-attr]
        await log.drain()
        read = await log.health()
        assert (read.spool_records, read.stream_length, read.last_error) == (0, 2, "")
    finally:
        await r.aclose()
