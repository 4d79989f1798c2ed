"""What the first frame does not need is not imported before it (issue 13: the demo's
first frame with data within 2.5x a bare Textual app's; ``bench/bench_startup.py``
measures it). Each screen opened on a key is imported when the key is pressed."""

from __future__ import annotations

import json
import subprocess
import sys

ON_A_KEY = (
    "resync_tui.ui.screens.help",  # ? (its Markdown pulls markdown-it and pygments in)
    "resync_tui.ui.screens.job_detail",  # Enter
    "resync_tui.ui.screens.bulk_action",  # A with marks
    "resync_tui.ui.screens.audit",  # L
    "resync_tui.ui.screens.alerts",  # !
    "markdown_it",
    "pygments",
)


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_app_module_leaves_the_screens_opened_on_a_key_for_later() -> None:
    loaded = _imported_after("import resync_tui.ui.app")
    assert "resync_tui.ui.screens.dashboard" in loaded
    assert loaded.isdisjoint(ON_A_KEY), sorted(loaded & set(ON_A_KEY))


def test_the_demo_launches_its_engine_before_the_heavy_imports() -> None:
    """The simulator's process and the command line's own modules: no aiohttp, no plan,
    no Textual, no redis-py in the dashboard before the engine has been started."""
    loaded = _imported_after(
        "import resync_tui.cli, resync_tui.hwa.simulator.process, resync_tui.hwa.simulator.faults")
    heavy = {"aiohttp", "textual", "redis", "resync_tui.hwa.simulator.server",
             "resync_tui.hwa.simulator.plan"}
    assert loaded.isdisjoint(heavy), sorted(loaded & heavy)
