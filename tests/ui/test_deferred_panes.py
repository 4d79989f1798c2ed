"""The panes a terminal's first layout hides are mounted after the first frame with data
(or when first shown): the first frame is built without them, and nothing they were told
meanwhile is lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from textual.app import App
from textual.screen import Screen

from resync_tui.feeds.breakers import BreakerRow, BreakersState
from resync_tui.feeds.status import FeedHealth
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobsView
from resync_tui.ui.panes import PANES as ENTRIES
from resync_tui.ui.screens.dashboard import DashboardScreen
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _breakers() -> BreakersState:
    row = BreakerRow(name="hwa_job_status", state="open", failure_rate=75.0,
                     calls_in_window=8, failed_in_window=6, not_permitted=3,
                     seconds_until_trial=12.0, last_transition="", history=(75.0,) * 8)
    return BreakersState(rows=(row,), health=FeedHealth(ok=True, last_success=NOW, polls=1))


class _Host(App[None]):
    """The dashboard alone: no feeds, so nothing is mounted but what the test asks."""

    def __init__(self) -> None:
        super().__init__()
        self.dashboard = DashboardScreen(lambda: NOW, JobsView(clock=lambda: NOW))

    def get_default_screen(self) -> Screen[None]:
        return self.dashboard


def _mounted(d: DashboardScreen) -> set[str]:
    return {name for name, pane in d.panes.items() if pane.is_mounted}


async def test_a_small_terminal_builds_its_first_frame_with_the_jobs_pane_alone() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert _mounted(app.dashboard) == {"jobs"}


async def test_a_state_told_to_a_pane_not_mounted_yet_is_shown_once_it_is() -> None:
    """A feed (the head start for the first read ran out) answers before the pane is
    mounted: its state is kept, and drawn when the pane comes, in its tab order."""
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        d = app.dashboard
        await pilot.pause()
        state = _breakers()
        d.show("breakers", state)
        assert not d.breakers.is_mounted
        assert d.tab_marks()["breakers"]  # the tab says it already: an open breaker
        d.mount_deferred()
        await pilot.pause()
        await pilot.pause()
        assert d.breakers.state is state
        assert [w.id for w in d.query_one("#side").children] == \
            [e.id for e in ENTRIES if e.side]
        assert [w.id for w in d.query_one("#panes").children if w.id != "side"] == \
            [e.id for e in ENTRIES if not e.side]
        await pilot.press("2")
        await pilot.pause()
        assert d.breakers.display
        assert "hwa_job_status" in screen_text(app)


async def test_a_pane_picked_before_the_first_frame_is_mounted_and_shown_then() -> None:
    app = _Host()
    async with app.run_test(size=(80, 24)) as pilot:
        d = app.dashboard
        await pilot.pause()
        await pilot.press("6")  # streams, before any data
        for _ in range(5):
            await pilot.pause()
        assert d.active_pane == "streams" and d.panes["streams"].is_mounted
        assert d.panes["streams"].display and not d.jobs.display
        assert d.focused is d.panes["streams"].table  # type: ignore[attr-defined]


async def test_every_pane_is_mounted_after_the_first_frame_with_its_feeds_state(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        d = app.dashboard
        async with asyncio.timeout(DEADLINE):
            while _mounted(d) != set(d.panes):
                await pilot.pause()
        for name in d.panes:
            if name in app.runners and name != "jobs":
                assert d.states[name] is app.runners[name].last
