"""L1 cache: TTL on a monotonic clock, LRU bound, single-flight, negative caching, SWR."""

from __future__ import annotations

import asyncio
import time

import pytest

from resync_tui.resilience.cache import LocalCache, Lookup
from tests.resilience.helpers import Boom, FakeClock


class CountingLoader:
    def __init__(self, value: str = "v", error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return f"{self.value}{self.calls}"


async def test_entry_expires_after_a_blocked_event_loop() -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=0.05)
    cache.set("plan", "today")
    assert await cache.get("plan") == "today"
    time.sleep(0.1)  # noqa: ASYNC251 - the point: the loop is blocked, no timer can fire
    assert await cache.get("plan") is None
    assert cache.get_nowait("plan") is None


async def test_ttl_follows_the_injected_monotonic_clock(clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=10, clock=clock)
    cache.set("a", "1")
    cache.set("b", "2", ttl=30)
    clock.advance(9.9)
    assert cache.get_nowait("a") == "1"
    clock.advance(0.1)
    assert cache.get_nowait("a") is None
    assert cache.get_nowait("b") == "2"
    assert cache.stats().expirations == 1


async def test_bounded_size_evicts_least_recently_used(clock: FakeClock) -> None:
    cache: LocalCache[int] = LocalCache(max_entries=3, shards=1, clock=clock)
    for i in range(3):
        cache.set(f"k{i}", i)
    assert cache.get_nowait("k0") == 0  # k0 is now the most recently used
    cache.set("k3", 3)
    assert cache.get_nowait("k1") is None
    assert [cache.get_nowait(k) for k in ("k0", "k2", "k3")] == [0, 2, 3]
    stats = cache.stats()
    assert (stats.size, stats.evictions) == (3, 1)


async def test_sharded_cache_never_exceeds_its_bound() -> None:
    cache: LocalCache[int] = LocalCache(max_entries=100, shards=8)
    for i in range(1000):
        cache.set(f"job-{i}", i)
    assert cache.stats().max_size == 104  # ceil(100 / 8) per shard
    assert len(cache) <= 104
    assert cache.stats().evictions == 1000 - len(cache)


async def test_single_flight_runs_one_loader_for_concurrent_misses() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader()
    loader.release.clear()
    waiters = [asyncio.create_task(cache.get_or_load("plan", loader)) for _ in range(200)]
    await asyncio.sleep(0)
    assert cache.stats().loads_in_flight == 1
    loader.release.set()
    results = await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert loader.calls == 1
    assert set(results) == {"v1"}
    assert await cache.get_or_load("plan", loader) == "v1"  # now cached
    stats = cache.stats()
    assert (stats.loads, stats.loads_in_flight) == (1, 0)


async def test_loader_exception_reaches_every_waiter_and_is_not_cached() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader(error=Boom("engine down"))
    loader.release.clear()
    waiters = [asyncio.create_task(cache.get_or_load("plan", loader)) for _ in range(50)]
    await asyncio.sleep(0)
    loader.release.set()
    results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 5)
    assert loader.calls == 1
    assert all(isinstance(r, Boom) for r in results)
    loader.error = None
    assert await cache.get_or_load("plan", loader) == "v2"  # the failure was not cached
    assert cache.stats().load_failures == 1


async def test_negative_ttl_caches_the_failure_for_that_long(clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(negative_ttl=5, clock=clock)
    loader = CountingLoader(error=Boom("404"))
    for _ in range(3):
        with pytest.raises(Boom):
            await cache.get_or_load("job", loader)
    assert loader.calls == 1
    assert cache.get_nowait("job") is None
    clock.advance(5)
    loader.error = None
    assert await cache.get_or_load("job", loader) == "v2"


async def test_a_cancelled_waiter_does_not_cancel_the_shared_load() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader()
    loader.release.clear()
    first = asyncio.create_task(cache.get_or_load("k", loader))
    second = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    loader.release.set()
    assert await asyncio.wait_for(second, 5) == "v1"
    assert first.cancelled()
    assert cache.get_nowait("k") == "v1"


async def test_stale_while_revalidate_serves_stale_and_refreshes_once(clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=10, stale_ttl=60, clock=clock)
    loader = CountingLoader()
    assert (await cache.fetch("k", loader)).value == "v1"
    clock.advance(11)
    loader.release.clear()
    lookups = [await cache.fetch("k", loader) for _ in range(5)]
    assert all(lk.value == "v1" and lk.stale for lk in lookups)
    assert cache.get_nowait("k") is None  # plain reads never see stale data
    loader.release.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    fresh = await cache.fetch("k", loader)
    assert (fresh.value, fresh.stale) == ("v2", False)
    assert loader.calls == 2
    assert cache.stats().stale_hits == 5


async def test_stale_entry_past_its_window_is_reloaded_in_line(clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=10, stale_ttl=5, clock=clock)
    loader = CountingLoader()
    await cache.get_or_load("k", loader)
    clock.advance(15)
    lookup = await cache.fetch("k", loader)
    assert (lookup.value, lookup.stale) == ("v2", False)


async def test_set_and_delete_supersede_a_load_in_flight() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader()
    loader.release.clear()
    waiter = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0)
    cache.set("k", "newer")
    loader.release.set()
    assert await asyncio.wait_for(waiter, 5) == "v1"
    assert cache.get_nowait("k") == "newer"  # the older load did not overwrite it


