"""[keymap] in the running app: a moved key works, the old one does not, and the footer
and the help screen show the key in force (they are built from the live bindings)."""

from __future__ import annotations

import dataclasses
import re

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.help import HelpScreen
from tests.ui.dashboard_support import frozen_clock, make_settings, screen_text, sim

__all__ = ["sim"]


def _app(simulator: Simulator, redis_url: str, keymap: dict[str, str]) -> ResyncApp:
    settings = dataclasses.replace(make_settings(simulator.base_url, redis_url),
                                   keymap=keymap)
    return ResyncApp(build_runtime(settings, clock=frozen_clock), settings)


def _squashed(app: ResyncApp) -> str:
    """The screen's text without spaces: the help's key spans are padded unevenly."""
    return re.sub(r"\s+", "", screen_text(app))


async def test_a_moved_key_works_and_the_old_one_no_longer_does(
        sim: Simulator, redis_url: str) -> None:
    app = _app(sim, redis_url, {"app.pause": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        assert not app.paused
        await pilot.press("x")
        assert app.paused
        await pilot.press("x")
        assert not app.paused


async def test_footer_and_help_show_the_moved_keys(sim: Simulator, redis_url: str) -> None:
    app = _app(sim, redis_url, {"app.pause": "x", "jobs.next_failure": "ctrl+n",
                                "app.help": "f1"})
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "x Pause" in footer and "p Pause" not in footer
        # Next fail is in the help only (the 80-column footer keeps q Quit with actions on).
        assert "Next fail" not in footer
        assert "f1 Help" in footer
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = _squashed(app)
        assert "xpause/resumerefreshing" in text
        assert "ppause/resume" not in text
        assert "ctrl+nnextfailedjob" in text
        assert "f1thishelp" in text


async def test_without_a_keymap_help_shows_the_declared_keys(
        sim: Simulator, redis_url: str) -> None:
    app = _app(sim, redis_url, {})
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = _squashed(app)
        assert "ppause/resumerefreshing" in text
        assert "nnextfailedjob" in text
