"""Engine feed: ``GET /engine/info`` as the "is the engine up" probe and the header line.

The call goes straight to the engine on every poll (through the ``hwa_api``
breaker): a cached answer would hide an outage. The version and time zone are
kept in the tiered cache under one fixed key, written when they change (and
before Redis would expire them), not on every poll. At start the feed reads that
key once, so the header names the engine version it last saw (from Redis) even
when the engine is down.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from msgspec.structs import replace

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.cache_stats import cached_lookup
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.sanitize import safe_text

__all__ = ["ENGINE_CACHE_KEY", "EngineFeed", "EngineState"]

ENGINE_CACHE_KEY = "engine:info"


class EngineState(msgspec.Struct, frozen=True):
    name: str = ""
    version: str = ""
    timezone: str = ""
    plan_id: str = "current"
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)


class EngineFeed:
    name = "engine"

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self._last = EngineState(name=safe_text(runtime.engine_name, 64),
                                 plan_id=safe_text(runtime.settings.hwa.plan_id, 64))
        self._tried_cache = False
        self._written: tuple[dict[str, str], float] | None = None

    def refresh(self) -> None:
        """Nothing to skip: every poll reads afresh."""

    async def poll(self) -> EngineState:
        rt = self._rt
        if not self._tried_cache:
            self._tried_cache = True
            await self._from_cache()
        try:
            info = await hwa_call(rt, rt.client.engine_info, breaker=rt.hwa_api,
                                  operation="engine_info")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health = self._tracker.failure(exc)
            self._last = replace(self._last, health=health)
            return self._last
        data = {
            "version": safe_text(str(info.display_version or info.full_version or ""), 48),
            "timezone": safe_text(str(info.timezone or ""), 48),
        }
        await self._remember(data)
        self._last = replace(self._last, version=data["version"], timezone=data["timezone"],
                             health=self._tracker.success())
        return self._last

    async def _remember(self, data: dict[str, str]) -> None:
        """Write the info when it changed, or when half its Redis life has gone."""
        now = time.monotonic()
        refresh_after = max(self._rt.settings.cache.l2_ttl, 1.0) / 2
        if self._written is not None and self._written[0] == data and (
                now - self._written[1] < refresh_after):
            return
        await self._rt.cache.set(ENGINE_CACHE_KEY, data, ttl=refresh_after * 2)
        self._written = (data, now)

    async def _from_cache(self) -> None:
        cached: Any = await cached_lookup(self._rt.cache, "engine info", ENGINE_CACHE_KEY)
        if isinstance(cached, dict):
            self._last = replace(
                self._last,
                version=safe_text(str(cached.get("version", "")), 48),
                timezone=safe_text(str(cached.get("timezone", "")), 48),
            )