async def test_plain_get_set_delete_and_stats() -> None:
    cache: LocalCache[str] = LocalCache()
    assert await cache.get("x") is None
    assert await cache.get("x", "dflt") == "dflt"
    cache.set("x", "1")
    assert await cache.get("x") == "1"
    assert cache.delete("x") and not cache.delete("x")
    cache.set("y", "2", ttl=0)  # ttl <= 0 stores nothing
    assert cache.get_nowait("y") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 3, 0)
    assert stats.hit_ratio == pytest.approx(0.25)


async def test_aclose_cancels_loads_in_flight() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader()
    loader.release.clear()
    waiter = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0)
    await cache.aclose()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, 5)
    assert cache.stats().loads_in_flight == 0


async def test_expired_entries_are_swept_by_later_writes_without_being_read(
        clock: FakeClock) -> None:
    cache: LocalCache[int] = LocalCache(max_entries=1000, shards=1, clock=clock)
    for i in range(10):
        cache.set(f"long-{i}", i, ttl=3600)
    for i in range(100):
        cache.set(f"old-{i}", i, ttl=1)
    clock.advance(2)
    for i in range(390):  # far below the bound: no eviction can explain a drop
        cache.set(f"new-{i}", i, ttl=3600)
    assert len(cache) == 400  # the 100 expired entries no longer take memory
    stats = cache.stats()
    assert (stats.expirations, stats.evictions) == (100, 0)
    assert cache.get_nowait("new-0") == 0


async def test_sweeping_keeps_stale_entries_until_their_window_ends(clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(max_entries=64, shards=1, default_ttl=1, stale_ttl=10,
                                        clock=clock)
    cache.set("stale", "old")
    clock.advance(2)  # expired, but still servable as stale
    for i in range(40):
        cache.set(f"k{i}", str(i), ttl=3600)
    lookup = await cache.fetch("stale", CountingLoader())
    assert (lookup.value, lookup.stale) == ("old", True)


async def test_purge_expired_sweeps_every_shard(clock: FakeClock) -> None:
    cache: LocalCache[int] = LocalCache(max_entries=1000, shards=8, clock=clock)
    for i in range(50):
        cache.set(f"a{i}", i, ttl=1)
        cache.set(f"b{i}", i, ttl=100)
    clock.advance(1)
    assert cache.purge_expired() == 50
    assert len(cache) == 50 and cache.stats().expirations == 50


async def test_aclose_also_cancels_a_load_superseded_by_set() -> None:
    cache: LocalCache[str] = LocalCache()
    loader = CountingLoader()
    loader.release.clear()
    waiter = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0)
    cache.set("k", "newer")  # the load goes on, no longer tracked as in flight for "k"
    await cache.aclose()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, 5)


async def test_a_failed_stale_refresh_keeps_serving_the_stale_value_until_its_window_ends(
        clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=10, stale_ttl=60, negative_ttl=5,
                                        clock=clock)
    loader = CountingLoader()
    assert (await cache.fetch("k", loader)).value == "v1"
    clock.advance(11)
    loader.error = Boom("engine down")
    for _ in range(4):  # the outage: the refresh fails, the stale value is still served
        lookup = await cache.fetch("k", loader)
        assert (lookup.value, lookup.stale) == ("v1", True)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert loader.calls == 2  # one failed refresh; no new one within negative_ttl
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.stale_hits) == (0, 1, 4)
    clock.advance(5)  # negative_ttl over: the next stale read tries the origin again
    loader.error = None
    assert (await cache.fetch("k", loader)).value == "v1"
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (await cache.fetch("k", loader)) == Lookup("v3", False)


async def test_past_the_stale_window_the_failure_reaches_the_caller_and_is_a_miss(
        clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(default_ttl=10, stale_ttl=5, negative_ttl=30,
                                        clock=clock)
    loader = CountingLoader()
    await cache.fetch("k", loader)
    clock.advance(16)
    loader.error = Boom("engine down")
    for _ in range(2):  # the second one replays the cached failure: no value, so a miss
        with pytest.raises(Boom):
            await cache.fetch("k", loader)
    assert loader.calls == 2
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (0, 3)
