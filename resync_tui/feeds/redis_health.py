"""Redis feed: PING round trip and the INFO fields operators read, through the breaker.

Short timeouts on purpose: a Redis that does not answer must show as down in the
pane within a second, never freeze it. The last good figures stay on screen.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from resync_tui.feeds.status import Clock, FailureKind, FeedHealth, HealthTracker, hms
from resync_tui.resilience.breaker import CircuitBreaker
from resync_tui.sanitize import safe_text

__all__ = ["RedisFeed", "RedisHealth"]


@dataclass(frozen=True, slots=True)
class RedisHealth:
    """Last good reading (``None`` fields: not known yet or not reported)."""

    up: bool = False
    ping_ms: float | None = None
    version: str = ""
    role: str = ""
    uptime_seconds: int | None = None
    clients: int | None = None
    blocked_clients: int | None = None
    used_memory: int | None = None
    maxmemory: int | None = None
    fragmentation: float | None = None
    ops_per_sec: int | None = None
    keyspace_hit_rate: float | None = None
    """Percent of keyspace lookups that hit since the server started."""
    evicted_keys: int | None = None
    connected_replicas: int | None = None
    master_link_status: str = ""
    master_last_io_seconds: int | None = None
    health: FeedHealth = field(default_factory=FeedHealth)


def _describe_redis(exc: BaseException, since: datetime) -> tuple[FailureKind, str]:
    if isinstance(exc, TimeoutError):
        text = f"redis not answering (timeout) since {hms(since)}"
    else:
        detail = str(exc) or type(exc).__name__
        # redis-py: "Error 111 connecting to host:port. Connection refused." -> the cause.
        sentences = [part for part in detail.rstrip(".").split(". ") if part]
        if len(sentences) > 1:
            detail = sentences[-1]
        text = f"redis down since {hms(since)}: {detail}"
    return "down", safe_text(text, 160)


def _int(info: dict[str, Any], key: str) -> int | None:
    value = info.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(info: dict[str, Any], key: str) -> float | None:
    value = info.get(key)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class RedisFeed:
    name = "redis"

    def __init__(self, redis: Redis, breaker: CircuitBreaker, clock: Clock, *,
                 timeout: float = 0.5) -> None:
        self._redis = redis
        self._breaker = breaker
        self._timeout = timeout
        self._tracker = HealthTracker(clock, what="redis", describe=_describe_redis)
        self._last = RedisHealth()

    async def poll(self) -> RedisHealth:
        try:
            async with self._breaker.guard():
                async with asyncio.timeout(self._timeout):
                    await self._redis.ping()  # may (re)connect: not part of the figure
                    start = time.perf_counter()
                    await self._redis.ping()
                    ping_ms = (time.perf_counter() - start) * 1000.0
                    info: dict[str, Any] = await self._redis.info()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._last = replace(self._last, up=False, health=self._tracker.failure(exc))
            return self._last
        self._last = self._reading(info, ping_ms)
        return self._last

    def _reading(self, info: dict[str, Any], ping_ms: float) -> RedisHealth:
        hits = _int(info, "keyspace_hits") or 0
        misses = _int(info, "keyspace_misses") or 0
        role = str(info.get("role", ""))
        return RedisHealth(
            up=True,
            ping_ms=round(ping_ms, 1),
            version=safe_text(str(info.get("redis_version", "")), 32),
            role=safe_text(role, 16),
            uptime_seconds=_int(info, "uptime_in_seconds"),
            clients=_int(info, "connected_clients"),
            blocked_clients=_int(info, "blocked_clients"),
            used_memory=_int(info, "used_memory"),
            maxmemory=_int(info, "maxmemory"),
            fragmentation=_float(info, "mem_fragmentation_ratio"),
            ops_per_sec=_int(info, "instantaneous_ops_per_sec"),
            keyspace_hit_rate=round(100.0 * hits / (hits + misses), 1) if hits + misses else None,
            evicted_keys=_int(info, "evicted_keys"),
            connected_replicas=_int(info, "connected_slaves"),
            master_link_status=(safe_text(str(info.get("master_link_status", "")), 16)
                                if role == "slave" else ""),
            master_last_io_seconds=(_int(info, "master_last_io_seconds_ago")
                                    if role == "slave" else None),
            health=self._tracker.success(),
        )
