"""The side panes' figures an operator reads: the stale line of a pane whose feed failed,
the cache's hit rate over the last interval ("now") beside the total, and Redis's
keyspace hit rate."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
import redis

from resync_tui.feeds.cache_stats import cached_read
from resync_tui.feeds.status import FeedHealth
from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane
from tests.ui.dashboard_support import DEADLINE, FROZEN, SteppedClock, make_app, ready, sim

__all__ = ["sim"]


def pane_text(app: ResyncApp, pane: str) -> str:
    widget = app.dashboard.pane_widget(pane)
    return widget.text() if isinstance(widget, WorkstationsPane) else str(widget.render())


async def poll(app: ResyncApp, *names: str) -> None:
    await asyncio.wait_for(app.poll_now(*names), DEADLINE)


FAILED = FeedHealth(ok=False, kind="error", reason="sampling failed since 06:31:00: boom",
                    since=FROZEN, last_success=FROZEN, polls=2)


@pytest.mark.parametrize("pane", ["breakers", "cache"])
async def test_a_failed_sample_puts_the_stale_line_on_the_pane(
        sim: Simulator, redis_url: str, pane: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        widget: Any = app.dashboard.pane_widget(pane)
        assert "STALE" not in pane_text(app, pane) and widget.border_subtitle == ""
        widget.state = msgspec.structs.replace(widget.state, health=FAILED)  # last data kept
        await pilot.pause()
        text = " ".join(pane_text(app, pane).split())  # the reason is wrapped, never cut
        assert text.startswith("⚠ STALE, data from 06:30:00 — sampling failed since 06:31:00")
        assert widget.border_subtitle == "STALE" and widget.has_class("-stale")
        widget.state = msgspec.structs.replace(widget.state, health=FeedHealth(
            last_success=FROZEN, polls=3))
        await pilot.pause()
        assert "STALE" not in pane_text(app, pane) and widget.border_subtitle == ""


async def test_workstations_pane_stale_line_says_when_its_data_was_read(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        clock.advance(90)  # 06:31:30
        sim.set_credentials(password="rotated")
        await poll(app, "workstations")
        await pilot.pause()
        text = pane_text(app, "workstations")
        assert text.startswith("⚠ STALE, data from 06:30:00 — credentials rejected")


async def test_cache_pane_shows_the_last_interval_rate_beside_the_total(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        cache = app.runtime.cache
        before = cache.stats().levels[0]
        assert before.level == "l1"
        hits, lookups = before.hits + before.stale_hits, before.hits + before.stale_hits
        lookups += before.misses

        async def load() -> str:
            return "details"

        async def read() -> None:
            await cached_read(cache, "job details", "proof:job:1", load, ttl=600)

        await read()  # a miss (loaded), then a hit
        await read()
        await poll(app, "cache")
        hits, lookups = hits + 1, lookups + 2
        await read()  # two hits: the last interval is all hits, the total is not
        await read()
        await poll(app, "cache")
        hits, lookups = hits + 2, lookups + 2
        await pilot.pause()
        text = pane_text(app, "cache")
        total = f"{100.0 * hits / lookups:.1f}%"
        assert f"L1 memory  hit 100.0% now · {total} total" in text
        assert f"{hits:,} of {lookups:,} lookups hit" in text
        await read()
        await poll(app, "cache")  # no lookup since: "now" keeps the last rate
        await poll(app, "cache")
        await pilot.pause()
        assert "hit 100.0% now" in pane_text(app, "cache")


async def test_redis_pane_shows_the_keyspace_hit_rate(
        sim: Simulator, redis_url: str, redis_server: EmbeddedRedis) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        try:
            client.config_resetstat()
            client.set("proof:key", "1")
            for _ in range(3):
                assert client.get("proof:key") == b"1"
            assert client.get("proof:missing") is None
        finally:
            client.close()
        await poll(app, "redis")
        await pilot.pause()
        assert "keyspace hits 75.0%" in pane_text(app, "redis")


async def test_redis_down_pane_says_down_and_keeps_the_last_reading(
        sim: Simulator, redis_url: str, redis_server: EmbeddedRedis) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        assert pane_text(app, "redis").startswith("● UP")
        clock.advance(45)
        redis_server.stop()
        try:
            await poll(app, "redis")
            await pilot.pause()
            text = pane_text(app, "redis")
            assert text.startswith("✖ DOWN  redis down since 06:30:45: connection refused")
            assert "● UP" not in text
            assert "last reading:" in text and "keyspace hits" in text  # figures kept
            assert app.dashboard.redis.border_subtitle == "STALE"
        finally:
            redis_server.start()
