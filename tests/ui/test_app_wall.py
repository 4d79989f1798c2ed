"""Wall (kiosk) mode and NO_COLOR: states readable without colour, figures large."""

from __future__ import annotations

import pytest
from textual.widgets import Digits, Footer

from resync_tui.hwa.simulator import Simulator
from resync_tui.model.status import FAILED_STATUSES
from resync_tui.ui.screens.dashboard import WallState
from tests.ui.dashboard_support import make_app, ready, screen_text, sim

__all__ = ["sim"]


async def test_big_wall_shows_every_pane_large_figures_and_no_key_hints(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        failed = sum(app.view.counts.get(s, 0) for s in FAILED_STATUSES)
        assert failed > 0
        assert str(app.query_one("#wall-failed", Digits).value) == str(failed)
        stuck = app.view.counts.get("STUCK", 0)
        assert str(app.query_one("#wall-stuck", Digits).value) == str(stuck)
        text = screen_text(app)
        assert "FAILED JOBS" in text and "STUCK JOBS" in text
        # Every pane at once: nobody is at the keyboard to switch tabs.
        assert all(pane.display for pane in (d.jobs, d.breakers, d.cache, d.redis,
                                             d.workstations))
        assert "hwa_job_status" in text
        assert not d.query(Footer)  # no key hints on a wall
        assert not d.query_one("#pane-tabs").display
        # The overall state as a band across the screen, in words.
        band = d.query_one("#wall-state", WallState)
        assert band.display and "OK" in str(band.render())


async def test_small_wall_rotates_the_panes(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        assert d.jobs.display and not d.breakers.display  # one pane at a time
        d.rotate()
        await pilot.pause()
        assert d.breakers.display and not d.jobs.display
        assert "hwa_job_status" in screen_text(app)


async def test_no_color_keeps_every_state_in_words(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert app.no_color  # Textual applies its monochrome filter
        text = screen_text(app)
        assert "✔ OK" in text
        assert "CLOSED" in text and "● UP" in text
        assert "ABEND" in text


async def test_a_wall_that_shows_every_pane_does_not_rotate(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        d = app.dashboard
        assert d.wide
        before = d.active_pane
        d.rotate()
        await pilot.pause()
        assert d.active_pane == before  # nothing to bring into view: no full repaint
