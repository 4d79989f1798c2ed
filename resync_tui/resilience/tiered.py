"""L1 (in-process) in front of L2 (Redis): read-through, write-through.

Redis is an accelerator, never a dependency: every Redis command runs under the
``redis`` circuit breaker and a short timeout, and any failure (down, slow,
garbage bytes) is counted, logged and treated as a miss, so no Redis exception
reaches the caller and the app carries on with L1 alone. When Redis comes back,
the breaker's half-open trial lets commands through again and redis-py
reconnects by itself: nothing has to be recreated.

Keys in Redis are ``<key_prefix>:<namespace>:<key>`` (``resync:plan:JS1``).
A value is written to L2 for ``min(l2_ttl, the caller's ttl)``, so a short-lived
value (a 6 s job status) is not re-served from L2 for minutes. An L2 hit is read
with its remaining TTL (GET + PTTL, one round trip) and kept in L1 for
``min(L1 TTL, what it has left in L2)``: L1 never outlives L2.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError
from resync_tui.resilience.cache import CacheStats, LocalCache, Lookup
from resync_tui.resilience.codec import Codec, CodecError, MsgpackCodec

__all__ = ["TieredCache", "TieredCacheStats"]

_log = logging.getLogger(__name__)

V = TypeVar("V")
T = TypeVar("T")

_MISS: Any = object()


@dataclass(frozen=True, slots=True)
class TieredCacheStats:
    """Per-level snapshot. In ``l2``: hits/misses are Redis GETs, ``loads`` and
    ``load_failures`` are calls of the origin loader after an L2 miss, ``errors``
    Redis failures, ``rejected`` commands skipped while the breaker was open."""

    l1: CacheStats
    l2: CacheStats

    @property
    def levels(self) -> tuple[CacheStats, CacheStats]:
        return (self.l1, self.l2)


class TieredCache(Generic[V]):
    """Read-through/write-through L1+L2 cache with single-flight per key."""

    def __init__(
        self,
        l1: LocalCache[V],
        redis: Redis,
        *,
        breaker: CircuitBreaker,
        namespace: str,
        l2_ttl: float = 300.0,
        codec: Codec[V] | None = None,
        command_timeout: float = 0.25,
        key_prefix: str = "resync",
    ) -> None:
        if l2_ttl <= 0 or command_timeout <= 0:
            raise ValueError("l2_ttl and command_timeout must be > 0")
        self.l1 = l1
        self.redis = redis
        self.breaker = breaker
        self.namespace = namespace
        self.l2_ttl = l2_ttl
        self.codec: Codec[V] = codec if codec is not None else MsgpackCodec()
        self.command_timeout = command_timeout
        self._prefix = f"{key_prefix}:{namespace}:"
        self._l2_ttl_ms = max(1, round(l2_ttl * 1000))
        self._hits = 0
        self._misses = 0
        self._loads = 0
        self._load_failures = 0
        self._errors = 0
        self._rejected = 0
        self._decode_errors = 0
        self._l2_was_ok = True

    def l2_key(self, key: str) -> str:
        return self._prefix + key

    # ------------------------------------------------------------------- reads

    async def get(self, key: str) -> V | None:
        """L1, else L2 (filling L1); None if neither has it. Never loads."""
        value = self.l1.get_nowait(key, _MISS)
        if value is not _MISS:
            return value
        value, l2_left = await self._l2_get(key)
        if value is _MISS:
            return None
        self.l1.set(key, value, self._l1_ttl_after_l2_hit(None, l2_left))
        return value  # type: ignore[no-any-return]

    async def get_or_load(self, key: str, loader: Callable[[], Awaitable[V]], *,
                          ttl: float | None = None) -> V:
        """L1 hit, else one flight per key: L2 GET, else ``loader()`` written to L2."""
        value = self.l1.hit_nowait(key, _MISS)  # a miss is counted once, by fetch
        if value is not _MISS:
            return value
        return (await self.fetch(key, loader, ttl=ttl)).value

    async def fetch(self, key: str, loader: Callable[[], Awaitable[V]], *,
                    ttl: float | None = None) -> Lookup[V]:
        """Like get_or_load, and says whether the value is stale (see LocalCache)."""
        return await self.l1.fetch(key, partial(self._load_through, key, loader, ttl), ttl=ttl)

    # ------------------------------------------------------------------ writes

    async def set(self, key: str, value: V, ttl: float | None = None) -> None:
        """Store in L1 for ``ttl`` and in L2 for ``min(l2_ttl, ttl)``: a value never
        outlives in L2 what its caller asked for. ``ttl <= 0`` deletes from both.
        An L2 failure is only counted."""
        if ttl is not None and ttl <= 0:
            await self.delete(key)
            return
        self.l1.set(key, value, ttl)
        await self._l2_set(key, value, ttl)

    async def flush(self) -> None:
        """Wait until every L2 write issued so far is done (sent, failed or dropped)."""

    async def delete(self, key: str) -> None:
        self.l1.delete(key)
        await self._redis_call(partial(self.redis.delete, self.l2_key(key)))

    def stats(self) -> TieredCacheStats:
        l1 = self.l1.stats()
        l2 = CacheStats(
            level="l2", hits=self._hits, misses=self._misses, stale_hits=0,
            loads=self._loads, load_failures=self._load_failures, evictions=0,
            expirations=0, size=None, max_size=None, loads_in_flight=l1.loads_in_flight,
            errors=self._errors + self._decode_errors, rejected=self._rejected,
        )
        return TieredCacheStats(l1=l1, l2=l2)

    async def aclose(self) -> None:
        """Stop L1 loads; the Redis client belongs to the caller."""
        await self.l1.aclose()

    # --------------------------------------------------------------- internals

    def _l1_ttl_after_l2_hit(self, ttl: float | None, l2_left: float | None) -> float:
        """An L2 value lives in L1 no longer than it has left in L2 (<= 0: not kept in L1)."""
        l1_ttl = self.l1.default_ttl if ttl is None else ttl
        return l1_ttl if l2_left is None else min(l1_ttl, l2_left)

    async def _load_through(self, key: str, loader: Callable[[], Awaitable[V]],
                            ttl: float | None = None) -> V:
        value, l2_left = await self._l2_get(key)
        if value is not _MISS:
            # Storing now supersedes this load in L1 (LocalCache.set), so L1 keeps the
            # value for what is left of its L2 life rather than for a full L1 TTL.
            self.l1.set(key, value, self._l1_ttl_after_l2_hit(ttl, l2_left))
            return value  # type: ignore[no-any-return]
        self._loads += 1
        try:
            value = await loader()
        except Exception:
            self._load_failures += 1
            raise
        await self._l2_set(key, value, ttl)
        return value

    async def _get_with_pttl(self, l2_key: str) -> list[Any]:
        """GET and PTTL of one key in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(l2_key)
            pipe.pttl(l2_key)
            return await pipe.execute()

    async def _l2_get(self, key: str) -> tuple[Any, float | None]:
        """(value or _MISS, seconds it has left in L2 or None if it never expires)."""
        reply = await self._redis_call(partial(self._get_with_pttl, self.l2_key(key)))
        if reply is _MISS:
            return _MISS, None
        raw, pttl = reply
        if raw is None:
            self._misses += 1
            return _MISS, None
        if not isinstance(raw, bytes):
            self._decode_errors += 1
            return _MISS, None
        try:
            value = self.codec.decode(raw)
        except CodecError as exc:
            self._decode_errors += 1
            _log.warning("cache %s: dropping undecodable L2 entry (%s)", self.namespace, exc)
            await self._redis_call(partial(self.redis.delete, self.l2_key(key)))
            return _MISS, None
        self._hits += 1
        # PTTL: -1 no expiry, -2 gone since the GET (expired in between): nothing left.
        if not isinstance(pttl, int) or pttl == -1:
            return value, None
        left = max(0.0, pttl / 1000.0)
        return value, left

    def _l2_px(self, ttl: float | None) -> int:
        """L2 lifetime in ms: ``l2_ttl``, or less if the caller asked for less."""
        if ttl is None or ttl >= self.l2_ttl:
            return self._l2_ttl_ms
        return max(1, round(ttl * 1000))

    async def _l2_set(self, key: str, value: V, ttl: float | None) -> None:
        try:
            data = self.codec.encode(value)
        except (TypeError, ValueError) as exc:
            self._errors += 1
            _log.warning("cache %s: value not encodable for L2 (%s)", self.namespace,
                         type(exc).__name__)
            return
        await self._redis_call(partial(self.redis.set, self.l2_key(key), data,
                                       px=self._l2_px(ttl)))

    async def _redis_call(self, command: Callable[[], Awaitable[T]]) -> T | Any:
        """Run one command under the breaker and a timeout; _MISS on any failure."""
        try:
            async with self.breaker.guard():
                async with asyncio.timeout(self.command_timeout):
                    result = await command()
        except CircuitOpenError:
            self._rejected += 1
            return _MISS
        except Exception as exc:
            self._errors += 1
            # One warning per outage, then debug: a dead Redis must not flood the log.
            log = _log.warning if self._l2_was_ok else _log.debug
            log("cache %s: Redis unavailable (%s); using L1 only", self.namespace,
                type(exc).__name__)
            self._l2_was_ok = False
            return _MISS
        if not self._l2_was_ok:
            _log.info("cache %s: Redis reachable again", self.namespace)
            self._l2_was_ok = True
        return result
