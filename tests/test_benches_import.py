"""Every bench in ``bench/`` still imports against the code it measures.

A bench that no longer runs is a figure nobody can reproduce (``bench_query`` imported
a row builder another bench had dropped, and stopped at its first line). mypy checks the
benches too (``[tool.mypy] files``); this also catches what only an import shows (a
module-level call that fails, an optional dependency missing). Imported, not run: the
benches time things, and no test is timed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"

PROBE = """
import importlib, os, sys
sys.argv = sys.argv[:1]  # a bench that reads its flags on import sees none
failed = []
for name in os.environ["BENCHES"].split():
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
        continue
    if name.startswith("bench_") and not callable(getattr(module, "main", None)):
        failed.append(f"{name}: no main()")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_bench_imports_and_has_a_main() -> None:
    names = sorted(path.stem for path in BENCH.glob("*.py"))
    assert "bench_jobs_pane" in names
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=BENCH,
                          env={**os.environ, "BENCHES": " ".join(names)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
