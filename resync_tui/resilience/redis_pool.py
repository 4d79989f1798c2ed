"""A redis.asyncio client configured for a UI that must never wait on Redis.

redis-py's defaults do not fit: the blocking pool waits 20 s for a free
connection, the default Retry makes 10 attempts, and timeouts are unset. Here
every wait is explicit and short; the ``redis`` circuit breaker does the rest.
A command cancelled mid-read makes redis-py disconnect that connection (it does
so for any BaseException), so the pool never hands out a connection that is out
of step with the server.

redis-py is imported on first use, never by importing this module: it takes a tenth
of a second or more, which the settings (they parse sentinel URLs here), ``check``
and the dashboard's first frame need not pay. :func:`lazy_redis_client` gives a
client that imports and builds the real one when it is first used.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import msgspec

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry

__all__ = [
    "LazyRedis",
    "RedisClientConfig",
    "RedisEvent",
    "build_now",
    "describe_redis_error",
    "lazy_redis_client",
    "make_redis_client",
    "redact_url",
]


SENTINEL_SCHEME: Final = "redis+sentinel"


def parse_sentinel_url(url: str) -> tuple[tuple[tuple[str, int], ...], str, int]:
    """``redis+sentinel://[user:pass@]HOST[:PORT],HOST[:PORT]/MASTER[/DB]`` ->
    (sentinels, master name, db). ``ValueError`` says what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    rest = rest.rsplit("@", 1)[-1]
    hosts, _, path = rest.partition("/")
    names = [part for part in path.split("/") if part]
    if not names:
        raise ValueError("no master name (redis+sentinel://HOST:PORT/MASTER)")
    db = names[1] if len(names) > 1 else "0"
    if not db.isdigit():
        raise ValueError(f"database {db!r} is not a number")
    return parse_sentinels(hosts.split(",")), names[0], int(db)


