"""``resync-tui snapshot``: render the dashboard headless once every pane has data.

Used for the README's screenshots and by CI. It waits for the feeds' first
results (never a blind sleep), then for one more sample of the breaker and cache
panes so that they show the calls the first polls made, and saves an SVG.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from resync_tui.settings import Settings

__all__ = ["take_snapshot"]


def take_snapshot(settings: Settings, out: Path, size: tuple[int, int], *,
                  timeout: float = 30.0, clock: Callable[[], datetime] | None = None,
                  wall: bool = False) -> int:
    """Save an SVG of the dashboard at ``size`` to ``out``; 0 on success (``wall``: the
    kiosk layout).

    Non-zero, with one line on stderr, when a pane got no data within ``timeout``.
    """
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.ui.app import ResyncApp

    runtime = build_runtime(settings, clock=clock)
    app = ResyncApp(runtime, settings, wall=wall)
    outcome: dict[str, str] = {}

    async def capture() -> None:
        try:
            await _capture()
        finally:
            # Close in the loop that opened the connections, whatever happened.
            await runtime.aclose()

    async def _capture() -> None:
        async with app.run_test(size=size) as pilot:
            try:
                await asyncio.wait_for(app.wait_for_data(), timeout)
            except TimeoutError:
                outcome["error"] = f"no data within {timeout:g}s"
                return
            missing = app.missing_data()
            if missing:
                outcome["error"] = "; ".join(f"{name}: {why}" for name, why in missing.items())
                return
            await app.poll_now("breakers", "cache")
            await pilot.pause()
            outcome["svg"] = app.export_screenshot(title="resync-tui")

    asyncio.run(capture())
    if "svg" in outcome:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(outcome["svg"], encoding="utf-8")
        except OSError as exc:
            outcome["error"] = f"cannot write {str(out)!r} ({exc.strerror})"
    if "error" in outcome:
        print(f"resync-tui snapshot: {outcome['error']}", file=sys.stderr)
        return 1
    return 0
