"""Memory of the jobs feed's view alone, built and re-read through the feed's real path.

The simulator runs in a subprocess (its plan moving at 60x, so re-reads bring changes);
``JobsFeed.poll`` reads the whole plan ``--polls`` times (``force_full_read``) with the
app's runtime (``build_runtime``; Redis is never dialled on this path). RSS is sampled
every 20 ms by a thread. Figures:

* ``first_read_rss_mb`` / ``first_read_peak_mb``: after / during the first read;
* ``steady_rss_mb``: mean RSS after each re-read from the third on; ``refresh_peak_mb``:
  the highest RSS while re-reading; ``growth_mb``: RSS after the last read minus after
  the third (plan data grows a little as jobs start and end: compare ``traced_growth_mb``);
* with ``--trace`` (slow: tracemalloc doubles the process and triples the read time):
  ``traced_mb`` after the first read, ``bytes_per_job_<site>`` for the biggest allocation
  sites (what the view keeps per job and where it was allocated), and
  ``traced_growth_mb`` between the second and the last read (Python objects kept per
  poll: a leak shows here, glibc fragmentation only in RSS).

A bare interpreter with the same imports is ``baseline_rss_mb``. The app's own figures
(Textual, the other panes, a real pty) are ``bench_app_rss.py``'s.

With the first read built in a worker thread (``load_plan``, branch ``bulk``; ``--polls
4``, load 1.2-1.9): first_read_rss 169.9 -> 169.6 MB (the same), first_read_peak
173.5-190.6 -> 188.5-193.7 MB, steady 182.4 / 182.6 -> 190.4-192.2 MB (+8-10 MB).
The difference is glibc's per-thread malloc arena: the same build run on the loop
thread gives steady 182.0 MB, and ``MALLOC_ARENA_MAX=1`` in the environment gives
first_read_peak 169.6, steady 182.5 MB with the threaded build. Copying the view's
dict or its sorted blocks on the loop at install does not help (190.4 / 192.1 MB).

    .venv/bin/python bench/bench_view_memory.py [--jobs 200000] [--polls 8] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import statistics
import threading
import time
import tracemalloc

import psutil
from bench_plan_fetch import PASSWORD, USER, report, start_simulator

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.settings import Secret, Settings


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


class Peak:
    """The highest RSS since the last ``reset``, sampled by a daemon thread."""

    def __init__(self) -> None:
        self.value = 0.0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.value = max(self.value, rss_mb())
            time.sleep(0.02)

    def reset(self) -> None:
        self.value = rss_mb()


async def run(jobs: int, polls: int, trace: bool) -> dict[str, float]:
    figures: dict[str, float] = {"jobs": jobs, "polls": polls,
                                 "baseline_rss_mb": round(rss_mb(), 1)}
    proc, url = start_simulator(jobs, 60.0)  # the plan moving: re-reads bring changes
    base = Settings()
    settings = base.replace(hwa=dataclasses.replace(
        base.hwa, url=url, user=USER, password=Secret(PASSWORD), read_timeout=60.0),
        redis=dataclasses.replace(base.redis, url="redis://127.0.0.1:1/0"))  # never dialled
    runtime = build_runtime(settings)
    peak = Peak()
    after: list[float] = []
    peaks: list[float] = []
    snapshots: list[tracemalloc.Snapshot] = []
    try:
        feed = JobsFeed(runtime)
        if trace:
            tracemalloc.start(1)
        for poll in range(polls):
            feed.force_full_read()
            peak.reset()
            state = await feed.poll()
            if not state.health.ok or state.view.total != jobs:
                raise SystemExit(f"poll {poll + 1}: {state.view.total} jobs, {state.health}")
            gc.collect()
            after.append(rss_mb())
            peaks.append(peak.value)
            if trace and poll in (0, 1, polls - 1):
                snapshots.append(tracemalloc.take_snapshot())
    finally:
        await runtime.aclose()
        proc.kill()
        proc.wait()
    figures["first_read_rss_mb"] = round(after[0], 1)
    figures["first_read_peak_mb"] = round(peaks[0], 1)
    steady = after[2:] or after[-1:]
    figures["steady_rss_mb"] = round(statistics.fmean(steady), 1)
    figures["refresh_peak_mb"] = round(max(peaks[1:] or peaks), 1)
    figures["growth_mb"] = round(after[-1] - steady[0], 1)
    figures.update(traced(snapshots, jobs))
    figures["load_1m"] = round(os.getloadavg()[0], 2)
    return figures


def traced(snapshots: list[tracemalloc.Snapshot], jobs: int) -> dict[str, float]:
    """What the first read left allocated, by site, and what later reads added."""
    if not snapshots:
        return {}
    stats = snapshots[0].statistics("lineno")
    out = {"traced_mb": round(sum(s.size for s in stats) / 2**20, 1)}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for stat in stats[:8]:
        frame = stat.traceback[0]
        where = f"{os.path.relpath(frame.filename, root)}:{frame.lineno}"
        out[f"bytes_per_job_{where}"] = round(stat.size / jobs, 1)
    if len(snapshots) == 3:
        grown = snapshots[2].compare_to(snapshots[1], "filename")
        out["traced_growth_mb"] = round(sum(s.size_diff for s in grown) / 2**20, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--polls", type=int, default=8)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(run(args.jobs, max(args.polls, 1), args.trace))
    report(figures)


if __name__ == "__main__":
    main()