def parse_sentinels(entries: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """``["host:port", "host"]`` -> ((host, port), ...); the port defaults to 26379."""
    found: list[tuple[str, int]] = []
    for entry in entries:
        host, colon, port = entry.strip().rpartition(":")
        if not colon:
            host, port = entry.strip(), "26379"
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad sentinel address {entry!r} (HOST:PORT)")
        found.append((host, int(port)))
    if not found:
        raise ValueError("no sentinel address")
    return tuple(found)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for logs and repr)."""
    if url.startswith(f"{SENTINEL_SCHEME}://"):
        scheme, _, rest = url.partition("://")
        if "@" in rest:
            userinfo, hosts = rest.rsplit("@", 1)
            if ":" in userinfo:
                return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{hosts}"
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RedisEvent(msgspec.Struct, frozen=True):
    """Something that happened to a Redis server (a restart): when, and why if known."""

    at: datetime
    cause: str
    run_id: str = ""


T = TypeVar("T")

_NEEDS_PASSWORD = "Redis requires a password: set it in redis.password_env / redis.password_file"
_REFUSED = "connection refused: is redis-server running at redis.url?"


def describe_redis_error(exc: BaseException, *, tls: bool = False) -> str:
    """What went wrong with Redis, in words that say what to fix (no raw server text).

    redis-py's messages are the server's ("HELLO must be called with the client
    already authenticated...", "WRONGPASS invalid username-password pair..."):
    exact, but not what an operator at 3 a.m. can act on. The raw text belongs
    in the log; this goes on screen. ``tls``: the client speaks TLS (a plain
    server never answers a TLS hello, so that shows as a timeout).
    """
    from redis.exceptions import AuthenticationError, NoPermissionError, ReadOnlyError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    raw = str(exc)
    text = raw.upper()
    if isinstance(exc, RedisTimeoutError | asyncio.TimeoutError | TimeoutError) \
            or "TIMEOUT" in text or "TIMED OUT" in text:
        if tls:
            return ("Redis not answering over TLS (timeout): if the server does not speak "
                    "TLS use redis://, else it is stuck or overloaded")
        return "Redis not answering (timeout): the server is stuck, paused or overloaded"
    if "NOAUTH" in text or "HELLO MUST BE CALLED" in text or "AUTHENTICATION REQUIRED" in text:
        return _NEEDS_PASSWORD
    if "WITHOUT ANY PASSWORD CONFIGURED" in text or "NO PASSWORD IS SET" in text:
        return ("Redis has no password but one was given: clear redis.password_env / "
                "redis.password_file, or the password in redis.url")
    if "WRONGPASS" in text or "INVALID PASSWORD" in text or "INVALID USERNAME-PASSWORD" in text:
        return "Redis rejected the user or password (WRONGPASS): check redis.user and the password"
    if isinstance(exc, NoPermissionError) or "NOPERM" in text or "NO PERMISSIONS" in text:
        return ("Redis user may not run a command the dashboard needs (NOPERM): "
                "allow PING, INFO, GET, SET, DEL in its ACL")
    if isinstance(exc, AuthenticationError):
        return "Redis rejected the login: check redis.user and the password"
    if "DB INDEX IS OUT OF RANGE" in text or "INVALID DB INDEX" in text:
        return "Redis has no such database: use a smaller database number at the end of redis.url"
    if isinstance(exc, ReadOnlyError) or text.startswith("READONLY") or "READ ONLY REPLICA" in text:
        return "Redis is a read-only replica (READONLY): point redis.url at the primary"
    if isinstance(exc, ssl.SSLError) or "SSL" in text or "TLS" in text or "CERTIFICATE" in text:
        if "CERTIFICATE" in text or "VERIFY" in text:
            return "TLS handshake with Redis failed: certificate not trusted, check redis.ca_file"
        return ("TLS handshake with Redis failed: does the server speak TLS? "
                "Use rediss:// only for a TLS port, and check redis.ca_file")
    if "CLOSED BY SERVER" in text or "CONNECTION RESET" in text or "EOF" in text:
        return ("Redis closed the connection: if it requires TLS use a rediss:// URL, "
                "else check its maxclients and log")
    if isinstance(exc, ConnectionRefusedError) or "REFUSED" in text \
            or "NO SUCH FILE" in text or "ERRNO 2" in text or "ERROR 2 " in text:
        return _REFUSED
    if "NAME OR SERVICE NOT KNOWN" in text or "NODENAME NOR SERVNAME" in text \
            or "TEMPORARY FAILURE IN NAME RESOLUTION" in text:
        return "Redis host name not found: check the host in redis.url"
    if "PERMISSION DENIED" in text or "ERRNO 13" in text or "ERROR 13 " in text:
        return "permission denied on the Redis socket: the socket belongs to another user"
    # Unknown: the last sentence of redis-py's message is usually the cause.
    detail = raw or type(exc).__name__
    sentences = [part for part in detail.rstrip(".").split(". ") if part]
    return sentences[-1] if len(sentences) > 1 else detail


_SECRET_FIELDS: Final = frozenset({"url", "password"})
"""RedisClientConfig's fields its repr leaves out."""


class RedisClientConfig(msgspec.Struct, frozen=True):
    """Connection settings; seconds everywhere. The URL's password never shows in repr.

    ``username``/``password`` are for ACL or ``requirepass`` servers; ``ca_file`` is the
    CA bundle that signs a ``rediss://`` server's certificate (empty: system trust).
    """

    url: str = "redis://127.0.0.1:6379/0"
    username: str = ""
    password: str = ""
    ca_file: str = ""
    max_connections: int = 16
    socket_timeout: float = 0.25
    socket_connect_timeout: float = 0.25
    pool_timeout: float = 0.25
    health_check_interval: int = 15
    retries: int = 1
    retry_backoff_base: float = 0.005
    retry_backoff_cap: float = 0.05
    sentinels: tuple[tuple[str, int], ...] = ()
    """Sentinels to ask for the primary of ``sentinel_master`` (then ``url`` is ignored
    but for display)."""
    sentinel_master: str = ""
    db: int = 0

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Every field but ``url`` and ``password`` (either may hold the password)."""
        return [(name, getattr(self, name)) for name in self.__struct_fields__
                if name not in _SECRET_FIELDS]

    def __repr__(self) -> str:
        """The generated repr without the secret fields (see ``__rich_repr__``)."""
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__qualname__}({shown})"

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        if min(self.socket_timeout, self.socket_connect_timeout, self.pool_timeout) <= 0:
            raise ValueError("timeouts must be > 0")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")


_REFUSALS: Final = ("NOAUTH", "HELLO MUST BE CALLED", "AUTHENTICATION REQUIRED", "WRONGPASS",
                     "INVALID USERNAME", "INVALID PASSWORD", "NOPERM", "NO PERMISSIONS",
                     "DB INDEX", "INVALID DATABASE", "READONLY")


def _server_refused(exc: BaseException) -> bool:
    """The server answered "no" (login, ACL, database): sending again cannot help."""
    from redis.exceptions import AuthenticationError, AuthorizationError, ResponseError

    if isinstance(exc, AuthenticationError | AuthorizationError | ResponseError):
        return True
    text = str(exc).upper()
    return any(word in text for word in _REFUSALS)


@functools.cache
def _retry_unless_refused() -> type[Retry]:
    """The class, made on first use (it subclasses redis-py's: imported then)."""
    from redis.asyncio.retry import Retry

    class _RetryUnlessRefused(Retry):
        """redis-py's Retry, minus refusals.

        Besides being pointless, retrying a failed handshake (no password, wrong
        password, NOPERM, bad db index) with health checks on makes redis-py 8 recurse
        until the command's deadline: the operator would read "timeout" instead of
        "Redis requires a password".
        """

        async def call_with_retry(
                self, do: Callable[[], Awaitable[T]], fail: Callable[..., Any],
                is_retryable: Callable[[Exception], bool] | None = None,
                with_failure_count: bool = False) -> T:
            def retryable(exc: Exception) -> bool:
                if _server_refused(exc):
                    return False
                return is_retryable(exc) if is_retryable is not None else True

            return await super().call_with_retry(do, fail, retryable, with_failure_count)

    return _RetryUnlessRefused


def make_redis_client(config: RedisClientConfig) -> aioredis.Redis:
    """A client owning a BlockingConnectionPool; close it with ``await client.aclose()``.

    ``retries`` re-sends a command once on a fresh connection after a connection
    error: that is what makes the first command after a Redis restart succeed
    instead of failing on a dead pooled socket.
    """
    import redis.asyncio as aioredis
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    retry = _retry_unless_refused()(ExponentialWithJitterBackoff(cap=config.retry_backoff_cap,
                                               base=config.retry_backoff_base),
                  config.retries, supported_errors=(RedisConnectionError, RedisTimeoutError))
    extra: dict[str, Any] = {}
    if config.username:
        extra["username"] = config.username
    if config.password:
        extra["password"] = config.password
    if config.sentinels:
        return _sentinel_client(config, retry, extra)
    if config.ca_file and urlsplit(config.url).scheme == "rediss":
        extra["ssl_ca_certs"] = config.ca_file
    pool = aioredis.BlockingConnectionPool.from_url(
        config.url,
        **extra,
        max_connections=config.max_connections,
        timeout=config.pool_timeout,
        socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout,
        health_check_interval=config.health_check_interval,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis.from_pool(pool)


def _sentinel_client(config: RedisClientConfig, retry: Retry,
                     extra: dict[str, Any]) -> aioredis.Redis:
    """A client of whichever server the sentinels name primary of ``sentinel_master``.

    redis-py's Sentinel pool asks the sentinels again when a connection fails or the
    server it reached says READONLY (a primary demoted by a failover): the commands
    after a failover go to the new primary.
    """
    import redis.asyncio as aioredis
    from redis.asyncio.sentinel import Sentinel
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    sentinel = Sentinel(  # type: ignore[no-untyped-call,unused-ignore]  # typed in redis 8.2
        list(config.sentinels), socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout)
    client: aioredis.Redis = sentinel.master_for(
        config.sentinel_master, redis_class=aioredis.Redis, db=config.db, **extra,
        max_connections=config.max_connections,
        socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout,
        health_check_interval=config.health_check_interval,
        retry=retry, retry_on_error=[RedisConnectionError, RedisTimeoutError])
    return client


class LazyRedis:
    """A Redis client built (redis-py imported, the pool made) on its first use.

    Every attribute but ``aclose`` is the real client's, which the first lookup
    builds; no connection is opened before a command, as with the client itself.
    ``aclose`` of a client never used has nothing to close and builds nothing.
    """

    __slots__ = ("_client", "_config")

    def __init__(self, config: RedisClientConfig) -> None:
        self._config = config
        self._client: aioredis.Redis | None = None

    @property
    def built(self) -> bool:
        """Whether the real client exists (something used it)."""
        return self._client is not None

    def client(self) -> aioredis.Redis:
        """The real client, built now if not yet."""
        if self._client is None:
            self._client = make_redis_client(self._config)
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)

    def __repr__(self) -> str:
        return f"LazyRedis({self._config!r}, built={self.built})"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def build_now(client: object) -> None:
    """Build a :class:`LazyRedis` now, outside any command's timeout (the import would
    count against it); nothing for any other client."""
    if isinstance(client, LazyRedis):
        client.client()


def lazy_redis_client(config: RedisClientConfig) -> aioredis.Redis:
    """:func:`make_redis_client`, deferred to the client's first use (:class:`LazyRedis`):
    for callers that build a client long before, or without ever, sending a command."""
    return cast("aioredis.Redis", LazyRedis(config))
