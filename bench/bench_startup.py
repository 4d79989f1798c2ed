"""Process start to first frame with job data, ``resync-tui demo`` at demo size (5,000 jobs).

Both programs run in a real pty at 120x40, spawned from this script; the clock
stops when the terminal output first contains the plan ("5,000 of 5,000 jobs")
for the demo, or the last table row for the baseline: a bare Textual app
(Header, DataTable with 20 rows, Footer), measured in the same run. The demo
also builds its simulated plan and starts a redis-server, which the baseline
does not; the ratio says what all of that costs. Target (issue 13): at most 2.5x.

Then the phases, each timed on its own in the same run (they overlap in the demo:
the simulator's process builds the plan while the dashboard imports its UI):
the interpreter and the dashboard's imports (beside the bare app's imports), the
simulator's process until it serves (plan generation included), the embedded
Redis until it answers, and the first read of the plan (counts, the page, rows,
diff) by the dashboard's own client.

Figures (median of 3 rounds, seconds):
- before (issue 13, simulator and Redis started one after the other, in-process):
  demo 1.16 vs bare 0.23 (5.1x); on this branch's base, load 8.2 / 3.7:
  demo 2.235 vs bare 0.325 (6.9x).
- after (simulator in its own process started first, Redis launched before the UI's
  imports, lazy imports, the first read alone on the loop): load 8.6 / 5.7:
  demo 1.763 vs bare 0.310 (5.7x); phases: interpreter 0.076, bare imports 0.377,
  dashboard imports 1.435, simulator ready 0.606 and Redis 0.017 (both meanwhile),
  first read 0.131. At load 24 / 18: demo 3.588 vs bare 1.589 (2.3x), the base
  5.930 vs 0.893 (6.6x) just before. The target is not met: the dashboard's own
  imports (Textual, redis-py, httpx, prometheus_client, its widgets) cost three times
  the bare app's whole start. Figures depend on the load: say ``uptime`` beside them.
- README (a later run of the above, load 0.8): demo 1.11 vs bare 0.26 (4.3x).
- this bench before this change, on a fresh clone under ``PYTHONDONTWRITEBYTECODE``
  (every start compiled ~100 modules from source, in the dashboard and in the
  simulator's process; the bench now compiles the package's bytecode first, as an
  installed copy has it), load 2.9 / 3.1: demo 2.372 vs bare 0.379 (6.3x), best 1.588.
- with bytecode, old code and new interleaved round by round (8 rounds, load 2.6 / 1.7):
  before (redis-py, importlib.metadata and the CA bundle loaded before the first frame):
  demo 1.165 (best 1.026), first paint 0.952, vs bare 0.301 (best 0.232): 3.9x;
  after (the Redis client built on first use, after the first frame with data; no
  package metadata; a plain-HTTP engine's client loads no CA bundle; the simulator's
  process loads no CA store): demo 0.980 (best 0.821), first paint 0.749: 3.3x.
  Phases at load 2-3: dashboard imports 0.67-0.89 -> 0.42-0.63 (bare 0.22-0.34),
  simulator ready 0.33-0.48 -> 0.25-0.29, first read 0.10-0.18. Not met: the
  dashboard's own imports (Textual's widgets, its panes, screens, model, httpx,
  prometheus_client) still cost about twice the bare app's, its mount and first
  paint of a dozen panes about 0.3 s more, and the first read plus the dashboard's
  update of every pane's tab marks another 0.2 s.
- this change's base (``--rounds 5``, load 1.7 / 1.4): demo 1.299 (best 1.050) vs bare
  0.317 (best 0.238): 4.1x; the last figure before it: 1.045 vs 0.346, 3.0x.
- after (the plan's first read started before the UI is imported, on the loop the app
  then runs on, the UI imported in a thread meanwhile: ``feeds.runtime.FirstRead``;
  the engine's process started before the command line is built; the feeds held back
  until the first job list is drawn, redis-py imported after it; no tab bar and no wall
  widgets mounted when not shown; layout classes set before the mount; tab marks set
  on held widgets), base and new interleaved round by round, medians:
  10 rounds, load 1.5 / 0.8: base 0.930 -> 0.817 (best 0.739 -> 0.620), bare 0.290:
  3.2x -> 2.8x; 6 rounds, load 1.9 / 1.3: base 0.904 -> 0.659, bare 0.244: 3.7x -> 2.7x.
  This bench, ``--rounds 5``: load 1.6 / 2.1: demo 0.857 (best 0.755) vs bare 0.347
  (best 0.249): 2.47x; load 2.2 / 1.6: 0.949 (best 0.812) vs 0.285 (best 0.235): 3.3x.
  The first frame is now usually the one with data. Phases at load 1-2: interpreter
  0.04-0.07, demo imports 0.47-0.63 (bare 0.27-0.37), simulator ready 0.32-0.35, first
  read 0.13-0.17. The target is met in a quiet run only. What remains, from a timeline
  of one start at a quiet moment: the read starts at 0.20-0.36 s and waits for the
  simulator (ready at 0.33-0.43 s); its decoding and rows (~0.1 s) share the
  interpreter with the UI's imports, which end at 0.45-0.8 s; the mount and the first
  frame (~30 widgets, the table's first lines) take 0.09-0.15 s more. The dashboard's
  own CPU before the frame (its imports beyond the bare app's ~0.15-0.2 s: settings,
  httpx and httpcore, msgspec, prometheus_client, 86 modules of its own; the runtime
  ~0.02-0.06; the read's decoding ~0.1; the mount ~0.1) and the simulator's process
  share two cores: under load the ratio grows with it.
- issue 13's fourth stop (2026-12-02): less of the dashboard's process before the frame.
  The command line builds only the named command's options (the check plugin's and
  ``jobs``' modules stay out); the panes the first layout hides (Streams, Critical; every
  side pane in tabs) are mounted after the first frame with data or when first shown;
  the job detail's loader (dependency chains, root causes) and the action menus' screens
  load on first use; prometheus_client is imported, and the metrics' registry built,
  after the first frame (what the first read recorded is counted then). The dashboard's
  CPU to the first frame with data, old (the stop's base) and new interleaved round by
  round, 30 rounds, load 0.8-1.9: median 0.710 -> 0.685 s (best 0.590 -> 0.540); the
  wall time to that frame did not move (0.755 -> 0.750). This bench, ``--rounds 5``,
  old and new alternating: old 2.08x / 2.88x / 2.68x (load 0.7-0.9), new 2.08x / 2.35x /
  2.48x / 2.33x (load 0.4-1.3): about the target, with a spread between runs (the bare
  app's own imports went 0.27-0.37 s from one run to the next at the same load) wider
  than the gain. Where the rest goes, from marks in one start (load ~1): the UI's
  imports in their thread 0.21 -> 0.55 s (the first read, on the loop, is done by then),
  the app's start to the dashboard's update 40 ms, and that update to the frame written
  65-100 ms (the mount of the screen's widgets, their styles, the first render).
- issue 13's fifth stop (2026-12-02): the value objects on the start path are msgspec
  Structs (59 dataclasses, ~50 ms of ``dataclasses`` generating and exec'ing their
  methods at import; the dashboard's imports with the collector off, median of 15
  interleaved: 281 -> 247 ms of CPU), and the collector held off from the command
  line's first line to the first frame (~130 young collections, ~20 ms, before it).
  Marks in the dashboard's process, old (the stop's base) and new interleaved, 15 rounds
  each, medians (load ~1, a 200k dashboard polling beside them): the UI imported at
  487 -> 457 ms, the frame with data 716 -> 675 ms (CPU 702 -> 666 ms; the collector
  alone: 693 ms). Now the first read, which waits for the simulator (ready at ~430 ms
  there) and shares the interpreter with the mount, is what the frame waits for; the
  first frame (before the data) comes at 0.56-0.59 s, 0.69-0.74 s before. This bench,
  ``--rounds 11``, new and old alternating, load 0.0-0.4: new 0.711 / 0.302 s (2.36x;
  each round's own ratio, median 2.30x) and 0.626 / 0.286 s (2.19x; 2.24x), old 0.750 /
  0.332 s (2.26x; 2.25x) and 0.733 / 0.293 s (2.50x; 2.30x). Under 2.5x in each run,
  the dashboard's imports 0.62 / 0.57 -> 0.52 / 0.47 s; the bare app's own start moves
  0.29-0.33 s from run to run, as much as what this stop took off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

SIZE = (120, 40)
ROUNDS = 3
JOBS = 5000

BARE_APP = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("stream", "job", "status")
        table.add_rows([(f"S{i}", f"J{i}", "SUCC") for i in range(19)] + [("S", "LAST", "ROW")])

Bare().run()
"""

