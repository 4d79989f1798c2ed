"""A redis.asyncio client configured for a UI that must never wait on Redis.

redis-py's defaults do not fit: the blocking pool waits 20 s for a free
connection, the default Retry makes 10 attempts, and timeouts are unset. Here
every wait is explicit and short; the ``redis`` circuit breaker does the rest.
A command cancelled mid-read makes redis-py disconnect that connection (it does
so for any BaseException), so the pool never hands out a connection that is out
of step with the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["RedisClientConfig", "make_redis_client", "redact_url"]


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for logs and repr)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class RedisClientConfig:
    """Connection settings; seconds everywhere. The URL's password never shows in repr."""

    url: str = field(default="redis://127.0.0.1:6379/0", repr=False)
    max_connections: int = 16
    socket_timeout: float = 0.25
    socket_connect_timeout: float = 0.25
    pool_timeout: float = 0.25
    health_check_interval: int = 15
    retries: int = 1
    retry_backoff_base: float = 0.005
    retry_backoff_cap: float = 0.05

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        if min(self.socket_timeout, self.socket_connect_timeout, self.pool_timeout) <= 0:
            raise ValueError("timeouts must be > 0")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")


def make_redis_client(config: RedisClientConfig) -> aioredis.Redis:
    """A client owning a BlockingConnectionPool; close it with ``await client.aclose()``.

    ``retries`` re-sends a command once on a fresh connection after a connection
    error: that is what makes the first command after a Redis restart succeed
    instead of failing on a dead pooled socket.
    """
    retry = Retry(ExponentialWithJitterBackoff(cap=config.retry_backoff_cap,
                                               base=config.retry_backoff_base),
                  config.retries, supported_errors=(RedisConnectionError, RedisTimeoutError))
    pool = aioredis.BlockingConnectionPool.from_url(
        config.url,
        max_connections=config.max_connections,
        timeout=config.pool_timeout,
        socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout,
        health_check_interval=config.health_check_interval,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis.from_pool(pool)
