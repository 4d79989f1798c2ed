"""In-process L1 cache: sharded, bounded (LRU), TTL on a monotonic clock, single-flight.

* TTLs are deadlines on ``time.monotonic`` compared on every read, so an entry
  expires on time even if the event loop was blocked (no timer has to fire).
* A read looks the key up in one dict of every entry (no shard to pick: the
  ``hash()`` call and shard index cost more than the dict lookup itself). Each
  shard is an OrderedDict of the same entries in insertion order, holding at
  most ``ceil(max_entries / shards)`` of them.
* Eviction is second-chance (CLOCK), an approximate LRU: a hit only sets the
  entry's "read" bit (a list store; moving the key to the end of its shard cost
  ~38 ns, an eighth of the hit). An insert into a full shard looks at its oldest
  entry: read since it was stored or last looked at, it gets a second chance
  (bit cleared, moved to the end) and the next oldest is looked at; else it is
  evicted. So the entry evicted is the oldest of those not read since they were
  stored or last passed over; an entry read between two passes always outlives an
  unread older one, and with every entry read the oldest goes. Each hit pays for
  at most one second chance: amortised O(1). A write (``set``, a load) moves the
  key to the end, unread.
* ``get_or_load`` runs one loader per key however many callers miss at once; the
  loader runs in its own task, so a caller that is cancelled does not cancel the
  load for the others. A loader's exception reaches every waiter and is cached
  only if ``negative_ttl`` is set.
* Expired entries are also dropped without being read: every ``max(16, shard
  size // 2)`` writes to a shard, the shard is swept if any of its entries can
  have expired (at most two entry checks per write, amortised; none while every
  entry is live). A write at least ``sweep_interval`` seconds after the last such
  pass also sweeps every shard where something can have expired: a cache written a
  few times a minute (a time-bucketed key never read again) would otherwise keep every
  value it was ever given, up to ``max_entries``. So memory follows what is live, not
  what was ever set. ``purge_expired()`` sweeps every shard at once, for a timer.
* With ``stale_ttl > 0`` an expired entry is kept that much longer; ``fetch`` /
  ``get_or_load`` then return it at once (``Lookup.stale``) and refresh it in the
  background (single-flight too). A failed refresh never replaces the stale value:
  it is served until its stale window ends (that is when it matters most: the
  origin is down), and with ``negative_ttl`` no new refresh starts for that long.
* Counting: one lookup is one hit, stale hit or miss. A cached failure replayed
  to a caller is a miss (no value was served), not a hit.

Single-threaded asyncio code only: no locks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, NoReturn, TypeVar, overload

import msgspec

__all__ = ["CacheStats", "LocalCache", "Lookup"]

_log = logging.getLogger(__name__)

V = TypeVar("V")
D = TypeVar("D")

Loader = Callable[[], Awaitable[V]]


class CacheStats(msgspec.Struct, frozen=True):
    """A point-in-time copy of one cache level's counters (the cache pane reads it).

    ``size`` is None where it is not known cheaply (Redis). L2 only: ``errors``
    counts backend (Redis) failures, ``rejected`` commands skipped because a breaker
    was open, ``decode_errors`` entries Redis returned that the codec could not
    read (Redis itself was fine), ``writes_dropped`` write-behind writes never sent
    (queue full, breaker open, closing) and ``writes_pending`` writes queued or in
    flight.
    """

    level: str
    hits: int
    misses: int
    stale_hits: int
    loads: int
    load_failures: int
    evictions: int
    expirations: int
    size: int | None
    max_size: int | None
    loads_in_flight: int
    errors: int = 0
    rejected: int = 0
    decode_errors: int = 0
    writes_dropped: int = 0
    writes_pending: int = 0

    @property
    def hit_ratio(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class Lookup(msgspec.Struct, Generic[V], frozen=True):
    """A value and whether it is past its TTL (served while a refresh runs)."""

    value: V
    stale: bool


class _Failure:
    """A loader's exception, cached for ``negative_ttl``."""

    __slots__ = ("exc", "tb")

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.tb = exc.__traceback__

    def reraise(self) -> NoReturn:
        # Restore the loader's traceback so repeated raises do not grow it.
        raise self.exc.with_traceback(self.tb)


