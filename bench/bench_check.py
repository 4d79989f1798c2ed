"""``resync-tui check`` wall time as Nagios runs it (a fresh process), against a full plan read.

For each plan size (200,000 and 5,000 jobs) a simulator runs in its own subprocess;
this script then times, in the same run: the check as a subprocess (interpreter
start, imports, settings, job counts, workstations, exit), a bare ``python -c pass``
(the interpreter's own floor), and, as the baseline the check avoids,
``HwaClient.fetch_plan`` reading the whole plan in this process. Figures one per
line, the last line one JSON object. ``job_counts_call`` is one count call alone: the
engine's share (the simulator counts 200k jobs in Python; a real engine asks its
database). Target: the check under 1.5 s at 200k jobs, and its growth over the
5,000-job check no more than the count call's own growth plus 0.1 s (the check itself
must not grow with the plan).

    .venv/bin/python bench/bench_check.py [--sizes 200000,5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_plan_fetch import PASSWORD, USER, start_simulator, stop_simulator

from resync_tui.hwa.client import HwaClient


def run_timed(argv: list[str],
              env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    return time.perf_counter() - start, result


async def counts_read(url: str) -> float:
    """One ``job_counts()`` in this process: the engine's share of a check (the count is
    computed server-side, so a bigger plan costs the engine, not the check)."""
    async with HwaClient(url, user=USER, password=PASSWORD, trust_env=False) as hwa:
        await hwa.job_counts()  # connection up
        start = time.perf_counter()
        await hwa.job_counts()
        return time.perf_counter() - start


async def full_read(url: str) -> int:
    async with HwaClient(url, user=USER, password=PASSWORD, read_timeout=60.0,
                         trust_env=False) as hwa:
        return len((await hwa.fetch_plan()).jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="200000,5000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env["RESYNC_HWA__PASSWORD"] = PASSWORD
    figures: dict[str, object] = {}
    checks: dict[int, float] = {}
    calls: dict[int, float] = {}
    floor = [run_timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.rounds)]
    figures["python_start_s"] = round(statistics.median(floor), 3)
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in sizes:
            proc, url = start_simulator(jobs)
            try:
                cfg = Path(tmp) / f"settings-{jobs}.toml"
                cfg.write_text(f'[hwa]\nurl = "{url}"\nuser = "{USER}"\n'
                               f'[audit]\nspool_dir = "{Path(tmp) / "spool"}"\n')
                argv = [sys.executable, "-m", "resync_tui", "check", "--config", str(cfg),
                        "--warn-failed", "1000000", "--crit-failed", "1000000"]
                times: list[float] = []
                for _ in range(args.rounds):
                    seconds, result = run_timed(argv, env)
                    if result.returncode not in (0, 1):
                        raise SystemExit(f"check failed: {result.stdout}{result.stderr}")
                    times.append(seconds)
                counts = [asyncio.run(counts_read(url)) for _ in range(args.rounds)]
                reads: list[float] = []
                count = 0
                for _ in range(max(args.rounds // 2, 1)):
                    start = time.perf_counter()
                    count = asyncio.run(full_read(url))
                    reads.append(time.perf_counter() - start)
                if count != jobs:
                    raise SystemExit(f"fetch_plan read {count} jobs, expected {jobs}")
            finally:
                stop_simulator(proc)
            check_s = checks[jobs] = statistics.median(times)
            read_s = statistics.median(reads)
            figures[f"check_{jobs}_s"] = round(check_s, 3)
            figures[f"check_{jobs}_max_s"] = round(max(times), 3)
            calls[jobs] = statistics.median(counts)
            figures[f"job_counts_call_{jobs}_s"] = round(calls[jobs], 3)
            figures[f"full_read_{jobs}_s"] = round(read_s, 3)
            figures[f"full_read_over_check_{jobs}"] = round(read_s / check_s, 2)
    if len(sizes) >= 2:
        big, small = max(sizes), min(sizes)
        growth = checks[big] - checks[small]
        engine_growth = calls[big] - calls[small]
        figures["check_growth_s"] = round(growth, 3)
        figures["job_counts_growth_s"] = round(engine_growth, 3)
        figures["target_met"] = checks[big] <= 1.5 and growth <= engine_growth + 0.1
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
