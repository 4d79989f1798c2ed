"""TieredCache.peek: the synchronous L1 hit the feeds try before their async read.

Over a real redis-server (which a peek never reaches). What a user sees: the value,
the Cache pane's L1 hit rate (hits and misses of ``stats()``) and its per-kind rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from resync_tui.resilience.breaker import BreakerConfig, CircuitBreaker
from resync_tui.resilience.cache import LocalCache
from resync_tui.resilience.redis_pool import RedisClientConfig, make_redis_client
from resync_tui.resilience.tiered import TieredCache
from tests.resilience.helpers import Boom, FakeClock


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    client = make_redis_client(RedisClientConfig(url=redis_url, socket_timeout=0.2,
                                                 socket_connect_timeout=0.2, pool_timeout=0.2))
    yield client
    await client.aclose()


def make(client: Redis, clock: FakeClock, **l1: object) -> TieredCache[str]:
    local: LocalCache[str] = LocalCache(default_ttl=10, clock=clock, **l1)  # type: ignore[arg-type]
    breaker = CircuitBreaker("redis", BreakerConfig(), clock=clock)
    return TieredCache(local, client, breaker=breaker, namespace="peek", l2_ttl=60,
                       command_timeout=0.25)


async def test_a_peek_hit_is_the_value_and_counts_in_the_l1_hit_rate(
        client: Redis, clock: FakeClock) -> None:
    cache = make(client, clock)
    try:
        cache.l1.set("job:1", "log text", 30)
        assert cache.peek("job:1", "job logs") == "log text"
        assert cache.peek("job:1", "job logs") == "log text"
        assert cache.peek("job:1", "job details") == "log text"
        stats = cache.stats()
        assert (stats.l1.hits, stats.l1.misses) == (3, 0)
        assert stats.l2.hits + stats.l2.misses == 0  # Redis never asked
        assert cache.peek_hits() == {"job logs": 2, "job details": 1}
    finally:
        await cache.aclose()


async def test_a_peek_that_finds_nothing_fresh_counts_nothing_and_the_read_after_it_once(
        client: Redis, clock: FakeClock) -> None:
    cache = make(client, clock, negative_ttl=5.0)
    try:
        assert cache.peek("absent", "job logs") is None
        cache.l1.set("old", "v", 1)
        clock.advance(2)
        assert cache.peek("old", "job logs") is None  # expired: not served

        async def fail() -> str:
            raise Boom()

        with pytest.raises(Boom):
            await cache.l1.get_or_load("failed", fail)  # a cached failure
        assert cache.peek("failed", "job logs") is None
        assert cache.stats().l1.hits == 0 and cache.peek_hits() == {}
        misses = cache.stats().l1.misses
        assert await cache.get("absent") is None  # the async read counts its lookup
        assert cache.stats().l1.misses == misses + 1
    finally:
        await cache.aclose()


async def test_a_peek_hit_keeps_the_entry_recently_used(client: Redis,
                                                         clock: FakeClock) -> None:
    cache = make(client, clock, max_entries=2, shards=1)
    try:
        cache.l1.set("a", "A")
        cache.l1.set("b", "B")
        assert cache.peek("a", "job logs") == "A"
        cache.l1.set("c", "C")  # full: the least recently used goes, that is b
        assert cache.peek("a", "job logs") == "A"
        assert cache.peek("b", "job logs") is None
    finally:
        await cache.aclose()


async def test_a_peek_never_serves_what_was_deleted_cleared_evicted_or_replaced(
        client: Redis, clock: FakeClock) -> None:
    """The peek reads L1's dict of entries directly: every way L1 forgets or replaces an
    entry must show through it (a stale job detail would be shown as current)."""
    cache = make(client, clock, max_entries=2, shards=1)
    try:
        cache.l1.set("job:1", "first")
        assert cache.peek("job:1", "job details") == "first"
        cache.l1.set("job:1", "second")
        assert cache.peek("job:1", "job details") == "second"
        await cache.delete("job:1")
        assert cache.peek("job:1", "job details") is None
        cache.l1.set("job:2", "two")
        cache.l1.clear()
        assert cache.peek("job:2", "job details") is None
        for key in ("a", "b", "c"):  # c evicts a (unread)
            cache.l1.set(key, key.upper())
        assert [cache.peek(k, "job logs") for k in "abc"] == [None, "B", "C"]
        assert len(cache.l1) == 2 and cache.l1.stats().evictions == 1
        cache.l1.set("short", "S", 1)
        clock.advance(2)
        assert cache.peek("short", "job logs") is None
    finally:
        await cache.aclose()


async def test_the_awaited_reads_answer_an_l1_hit_once_counted_and_keep_it_recently_used(
        client: Redis, clock: FakeClock) -> None:
    """``get`` and ``get_or_load`` check L1 the way a peek does (inlined): the hit rate
    counts each lookup once, Redis is not asked, and a hit saves the entry from eviction."""
    cache = make(client, clock, max_entries=2, shards=1)

    async def must_not_load() -> str:
        raise AssertionError("an L1 hit must not load")

    try:
        cache.l1.set("a", "A")
        cache.l1.set("b", "B")
        assert await cache.get("a") == "A"
        assert await cache.get_or_load("a", must_not_load) == "A"
        assert await cache.get("absent") is None  # L1 miss, then an L2 miss
        stats = cache.stats()
        assert (stats.l1.hits, stats.l1.misses) == (2, 1)
        assert (stats.l2.hits, stats.l2.misses) == (0, 1)
        cache.l1.set("c", "C")  # full: b (never read) goes, a stays
        assert cache.peek("a", "job logs") == "A" and cache.peek("b", "job logs") is None
    finally:
        await cache.aclose()
