"""Process start to first frame with job data, ``resync-tui demo`` at demo size (5,000 jobs).

Both programs run in a real pty at 120x40, spawned from this script; the clock
stops when the terminal output first contains the plan ("5,000 of 5,000 jobs")
for the demo, or the last table row for the baseline: a bare Textual app
(Header, DataTable with 20 rows, Footer), measured in the same run. The demo
also builds its simulated plan and starts a redis-server, which the baseline
does not; the ratio says what all of that costs.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

SIZE = (120, 40)
ROUNDS = 3

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


def first_frame(argv: list[str], marker: bytes, env: dict[str, str], cwd: str) -> float:
    proc = PtyProcess(argv, SIZE, env, cwd=cwd)
    try:
        _, _, seen = proc.read_for(120.0, until=marker)
    finally:
        proc.close()
    if seen < 0:
        raise SystemExit(f"no frame with {marker!r} from {argv[1:3]}")
    return seen


def main() -> dict[str, float]:
    demo: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RESYNC_LOGGING__FILE": str(Path(tmp) / "bench.log")}
        for _ in range(ROUNDS):
            bare.append(first_frame([sys.executable, "-c", BARE_APP], b"LAST", env, tmp))
            demo.append(first_frame(
                [sys.executable, "-m", "resync_tui", "demo", "--no-faults"],
                b"5,000 of 5,000", env, tmp))
    demo_s = statistics.median(demo)
    bare_s = statistics.median(bare)
    return {
        "demo_first_data_frame_s": demo_s,
        "bare_textual_first_frame_s": bare_s,
        "demo_over_bare": demo_s / bare_s,
        "demo_best_s": min(demo),
        "rounds": float(ROUNDS),
    }


if __name__ == "__main__":
    figures = main()
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
