"""A side pane never looks healthy while its data is stale or contradicts itself."""

from __future__ import annotations

import asyncio
import contextlib

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from resync_tui.feeds.breakers import BreakersFeed
from resync_tui.feeds.status import local_now
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.resilience.breaker import BreakerConfig, BreakerRegistry
from resync_tui.ui.widgets._pane import Pane
from resync_tui.ui.widgets.breaker_panel import BreakerPanel
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


def _pane_text(app: App[object], selector: str) -> str:
    widget = app.query_one(selector)
    return widget.text() if isinstance(widget, WorkstationsPane) else str(widget.render())


async def test_a_down_workstation_is_reported_on_the_pane_tab_and_wall_figure(
        sim: Simulator, redis_url: str) -> None:
    for ws in sim.plan.workstations:  # the clock is stopped (time_scale 0): they stay so
        ws.linked = True
    victim = next(ws for ws in sim.plan.workstations if ws.type != "MANAGER")
    victim.linked = False
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        d = app.dashboard
        assert d.tab_marks()["workstations"] == "✖1"
        assert d.figures.workstations_down == 1
        await pilot.press("5")
        await pilot.pause()
        text = screen_text(app)
        assert f"✖ {victim.name}" in text
        assert "✖ 1 of" in text and "not linked/running" in text


async def test_stale_workstations_pane_shows_no_green_check(
        sim: Simulator, redis_url: str) -> None:
    for ws in sim.plan.workstations:
        ws.linked = True
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert "✔ all" in _pane_text(app, "#workstations")
        sim.set_faults(Faults(outage="refused"))
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        text = _pane_text(app, "#workstations")
        assert "⚠ STALE, data from 06:30:00" in text
        assert "✔" not in text
        assert "were linked and running at 06:30:00" in text


class _BreakerHost(App[None]):
    def __init__(self, panel: BreakerPanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


async def test_a_closed_breaker_that_fails_every_call_is_not_drawn_healthy() -> None:
    registry = BreakerRegistry()
    breaker = registry.get("hwa_api", BreakerConfig(minimum_calls=10))

    async def boom() -> None:
        raise ConnectionError("refused")

    for _ in range(3):  # fewer than minimum_calls: the breaker stays closed
        with contextlib.suppress(ConnectionError):
            await breaker.call(boom)
    state = await BreakersFeed(registry, local_now).poll()
    panel = BreakerPanel()
    app = _BreakerHost(panel)
    async with app.run_test(size=(100, 10)) as pilot:
        panel.state = state
        await pilot.pause()
        text = str(panel.render())
        assert "CLOSED" in text and "100.0% failed" in text
        assert "● hwa_api" not in text  # the healthy marker
        assert "⚠ hwa_api" in text and "failing, opens at 10 calls" in text


class _Lines(Pane):
    """A pane that shows ``count`` numbered lines."""

    PANE_TITLE = "Lines"
    count = 2

    def build(self) -> Content:
        return Content("\n").join(Content(f"line {n}") for n in range(1, self.count + 1))


class _OnePane(App[None]):
    def compose(self) -> ComposeResult:
        with Vertical():
            yield _Lines(id="lines")
            yield Static("below", id="below")


async def test_a_pane_that_grows_is_laid_out_at_its_new_height_even_if_a_layout_measured_it_stale(
        ) -> None:
    """Under load a side pane kept its old height after it grew (the Redis pane showed 2
    of its 6 lines, the rest cut off without a sign, for as long as nothing else laid the
    column out). Here the layout that follows the growth is made to measure the old
    height, as it did then: the pane checks itself after that frame and lays out again."""
    app = _OnePane()
    async with app.run_test(size=(40, 20)) as pilot:
        pane = app.query_one(_Lines)
        await pilot.pause()
        assert pane.size.height == 2
        pane.count = 6
        pane.show()
        # The measurement the next layout takes is the stale one (what was lost under load).
        pane._content_height_cache = (pane.size.width, 2)
        for _ in range(5):
            await pilot.pause()
        assert pane.size.height == 6
        assert "line 6" in screen_text(app)  # type: ignore[arg-type]
