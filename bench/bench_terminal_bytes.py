"""Bytes the dashboard writes to the terminal per second, in a real pty at 120x40.

The app runs as a child process (``python -m resync_tui``) against a 5,000-job
simulator and an embedded Redis owned by this script. Phase 1 (idle baseline):
nothing in the plan changes. Phase 2 (steady state): 1% of the jobs (50)
change status every second (operator cancels, which also release successors).
Both phases are measured in the same run; the figure that matters is the
steady-state rate (target <= 20 KB/s) and its ratio to the idle baseline.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.plan import ActionError
from resync_tui.redis_server import EmbeddedRedis

JOBS = 5000
SIZE = (120, 40)
PHASE_SECONDS = 20.0
CHANGES_PER_SECOND = JOBS // 100
POLL_INTERVAL = 2.0


def main() -> dict[str, float]:
    sim = Simulator(jobs=JOBS, seed=42, user="demo", password="demo", time_scale=0.0)
    url = sim.start_in_thread("127.0.0.1", 0)
    try:
        with EmbeddedRedis() as redis, tempfile.TemporaryDirectory() as tmp:
            env = {
                "RESYNC_HWA__URL": url, "RESYNC_HWA__USER": "demo",
                "RESYNC_HWA__PASSWORD": "demo", "RESYNC_REDIS__URL": redis.url,
                "RESYNC_HWA__POLL_INTERVAL": str(POLL_INTERVAL),
                "RESYNC_LOGGING__FILE": str(Path(tmp) / "bench.log"),
            }
            app = PtyProcess([sys.executable, "-m", "resync_tui"], SIZE, env, cwd=tmp)
            try:
                _, _, seen = app.read_for(60.0, until=f"{JOBS:,} of {JOBS:,}".encode())
                if seen < 0:
                    _, _, seen = app.read_for(30.0, until=f"{JOBS} of {JOBS}".encode())
                if seen < 0:
                    raise SystemExit("the dashboard never showed the plan")
                app.read_for(POLL_INTERVAL * 2)  # let start-up output settle
                idle, _, _ = app.read_for(PHASE_SECONDS)
                changed = 0
                busy = 0
                candidates = [j.id for j in sim.plan.jobs
                              if j.status in ("HOLD", "READY")]
                start = time.perf_counter()
                second = 0
                while time.perf_counter() - start < PHASE_SECONDS:
                    batch = candidates[second * CHANGES_PER_SECOND:
                                       (second + 1) * CHANGES_PER_SECOND]
                    for job_id in batch:
                        try:
                            sim.plan.act(job_id, "cancel")
                            changed += 1
                        except ActionError:
                            pass
                    second += 1
                    until_next = start + second - time.perf_counter()
                    if until_next > 0:
                        count, _, _ = app.read_for(until_next)
                        busy += count
                busy_seconds = time.perf_counter() - start
            finally:
                code = app.close()
    finally:
        sim.stop()
    idle_rate = idle / PHASE_SECONDS
    busy_rate = busy / busy_seconds
    return {
        "idle_bytes_per_s": idle_rate,
        "steady_bytes_per_s": busy_rate,
        "steady_kb_per_s": busy_rate / 1000.0,
        "steady_over_idle": busy_rate / idle_rate if idle_rate else float("inf"),
        "jobs_changed_per_s": changed / busy_seconds,
        "target_kb_per_s": 20.0,
        "exit_code": float(code),
    }


if __name__ == "__main__":
    figures = main()
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
