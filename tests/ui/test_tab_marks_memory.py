"""A dashboard wide enough for the grid keeps nothing for tabs it never shows.

There the tab bar is never mounted, but each tab's mark (``✖26``, ``⚠`` when stale)
was set on every change: a Textual ``Tab`` posts itself a ``Relabelled`` message per
new label, and a tab that was never mounted never reads its messages. Each change
was kept (~1 KB: the message and the label's content) for as long as the dashboard
ran: part of issue 13's slow rise over 30 minutes of polling.
"""

from __future__ import annotations

import gc
import itertools

from textual.widgets import Tab, Tabs

from resync_tui.hwa.simulator import Simulator
from tests.ui.dashboard_support import SteppedClock, make_app, ready, screen_text, sim

__all__ = ["sim"]

CYCLES = 15


def _relabels_alive() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Tab.Relabelled))


async def test_marks_changing_in_the_grid_pile_up_nothing_and_show_when_shrunk(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)  # polls only when asked
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        d = app.dashboard
        assert not list(app.query("#pane-tabs").results(Tabs))  # the grid: no tab bar
        before = _relabels_alive()
        marks: list[str] = []
        for _ in range(CYCLES):
            clock.advance(3 * 3600)  # job data older than two intervals: STALE, "⚠"
            d.update_overall()
            marks.append(d.tab_marks()["jobs"])
            await app.poll_now("jobs")  # fresh again: the mark loses its "⚠"
            d.update_overall()
            marks.append(d.tab_marks()["jobs"])
            await pilot.pause()
        changes = sum(a != b for a, b in itertools.pairwise(marks))
        assert changes == 2 * CYCLES - 1  # the Jobs tab's mark changed at every step
        assert _relabels_alive() <= before  # before the fix: +2 per cycle, never read
        clock.advance(3 * 3600)  # and when the tabs do show, they carry today's marks
        d.update_overall()
        stale_mark = d.tab_marks()["jobs"]
        assert stale_mark.startswith("⚠")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.query_one("#pane-tabs", Tabs).display
        assert f"Jobs {stale_mark}" in screen_text(app)