BARE_IMPORTS = "from textual.app import App\nfrom textual.widgets import DataTable, Footer, Header"
DEMO_IMPORTS = "import resync_tui.cli, resync_tui.ui.app"


def first_frame(argv: list[str], marker: bytes, env: dict[str, str], cwd: str,
                first: bytes | None = None) -> tuple[float, float]:
    """Seconds until the terminal shows ``first`` (any first paint; ``marker`` when not
    given), and until it shows ``marker`` (the data)."""
    proc = PtyProcess(argv, SIZE, env, cwd=cwd)
    try:
        painted = seen = -1.0
        if first is not None:
            _, window, painted = proc.read_for(120.0, until=first)
            if painted >= 0 and marker in window:  # both in the same read
                seen = painted
        if seen < 0:
            _, _, seen = proc.read_for(120.0, until=marker)
    finally:
        proc.close()
    if seen < 0 or (first is not None and painted < 0):
        raise SystemExit(f"no frame with {marker!r} from {argv[1:3]}")
    return (painted if first is not None else seen), seen


def compile_bytecode() -> None:
    """The package's bytecode, as an installed copy has it (pip compiles on install; an
    editable one writes it on its first run). Without it (``PYTHONDONTWRITEBYTECODE``,
    a fresh clone) every start compiles ~100 modules again, in the dashboard and in
    the simulator's process: a cost no user pays twice."""
    import compileall

    package = Path(__file__).resolve().parent.parent / "resync_tui"
    if not compileall.compile_dir(str(package), quiet=1):
        raise SystemExit(f"cannot compile {package}")


