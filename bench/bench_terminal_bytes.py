"""Bytes the dashboard writes to the terminal per second (what SSH carries), in a real pty.

Part 1: the app (``python -m resync_tui``) at 120x40 against a 5,000-job simulator
(``time_scale=0``: nothing changes unless this script changes it) and an embedded
Redis owned by this script, polling jobs every 2 s. Three phases, same run:

* idle: nothing in the plan changes (the baseline of the ratios);
* random: 1% of the jobs (50) change each second, HOLD/READY jobs cancelled
  (releasing successors), nearly all of them off screen;
* visible (worst case): only the jobs at the top of the attention order change,
  i.e. the rows on screen: ABEND/FAIL/STUCK/EXEC jobs are killed, confirmed SUCC
  or confirmed ABEND, so they leave the top and come back. Each job changes once
  per poll interval (half of them each second): every poll sees every one of them
  changed (a job toggled twice between two polls would look unchanged).

Part 2: idle, as an operator starts it: ``demo --time-scale 0 --no-faults`` at
120x40, and ``--wall demo --time-scale 0 --no-faults`` at 200x60.

Each idle/busy window starts once the plan is on screen and start-up output has
settled. Targets: idle <= 1 KB/s (120x40), wall idle <= 2 KB/s (200x60), worst
case <= 20 KB/s; the ``*_target_met`` figures say whether they were met (1/0).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.plan import ActionError, Job
from resync_tui.redis_server import EmbeddedRedis

JOBS = 5000
SIZE = (120, 40)
WALL_SIZE = (200, 60)
PHASE_SECONDS = 20.0
DEMO_IDLE_SECONDS = 30.0  # covers two wall rotations (ui.wall_rotate_seconds = 15)
DEMO_SETTLE_SECONDS = 12.0  # start-up output (first polls of every pane) settles
CHANGES_PER_SECOND = JOBS // 100
POLL_INTERVAL = 2.0
TARGET_IDLE_KB = 1.0
TARGET_WALL_IDLE_KB = 2.0
TARGET_WORST_KB = 20.0

# Attention order of the statuses a 5,000-job plan has at the top (jobs_view._STATUS_RANK).
TOP_RANK = {"ABEND": 0, "FAIL": 0, "ERROR": 0, "STUCK": 2, "EXEC": 4}
# One action per status that moves a top row out of the top or back into it.
TOGGLE = {"ABEND": "confirm-succ", "FAIL": "confirm-succ", "ERROR": "confirm-succ",
          "SUCC": "confirm-abend", "EXEC": "kill", "STUCK": "kill"}


def wait_for_plan(app: PtyProcess, seconds: float = 90.0, wall: bool = False) -> None:
    """Until the jobs pane says it shows all of the plan (with or without separators);
    on a wall (no job table), until the newest failures are listed."""
    deadline = time.perf_counter() + seconds
    marks = ([b"newest first", b"no failed job"] if wall
             else [f"{JOBS:,} of {JOBS:,}".encode(), f"{JOBS} of {JOBS}".encode()])
    while time.perf_counter() < deadline:
        _, tail, _ = app.read_for(min(1.0, deadline - time.perf_counter()))
        if any(mark in tail for mark in marks):
            return
        if app.proc.poll() is not None:
            break
    raise SystemExit("the dashboard never showed the plan")


def drive(app: PtyProcess, seconds: float, change: Callable[[int], int],
          watch: Callable[[bytes], None] | None = None) -> tuple[float, int]:
    """Call ``change(second)`` at the start of each second; (bytes/s read, jobs changed).

    ``watch`` gets the output of each second (its last 200 kB)."""
    start = time.perf_counter()
    busy = changed = second = 0
    while time.perf_counter() - start < seconds:
        changed += change(second)
        second += 1
        until_next = start + second - time.perf_counter()
        if until_next > 0:
            count, tail, _ = app.read_for(until_next)
            busy += count
            if watch is not None:
                watch(tail)
    return busy / (time.perf_counter() - start), changed


def act_all(sim: Simulator, jobs: Sequence[Job], action_of: Callable[[Job], str]) -> int:
    changed = 0
    for job in jobs:
        try:
            sim.plan.act(job.id, action_of(job))
            changed += 1
        except ActionError:
            pass
    return changed


def driven(env_base: dict[str, str], tmp: str) -> dict[str, float]:
    sim = Simulator(jobs=JOBS, seed=42, user="demo", password="demo", time_scale=0.0)
    url = sim.start_in_thread("127.0.0.1", 0)
    try:
        with EmbeddedRedis() as redis:
            env = {**env_base, "RESYNC_HWA__URL": url, "RESYNC_HWA__USER": "demo",
                   "RESYNC_HWA__PASSWORD": "demo", "RESYNC_REDIS__URL": redis.url,
                   "RESYNC_HWA__POLL_INTERVAL": str(POLL_INTERVAL)}
            app = PtyProcess([sys.executable, "-m", "resync_tui"], SIZE, env, cwd=tmp)
            try:
                wait_for_plan(app)
                app.read_for(POLL_INTERVAL * 2)  # let start-up output settle
                idle, _, _ = app.read_for(PHASE_SECONDS)

                random_jobs = [j for j in sim.plan.jobs if j.status in ("HOLD", "READY")]

                def cancel_batch(second: int) -> int:
                    batch = random_jobs[second * CHANGES_PER_SECOND:
                                        (second + 1) * CHANGES_PER_SECOND]
                    return act_all(sim, batch, lambda _job: "cancel")

                random_rate, random_changed = drive(app, PHASE_SECONDS, cancel_batch)
                app.read_for(POLL_INTERVAL * 2)  # the last cancels reach the screen first

                top = sorted((j for j in sim.plan.jobs if j.status in TOP_RANK),
                             key=lambda j: TOP_RANK[j.status])
                halves = (top[0::2], top[1::2])

                def toggle_top(second: int) -> int:
                    return act_all(sim, halves[second % 2], lambda job: TOGGLE[job.status])

                # Proof that the toggled jobs are on screen: their names (cut like a
                # narrow column cuts them) in what was drawn meanwhile.
                names = {job.id: job.name[:15].encode() for job in top}
                seen: set[str] = set()

                def watch(tail: bytes) -> None:
                    seen.update(job_id for job_id, name in names.items() if name in tail)

                start = time.perf_counter()
                worst_rate, worst_changed = drive(app, PHASE_SECONDS, toggle_top, watch)
                worst_seconds = time.perf_counter() - start
            finally:
                code = app.close()
    finally:
        sim.stop()
    idle_rate = idle / PHASE_SECONDS
    return {
        "idle_bytes_per_s": idle_rate,
        "random_bytes_per_s": random_rate,
        "random_kb_per_s": random_rate / 1000.0,
        "random_over_idle": random_rate / idle_rate if idle_rate else float("inf"),
        "random_jobs_changed_per_s": random_changed / PHASE_SECONDS,
        "visible_worst_bytes_per_s": worst_rate,
        "visible_worst_kb_per_s": worst_rate / 1000.0,
        "visible_worst_over_idle": worst_rate / idle_rate if idle_rate else float("inf"),
        "visible_jobs_toggled": float(len(top)),
        "visible_toggled_jobs_seen_drawn": float(len(seen)),
        "visible_jobs_changed_per_s": worst_changed / worst_seconds,
        "worst_target_kb_per_s": TARGET_WORST_KB,
        "worst_target_met": float(worst_rate / 1000.0 <= TARGET_WORST_KB),
        "exit_code": float(code),
    }


def demo_idle(env: dict[str, str], tmp: str, wall: bool) -> tuple[float, int]:
    """Bytes/s of ``demo --time-scale 0 --no-faults`` once settled, and its exit code."""
    argv = [sys.executable, "-m", "resync_tui", *(["--wall"] if wall else []),
            "demo", "--jobs", str(JOBS), "--time-scale", "0", "--no-faults"]
    app = PtyProcess(argv, WALL_SIZE if wall else SIZE, env, cwd=tmp)
    try:
        wait_for_plan(app, wall=wall)
        app.read_for(DEMO_SETTLE_SECONDS)
        count, _, _ = app.read_for(DEMO_IDLE_SECONDS)
    finally:
        code = app.close()
    return count / DEMO_IDLE_SECONDS, code


def main(wall_only: bool = False) -> dict[str, float]:
    """Every part; ``wall_only`` (``--wall``): the wall's idle output alone."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RESYNC_LOGGING__FILE": str(Path(tmp) / "bench.log")}
        if wall_only:
            wall, wall_code = demo_idle(env, tmp, wall=True)
            return {
                "demo_wall_idle_200x60_bytes_per_s": wall,
                "demo_wall_idle_200x60_kb_per_s": wall / 1000.0,
                "demo_wall_idle_target_kb_per_s": TARGET_WALL_IDLE_KB,
                "demo_wall_idle_target_met": float(wall / 1000.0 <= TARGET_WALL_IDLE_KB),
                "demo_exit_codes": float(wall_code),
            }
        out = driven(env, tmp)
        idle, idle_code = demo_idle(env, tmp, wall=False)
        wall, wall_code = demo_idle(env, tmp, wall=True)
    out.update({
        "demo_idle_120x40_bytes_per_s": idle,
        "demo_idle_120x40_kb_per_s": idle / 1000.0,
        "demo_idle_target_kb_per_s": TARGET_IDLE_KB,
        "demo_idle_target_met": float(idle / 1000.0 <= TARGET_IDLE_KB),
        "demo_wall_idle_200x60_bytes_per_s": wall,
        "demo_wall_idle_200x60_kb_per_s": wall / 1000.0,
        "demo_wall_idle_target_kb_per_s": TARGET_WALL_IDLE_KB,
        "demo_wall_idle_target_met": float(wall / 1000.0 <= TARGET_WALL_IDLE_KB),
        "demo_exit_codes": float(max(idle_code, wall_code)),
    })
    return out


if __name__ == "__main__":
    figures = main(wall_only="--wall" in sys.argv[1:])
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
