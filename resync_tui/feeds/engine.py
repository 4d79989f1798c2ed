"""Engine feed: ``GET /engine/info`` as the "is the engine up" probe and the header line.

The call goes straight to the engine on every poll (through the ``hwa_api``
breaker): a cached answer would hide an outage. A good answer is written to the
tiered cache, so that after a restart with the engine down the header can still
name the engine version it last saw (from Redis).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.sanitize import safe_text

__all__ = ["ENGINE_CACHE_KEY", "EngineFeed", "EngineState"]

ENGINE_CACHE_KEY = "engine:info"


@dataclass(frozen=True, slots=True)
class EngineState:
    name: str = ""
    version: str = ""
    timezone: str = ""
    plan_id: str = "current"
    health: FeedHealth = field(default_factory=FeedHealth)


class EngineFeed:
    name = "engine"

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self._last = EngineState(name=safe_text(runtime.engine_name, 64),
                                 plan_id=safe_text(runtime.settings.hwa.plan_id, 64))
        self._tried_cache = False

    async def poll(self) -> EngineState:
        rt = self._rt
        try:
            info = await hwa_call(rt, rt.client.engine_info, breaker=rt.hwa_api,
                                  operation="engine_info")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health = self._tracker.failure(exc)
            if not self._last.version and not self._tried_cache:
                self._tried_cache = True
                await self._from_cache()
            self._last = replace(self._last, health=health)
            return self._last
        data = {
            "version": safe_text(str(info.display_version or info.full_version or ""), 48),
            "timezone": safe_text(str(info.timezone or ""), 48),
        }
        await rt.cache.set(ENGINE_CACHE_KEY, data)
        self._last = replace(self._last, version=data["version"], timezone=data["timezone"],
                             health=self._tracker.success())
        return self._last

    async def _from_cache(self) -> None:
        cached: Any = await self._rt.cache.get(ENGINE_CACHE_KEY)
        if isinstance(cached, dict):
            self._last = replace(
                self._last,
                version=safe_text(str(cached.get("version", "")), 48),
                timezone=safe_text(str(cached.get("timezone", "")), 48),
            )