def run_for(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` and exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    return time.perf_counter() - started


def simulator_ready() -> float:
    """The demo's simulator: its process started until it serves the plan."""
    from resync_tui.hwa.simulator.process import SimulatorProcess

    started = time.perf_counter()
    with SimulatorProcess(jobs=JOBS, seed=42, user="demo", password="demo",
                          time_scale=30.0) as sim:
        sim.wait_ready()
        return time.perf_counter() - started


def redis_ready() -> float:
    from resync_tui.redis_server import EmbeddedRedis

    started = time.perf_counter()
    server = EmbeddedRedis().begin()
    try:
        server.wait_ready()
        return time.perf_counter() - started
    finally:
        server.close()


def first_read() -> float:
    """Counts, the plan, rows and diff: what the jobs feed's first poll does."""
    from resync_tui.feeds.jobs import JobsFeed
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.hwa.simulator.process import SimulatorProcess
    from resync_tui.redis_server import EmbeddedRedis
    from resync_tui.settings import Secret, Settings

    with SimulatorProcess(jobs=JOBS, seed=42, user="demo", password="demo",
                          time_scale=30.0) as sim, EmbeddedRedis() as redis:
        sim.wait_ready()
        base = Settings()
        settings = base.replace(
            hwa=dataclasses.replace(base.hwa, url=sim.base_url, user="demo",
                                    password=Secret("demo")),
            redis=dataclasses.replace(base.redis, url=redis.url))

        async def read() -> float:
            runtime = build_runtime(settings)
            try:
                feed = JobsFeed(runtime)
                started = time.perf_counter()
                state = await feed.poll()
                took = time.perf_counter() - started
                if len(state.view) != JOBS:
                    raise SystemExit(f"first read: {len(state.view)} jobs, not {JOBS}")
                return took
            finally:
                await runtime.aclose()

        return asyncio.run(read())


def main() -> dict[str, float]:
    compile_bytecode()
    demo: list[float] = []
    demo_painted: list[float] = []
    bare: list[float] = []
    phases: dict[str, list[float]] = {
        "interpreter_s": [], "bare_imports_s": [], "demo_imports_s": [],
        "simulator_ready_s": [], "redis_ready_s": [], "first_read_s": []}
    with tempfile.TemporaryDirectory() as tmp:
        # The demo's Redis persists under XDG_STATE_HOME: a fresh one, not the user's.
        env = {"RESYNC_LOGGING__FILE": str(Path(tmp) / "bench.log"),
               "XDG_STATE_HOME": str(Path(tmp) / "state")}
        for _ in range(ROUNDS):
            bare.append(first_frame([sys.executable, "-c", BARE_APP], b"LAST", env, tmp)[1])
            painted, seen = first_frame(
                [sys.executable, "-m", "resync_tui", "demo", "--no-faults"],
                b"5,000 of 5,000", env, tmp, first=b"resync-tui")
            demo_painted.append(painted)
            demo.append(seen)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            for _ in range(ROUNDS):
                phases["interpreter_s"].append(run_for("pass"))
                phases["bare_imports_s"].append(run_for(BARE_IMPORTS))
                phases["demo_imports_s"].append(run_for(DEMO_IMPORTS))
                phases["simulator_ready_s"].append(simulator_ready())
                phases["redis_ready_s"].append(redis_ready())
                phases["first_read_s"].append(first_read())
        finally:
            os.environ.clear()
            os.environ.update(saved)
    demo_s = statistics.median(demo)
    bare_s = statistics.median(bare)
    return {
        "demo_first_data_frame_s": demo_s,
        "bare_textual_first_frame_s": bare_s,
        "demo_over_bare": demo_s / bare_s,
        # Each round's own ratio (its bare app run just before it): a drift of the
        # machine's load across the run moves both of a round alike.
        "demo_over_bare_median_of_rounds": statistics.median(
            d / b for d, b in zip(demo, bare, strict=True)),
        "demo_first_frame_s": statistics.median(demo_painted),
        "demo_best_s": min(demo),
        "bare_best_s": min(bare),
        **{name: statistics.median(values) for name, values in phases.items()},
        "rounds": float(ROUNDS),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds (median of)")
    ROUNDS = parser.parse_args().rounds
    figures = main()
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
