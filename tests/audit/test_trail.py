"""The audit trail against a real redis-server: outages, restarts, killed writers,
concurrent drains. Every Redis call has a socket deadline, every child a timeout."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome, Spool, verify
from resync_tui.audit.stream import AuditStream
from resync_tui.redis_server import EmbeddedRedis

from .conftest import client

STREAM = "resync:audit"
WHY = Justification("incident", "rerun after the fix", "INC-1")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def readline(child: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """The child's next line, or "" when none comes before the deadline."""
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    return child.stdout.readline() if ready else ""


def end(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
    child.communicate(timeout=30)


async def stream_records(r: aioredis.Redis) -> list[dict[str, Any]]:
    return [rec async for _, rec in AuditStream(r, STREAM).entries() if rec is not None]


async def act(log: AuditLog, n: int, result: Outcome | None = None) -> None:
    """``n`` actions, each an intent then its outcome: 2n records."""
    for i in range(n):
        rid = await log.intent("rerun", JobRef(f"WS1;JS1;JOB{i}", f"JOB{i}", "JS1", "WS1"),
                               parameters={"step": i}, justification=WHY)
        await log.outcome(rid, result or Outcome.done(200), latency=0.01)


async def test_records_reach_the_stream_with_every_field_of_the_action(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    log = AuditLog(tmp_path / "spool", durable, hwa_user="ops", engine="https://hwa:31116")
    rid = await log.intent("hold", JobRef("WS1;0AAA;JOB1", "JOB1", "NIGHTLY", "WS1"),
                           parameters={"priority": 10}, justification=WHY)
    await log.outcome(rid, Outcome.refused(409, "job is not in a holdable state"), latency=0.2)
    intent, outcome = await stream_records(durable)
    assert intent["id"] == rid and intent["kind"] == "intent" and intent["outcome"] is None
    assert outcome["intent"] == rid and outcome["kind"] == "outcome"
    assert outcome["outcome"] == {"result": "refused", "status": 409,
                                  "message": "job is not in a holdable state"}
    for record in (intent, outcome):
        assert (record["action"], record["job_id"], record["job_name"], record["job_stream"],
                record["workstation"], record["hwa_user"], record["engine"]) == (
            "hold", "WS1;0AAA;JOB1", "JOB1", "NIGHTLY", "WS1", "ops", "https://hwa:31116")
        assert record["justification"] == {"category": "incident",
                                           "description": "rerun after the fix",
                                           "ticket": "INC-1"}
        assert record["parameters"] == {"priority": 10}
        assert record["time"].endswith("Z") and record["host"] and record["os_user"]
    assert outcome["latency"] == 0.2
    assert log.spool_records == 0 and Spool(tmp_path / "spool").read()[0] == []
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700


async def test_redis_killed_mid_run_loses_and_duplicates_nothing_also_across_a_restart(
        tmp_path: Path, durable_redis: EmbeddedRedis, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    log = AuditLog(spool, client(durable_redis.url))
    await act(log, 3)                 # 6 records before the outage
    durable_redis.stop()
    await act(log, 5)                 # 10 records while Redis is down: they wait on disk
    assert log.spool_records == 10 and log.write_failures > 0
    restarted = AuditLog(spool, client(durable_redis.url))  # the app restarts, spool not empty
    await act(restarted, 1)           # 2 more records, Redis still down
    durable_redis.start()
    result = await restarted.drain()  # the new process sends the old one's records
    assert result.unsent == 0 and not result.error
    await act(log, 1)                 # 2 records after Redis came back
    await log.drain()                 # the old log drains too: nothing sent twice
    records = await stream_records(durable)
    ids = Counter(r["id"] for r in records)
    assert len(records) == 20 and max(ids.values()) == 1
    old = [r for r in records if r["writer"] == log.writer.id]
    assert [r["seq"] for r in old] == list(range(1, 19))  # in order, no gap
    report = await verify(durable, spool, stream=STREAM)
    assert report.ok, report.problems
    assert (report.records, report.writers) == (20, 2)


async def test_a_record_sent_again_after_a_lost_acknowledgement_appears_once(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    spool = Spool(tmp_path / "spool")
    log = AuditLog(spool.dir, None)       # Redis unreachable: everything spooled
    await act(log, 4)
    records, _ = spool.read()
    stream = AuditStream(durable, STREAM)
    assert await stream.add(records[:5]) == 5  # sent, but the "sent" marks were never written
    assert (await AuditLog(spool.dir, durable).drain()).sent == 3
    assert [r["id"] for r in await stream_records(durable)] == [r["id"] for r in records]


CHILD = textwrap.dedent("""
    import asyncio, sys, time
    from resync_tui.audit import AuditLog, JobRef, Justification

    async def main():
        log = AuditLog(sys.argv[1], None)
        await log.intent("kill", JobRef("WS1;JS1;LONG", "LONG", "JS1", "WS1"),
                         justification=Justification(description="runaway"))
        print("intent written", flush=True)
        time.sleep(60)  # the request would be in flight here

    asyncio.run(main())
""")


async def test_a_writer_killed_between_intent_and_outcome_gets_one_outcome_unknown(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    child = spawn(CHILD, str(spool))
    try:
        assert readline(child) == "intent written\n"
        alive = AuditLog(spool, durable)
        await alive.drain()            # the writer still runs: its intent is only pending
        assert [r["kind"] for r in await stream_records(durable)] == ["intent"]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        end(child)
    first = await AuditLog(spool, durable).drain()
    again = await AuditLog(spool, durable).drain()
    records = await stream_records(durable)
    assert (first.unknown, again.unknown) == (1, 0)
    intent, outcome = records
    assert outcome["kind"] == "outcome" and outcome["intent"] == intent["id"]
    assert outcome["outcome"]["result"] == "unknown"
    assert (outcome["job_id"], outcome["action"]) == ("WS1;JS1;LONG", "kill")
    assert Spool(spool).read()[0] == []
    assert (await verify(durable, spool, stream=STREAM)).ok


async def test_an_intent_older_than_the_grace_period_is_closed_as_unknown(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    now = [1_800_000_000.0]
    writer = AuditLog(tmp_path, None, clock=lambda: now[0])
    await writer.intent("cancel", JobRef("J1"))
    writer._pending.clear()  # its memory is gone (pid reused by another process)
    other = AuditLog(tmp_path, durable, outcome_grace=600, clock=lambda: now[0])
    assert (await other.drain()).unknown == 0   # live writer, within the grace period
    now[0] += 601
    assert (await other.drain()).unknown == 1
    kinds = [r["kind"] for r in await stream_records(durable)]
    assert kinds == ["intent", "outcome"]


DRAINER = textwrap.dedent("""
    import asyncio, sys
    import redis.asyncio as aioredis
    from resync_tui.audit import AuditLog

    async def main():
        r = aioredis.Redis.from_url(sys.argv[2], socket_timeout=5, socket_connect_timeout=5)
        print("ready", flush=True)
        sys.stdin.readline()  # both start together
        result = await AuditLog(sys.argv[1], r, lock_wait=30).drain()
        print(result.unsent, flush=True)
        await r.aclose()

    asyncio.run(main())
""")


async def test_two_processes_draining_one_spool_at_once_lose_and_duplicate_nothing(
        tmp_path: Path, durable_url: str, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    log = AuditLog(spool, None)
    await act(log, 250)               # 500 records waiting
    children = [spawn(DRAINER, str(spool), durable_url) for _ in range(2)]
    try:
        assert [readline(child) for child in children] == ["ready\n", "ready\n"]
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [readline(child, 120) for child in children]
    finally:
        for child in children:
            end(child)
    assert outputs == ["0\n", "0\n"]
    records = await stream_records(durable)
    assert len(records) == 500 and len({r["id"] for r in records}) == 500
    assert [r["seq"] for r in records] == list(range(1, 501))
    assert Spool(spool).read()[0] == []


async def test_verify_reports_a_deleted_record_a_duplicate_and_an_edit(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    log = AuditLog(spool, durable)
    await act(log, 5)
    assert (await verify(durable, spool, stream=STREAM)).ok
    entries = [(eid, rec) async for eid, rec in AuditStream(durable, STREAM).entries()]
    writer = log.writer.id

    await durable.xdel(STREAM, entries[3][0])                       # record 4 deleted
    gap = await verify(durable, spool, stream=STREAM)
    assert gap.problems == [f"gap: writer {writer} has no record 4 (lost or deleted)"]

    await durable.xadd(STREAM, {"record": json.dumps(entries[3][1])})  # put back, twice
    await durable.xadd(STREAM, {"record": json.dumps(entries[3][1])})
    dup = await verify(durable, spool, stream=STREAM)
    assert len(dup.problems) == 1 and dup.problems[0].startswith("duplicate: record ")

    await durable.delete(STREAM)
    for _, rec in entries:
        assert rec is not None
        if rec["seq"] == 6:
            rec = {**rec, "outcome": {**rec["outcome"], "result": "refused"}}  # edited
        await durable.xadd(STREAM, {"record": json.dumps(rec)})
    edit = await verify(durable, spool, stream=STREAM)
    edited_id = entries[5][1]["id"] if entries[5][1] else ""
    assert edit.problems == [f"edit: writer {writer} record 6 ({edited_id}) is not the one "
                             "record 7 follows (changed after it was written)"]


async def test_a_line_torn_by_a_crash_does_not_swallow_the_next_record(
        tmp_path: Path, durable: aioredis.Redis) -> None:
    spool = Spool(tmp_path / "spool")
    spool.path.write_text('{"id":"torn-by-a-cra')  # a writer died mid-line, before its fsync
    log = AuditLog(spool.dir, None)
    rid = await log.intent("hold", JobRef("J1"))
    records, _ = spool.read()
    assert [r["id"] for r in records] == [rid]
    await AuditLog(spool.dir, durable).drain()
    assert [r["id"] for r in await stream_records(durable)] == [rid]
