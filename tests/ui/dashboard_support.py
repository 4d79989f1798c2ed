"""Fixtures and helpers for the dashboard tests: a simulator, settings aimed at it, an app."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from textual.widget import Widget

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.settings import Secret, Settings
from resync_tui.ui.app import ResyncApp

DEADLINE = 30.0
"""Seconds any wait on the app may take before the test fails (never hangs)."""

FROZEN = datetime(2026, 11, 25, 6, 30, 0, tzinfo=UTC)


def frozen_clock() -> datetime:
    return FROZEN


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=200, seed=1, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


def make_settings(hwa_url: str, redis_url: str, *, password: str = "demo",
                  interval: float = 3600.0, **ui: Any) -> Settings:
    """Quick timeouts, one attempt per call, and long intervals: polls happen when a
    test asks for them (``app.poll_now``), so nothing depends on timing."""
    base = Settings()
    return base.replace(
        hwa=dataclasses.replace(base.hwa, url=hwa_url, user="demo", password=Secret(password),
                                connect_timeout=2.0, read_timeout=5.0, pool_timeout=2.0,
                                call_deadline=10.0, poll_interval=interval),
        # Generous Redis timeouts: two xdist workers on two cores can hold a 0.5 s GET,
        # and a Redis error would change what the cache and breaker panes show.
        redis=dataclasses.replace(base.redis, url=redis_url, poll_interval=interval,
                                  socket_timeout=3.0, connect_timeout=3.0),
        retry=dataclasses.replace(base.retry, max_attempts=1, deadline=10.0),
        ui=dataclasses.replace(base.ui, breakers_interval=interval, cache_interval=interval,
                               workstations_interval=interval, **ui),
    )


class SteppedClock:
    """A clock that moves only when the test says so (ages and staleness without sleeping)."""

    def __init__(self, start: datetime = FROZEN) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_app(sim_url: str, redis_url: str, *, wall: bool = False,
             clock: Callable[[], datetime] = frozen_clock, **kwargs: Any) -> ResyncApp:
    settings = make_settings(sim_url, redis_url, **kwargs)
    runtime = build_runtime(settings, clock=clock)
    return ResyncApp(runtime, settings, wall=wall)


async def ready(app: ResyncApp) -> None:
    """Every feed has published once; the cache's queued L2 writes are done (they go
    through the redis breaker: sampled before they finish, its call count would depend on
    timing); then breakers and cache sampled again."""
    await asyncio.wait_for(app.wait_for_data(), DEADLINE)
    await asyncio.wait_for(app.runtime.cache.flush(), DEADLINE)
    await asyncio.wait_for(app.poll_now("breakers", "cache"), DEADLINE)


def screen_text(app: ResyncApp) -> str:
    """What the terminal shows, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


def shown_on(app: ResyncApp, widget: Widget) -> str:
    """What the terminal shows on the cells of ``widget``'s region (a modal's field, not
    the line around it)."""
    region = widget.region
    lines = screen_text(app).splitlines()
    return "\n".join(line[region.x:region.right] for line in lines[region.y:region.bottom])
