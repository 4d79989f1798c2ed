"""The Redis client built on first use: the dashboard builds its runtime before the first
frame, and redis-py (a tenth of a second and more to import) is not needed until after it."""

from __future__ import annotations

import asyncio
import dataclasses

from resync_tui.feeds.runtime import build_runtime
from resync_tui.resilience.redis_pool import (
    LazyRedis,
    RedisClientConfig,
    lazy_redis_client,
)
from resync_tui.settings import Settings

DEADLINE = 10.0


async def test_a_lazy_client_answers_like_the_real_one_on_first_use(redis_url: str) -> None:
    client = lazy_redis_client(RedisClientConfig(url=redis_url, socket_timeout=1.0,
                                                 socket_connect_timeout=1.0, pool_timeout=1.0))
    assert isinstance(client, LazyRedis) and not client.built
    try:
        async with asyncio.timeout(DEADLINE):
            await client.set("lazy:k", b"v")
            assert await client.get("lazy:k") == b"v"
            async with client.pipeline(transaction=False) as pipe:
                pipe.get("lazy:k").delete("lazy:k")
                assert await pipe.execute() == [b"v", 1]
        assert client.built
    finally:
        await client.aclose()


async def test_closing_a_client_never_used_builds_nothing() -> None:
    client = LazyRedis(RedisClientConfig(url="redis://127.0.0.1:1/0"))
    async with asyncio.timeout(DEADLINE):
        await client.aclose()
    assert not client.built


async def test_the_runtime_reaches_redis_through_its_cache_and_client(redis_url: str) -> None:
    """Built before any loop and without a Redis command: the cache's L2 and the client
    work on first use, and closing the runtime closes what was built."""
    base = Settings()
    runtime = build_runtime(base.replace(redis=dataclasses.replace(base.redis, url=redis_url)),
                            lazy_redis=True)
    lazy = runtime.redis
    assert isinstance(lazy, LazyRedis) and not lazy.built
    try:
        async with asyncio.timeout(DEADLINE):
            assert await runtime.redis.ping() is True
            await runtime.cache.set("k", {"a": 1})
            await runtime.cache.flush()
            runtime.cache.l1.clear()
            assert await runtime.cache.get("k") == {"a": 1}
            assert runtime.cache.stats().l2.hits == 1
    finally:
        async with asyncio.timeout(DEADLINE):
            await runtime.aclose()
