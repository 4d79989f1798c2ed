"""Cache feed: hit rate per level over the last interval, with a short history."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from resync_tui.feeds.status import Clock, FeedHealth, HealthTracker
from resync_tui.resilience.cache import CacheStats
from resync_tui.resilience.tiered import TieredCacheStats

__all__ = ["CacheFeed", "CacheLevelRow", "CacheState"]


@dataclass(frozen=True, slots=True)
class CacheLevelRow:
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


@dataclass(frozen=True, slots=True)
class CacheState:
    levels: tuple[CacheLevelRow, ...] = ()
    health: FeedHealth = field(default_factory=FeedHealth)


class CacheFeed:
    """Reads the tiered cache's counters (no I/O) and turns them into rates."""

    name = "cache"

    def __init__(self, stats: Callable[[], TieredCacheStats], clock: Clock, *,
                 samples: int = 60) -> None:
        self._stats = stats
        self._tracker = HealthTracker(clock, what="cache")
        self._previous: dict[str, tuple[int, int]] = {}
        self._now: dict[str, float | None] = {}
        self._history: dict[str, deque[float]] = {}
        self._samples = samples

    async def poll(self) -> CacheState:
        try:
            snapshot = self._stats()
            levels = tuple(self._row(stats) for stats in snapshot.levels)
        except Exception as exc:
            return CacheState(health=self._tracker.failure(exc))
        return CacheState(levels=levels, health=self._tracker.success())

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
