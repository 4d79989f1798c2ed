"""Cache feed: hit rate per level over the last interval, with a short history,
and per kind of cached data (job logs, job details, ...), since the level totals
mix every kind and cannot say whether what is cached is read again.

``cached_read`` is the one way the feeds read a cached kind: it counts where each
lookup was answered (L1, L2 or the engine) in the cache's :class:`CacheUsage`. A
call site may first try ``cache.peek(key, kind)`` (synchronous: an L1 hit creates no
awaitable) and await ``cached_read`` only when it gives None; those hits are counted
by the cache under the kind and added here.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal

import msgspec

from resync_tui.feeds.status import Clock, FeedHealth, HealthTracker
from resync_tui.resilience.cache import CacheStats
from resync_tui.resilience.tiered import TieredCache, TieredCacheStats

__all__ = [
    "CACHED_KINDS",
    "CacheFeed",
    "CacheKindRow",
    "CacheLevelRow",
    "CacheState",
    "CacheUsage",
    "cache_usage",
    "cached_lookup",
    "cached_read",
]

Source = Literal["l1", "l2", "engine"]

CACHED_KINDS: Final = ("job logs", "job details", "dependencies", "engine info")
"""What the feeds keep in the cache, in the pane's order (shown even before a lookup)."""


class CacheKindRow(msgspec.Struct, frozen=True):
    """Lookups of one kind of cached data since start, by where they were answered."""

    kind: str
    l1_hits: int = 0
    l2_hits: int = 0
    misses: int = 0
    """Answered by the engine (not cached yet, expired, or not cacheable)."""

    @property
    def hits(self) -> int:
        return self.l1_hits + self.l2_hits

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return round(100.0 * self.hits / self.lookups, 1) if self.lookups else None


class CacheUsage:
    """Counts, per kind, where lookups were answered; one per cache (``cache_usage``).

    ``peek_hits`` reads the L1 hits the cache answered through ``peek`` (by kind).
    """

    def __init__(self, peek_hits: Callable[[], Mapping[str, int] | None] | None = None
                 ) -> None:
        self._counts: dict[str, list[int]] = {kind: [0, 0, 0] for kind in CACHED_KINDS}
        self._peek_hits = peek_hits

    def record(self, kind: str, source: Source) -> None:
        counts = self._counts.setdefault(kind, [0, 0, 0])
        counts[("l1", "l2", "engine").index(source)] += 1

    def rows(self) -> tuple[CacheKindRow, ...]:
        peeked = (self._peek_hits() if self._peek_hits is not None else None) or {}
        for kind in peeked:
            self._counts.setdefault(kind, [0, 0, 0])
        return tuple(CacheKindRow(kind, l1 + peeked.get(kind, 0), l2, engine)
                     for kind, (l1, l2, engine) in self._counts.items())


_USAGE: weakref.WeakKeyDictionary[TieredCache[Any], CacheUsage] = weakref.WeakKeyDictionary()


def cache_usage(cache: TieredCache[Any]) -> CacheUsage:
    """The usage counters of ``cache``, shared by every feed that reads through it."""
    usage = _USAGE.get(cache)
    if usage is None:
        # A weak reference: the usage is the cache's value in a WeakKeyDictionary.
        peek_hits = weakref.WeakMethod(cache.peek_hits)

        def read_peek_hits() -> Mapping[str, int] | None:
            method = peek_hits()
            return method() if method is not None else None

        usage = _USAGE[cache] = CacheUsage(read_peek_hits)
    return usage


async def cached_lookup(cache: TieredCache[Any], kind: str, key: str) -> Any:
    """L1, else L2, else None; counted as a hit of that level or a miss of ``kind``."""
    value = cache.peek(key, kind)  # an L1 hit is counted by the cache, under the kind
    if value is not None:
        return value
    value = await cache.get(key)  # L1 has no fresh value: L2 or nothing
    cache_usage(cache).record(kind, "engine" if value is None else "l2")
    return value


async def cached_read(cache: TieredCache[Any], kind: str, key: str,
                      load: Callable[[], Awaitable[Any]], *, ttl: float,
                      keep: Callable[[Any], bool] | None = None) -> Any:
    """L1, else L2, else ``load()`` (stored for ``ttl`` if ``keep`` allows); counted.

    ``key`` must name the value exactly (a run id, a job id and status...): a key that
    changes every poll never hits, and a key that outlives its value serves a lie.
    """
    value = await cached_lookup(cache, kind, key)
    if value is not None:
        return value
    value = await load()
    if keep is None or keep(value):
        await cache.set(key, value, ttl=ttl)
    return value


class CacheLevelRow(msgspec.Struct, frozen=True):
    level: str
    hit_rate_now: float | None
    """Percent of lookups that hit during the last interval with lookups; None before any."""
    hit_rate_total: float | None
    lookups: int
    history: tuple[float, ...]
    entries: int | None
    max_entries: int | None
    evictions: int
    loads_in_flight: int
    errors: int
    rejected: int
    hits: int = 0
    """Lookups answered from this level since start (fresh or stale)."""


class CacheState(msgspec.Struct, frozen=True):
    levels: tuple[CacheLevelRow, ...] = ()
    kinds: tuple[CacheKindRow, ...] = ()
    """Per kind of cached data; empty when the feed has no usage counters."""
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)


class CacheFeed:
    """Reads the tiered cache's counters (no I/O) and turns them into rates."""

    name = "cache"

    def __init__(self, stats: Callable[[], TieredCacheStats], clock: Clock, *,
                 samples: int = 60, usage: CacheUsage | None = None) -> None:
        self._stats = stats
        self._usage = usage
        self._tracker = HealthTracker(clock, what="cache")
        self._previous: dict[str, tuple[int, int]] = {}
        self._now: dict[str, float | None] = {}
        self._history: dict[str, deque[float]] = {}
        self._samples = samples

    @classmethod
    def of(cls, cache: TieredCache[Any], clock: Clock, *, samples: int = 60) -> CacheFeed:
        """The feed of one cache: its level counters and its per-kind usage."""
        return cls(cache.stats, clock, samples=samples, usage=cache_usage(cache))

    def refresh(self) -> None:
        """Nothing to skip: every poll reads afresh."""

    async def poll(self) -> CacheState:
        try:
            snapshot = self._stats()
            levels = tuple(self._row(stats) for stats in snapshot.levels)
            kinds = self._usage.rows() if self._usage is not None else ()
        except Exception as exc:
            return CacheState(health=self._tracker.failure(exc))
        return CacheState(levels=levels, kinds=kinds, health=self._tracker.success())

    def _row(self, stats: CacheStats) -> CacheLevelRow:
        hits = stats.hits + stats.stale_hits
        lookups = hits + stats.misses
        prev_hits, prev_lookups = self._previous.get(stats.level, (0, 0))
        self._previous[stats.level] = (hits, lookups)
        history = self._history.setdefault(stats.level, deque(maxlen=self._samples))
        delta = lookups - prev_lookups
        if delta > 0:
            # Only intervals with lookups count: an idle cache keeps its last rate.
            rate = round(100.0 * (hits - prev_hits) / delta, 1)
            self._now[stats.level] = rate
            history.append(rate)
        return CacheLevelRow(
            level=stats.level,
            hit_rate_now=self._now.get(stats.level),
            hit_rate_total=round(100.0 * hits / lookups, 1) if lookups else None,
            lookups=lookups,
            history=tuple(history),
            entries=stats.size,
            max_entries=stats.max_size,
            evictions=stats.evictions,
            loads_in_flight=stats.loads_in_flight,
            errors=stats.errors,
            rejected=stats.rejected,
            hits=hits,
        )
