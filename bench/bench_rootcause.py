"""Bench: "why is this waiting" on a chain of depth 10 against the real simulator (HTTP).

A job whose predecessors form a chain of ten waiting jobs, the tenth ABEND. Figures:
  baseline_*      the bare sequence of client reads the chain needs (``predecessors`` of
                  each of the ten jobs, one after the other, ids known in advance);
  direct_*        ``walk_root_causes`` over the bare client (``ClientNeighbourReader``):
                  what the walk itself adds to the reads (classifying, bookkeeping);
  cold_*          the walk through the app's loader (``DepsDetailLoader``: the cache for
                  the structure, the ``hwa_api`` breaker, the live jobs view for status),
                  nothing cached yet;
  warm_*          the same walk again: the structure comes from the cache and every
                  status from the jobs view, so the engine is not called at all.
``*_calls`` are requests the simulator received, ``*_ms`` the median wall time of
``--rounds`` walks. One figure per line, the JSON object of them last.
Run: .venv/bin/python bench/bench_rootcause.py [--jobs N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from resync_tui.feeds.deps import ClientNeighbourReader, DepsDetailLoader
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.model import Job
from resync_tui.model.jobs_view import JobsView, job_row_from_model
from resync_tui.model.rootcause import DepNode, walk_root_causes
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Secret, Settings

DEPTH = 10


def chain(sim: Simulator, depth: int) -> list[Job]:
    """[job, pred, ...] ``depth`` levels of single, still waiting (HOLD) predecessors."""
    for job in sim.plan.jobs:
        found = [job]
        while (len(found) <= depth and len(found[-1].preds) == 1
               and found[-1].status == "HOLD" and found[-1].preds[0].status == "HOLD"):
            found.append(found[-1].preds[0])
        if len(found) > depth:
            return found
    raise SystemExit(f"no chain of depth {depth} in this plan: try another --jobs")


def calls(sim: Simulator) -> int:
    return sum(n for name, n in sim.stats()["requests"].items()
               if not name.startswith("GET /_sim"))


async def timed(sim: Simulator, rounds: int,
                fn: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """(median ms, engine calls per round, last result)."""
    times: list[float] = []
    before = calls(sim)
    result: Any = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), (calls(sim) - before) / rounds, result


async def main(jobs: int, rounds: int, redis_url: str) -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    sim = Simulator(jobs=jobs, seed=1, user="demo", password="demo", time_scale=0.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        path = chain(sim, DEPTH)
        sim.plan.set_status(path[DEPTH], "ABEND")
        start = DepNode(id=path[0].id, name=path[0].name, status="HOLD")
        figures: dict[str, float] = {"depth": DEPTH}

        async with HwaClient(sim.base_url, user="demo", password="demo", connect_timeout=2.0,
                             read_timeout=10.0, call_timeout=20.0) as client:
            async def baseline() -> None:
                for job in path[:DEPTH]:
                    await client.predecessors(job.id)

            ms, n, _ = await timed(sim, rounds, baseline)
            figures |= {"baseline_ms": ms, "baseline_calls": n}

            async def direct() -> Any:
                return await walk_root_causes(ClientNeighbourReader(client), start)

            ms, n, report = await timed(sim, rounds, direct)
            assert [c.node.id for c in report.causes if c.kind == "failed"] == [path[DEPTH].id]
            figures |= {"direct_ms": ms, "direct_calls": n}

        base = Settings()
        settings = base.replace(
            hwa=dataclasses.replace(base.hwa, url=sim.base_url, user="demo",
                                    password=Secret("demo")),
            redis=dataclasses.replace(base.redis, url=redis_url))
        runtime = build_runtime(settings)
        try:
            view = JobsView(clock=runtime.clock)
            read = await runtime.client.fetch_plan()
            view.apply([job_row_from_model(job) for job in read.jobs])
            loader = DepsDetailLoader(runtime, jobs=view.get)
            ms, n, report = await timed(sim, 1, lambda: loader.why_waiting(path[0].id))
            assert [c.node.id for c in report.causes if c.kind == "failed"] == [path[DEPTH].id]
            figures |= {"cold_ms": ms, "cold_calls": n, "walk_reads": report.reads}
            ms, n, report = await timed(sim, rounds, lambda: loader.why_waiting(path[0].id))
            assert [c.node.id for c in report.causes if c.kind == "failed"] == [path[DEPTH].id]
            figures |= {"warm_ms": ms, "warm_calls": n}
        finally:
            await runtime.aclose()
    finally:
        sim.stop()
    return {k: round(v, 2) for k, v in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with EmbeddedRedis() as redis:
        result = asyncio.run(main(args.jobs, args.rounds, redis.url))
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))
