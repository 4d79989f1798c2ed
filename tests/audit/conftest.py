"""A Redis that keeps its data across a kill (append-only file, fsync always): what an
audit trail's Redis is, and what lets a test kill it mid-run and count afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from resync_tui.redis_server import EmbeddedRedis


@pytest.fixture(scope="session")
def durable_redis() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(extra_args=("--appendonly", "yes", "--appendfsync", "always")) as server:
        yield server


@pytest.fixture
def durable_url(durable_redis: EmbeddedRedis) -> Iterator[str]:
    durable_redis.start()
    redis.Redis.from_url(durable_redis.url, socket_timeout=5).flushall()
    yield durable_redis.url


def client(url: str) -> aioredis.Redis:
    """Short deadlines on every call: a test never hangs on a stopped server."""
    return aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


@pytest.fixture
async def durable(durable_url: str) -> AsyncIterator[aioredis.Redis]:
    r = client(durable_url)
    yield r
    await r.aclose()
