"""SVG snapshots of every screen at 80x24 and 200x60, from a deterministic state.

Fixed simulator seed with a stopped plan clock, a frozen wall clock in the
header, hour-long poll intervals (so nothing polls while the picture is taken),
and the feeds' first results awaited instead of slept for. Redis figures that
change from run to run (PING time, uptime, memory) are pinned before the shot.
Regenerate with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look
at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.job_detail import JobDetailScreen
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text

SIZES = [(80, 24), (200, 60)]


@pytest.fixture(scope="module")
def snap_sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


def _pin_redis(app: ResyncApp) -> None:
    state = app.dashboard.redis.state
    assert state is not None and state.up
    app.dashboard.redis.state = dataclasses.replace(
        state, ping_ms=0.3, uptime_seconds=3725, clients=3, blocked_clients=0,
        used_memory=1_234_567, fragmentation=1.5, ops_per_sec=4, keyspace_hit_rate=75.0,
        evicted_keys=0)


async def _dashboard(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await ready(app)
    _pin_redis(app)
    await pilot.pause()


async def _job_detail(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    app.dashboard.jobs.table.focus()
    await pilot.press("enter")
    screen = app.screen
    assert isinstance(screen, JobDetailScreen)

    async def loaded() -> None:
        while "loading" in screen_text(app):
            await pilot.pause(0.02)

    await asyncio.wait_for(loaded(), DEADLINE)
    await pilot.pause()


async def _help(pilot: Pilot[Any]) -> None:
    await _dashboard(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["dashboard", "job_detail", "help"])
def test_screen_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                         redis_url: str, screen: str, size: tuple[int, int]) -> None:
    run_before = {"dashboard": _dashboard, "job_detail": _job_detail, "help": _help}[screen]
    app = make_app(snap_sim.base_url, redis_url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_wall_mode_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                            redis_url: str) -> None:
    app = make_app(snap_sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_dashboard)
