"""A side pane hidden behind another tab does not hoard its repaints.

At widths where only one side pane shows, the others are ``display: none``. Textual
hands a widget's pending repaint regions to the compositor only when it paints it, so
each partial refresh of a hidden pane (a figure changed, the line's cells) was kept
until the operator looked at that tab: the dashboard grew at every poll, for days.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical

from resync_tui.feeds.breakers import BreakerRow, BreakersState
from resync_tui.feeds.status import FeedHealth
from resync_tui.ui.widgets.breaker_panel import BreakerPanel

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _state(calls: int) -> BreakersState:
    history = tuple(float((calls * 7 + i * 13) % 100) for i in range(8))
    row = BreakerRow(name="hwa_api", state="closed", failure_rate=float(calls % 100),
                     calls_in_window=calls, failed_in_window=calls % 17, not_permitted=0,
                     seconds_until_trial=None, last_transition="", history=history)
    return BreakersState(rows=(row,), health=FeedHealth(ok=True, last_success=NOW,
                                                        polls=calls))


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        with Vertical(id="side"):
            yield BreakerPanel(id="breakers")


@pytest.mark.parametrize("hidden", ["pane", "side"])
async def test_a_hidden_pane_keeps_no_pile_of_repaints_and_shows_the_latest(
        hidden: str) -> None:
    app = _Host()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(BreakerPanel)
        pane.state = _state(1)
        await pilot.pause()
        # Another side pane's tab is shown, or the whole side column is hidden.
        hider = pane if hidden == "pane" else app.query_one("#side")
        hider.display = False
        await pilot.pause()
        for calls in range(2, 400):  # polls while the operator looks elsewhere
            pane.state = _state(calls * 37)
            if calls % 50 == 0:
                await pilot.pause()
        await pilot.pause()
        assert pane.redraws >= 300  # each poll was drawn into the pane
        # What Textual holds for the next paint of the hidden pane: the whole pane at
        # most, not one region per changed figure per poll.
        assert len(pane._repaint_regions) <= 2
        assert len(pane._dirty_regions) <= 2
        hider.display = True  # back to its tab: the latest figures, nothing older
        await pilot.pause()
        assert pane.state is not None and pane.state.rows[0].calls_in_window == 399 * 37
        shown = str(pane.render())
        assert f"{399 * 37:,}" in shown or str(399 * 37) in shown
