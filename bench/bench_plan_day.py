"""What a plan's own data adds to the jobs view as its day runs (200k jobs), through the feed.

``bench_app_rss`` polls a plan moving at 60x: a plan's day (06:00 to midnight, then
nothing is left to run) passes in its first ~18 minutes. A job that has run carries a
start, an end, a duration and a run id that a job still waiting does not have, so the
view's rows grow while the day runs whatever the code does. This bench says how much,
so that growth is not taken for a leak (nor a leak for it).

The simulator runs in a subprocess with its clock stopped (``time_scale`` 0), moved by
``POST /_sim/tick`` from 10 minutes into the day to ``--hours`` later. At each step the
app's own jobs feed (``JobsFeed.poll`` with the app's runtime, a whole read forced)
reads the plan, and the view's rows are measured: each row and every object one of its
fields holds, counted once (shared strings such as statuses and stream names once for
the whole view; ``None``, booleans and small ints are free). Figures:

* ``rows_start_mb`` / ``rows_end_mb``: the rows' size at the first and the last step
  (measured only there: the measurement's own ints and set would be in the RSS after);
  ``rows_growth_mb`` the difference and ``rows_end_over_start`` the ratio;
* ``ran_start`` / ``ran_end``: jobs with a start time at the first and the last step;
  ``bytes_per_job_run``: the growth per job that ran in between;
* ``day_done_plan_h``: the first plan hour read at which no more jobs had run by the end;
* ``rss_start_mb`` / ``rss_end_mb``: this process after those reads (the app's allocator
  policy applied, a full collection first), and ``rss_growth_after_day_mb``: what the
  ``reads_after_day`` re-reads of a plan whose data no longer grows added (a leak of the
  feed's path would show here).

Measured (load ~2, 2 cores, seed 1): the rows are 60.9 MB at 06:10 and 63.8 MB once
the day has run (+2.9 MB, 1.05x; 36,105 then 150,176 jobs that ran, 26.8 B each); the
last job of the day starts between plan hours 18 and 20, which ``bench_app_rss`` (60x)
reaches in its first 18-20 minutes. The re-reads after it add nothing: RSS 165.9 MB
after the first read, 166.7 MB after the last, +0.0 MB over the 3 re-reads of the
finished day.

    .venv/bin/python bench/bench_plan_day.py [--jobs 200000] [--hours 26] [--step 2]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx
import psutil
from bench_plan_fetch import PASSWORD, USER, report, start_simulator, stop_simulator

from resync_tui.allocator import apply_policy
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.model.job_row import JobRow
from resync_tui.settings import Secret, Settings


def rows_bytes(rows: Iterable[JobRow]) -> int:
    """Bytes of the rows and of what their fields hold, each object counted once."""
    seen: set[int] = set()
    total = 0
    for row in rows:
        total += sys.getsizeof(row)
        for name in row.__struct_fields__:
            value = getattr(row, name)
            if value is None or isinstance(value, bool) or (
                    isinstance(value, int) and -5 <= value <= 256):  # the interpreter's own
                continue
            if id(value) not in seen:
                seen.add(id(value))
                total += sys.getsizeof(value)
    return total


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


async def run(jobs: int, hours: float, step: float) -> dict[str, float]:
    proc, url = start_simulator(jobs, 0.0)  # the clock moves only when told
    base = Settings()
    settings = base.replace(hwa=dataclasses.replace(
        base.hwa, url=url, user=USER, password=Secret(PASSWORD), read_timeout=60.0),
        redis=dataclasses.replace(base.redis, url="redis://127.0.0.1:1/0"))  # never dialled
    runtime = build_runtime(settings)
    parts = urlsplit(url)
    steps: list[tuple[float, int, float]] = []  # (plan hour, jobs that ran, RSS MB)
    sizes: list[float] = []  # the rows' MB at the first and the last step
    try:
        async with httpx.AsyncClient(base_url=f"{parts.scheme}://{parts.netloc}",
                                     timeout=60.0, trust_env=False) as admin:
            feed = JobsFeed(runtime)
            offset, clock = 10 / 60, 0.0
            while offset <= hours + 1e-9:
                moved = await admin.post("/_sim/tick",
                                         json={"seconds": (offset - clock) * 3600})
                moved.raise_for_status()
                clock = offset
                feed.force_full_read()
                state = await feed.poll()
                if not state.health.ok or state.view.total != jobs:
                    raise SystemExit(f"plan +{offset:.1f} h: {state.view.total} jobs, "
                                     f"{state.health}")
                rows = state.view.rows_snapshot()
                ran = sum(row.started is not None for row in rows)
                steps.append((offset, ran, rss_mb()))
                last = offset + step > hours + 1e-9
                if not sizes or last:  # only twice: measuring allocates (ids, a set)
                    sizes.append(rows_bytes(rows) / 2**20)
                del rows
                print(f"plan +{offset:5.1f} h: {ran:,} ran, RSS {steps[-1][2]:.1f} MB",
                      file=sys.stderr, flush=True)
                offset = round(offset + step, 6) if offset > 1 else step
    finally:
        await runtime.aclose()
        stop_simulator(proc)
    (_, ran_start, rss_start), (_, ran_end, rss_end) = steps[0], steps[-1]
    done = next(i for i, (_, ran, _) in enumerate(steps) if ran == ran_end)
    grown = sizes[-1] - sizes[0]
    return {
        "jobs": float(jobs),
        "rows_start_mb": round(sizes[0], 2), "rows_end_mb": round(sizes[-1], 2),
        "rows_growth_mb": round(grown, 2), "rows_end_over_start": round(sizes[-1] / sizes[0], 3),
        "ran_start": float(ran_start), "ran_end": float(ran_end),
        "bytes_per_job_run": round(grown * 2**20 / max(ran_end - ran_start, 1), 1),
        "day_done_plan_h": round(steps[done][0], 1),
        "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1),
        "rss_growth_after_day_mb": round(rss_end - steps[done][2], 1),
        "reads_after_day": float(len(steps) - 1 - done),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--hours", type=float, default=26.0,
                        help="read up to this many plan hours into the day (default 26)")
    parser.add_argument("--step", type=float, default=2.0, help="plan hours between reads")
    args = parser.parse_args()
    apply_policy()  # the dashboard's malloc policy, so the RSS is the app's
    report(asyncio.run(run(args.jobs, args.hours, args.step)))


if __name__ == "__main__":
    main()
