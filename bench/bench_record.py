"""What ``--record`` costs: file size and the recorder's own CPU per simulated hour.

The real path: ``resync-tui sim`` in its own process (its plan clock running
``--time-scale`` times faster than real, so the plan changes), a real redis-server,
and the feeds of one dashboard (engine, jobs, workstations, breakers, cache) polled
back to back, each published state handed to a :class:`Recorder` as the app does. The
simulator's CPU is in its own process; the recorder's is measured inside it
(``Recorder.cpu_seconds``, thread CPU of ``observe``/``flush``); the baseline, measured
in the same run, is this process's CPU for the polls themselves.

A simulated hour is an hour of the plan's clock: ``polls_per_sim_hour`` says how many
polls the run made per such hour (``--gap`` real seconds apart, plus the poll's own
time; a real dashboard polls every 5 s: 720 polls an hour of a real engine, whose plan
moves ``time_scale`` times slower than here: scale ``kb_per_poll`` for that).

Figures: ``j{N}_first_kb`` (the whole plan, once),
``j{N}_kb_per_sim_hour``, ``j{N}_kb_per_poll``, ``j{N}_recorder_cpu_s_per_sim_hour``,
``j{N}_recorder_cpu_pct_of_polls`` (the recorder's CPU against the polls'), ``j{N}_read_s``
(reading the file back for a replay), and ``j5000_mb_per_sim_day``.

Loop stall (``j{N}_first_frame_stall_ms_old`` / ``_new``): the longest the event loop
went without running (a 1 ms sleep loop beside it) while the whole first plan is
recorded: old, the frame encoded, compressed and written on the loop (what
``Recorder.flush`` did before the writer thread, ``format.encode_frame`` + write),
new, the recorder's ``observe`` + ``flush`` handing it to its writer thread, measured
until the frame is in the file. Same plan, same run.

Usage: ``.venv/bin/python bench/bench_record.py [--jobs 5000,200000] [--polls 40,6]
[--time-scale 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import zstandard

from resync_tui.feeds.breakers import BreakersFeed
from resync_tui.feeds.cache_stats import CacheFeed
from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed, JobsState
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.model.jobs_view import JobsView
from resync_tui.record.format import Entry, encode_frame, read_recording
from resync_tui.record.recorder import Recorder
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Secret, Settings

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def simulator(jobs: int, time_scale: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "resync_tui", "sim", "--port", "0", "--jobs", str(jobs),
         "--time-scale", str(time_scale)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"simulator did not start: {line!r}")
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(10)


def settings_for(url: str, redis_url: str) -> Settings:
    base = Settings()
    return base.replace(
        hwa=dataclasses.replace(base.hwa, url=url, user="demo", password=Secret("demo"),
                                call_deadline=300.0, read_timeout=120.0),
        redis=dataclasses.replace(base.redis, url=redis_url, socket_timeout=2.0))


async def longest_stall(work: Any, written: Any = None) -> float:
    """Milliseconds of the longest gap between two turns of a 1 ms sleep loop while
    ``work()`` runs on the loop and then until ``written()`` (blocking: in a thread)."""
    done = False
    longest = 0.0

    async def probe() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest = max(longest, now - last - 0.001)
            last = now

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.05)
    work()
    if written is not None:
        await asyncio.to_thread(written)
    await asyncio.sleep(0.05)
    done = True
    await task
    return longest * 1000


async def first_frame_stall(state: JobsState, runtime: Any, out: Path) -> dict[str, float]:
    """The longest loop stall while the first (whole-plan) frame is recorded, old vs new."""
    rows = list(state.view.all_rows())
    entry = Entry("jobs", "jobs", time.time(), runtime.clock().timestamp(), rows=rows,
                  full=True, state=b"{}")
    compressor = zstandard.ZstdCompressor(level=3)
    with (out.with_suffix(".old")).open("wb") as old_file:
        def old() -> None:  # what Recorder.flush did on the loop before the writer thread
            old_file.write(encode_frame([entry], compressor))
            old_file.flush()
        old_ms = await longest_stall(old)
    recorder = Recorder.for_runtime(runtime, out.with_suffix(".new"), flush_seconds=0.0)
    recorder.open()
    try:
        new_ms = await longest_stall(lambda: recorder.observe("jobs", state),
                                     lambda: recorder.wait_written(300.0))
    finally:
        recorder.close()
    return {"first_frame_stall_ms_old": old_ms, "first_frame_stall_ms_new": new_ms}


async def measure(jobs: int, polls: int, time_scale: float, gap: float, redis_url: str,
                  out: Path) -> dict[str, float]:
    with simulator(jobs, time_scale) as url:
        settings = settings_for(url, redis_url)
        runtime = build_runtime(settings)
        feeds: list[Any] = [
            EngineFeed(runtime), JobsFeed(runtime, JobsView(clock=runtime.clock)),
            WorkstationsFeed(runtime, 5.0), BreakersFeed(runtime.breakers, runtime.clock),
            CacheFeed.of(runtime.cache, runtime.clock)]
        recorder = Recorder.for_runtime(runtime, out, flush_seconds=2.0)
        recorder.open()
        try:
            first_cpu = first_bytes = 0.0
            started = 0.0
            cpu0 = time.process_time()
            stall: dict[str, float] = {}
            for poll in range(polls):
                if poll == 1:
                    recorder.flush()
                    recorder.wait_written(300.0)
                    first_cpu, first_bytes = recorder.cpu_seconds, recorder.bytes_written
                    started = time.monotonic()
                if poll:
                    await asyncio.sleep(gap)  # the plan moves gap x time_scale meanwhile
                for feed in feeds:
                    state = await feed.poll()
                    recorder.observe(feed.name, state)
                    if poll == 0 and isinstance(state, JobsState):
                        stall = await first_frame_stall(state, runtime, out)
            recorder.close()
            process_cpu = time.process_time() - cpu0
            sim_seconds = (time.monotonic() - started) * time_scale
        finally:
            recorder.close()
            await runtime.aclose()
    read_started = time.perf_counter()
    read_recording(out)
    read_s = time.perf_counter() - read_started
    hour = 3600.0 / max(sim_seconds, 1e-9)
    later_bytes = recorder.bytes_written - first_bytes
    later_cpu = recorder.cpu_seconds - first_cpu
    polls_cpu = process_cpu - recorder.cpu_seconds
    return {
        "first_kb": first_bytes / 1024,
        "kb_per_poll": later_bytes / 1024 / max(polls - 1, 1),
        "kb_per_sim_hour": (first_bytes + later_bytes * hour) / 1024,
        "polls_per_sim_hour": (polls - 1) * hour,
        "recorder_cpu_s_per_sim_hour": first_cpu + later_cpu * hour,
        "recorder_cpu_pct_of_polls": 100.0 * recorder.cpu_seconds / max(polls_cpu, 1e-9),
        "read_s": read_s,
        **stall,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", default="5000,200000")
    parser.add_argument("--polls", default="40,6", help="polls per size (the first is whole)")
    parser.add_argument("--time-scale", type=float, default=30.0)
    parser.add_argument("--gap", type=float, default=2.0,
                        help="real seconds between the end of a poll and the next")
    args = parser.parse_args()
    sizes = [int(n) for n in args.jobs.split(",")]
    polls = [int(n) for n in args.polls.split(",")]
    figures: dict[str, float] = {}
    with EmbeddedRedis() as redis, tempfile.TemporaryDirectory() as tmp:
        for jobs, count in zip(sizes, polls, strict=True):
            result = asyncio.run(measure(jobs, max(count, 2), args.time_scale, args.gap,
                                         redis.url,
                                         Path(tmp) / f"j{jobs}.rec"))
            for name, value in result.items():
                figures[f"j{jobs}_{name}"] = value
    if "j5000_kb_per_sim_hour" in figures:
        first, hourly = figures["j5000_first_kb"], figures["j5000_kb_per_sim_hour"]
        figures["j5000_mb_per_sim_day"] = (first + (hourly - first) * 24) / 1024
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
