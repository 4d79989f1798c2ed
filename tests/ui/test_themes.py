"""User themes in the running app: ``ui.theme`` picks one, its colours reach the
widgets, and ``t`` switches between ``ui.theme`` and ``ui.alternate_theme``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.color import Color

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.settings import load_settings
from resync_tui.ui.app import ResyncApp
from tests.ui.dashboard_support import frozen_clock, make_settings, sim

__all__ = ["sim"]

THEMES = """\
[ui]
theme = "night-shift"
alternate_theme = "{alternate}"

[themes.night-shift]
primary = "#88C0D0"
background = "#1B1F27"
surface = "#232834"
dark = true
"""


def _app(simulator: Simulator, redis_url: str, tmp_path: Path,
         alternate: str = "") -> ResyncApp:
    """Themes read from a real settings file (as an operator writes them)."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text(THEMES.format(alternate=alternate))
    loaded = load_settings(cfg, env={})
    base = make_settings(simulator.base_url, redis_url)
    settings = dataclasses.replace(
        base, themes=loaded.themes,
        ui=dataclasses.replace(base.ui, theme=loaded.ui.theme,
                               alternate_theme=loaded.ui.alternate_theme))
    return ResyncApp(build_runtime(settings, clock=frozen_clock), settings)


async def test_a_user_theme_applies_and_its_colours_reach_the_screen(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(sim, redis_url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "night-shift"
        assert app.screen.styles.background == Color.parse("#1B1F27")


async def test_t_switches_between_the_configured_pair(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(sim, redis_url, tmp_path, alternate="solarized-light")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        assert app.theme == "solarized-light"
        await pilot.pause()
        assert app.screen.styles.background != Color.parse("#1B1F27")
        await pilot.press("t")
        assert app.theme == "night-shift"
        await pilot.pause()
        assert app.screen.styles.background == Color.parse("#1B1F27")


async def test_without_an_alternate_t_goes_to_the_light_built_in_and_back(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(sim, redis_url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "night-shift"