# Entry layout (a list: indexed as cheaply as a tuple, and the read bit is set in place):
#   [value or _Failure, fresh_until, keep_until, is_failure, read since stored/passed over]
_Entry = list[Any]


def _swallow_result(task: asyncio.Task[Any]) -> None:
    """Mark a load task's exception as retrieved (waiters got it, or none were left)."""
    if not task.cancelled():
        task.exception()


class LocalCache(Generic[V]):
    """L1 cache; keys are str. See the module docstring."""

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        shards: int = 16,
        default_ttl: float = 60.0,
        negative_ttl: float | None = None,
        stale_ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "l1",
        sweep_interval: float = 30.0,
    ) -> None:
        if max_entries < 1 or shards < 1:
            raise ValueError("max_entries and shards must be >= 1")
        if default_ttl <= 0 or stale_ttl < 0 or (negative_ttl is not None and negative_ttl <= 0):
            raise ValueError("default_ttl and negative_ttl must be > 0, stale_ttl >= 0")
        if sweep_interval < 0:
            raise ValueError("sweep_interval must be >= 0")
        n = 1 << (min(shards, max_entries) - 1).bit_length()  # power of two: mask, not modulo
        self.name = name
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self.negative_ttl = negative_ttl
        self.stale_ttl = stale_ttl
        self._clock = clock
        self._mask = n - 1
        self._per_shard = max(1, math.ceil(max_entries / n))
        # Every entry by key (what reads look up; never rebound: TieredCache.peek holds
        # it), and the same entries per shard in insertion order (bound, eviction, sweep).
        self._entries: dict[str, _Entry] = {}
        self._shards: list[OrderedDict[str, _Entry]] = [OrderedDict() for _ in range(n)]
        # Writes left before each shard sweeps out its expired entries (amortised purge).
        self._sweep_every = max(16, self._per_shard // 2)
        self._writes_to_sweep = [self._sweep_every] * n
        # A lower bound of the shard's keep_until: no sweep while nothing can be dead.
        self._earliest_end = [math.inf] * n
        # Seconds between two sweeps of every shard driven by the clock, not by counts.
        self.sweep_interval = sweep_interval
        self._next_full_sweep = -math.inf  # set at the first write
        self._inflight: dict[str, asyncio.Task[V]] = {}
        self._background: set[asyncio.Task[V]] = set()
        # Every load still running, including ones superseded by set/delete/clear
        # (no longer in _inflight): aclose must not leave any behind.
        self._loading: set[asyncio.Task[V]] = set()
        # Keys whose background refresh failed: no new refresh before this time.
        self._refresh_after: dict[str, float] = {}
        self._hits = 0
        self._misses = 0
        self._stale_hits = 0
        self._loads = 0
        self._load_failures = 0
        self._evictions = 0
        self._expirations = 0

    # ------------------------------------------------------------------- reads

    @overload
    def get_nowait(self, key: str) -> V | None: ...
    @overload
    def get_nowait(self, key: str, default: D) -> V | D: ...
    def get_nowait(self, key: str, default: Any = None) -> Any:
        """Fresh value of ``key`` or ``default``; never loads, never awaits."""
        entry = self._entries.get(key)
        if entry is not None:
            clock = self._clock  # an attribute read, then a call (see TieredCache.peek)
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self._hits += 1
                return entry[0]
            self._drop_if_dead(key, entry)
        self._misses += 1
        return default

    def hit_nowait(self, key: str, default: D) -> V | D:
        """Fresh value (counted as a hit) or ``default`` (counted as nothing).

        For a caller that goes on to ``fetch`` on a miss (TieredCache): ``fetch``
        counts that miss, so one lookup is one hit or one miss, never two.
        """
        entry = self._entries.get(key)
        if entry is not None:
            clock = self._clock
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self._hits += 1
                return entry[0]  # type: ignore[no-any-return]
        return default

    @overload
    async def get(self, key: str) -> V | None: ...
    @overload
    async def get(self, key: str, default: D) -> V | D: ...
    async def get(self, key: str, default: Any = None) -> Any:
        """Async form of get_nowait (same body, inlined: the hit path stays tiny)."""
        entry = self._entries.get(key)
        if entry is not None:
            clock = self._clock
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self._hits += 1
                return entry[0]
            self._drop_if_dead(key, entry)
        self._misses += 1
        return default

    async def get_or_load(self, key: str, loader: Loader[V], *, ttl: float | None = None) -> V:
        """Cached value, else ``await loader()`` once for all concurrent callers."""
        entry = self._entries.get(key)
        if entry is not None:
            clock = self._clock
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self._hits += 1
                return entry[0]  # type: ignore[no-any-return]
        return (await self.fetch(key, loader, ttl=ttl)).value

    async def fetch(self, key: str, loader: Loader[V], *, ttl: float | None = None) -> Lookup[V]:
        """Like get_or_load, and says whether the value is stale (being refreshed)."""
        entry = self._entries.get(key)
        if entry is not None:
            now = self._clock()
            if entry[1] > now:
                entry[4] = True
                if entry[3]:
                    self._misses += 1
                    entry[0].reraise()
                self._hits += 1
                return Lookup(entry[0], False)
            if entry[2] > now and not entry[3]:
                entry[4] = True
                self._stale_hits += 1
                if not self._refresh_after or self._refresh_after.get(key, now) <= now:
                    self._refresh_in_background(key, loader, ttl)
                return Lookup(entry[0], True)
            self._drop_if_dead(key, entry)
        self._misses += 1
        task = self._inflight.get(key)
        if task is None:
            task = self._start_load(key, loader, ttl)
        # shield: a cancelled waiter must not cancel the load the others wait on.
        return Lookup(await asyncio.shield(task), False)

    def contains(self, key: str) -> bool:
        """Whether a fresh value is cached (no stats, no read bit set)."""
        entry = self._entries.get(key)
        return entry is not None and entry[1] > self._clock() and not entry[3]

    # ------------------------------------------------------------------ writes

    def set(self, key: str, value: V, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default_ttl if None; <= 0 deletes).

        Supersedes a load in flight for ``key``: its result will not overwrite this.
        """
        self._inflight.pop(key, None)
        if self._refresh_after:
            self._refresh_after.pop(key, None)
        ttl = self.default_ttl if ttl is None else ttl
        if ttl <= 0:
            self.delete(key)
            return
        fresh_until = self._clock() + ttl
        self._store(key, [value, fresh_until, fresh_until + self.stale_ttl, False, False])

    def delete(self, key: str) -> bool:
        """Forget ``key`` (and let a load in flight finish without storing)."""
        self._inflight.pop(key, None)
        self._refresh_after.pop(key, None)
        if self._entries.pop(key, None) is None:
            return False
        del self._shards[hash(key) & self._mask][key]
        return True

    def clear(self) -> None:
        self._entries.clear()  # in place: TieredCache.peek holds this dict
        for shard in self._shards:
            shard.clear()
        self._earliest_end = [math.inf] * len(self._shards)
        self._inflight.clear()
        self._refresh_after.clear()

    def purge_expired(self) -> int:
        """Drop entries past their stale window; returns how many (for periodic sweeps)."""
        now = self._clock()
        return sum(self._sweep(index, now) for index in range(len(self._shards)))

    async def aclose(self) -> None:
        """Cancel loads in flight and background refreshes."""
        tasks = [*self._loading]
        self._inflight.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------- stats

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> CacheStats:
        return CacheStats(
            level=self.name,
            hits=self._hits,
            misses=self._misses,
            stale_hits=self._stale_hits,
            loads=self._loads,
            load_failures=self._load_failures,
            evictions=self._evictions,
            expirations=self._expirations,
            size=len(self),
            max_size=self._per_shard * len(self._shards),
            loads_in_flight=len(self._inflight),
        )

    # --------------------------------------------------------------- internals

    def _drop_if_dead(self, key: str, entry: _Entry) -> None:
        """Remove an entry past its stale window (a stale one waits for its refresh)."""
        if entry[2] <= self._clock():
            del self._entries[key]
            del self._shards[hash(key) & self._mask][key]
            self._expirations += 1
            if self._refresh_after:
                self._refresh_after.pop(key, None)

    def _sweep(self, index: int, now: float) -> int:
        """Drop the shard's entries past their stale window; returns how many."""
        shard = self._shards[index]
        dead: list[str] = []
        earliest = math.inf
        for k, e in shard.items():
            end = e[2]
            if end <= now:
                dead.append(k)
            elif end < earliest:
                earliest = end
        entries = self._entries
        for k in dead:
            del shard[k]
            del entries[k]
            if self._refresh_after:
                self._refresh_after.pop(k, None)
        self._earliest_end[index] = earliest
        self._expirations += len(dead)
        return len(dead)

    def _store(self, key: str, entry: _Entry) -> None:
        index = hash(key) & self._mask
        shard = self._shards[index]
        now = self._clock()
        if now >= self._next_full_sweep:
            # Few writes per shard: the counts below would not come round for hours.
            self._next_full_sweep = now + self.sweep_interval
            ends = self._earliest_end
            for i in range(len(ends)):
                if now >= ends[i]:
                    self._sweep(i, now)
        left = self._writes_to_sweep[index] - 1
        if left <= 0:
            left = self._sweep_every
            if now >= self._earliest_end[index]:
                self._sweep(index, now)
        self._writes_to_sweep[index] = left
        if entry[2] < self._earliest_end[index]:
            self._earliest_end[index] = entry[2]
        if key in shard:
            shard[key] = entry
            shard.move_to_end(key)
            self._entries[key] = entry
            return
        if len(shard) >= self._per_shard:
            self._evict_one(shard)
        shard[key] = entry
        self._entries[key] = entry

    def _evict_one(self, shard: OrderedDict[str, _Entry]) -> None:
        """Second chance: the oldest entry not read since it was stored or passed over
        goes (one past its stale window goes at once, as an expiration)."""
        now = self._clock()
        while True:
            old_key, old = shard.popitem(last=False)
            if old[4] and old[2] > now:
                old[4] = False  # read since: passed over, to the end of the shard
                shard[old_key] = old
                continue
            del self._entries[old_key]
            if self._refresh_after:
                self._refresh_after.pop(old_key, None)
            if old[2] <= now:
                self._expirations += 1
            else:
                self._evictions += 1
            return

    def _start_load(self, key: str, loader: Loader[V], ttl: float | None) -> asyncio.Task[V]:
        task = asyncio.get_running_loop().create_task(self._run_loader(key, loader, ttl),
                                                      name=f"cache-load[{self.name}]")
        self._inflight[key] = task
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)
        task.add_done_callback(_swallow_result)
        return task

    async def _run_loader(self, key: str, loader: Loader[V], ttl: float | None) -> V:
        self._loads += 1
        me = asyncio.current_task()
        try:
            value = await loader()
        except Exception as exc:
            self._load_failures += 1
            if self._inflight.get(key) is me:
                del self._inflight[key]
                if self.negative_ttl is not None:
                    now = self._clock()
                    until = now + self.negative_ttl
                    current = self._entries.get(key)
                    if current is not None and not current[3] and current[2] > now:
                        # A stale value is still servable: keep it, and hold off the
                        # next refresh instead of caching the failure over it.
                        self._refresh_after[key] = until
                    else:
                        self._store(key, [_Failure(exc), until, until, True, False])
            raise
        except BaseException:
            if self._inflight.get(key) is me:
                del self._inflight[key]
            raise
        if self._inflight.get(key) is me:  # not superseded by set/delete/clear meanwhile
            del self._inflight[key]
            self.set(key, value, ttl)
        return value

    def _refresh_in_background(self, key: str, loader: Loader[V], ttl: float | None) -> None:
        if key in self._inflight:
            return
        task = self._start_load(key, loader, ttl)
        self._background.add(task)
        task.add_done_callback(self._refresh_done)

    def _refresh_done(self, task: asyncio.Task[V]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.warning("background refresh in cache %r failed: %s", self.name,
                         type(task.exception()).__name__)
