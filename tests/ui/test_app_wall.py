"""Wall (kiosk) mode and NO_COLOR: states readable without colour, figures large."""

from __future__ import annotations

import pytest
from textual.widgets import Digits

from resync_tui.feeds.jobs_view import FAILURE_STATUSES
from resync_tui.hwa.simulator import Simulator
from tests.ui.dashboard_support import make_app, ready, screen_text, sim

__all__ = ["sim"]


async def test_wall_mode_shows_big_failure_count_and_rotates_panes(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        failed = sum(app.view.counts.get(s, 0) for s in FAILURE_STATUSES)
        assert failed > 0
        assert str(app.query_one("#wall-failed", Digits).value) == str(failed)
        assert "FAILED JOBS" in screen_text(app)
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
