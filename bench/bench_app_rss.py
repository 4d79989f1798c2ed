"""Memory of the whole dashboard process with a big plan, measured from outside.

The real app (``python -m resync_tui``) in a real pty at 120x40 against the simulator
(``--jobs``, plan moving at 60x so polls bring changes) and a real redis-server, polling
every 30 s as configured by its settings. Its RSS is sampled every second with psutil:

* ``first_read_peak_mb``: the peak until the job table shows the whole plan;
* ``steady_mean_mb`` / ``steady_peak_mb``: after that, over ``--seconds``;
* ``growth_mb``: the last minute's mean minus the first minute's (a leak shows here);
* ``growth_after_5min_mb``: the last minute's mean minus the sixth's (runs of 7 minutes
  or more): what the steady state adds once the first re-reads have filled the heaps;
* ``growth_last_30min_mb`` (runs of 31 minutes or more): the last minute's mean minus the
  mean of the minute 30 minutes before it, and ``floor_growth_last_30min_mb`` the same for
  each minute's lowest sample (between re-reads). At 60x the plan's day has run in the
  first ~18 minutes, and until then its rows grow as its jobs run (start and end times:
  +2.8 MB at 200k, ``bench_plan_day``): run 50 minutes (``--duration 3000``) to see 30
  minutes of polling a plan whose data no longer grows;
* ``bare_app_mb``: a bare Textual app (one Static) in the same pty, the baseline; and
  ``ratio_steady``: steady peak / bare.

Targets of issue 13: peak ≤ 300 MB, steady ≤ 250 MB, flat; ``load_1m`` is the load
average when the run ended; ``app_cpu_s`` the app's CPU seconds in all. ``--env`` sets
a variable for the app (``MALLOC_ARENA_MAX=1``...), ``--csv`` keeps the steady samples.

Measured at 200k, 900 s (``--duration 900``), the same machine, load 1.6-4.9 (other runs
beside), the one after the other:

* before ``resync_tui.allocator`` (glibc's defaults): first-read peak 216.6 MB, steady
  mean 272.8, steady peak 313.5, growth +29.8 MB (the 30-min run before: 216 / 272 /
  311, +29);
* with the policy the dashboard applies at start (mmap threshold 256 KiB and trim
  threshold 1 MiB fixed, one arena): first-read peak 209.3, steady mean 247.5, steady
  peak 273.1, growth +16.8, app CPU 165 s. Per minute the mean is 232 (the first read
  done, no re-read yet), 242, 243, 246, then 249.7-250.3 for minutes 4-13 (last minute
  minus the sixth: -0.9): a plateau after the first re-reads (each full read lifts it
  ~22 MB for its few seconds, the peaks), not a leak; ``growth_mb`` measures that step.
* the old code once more, beside the 30-minute run of the new one (per-second samples
  kept): first-read peak 214.4, steady mean 265.0, peak 305.4, growth +25.9, app CPU
  165 s; per minute 241.5, 257.6, 261.0, 265.4, 267.6, then 267-270.5 (last minute minus
  the sixth: -3.1). The old growth was the same step, higher (the heap's free chunks
  faulted back after each trim), then flat too.

The new code for 30 minutes (``--duration 1800``, load 1.5-2.3, the old code's run
beside it for the first half): first-read peak 213.0 MB, steady mean 243.3, steady peak
268.0, growth +14.0 (``growth_after_5min_mb`` +2.9), app CPU 334 s. Per minute: 231.0,
240.0, then 241.5-243.6 up to minute 10, 244.0-245.5 from minute 11 to 29 (the last 15
minutes within 244.0-245.5). Against the old code's 30 minutes (216 / 272 / 311, +29):
the peak and steady targets are met; the step into the steady state remains (~+14 MB
in the first two minutes: pymalloc's arenas after the first re-reads, see
``bench_app_growth``), after it the RSS is flat to ~0.1 MB a minute.

The re-read path (``HwaClient.read_plan``: each job decoded as a ``PlanJob``, the ids
the read has seen kept as the view's own strings, a re-read mapped without a table of
its values; see ``bench_app_growth --reread``), 900 s, the code at the branch point in a
worktree and venv of its own first, then the new, one after the other (load 3.0 -> 8.8
during the old run, 3.7 -> 4.1 during the new: other sessions' work), old -> new:
first-read peak 209.3 -> 207.1 MB, steady mean 237.5 -> 227.7, steady peak 261.9 ->
252.4, growth +11.3 -> +7.9, ``growth_after_5min_mb`` -0.1 -> +4.8, app CPU 187.0 ->
165.5 s (first read 10 -> 8 s). Per minute, old: 227.8, 233.9, 233.0, 237.8, 239.0, then
238.5-239.7 (the step: ~+11 MB over the first re-reads, pymalloc's arenas left behind
by ~20 MB of ids and times each re-read held to its end); new: 223.6, 227.2, then
226.4-227.9 up to minute 11, 229.9, 229.7, 230.4, 231.5. The step is ~+3.6 MB now, the
steady state ~10 MB lower. The late rise is not the feed's (its re-reads alone hold
+0.6 MB and add 1 MB of arenas, ``bench_app_growth --reread``); the likeliest owner
(not measured here) is what ``bench_app_growth``'s traced mode found growing outside the
feed (the header's strings in Rich's and Textual's bounded caches, ~100 KB a 5-s poll
at 50k, plateauing after ~68 minutes), which the old code's ~20 MB of free arena space
absorbed unseen.

The new code for 30 minutes (``--duration 1800``, load 2.4 -> 0.1, nothing else of
mine running): first-read peak 209.2 MB, steady mean 228.7, steady peak 252.8 (the
re-reads' few seconds: page bodies in flight), growth +6.2 (``growth_after_5min_mb``
+4.2), app CPU 281 s (334 s in the 30-minute run of the code before, above). Per
minute: 224.6, then 225.6-227.3 to minute 8, 228.3-229.9 from minute 9 to 22,
229.1-230.8 from 23 to 30: ~0.2 MB a minute, against the old code's 30 minutes of
243.3 mean (+14.0, the step in the first two minutes) and the issue's 249.9 (+22.5).

After the tab-mark fix (``bench_app_growth --every``: the tabs of a grid never mounted
kept a message per mark change), 900 s (``--duration 900``), once, load 0.3-1.6 (quiet;
nothing else of mine running), against the 900-s run of the code before it above: first-
read peak 219.2 MB (207.1 before; the first read took 5 s here against 8, more pages in
flight: the peak is set before any of this change matters), steady mean 237.7 (227.7),
steady peak 262.4 (252.4), growth +10.1 (+7.9), ``growth_after_5min_mb`` +4.2 (+4.8), app
CPU 164.5 s (165.5). Per minute: 232.0, 234.4, 235.4, 235.7, 236.0, 238.0, 238.5, 239.3,
238.2, 238.7, 238.9, 239.5, 239.3, 239.9, 242.2 (a re-read's peak, 262, in that minute);
the floor between re-reads (each minute's lowest sample) 232, 233, 232, 233, 234, then
236 for minutes 6-12, 237, 238. The ~10 MB between the two runs' levels is there from
the first read on: run-to-run spread (pymalloc's arenas after the first re-reads, ~5 MB
between runs of the same code in ``bench_app_growth``), not this change, which removes
~1 KB a tab-mark change (a few a poll). What the floor still adds after minute 5 (~2 MB
in 10 minutes) is, by ``bench_app_growth --every``, Rich's ``cached_cell_len`` filling to
its 4,096 entries with the header's per-second lines (~1.1 MB, full after ~15-20
minutes, then flat) and Textual's Region caches filling to theirs (<= ~1 MB more), both
bounded, plus what pymalloc does not give back; nothing of ours still climbs there.

Merged main at the end of that stop (the tab-mark fix, the loop-stall work: the re-read's
ids as dict keys, freed 5,000 a turn), 30 minutes, load ~0.4: first-read peak 216.2 MB,
steady mean 238.8, steady peak 265.1, growth +9.1 MB, +4.8 after minute 5. The last
stop's code (a7301a9) in the same hour, 900 s, load 0.35: 213.7 / 237.5 / 261.6, +9.5,
+3.5 after minute 5: the same level, ~10 MB above that code's own runs of the day before
(229.0 mean over 30 minutes); both first reads took 5 s here against 8 s then (more pages
in flight). Not flat: ~0.3 MB a minute after minute 5.

Fifty minutes (``--duration 3000``), the stop's base (b9469ec, this morning, load 0.1-1.3):
first-read peak 217.6 MB, steady mean 238.8, steady peak 266.8, growth +8.8 MB, +3.5 after
minute 5; per minute 231.0, 233.5, ... 240.4 at minute 17, then 238.4-240.9 to minute 50:
``growth_last_30min_mb`` -0.6 MB. What "after minute 5" measured was mostly the plan's own
data: at 60x the plan's day runs in the first 18-20 minutes, and its rows grow 2.9 MB as
its jobs run (``bench_plan_day``); once it has, the RSS is flat.
Merged main at the end of that stop (value objects as msgspec Structs, the collector held
to the first frame), 50 minutes, load ~0.1-2 (a CI run beside it for 5 minutes):
first-read peak 217.4 MB, steady mean 238.4, steady peak 264.8, growth +8.3, +2.8 after
minute 5, ``growth_last_30min_mb`` -0.4 (the floor's +0.8); per minute 238.7-240.3 from
minute 17 to 50.

Usage: ``.venv/bin/python bench/bench_app_rss.py [--jobs 200000] [--duration 180]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from ptyrun import PtyProcess

from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import EmbeddedRedis

BARE_APP = ("from textual.app import App\nfrom textual.widgets import Static\n"
            "class Bare(App):\n    def compose(self):\n        yield Static('bare')\n"
            "Bare().run()\n")


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def sample(app: PtyProcess, seconds: float, until: bytes | None = None) -> tuple[list[float],
                                                                                    bool]:
    """RSS once a second (the pty read meanwhile, so the app never blocks on output)."""
    samples: list[float] = []
    seen = False
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and app.proc.poll() is None:
        _, tail, _ = app.read_for(1.0)
        samples.append(rss_mb(app.proc.pid))
        if until is not None and until in tail:
            seen = True
            break
    return samples, seen


def bare_app_mb(env: dict[str, str]) -> float:
    bare = PtyProcess([sys.executable, "-c", BARE_APP], (120, 40), env)
    try:
        samples, _ = sample(bare, 6.0)
        return max(samples)
    finally:
        bare.close()


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--seconds", "--duration", type=float, default=180.0,
                        help="how long the steady state is sampled after the first read")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the app (e.g. MALLOC_ARENA_MAX=1)")
    parser.add_argument("--csv", help="write the steady samples (one RSS a second) here")
    args = parser.parse_args()
    figures: dict[str, float] = {"jobs": args.jobs}
    sim = Simulator(jobs=args.jobs, seed=1, user="demo", password="demo", time_scale=60.0)
    url = sim.start_in_thread("127.0.0.1", 0)
    try:
        with EmbeddedRedis() as redis, tempfile.TemporaryDirectory() as home:
            env = {"RESYNC_CONFIG": "", "HOME": home, "XDG_STATE_HOME": home,
                   "RESYNC_HWA__URL": url, "RESYNC_HWA__USER": "demo",
                   "RESYNC_HWA__PASSWORD": "demo", "RESYNC_HWA__POLL_INTERVAL": "30",
                   "RESYNC_REDIS__URL": redis.url,
                   "RESYNC_LOGGING__FILE": str(Path(home) / "resync.log")}
            env.update(item.partition("=")[::2] for item in args.env)
            figures["bare_app_mb"] = bare_app_mb(env)
            app = PtyProcess([sys.executable, "-m", "resync_tui"], (120, 40), env)
            try:
                first, seen = sample(app, 180.0, f"{args.jobs:,} of {args.jobs:,}".encode())
                if not seen:
                    raise SystemExit("the dashboard never showed the whole plan")
                figures["first_read_s"] = float(len(first))
                figures["first_read_peak_mb"] = max(first)
                steady, _ = sample(app, args.seconds)
                times = psutil.Process(app.proc.pid).cpu_times()
                figures["app_cpu_s"] = times.user + times.system
            finally:
                app.close()
    finally:
        sim.stop()
    if args.csv:
        Path(args.csv).write_text("".join(f"{v:.1f}\n" for v in steady), encoding="utf-8")
    minute = min(60, max(len(steady) // 3, 1))
    figures["steady_mean_mb"] = statistics.fmean(steady)
    figures["steady_peak_mb"] = max(steady)
    figures["first_minute_mean_mb"] = statistics.fmean(steady[:minute])
    figures["last_minute_mean_mb"] = statistics.fmean(steady[-minute:])
    figures["growth_mb"] = figures["last_minute_mean_mb"] - figures["first_minute_mean_mb"]
    if len(steady) >= 420:  # the first re-reads done: a leak still shows, the first step not
        figures["growth_after_5min_mb"] = (figures["last_minute_mean_mb"]
                                           - statistics.fmean(steady[300:360]))
    if len(steady) >= 31 * 60:  # 30 minutes after the plan's day has run (bench_plan_day)
        then = len(steady) - 31 * 60
        figures["growth_last_30min_mb"] = (figures["last_minute_mean_mb"]
                                           - statistics.fmean(steady[then:then + 60]))
        figures["floor_growth_last_30min_mb"] = min(steady[-60:]) - min(steady[then:then + 60])
    figures["ratio_steady"] = figures["steady_peak_mb"] / figures["bare_app_mb"]
    figures["load_1m"] = os.getloadavg()[0]
    return figures


if __name__ == "__main__":
    result = main()
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))
