"""Reading a 200,000-job plan with HwaClient.fetch_plan, against raw httpx in the same run.

The simulator runs in a subprocess (its own CPU and memory). This process first
reads every page with a bare httpx client and throws the bytes away (the
transport floor: same page size, same parallelism, no decoding), then reads the
plan with ``HwaClient.fetch_plan`` into typed models. Figures, one per line,
the last line one JSON object. Targets on the 2-core project machine: fetch
≤ 3 s, peak RSS of this process ≤ 500 MB.

    .venv/bin/python bench/bench_plan_fetch.py [--jobs 200000] [--page-size 10000]
        [--parallel 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx
import msgspec

from resync_tui.hwa.client import API_PATH, HwaClient
from resync_tui.model.job_row import JobRow, job_row_from_model

USER = PASSWORD = "demo"


class _Count(msgspec.Struct):
    count: int


def start_simulator(jobs: int, time_scale: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    """``resync-tui sim``'s server in a subprocess (seed 1; ``time_scale`` 0: a frozen
    plan), as the benches share it: (process, base URL)."""
    code = (
        "import sys\n"
        "from resync_tui.hwa.simulator import serve_forever\n"
        f"sys.exit(serve_forever('127.0.0.1', 0, {jobs}, 1, {time_scale}, {USER!r}, "
        f"{PASSWORD!r}))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def stop_simulator(proc: subprocess.Popen[str]) -> None:
    """End a simulator started by ``start_simulator``: terminated, killed if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def read_plan(jobs: int) -> list[JobRow]:
    """The simulator's plan, read and mapped as the app does (untimed): the rows a bench
    of the jobs view or table works on (the simulator's names, the heap the app has)."""
    proc, url = start_simulator(jobs)
    try:
        async with HwaClient(url, user=USER, password=PASSWORD, read_timeout=60.0,
                             trust_env=False) as hwa:
            read = await asyncio.wait_for(hwa.fetch_plan(), timeout=300)
        rows = [job_row_from_model(job) for job in read.jobs]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if len(rows) != jobs:
        raise SystemExit(f"fetch_plan returned {len(rows)} jobs, expected {jobs}")
    return rows


def report(figures: Mapping[str, object]) -> None:
    """The benches' output: one figure per line, then one JSON object of them all."""
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


async def raw_fetch(url: str, page_size: int, parallel: int) -> tuple[int, int]:
    """Every page with bare httpx, bytes read and dropped: (bytes, pages)."""
    async with httpx.AsyncClient(
        base_url=url + API_PATH,
        auth=(USER, PASSWORD),
        timeout=60.0,
        limits=httpx.Limits(max_connections=parallel),
        trust_env=False,
    ) as http:
        first = await http.get(
            "/plan/job", params={"limit": page_size, "offset": 0}, headers={"Include-Count": "true"}
        )
        first.raise_for_status()
        count = msgspec.json.decode(first.content, type=_Count).count
        total = len(first.content)
        gate = asyncio.Semaphore(parallel)

        async def page(offset: int) -> int:
            async with gate:
                params = {"limit": page_size, "offset": offset}
                response = await http.get("/plan/job", params=params)
                response.raise_for_status()
                return len(response.content)

        sizes = await asyncio.gather(*(page(o) for o in range(page_size, count + 1, page_size)))
        return total + sum(sizes), 1 + len(sizes)


async def client_fetch(url: str, page_size: int, parallel: int) -> int:
    async with HwaClient(
        url,
        user=USER,
        password=PASSWORD,
        page_size=page_size,
        parallel_pages=parallel,
        max_connections=parallel,
        read_timeout=60.0,
        trust_env=False,
    ) as hwa:
        jobs = (await hwa.fetch_plan()).jobs
        count = len(jobs)
        # Touch what the job pane shows, so lazy work cannot hide.
        assert all(job.id for job in jobs)
        del jobs
        return count


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(coro_factory: object) -> tuple[float, object]:
    assert callable(coro_factory)
    gc.collect()
    start = time.perf_counter()
    result = asyncio.run(coro_factory())
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    proc, url = start_simulator(args.jobs)
    startup = time.perf_counter() - started
    try:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        raw_times: list[float] = []
        client_times: list[float] = []
        raw_bytes = pages = fetched = 0
        for _ in range(args.rounds):
            seconds, raw = timed(lambda: raw_fetch(url, args.page_size, args.parallel))
            raw_times.append(seconds)
            raw_bytes, pages = raw  # type: ignore[misc]
        rss_after_raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for _ in range(args.rounds):
            seconds, count = timed(lambda: client_fetch(url, args.page_size, args.parallel))
            client_times.append(seconds)
            fetched = int(count)  # type: ignore[call-overload]
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        stop_simulator(proc)

    if fetched != args.jobs:
        raise SystemExit(f"fetch_plan returned {fetched} jobs, expected {args.jobs}")
    raw_s = statistics.median(raw_times)
    fetch_s = statistics.median(client_times)
    figures = {
        "jobs": fetched,
        "page_size": args.page_size,
        "parallel_pages": args.parallel,
        "pages": pages,
        "body_mb": round(raw_bytes / 2**20, 1),
        "simulator_startup_s": round(startup, 2),
        "raw_httpx_s": round(raw_s, 3),
        "fetch_plan_s": round(fetch_s, 3),
        "fetch_plan_best_s": round(min(client_times), 3),
        "fetch_plan_jobs_per_s": round(fetched / fetch_s),
        "ratio_to_raw": round(fetch_s / raw_s, 2),
        "rss_start_mb": round(rss_before, 1),
        "peak_rss_raw_mb": round(rss_after_raw, 1),
        "peak_rss_mb": round(peak_rss, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "target_time_met": fetch_s <= 3.0,
        "target_rss_met": peak_rss <= 500.0,
    }
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
