"""Redis feed: PING round trip and the INFO fields operators read, through the breaker.

Short timeouts on purpose: a Redis that does not answer must show as down in the
pane within a second, never freeze it. The last good figures stay on screen.
Failures are said in plain words (:func:`describe_redis_error`); the raw server
text goes to the log, once per change. A restart (INFO's ``run_id`` changes, or
its uptime goes back) is recorded as a :class:`RedisEvent`, with the cause the
embedded server's supervisor knows ("crashed") when it was the one restarting it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import msgspec
from msgspec.structs import replace

from resync_tui.feeds.status import Clock, FailureKind, FeedHealth, HealthTracker
from resync_tui.model.overall import hms
from resync_tui.redis_server import supervisor_events
from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError
from resync_tui.resilience.redis_pool import RedisEvent, describe_redis_error
from resync_tui.sanitize import safe_text

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RESTART_SHOWN_FOR", "RedisEvent", "RedisFeed", "RedisHealth"]

_log = logging.getLogger(__name__)

RESTART_SHOWN_FOR: Final = timedelta(minutes=10)
"""How long the pane keeps saying that Redis restarted."""
_EVENTS_KEPT: Final = 10


class RedisHealth(msgspec.Struct, frozen=True):
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
    run_id: str = ""
    events: tuple[RedisEvent, ...] = ()
    """Restarts seen while the dashboard ran, oldest first (the last ten)."""
    recent_restart: RedisEvent | None = None
    """The latest restart if it was less than RESTART_SHOWN_FOR ago (the pane says so)."""
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)


def _describer(redis: Redis) -> Callable[[BaseException, datetime], tuple[FailureKind, str]]:
    """Looks at the client on a failure only: a client built on first use stays unbuilt
    (redis-py not imported) until the feed's first poll."""

    def describe(exc: BaseException, since: datetime) -> tuple[FailureKind, str]:
        from redis.asyncio import SSLConnection

        kind = getattr(redis.connection_pool, "connection_class", None)
        tls = isinstance(kind, type) and issubclass(kind, SSLConnection)
        plain = describe_redis_error(exc, tls=tls)
        return "down", safe_text(f"redis down since {hms(since)}: {plain}", 160)

    return describe


def _socket_events(redis: Redis) -> Callable[[], Sequence[RedisEvent]]:
    """The supervisor's restart log when ``redis`` is the embedded server (by its socket),
    the socket looked up on the first call (at the first poll, not when built)."""

    def events() -> Sequence[RedisEvent]:
        path = redis.connection_pool.connection_kwargs.get("path")
        return supervisor_events(path) if isinstance(path, str) else ()

    return events


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
                 timeout: float = 0.5,
                 supervisor: Callable[[], Sequence[RedisEvent]] | None = None) -> None:
        """``supervisor``: restarts recorded by whoever restarts this Redis (default: the
        embedded server's supervisor, found by the client's socket path)."""
        self._redis = redis
        self._breaker = breaker
        self._timeout = timeout
        self._clock = clock
        self._tracker = HealthTracker(clock, what="redis", describe=_describer(redis))
        self._last = RedisHealth()
        self._supervisor = supervisor if supervisor is not None else _socket_events(redis)
        self._claimed: set[RedisEvent] = set()
        self._logged_error = ""

    def refresh(self) -> None:
        """Nothing to skip: every poll reads afresh."""

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
            self._log_failure(exc)
            self._last = replace(self._last, up=False, health=self._tracker.failure(exc),
                                 recent_restart=self._recent(self._last.events))
            return self._last
        if self._logged_error:
            _log.info("redis answers again")
            self._logged_error = ""
        self._last = self._reading(info, ping_ms)
        return self._last

    def _log_failure(self, exc: BaseException) -> None:
        """The raw error, for whoever fixes it: once per change, not at every poll."""
        if isinstance(exc, CircuitOpenError):
            return  # the breaker refusing is not news; the cause was logged already
        raw = f"{type(exc).__name__}: {exc}"
        if raw != self._logged_error:
            _log.warning("redis poll failed (%s): %s", describe_redis_error(exc), raw)
            self._logged_error = raw

    def _recent(self, events: tuple[RedisEvent, ...]) -> RedisEvent | None:
        if events and self._clock() - events[-1].at < RESTART_SHOWN_FOR:
            return events[-1]
        return None

    def _restart(self, run_id: str, uptime: int | None) -> RedisEvent | None:
        """A restart since the last reading, from INFO: run_id changed or uptime went back."""
        before = self._last
        if before.run_id and run_id:
            if run_id == before.run_id:
                return None
            cause = "new run_id"
        elif uptime is not None and before.uptime_seconds is not None \
                and uptime < before.uptime_seconds:
            cause = "uptime went back"
        else:
            return None
        try:
            known = [e for e in self._supervisor() if e not in self._claimed]
        except Exception:  # the supervisor's log is a nicety; never fail the poll for it
            _log.exception("reading the redis supervisor's restart log failed")
            known = []
        matched = [e for e in known if e.run_id == run_id] or [e for e in known if not e.run_id]
        if matched:
            self._claimed.add(matched[-1])
            cause = matched[-1].cause
        at = self._clock() - timedelta(seconds=uptime or 0)
        _log.warning("redis restarted at %s (%s)", hms(at), cause)
        return RedisEvent(at=at, cause=safe_text(cause, 40), run_id=run_id)

    def _reading(self, info: dict[str, Any], ping_ms: float) -> RedisHealth:
        hits = _int(info, "keyspace_hits") or 0
        misses = _int(info, "keyspace_misses") or 0
        role = str(info.get("role", ""))
        run_id = safe_text(str(info.get("run_id", "")), 40)
        uptime = _int(info, "uptime_in_seconds")
        events = self._last.events
        restart = self._restart(run_id, uptime)
        if restart is not None:
            events = (*events, restart)[-_EVENTS_KEPT:]
        return RedisHealth(
            up=True,
            ping_ms=round(ping_ms, 1),
            version=safe_text(str(info.get("redis_version", "")), 32),
            role=safe_text(role, 16),
            uptime_seconds=uptime,
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
            run_id=run_id,
            events=events,
            recent_restart=self._recent(events),
            health=self._tracker.success(),
        )
