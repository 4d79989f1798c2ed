"""TieredCache against a real redis-server: read/write-through, outages, slow Redis."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import msgspec
import pytest
import redis
from redis.asyncio import Redis

from resync_tui.redis_server import EmbeddedRedis
from resync_tui.resilience.breaker import BreakerConfig, BreakerState, CircuitBreaker
from resync_tui.resilience.cache import LocalCache
from resync_tui.resilience.codec import MsgpackCodec
from resync_tui.resilience.metrics import ResilienceMetrics
from resync_tui.resilience.redis_pool import RedisClientConfig, make_redis_client
from resync_tui.resilience.tiered import TieredCache
from tests.resilience.helpers import FakeClock, state_of


class JobStatus(msgspec.Struct):
    job_id: str
    status: str
    attempts: int


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> JobStatus:
        self.calls += 1
        return JobStatus("JS1", "SUCC", self.calls)


async def must_not_load() -> JobStatus:
    raise AssertionError("the origin was called although L2 had the value")


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    client = make_redis_client(RedisClientConfig(url=redis_url, socket_timeout=0.2,
                                                 socket_connect_timeout=0.2, pool_timeout=0.2))
    yield client
    await client.aclose()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("redis", BreakerConfig(minimum_calls=2, open_wait_seconds=5),
                          clock=clock)


def make_cache(client: Redis, breaker: CircuitBreaker, clock: FakeClock,
               command_timeout: float = 0.25, write_queue_size: int = 1024
               ) -> TieredCache[JobStatus]:
    l1: LocalCache[JobStatus] = LocalCache(default_ttl=10, clock=clock)
    return TieredCache(l1, client, breaker=breaker, namespace="jobs", l2_ttl=60,
                       codec=MsgpackCodec(JobStatus), command_timeout=command_timeout,
                       write_queue_size=write_queue_size)


@contextmanager
def frozen(redis_url: str) -> Iterator[None]:
    """The real redis-server stopped with SIGSTOP (a hung host), always resumed."""
    with redis.Redis.from_url(redis_url, socket_timeout=5) as admin:
        pid = int(admin.info("server")["process_id"])
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_read_through_writes_a_namespaced_versioned_entry(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    loader = Loader()
    assert await cache.get_or_load("JS1", loader) == JobStatus("JS1", "SUCC", 1)
    assert await cache.get_or_load("JS1", loader) == JobStatus("JS1", "SUCC", 1)
    assert loader.calls == 1
    await cache.flush()  # the write-back is write-behind
    raw = await client.get("resync:jobs:JS1")
    assert raw is not None and raw[0] == 1  # version byte
    assert 0 < await client.pttl("resync:jobs:JS1") <= 60_000


async def test_l2_hit_after_l1_expiry_decodes_the_same_typed_value(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    original = await cache.get_or_load("JS1", Loader())
    await cache.flush()
    clock.advance(11)  # past the L1 TTL, well inside the L2 TTL
    again = await cache.get_or_load("JS1", must_not_load)
    assert again == original and isinstance(again, JobStatus)
    stats = cache.stats()
    assert (stats.l2.hits, stats.l2.misses, stats.l2.loads) == (1, 1, 1)


async def test_another_process_with_an_empty_l1_reads_l2(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    writer = make_cache(client, breaker, clock)
    await writer.get_or_load("JS1", Loader())
    await writer.flush()
    other = make_cache(client, breaker, clock)
    assert await other.get("JS1") == JobStatus("JS1", "SUCC", 1)
    assert await other.get("absent") is None


async def test_redis_killed_and_restarted_without_recreating_the_cache(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock,
        redis_server: EmbeddedRedis) -> None:
    cache = make_cache(client, breaker, clock)
    await cache.get_or_load("before", Loader())
    # Its write-back done first: left queued, it could fail after the kill and count
    # towards opening the breaker before the reads do (one read error, not two).
    await cache.flush()
    redis_server.stop()

    loader = Loader()
    for i in range(10):  # L1 misses while Redis is dead: served by the origin, no exception
        value = await asyncio.wait_for(cache.get_or_load(f"down-{i}", loader), 5)
        assert value.job_id == "JS1"
    assert await cache.get_or_load("before", must_not_load) is not None  # L1 still serves
    assert state_of(breaker) is BreakerState.OPEN
    stats = cache.stats().l2
    assert stats.errors >= 2 and stats.rejected > 0

    redis_server.start()
    clock.advance(5)  # the breaker's wait is over: the next command is the trial
    await cache.get_or_load("after", Loader())  # L2 miss + write-back, via the trial
    await cache.flush()
    assert state_of(breaker) is BreakerState.CLOSED
    cache.l1.delete("after")
    assert await cache.get_or_load("after", must_not_load) == JobStatus("JS1", "SUCC", 1)


async def test_slow_redis_times_out_to_l1_and_leaves_no_connection_out_of_step(
        redis_url: str, clock: FakeClock) -> None:
    breaker = CircuitBreaker("redis", BreakerConfig(minimum_calls=100), clock=clock)
    client = make_redis_client(RedisClientConfig(url=redis_url, max_connections=1,
                                                 socket_timeout=2, pool_timeout=2))
    try:
        cache = make_cache(client, breaker, clock, command_timeout=0.05)
        await cache.set("a", JobStatus("a", "SUCC", 1))
        await cache.set("b", JobStatus("b", "ABEND", 2))
        cache.l1.clear()
        with redis.Redis.from_url(redis_url) as admin:
            admin.execute_command("CLIENT", "PAUSE", "300", "ALL")
            loader = Loader()
            value = await asyncio.wait_for(cache.get_or_load("a", loader), 5)
            assert loader.calls == 1 and value.job_id == "JS1"  # timed out, served by origin
        assert cache.stats().l2.errors >= 1  # the GET (and the write-through SET) timed out
        cache.l1.clear()
        # The only pooled connection was cancelled mid-command; if it were reused without
        # a disconnect, this GET of "b" would read the stale reply to the GET of "a".
        for _ in range(100):
            if await client.ping():
                break
        assert await cache.get_or_load("b", must_not_load) == JobStatus("b", "ABEND", 2)
    finally:
        await client.aclose()


async def test_undecodable_l2_entry_is_a_miss_not_an_error(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    await client.set("resync:jobs:JS1", b"\x01\xc1garbage")  # our version, corrupt payload
    cache = make_cache(client, breaker, clock)
    loader = Loader()
    assert (await cache.get_or_load("JS1", loader)).attempts == 1
    assert loader.calls == 1
    await cache.flush()
    stats = cache.stats().l2
    assert (stats.decode_errors, stats.errors, stats.misses) == (1, 0, 1)
    assert breaker.snapshot().failed_calls_in_window == 0  # Redis itself was fine
    cache.l1.clear()  # the write-back replaced the garbage with a readable value
    assert await cache.get_or_load("JS1", must_not_load) == JobStatus("JS1", "SUCC", 1)


async def test_an_entry_of_a_newer_codec_version_is_neither_deleted_nor_overwritten(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    newer = b"\x02" + msgspec.msgpack.encode({"job_id": "JS1", "format": "v2"})
    await client.set("resync:jobs:JS1", newer, px=60_000)
    old_release = make_cache(client, breaker, clock)
    loader = Loader()
    assert await old_release.get("JS1") is None  # a plain get: a miss
    assert (await old_release.get_or_load("JS1", loader)).attempts == 1  # from the origin
    await old_release.flush()
    assert await client.get("resync:jobs:JS1") == newer  # the newer release keeps its entry
    stats = old_release.stats().l2
    assert (stats.decode_errors, stats.errors, stats.misses, stats.hits) == (2, 0, 2, 0)
    metrics = ResilienceMetrics()
    metrics.track_cache(old_release)
    assert metrics.registry.get_sample_value("resync_cache_decode_errors_total",
                                             {"level": "l2"}) == 2
    assert old_release.l1.contains("JS1")  # the older release still serves from L1


async def test_delete_removes_both_levels(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    await cache.set("JS1", JobStatus("JS1", "SUCC", 1))
    await cache.delete("JS1")
    assert await cache.get("JS1") is None
    assert await client.exists("resync:jobs:JS1") == 0


async def test_single_flight_spans_both_levels(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    loader = Loader()
    results = await asyncio.wait_for(
        asyncio.gather(*(cache.get_or_load("JS1", loader) for _ in range(100))), 5)
    assert loader.calls == 1 and len(set(r.attempts for r in results)) == 1
    assert cache.stats().l2.misses == 1


async def test_l2_hit_after_l1_eviction_and_both_levels_exported_as_metrics(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    l1: LocalCache[JobStatus] = LocalCache(max_entries=1, shards=1, clock=clock)
    cache = TieredCache(l1, client, breaker=breaker, namespace="jobs",
                        codec=MsgpackCodec(JobStatus))
    metrics = ResilienceMetrics()
    metrics.track_cache(cache)
    first = await cache.get_or_load("JS1", Loader())
    await cache.get_or_load("JS2", Loader())  # evicts JS1 from L1
    await cache.flush()
    assert await cache.get_or_load("JS1", must_not_load) == first
    value = metrics.registry.get_sample_value
    assert value("resync_cache_evictions_total", {"level": "l1"}) == 2
    assert value("resync_cache_hits_total", {"level": "l2"}) == 1
    assert value("resync_cache_misses_total", {"level": "l2"}) == 2
    assert value("resync_cache_size", {"level": "l1"}) == 1


async def test_a_value_read_from_l2_lives_in_l1_no_longer_than_in_l2(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    writer = make_cache(client, breaker, clock)
    await writer.set("JS1", JobStatus("JS1", "SUCC", 1))
    await writer.set("JS2", JobStatus("JS2", "SUCC", 1))
    await client.pexpire("resync:jobs:JS1", 3000)  # 3 s left in L2, L1 TTL is 10 s
    await client.pexpire("resync:jobs:JS2", 3000)
    reader = make_cache(client, breaker, clock)
    assert await reader.get("JS1") == JobStatus("JS1", "SUCC", 1)  # plain get
    assert await reader.get_or_load("JS2", must_not_load) == JobStatus("JS2", "SUCC", 1)
    clock.advance(2.5)
    assert reader.l1.contains("JS1") and reader.l1.contains("JS2")
    clock.advance(1.0)  # past the L2 life the values had left, inside the L1 TTL
    assert not reader.l1.contains("JS1")
    assert not reader.l1.contains("JS2")


async def test_a_value_without_expiry_in_l2_gets_the_l1_ttl(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    await make_cache(client, breaker, clock).set("JS1", JobStatus("JS1", "SUCC", 1))
    await client.persist("resync:jobs:JS1")
    reader = make_cache(client, breaker, clock)
    assert await reader.get_or_load("JS1", must_not_load) == JobStatus("JS1", "SUCC", 1)
    clock.advance(9.9)
    assert reader.l1.contains("JS1")
    clock.advance(0.1)
    assert not reader.l1.contains("JS1")


async def test_one_l1_miss_is_counted_once_so_the_hit_rate_is_right(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    metrics = ResilienceMetrics()
    metrics.track_cache(cache)
    for i in range(10):  # 10 cold keys: one L1 miss each
        await cache.get_or_load(f"JS{i}", Loader())
    for i in range(10):  # the same 10 keys again: one L1 hit each
        await cache.get_or_load(f"JS{i}", must_not_load)
    l1 = cache.stats().l1
    assert (l1.hits, l1.misses) == (10, 10)
    assert l1.hit_ratio == 0.5
    assert metrics.registry.get_sample_value("resync_cache_misses_total", {"level": "l1"}) == 10


async def test_a_value_loaded_with_a_short_ttl_lives_no_longer_in_l2(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)  # l2_ttl 60 s
    await cache.get_or_load("JS1", Loader(), ttl=6)
    await cache.set("JS2", JobStatus("JS2", "SUCC", 1), ttl=6)
    await cache.flush()
    for key in ("resync:jobs:JS1", "resync:jobs:JS2"):
        assert 0 < await client.pttl(key) <= 6000
    # Another process re-serves it from L2 for what it has left (<= 6 s), not for 10 s of L1.
    reader = make_cache(client, breaker, clock)
    assert await reader.get("JS1") == JobStatus("JS1", "SUCC", 1)
    clock.advance(6.01)
    assert not reader.l1.contains("JS1")


async def test_set_with_a_ttl_of_zero_removes_the_key_from_both_levels(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    await cache.set("JS1", JobStatus("JS1", "SUCC", 1))
    await cache.set("JS1", JobStatus("JS1", "SUCC", 2), ttl=0)
    await cache.flush()
    assert await client.exists("resync:jobs:JS1") == 0
    assert await cache.get("JS1") is None


async def test_with_redis_frozen_a_miss_waits_for_the_get_only_and_leaves_the_set_queued(
        redis_url: str, clock: FakeClock) -> None:
    breaker = CircuitBreaker("redis", BreakerConfig(minimum_calls=100), clock=clock)
    client = make_redis_client(RedisClientConfig(url=redis_url, socket_timeout=5,
                                                 socket_connect_timeout=5, pool_timeout=5))
    cache = make_cache(client, breaker, clock, command_timeout=0.3)
    loop = asyncio.get_running_loop()
    try:
        await cache.get_or_load("warm", Loader())
        await cache.flush()
        with frozen(redis_url):
            started = loop.time()
            value = await asyncio.wait_for(cache.get_or_load("JS1", Loader()), 5)
            elapsed = loop.time() - started
            assert value.job_id == "JS1"  # served by the origin after the GET timed out
            assert cache.stats().l2.writes_pending == 1  # its SET is not on the caller's path
            # Correctness bound: one command timeout (GET), not two (GET + SET).
            assert elapsed < 2 * 0.3
            await asyncio.wait_for(cache.flush(), 5)  # the queued SET times out in the writer
        stats = cache.stats().l2
        assert (stats.errors, stats.writes_pending) == (2, 0)
    finally:
        await cache.aclose()
        await client.aclose()


async def test_writes_are_dropped_and_counted_while_the_breaker_is_open(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    metrics = ResilienceMetrics()
    metrics.track_cache(cache)
    breaker.force_open()
    assert (await cache.get_or_load("JS1", Loader())).job_id == "JS1"
    await cache.set("JS2", JobStatus("JS2", "SUCC", 1))
    stats = cache.stats().l2
    assert (stats.writes_dropped, stats.writes_pending) == (2, 0)
    value = metrics.registry.get_sample_value
    assert value("resync_cache_writes_dropped_total", {"level": "l2"}) == 2
    assert value("resync_cache_writes_pending", {"level": "l2"}) == 0
    breaker.reset()
    assert await client.exists("resync:jobs:JS1", "resync:jobs:JS2") == 0


async def test_a_full_write_queue_drops_and_aclose_does_not_hang_on_a_frozen_redis(
        redis_url: str, clock: FakeClock) -> None:
    breaker = CircuitBreaker("redis", BreakerConfig(minimum_calls=100), clock=clock)
    client = make_redis_client(RedisClientConfig(url=redis_url, socket_timeout=5,
                                                 socket_connect_timeout=5, pool_timeout=5))
    cache = make_cache(client, breaker, clock, command_timeout=0.3, write_queue_size=1)
    try:
        with frozen(redis_url):
            values = await asyncio.wait_for(asyncio.gather(
                *(cache.get_or_load(f"JS{i}", Loader()) for i in range(5))), 5)
            assert len(values) == 5
            # At most one write in flight and one queued: the others were dropped.
            assert cache.stats().l2.writes_dropped >= 3
            await asyncio.wait_for(cache.aclose(drain_timeout=0.1), 5)
        stats = cache.stats().l2
        assert stats.writes_pending == 0
        assert stats.writes_dropped + stats.errors >= 5  # each write is accounted for
    finally:
        await client.aclose()


async def test_aclose_sends_what_is_queued_and_later_writes_are_dropped(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    for i in range(20):
        await cache.get_or_load(f"JS{i}", Loader())
    await asyncio.wait_for(cache.aclose(), 5)
    assert await client.exists(*(f"resync:jobs:JS{i}" for i in range(20))) == 20
    await cache.get_or_load("late", Loader())
    assert cache.stats().l2.writes_dropped == 1
    assert await client.exists("resync:jobs:late") == 0


async def test_writes_of_one_key_reach_redis_in_the_order_they_were_made(
        client: Redis, breaker: CircuitBreaker, clock: FakeClock) -> None:
    cache = make_cache(client, breaker, clock)
    await cache.get_or_load("JS1", Loader())  # write-back queued, not awaited
    await cache.delete("JS1")  # must not be undone by the queued write-back
    await cache.flush()
    assert await client.exists("resync:jobs:JS1") == 0
    await cache.get_or_load("JS2", Loader())
    await cache.set("JS2", JobStatus("JS2", "ABEND", 9))
    await cache.flush()
    cache.l1.clear()
    assert await cache.get("JS2") == JobStatus("JS2", "ABEND", 9)
