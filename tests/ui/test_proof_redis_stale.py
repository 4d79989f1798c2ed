"""The Redis pane, like the other side panes, says when the figures it still shows were read."""

from __future__ import annotations

import asyncio

from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import EmbeddedRedis
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, sim

__all__ = ["sim"]


async def test_redis_down_pane_says_when_its_last_reading_was_taken(
        sim: Simulator, redis_url: str, redis_server: EmbeddedRedis) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)  # last good reading at 06:30:00
        clock.advance(45)
        redis_server.stop()
        try:
            await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
            await pilot.pause()
            text = " ".join(str(app.dashboard.redis.render()).split())
            assert "⚠ STALE, data from 06:30:00" in text, text
        finally:
            redis_server.start()
