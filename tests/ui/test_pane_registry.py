"""The pane registry drives the app: each entry is a feed, a runner, a pane, a tab, a key."""

from __future__ import annotations

from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.panes import PANES, REGISTRY
from resync_tui.ui.screens.dashboard import DashboardScreen
from tests.ui.dashboard_support import make_app, ready, sim

__all__ = ["sim"]


async def test_every_registered_feed_runs_and_every_pane_has_tab_key_and_widget(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        assert list(app.runners) == [e.id for e in REGISTRY]
        d = app.dashboard
        bindings = {b.id: b for b in DashboardScreen.BINDINGS if not isinstance(b, tuple)}
        for number, entry in enumerate(PANES, 1):
            assert d.query_one(f"#tab-{entry.id}")
            assert d.pane_widget(entry.id) is d.panes[entry.id]
            binding = bindings[f"dashboard.pane_{entry.id}"]
            assert binding.key == str(number)
            await pilot.press(str(number))
            await pilot.pause()
            assert d.active_pane == entry.id and d.panes[entry.id].display
            assert d.states[entry.id] is app.runners[entry.id].last


async def test_panes_without_a_handler_of_their_own_get_their_state_from_the_registry(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)
        d = app.dashboard
        for name in ("cache", "redis"):  # no show_<name>: the generic path
            assert not hasattr(d, f"show_{name}")
            assert d.panes[name].state is app.runners[name].last
