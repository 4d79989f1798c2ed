"""Everything the feeds share, built once from Settings: client, breakers, cache, Redis.

The UI gets a :class:`Runtime` and never builds network objects itself. Nothing
here connects at construction time (httpx and redis-py connect lazily), so the
runtime can be built before the event loop that will use it exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from resync_tui.feeds.status import Clock, local_now
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.errors import BadRequest, CredentialsRejected, NotFound, is_transient
from resync_tui.logging_setup import register_secret
from resync_tui.resilience.breaker import BreakerConfig, BreakerRegistry, CircuitBreaker
from resync_tui.resilience.cache import LocalCache
from resync_tui.resilience.metrics import ResilienceMetrics
from resync_tui.resilience.redis_pool import (
    RedisClientConfig,
    lazy_redis_client,
    make_redis_client,
    parse_sentinel_url,
)
from resync_tui.resilience.retry import RetryPolicy
from resync_tui.resilience.tiered import TieredCache
from resync_tui.settings import SENTINEL_SCHEME, BreakerSettings, Settings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric
    from redis.asyncio import Redis

    from resync_tui.feeds.jobs import JobsFeed, JobsState
    from resync_tui.feeds.status import Feed
    from resync_tui.model.jobs_view import JobsView

__all__ = [
    "EngineRuntimes",
    "FirstRead",
    "Runtime",
    "breaker_config",
    "build_runtime",
    "build_runtimes",
    "cache_namespace",
    "counts_as_failure",
]

_log = logging.getLogger(__name__)

_ANSWERED = (CredentialsRejected, NotFound, BadRequest)

T = TypeVar("T")


def counts_as_failure(exc: BaseException) -> bool:
    """HWA breakers: a 401/403/404/400 means the engine answered; it is not down."""
    return not isinstance(exc, _ANSWERED)


def breaker_config(bs: BreakerSettings, *,
                   record: Callable[[BaseException], bool] | None = None) -> BreakerConfig:
    config = BreakerConfig(
        failure_rate_threshold=bs.failure_rate_threshold,
        window_seconds=bs.window_seconds,
        bucket_seconds=min(bs.bucket_seconds, bs.window_seconds),
        minimum_calls=bs.minimum_calls,
        slow_call_seconds=bs.slow_call_seconds or None,
        slow_call_rate_threshold=bs.slow_call_rate_threshold,
        open_wait_seconds=bs.open_wait_seconds,
        half_open_max_calls=bs.half_open_max_calls,
        success_threshold=bs.success_threshold,
    )
    if record is not None:
        config = msgspec.structs.replace(config, record_exception=record)
    return config


class Runtime(msgspec.Struct, eq=False):
    """The shared, long-lived objects. ``aclose()`` is idempotent."""

    settings: Settings
    client: HwaClient
    breakers: BreakerRegistry
    retry: RetryPolicy
    redis: Redis
    cache: TieredCache[Any]
    metrics: ResilienceMetrics
    clock: Clock = local_now
    clock_offset: Callable[[], float | None] = lambda: None
    """Engine clock minus this machine's in seconds, as the header shows it (None: unknown,
    or a clock given by a test)."""
    clock_rate: Callable[[], float] = lambda: 1.0
    """Engine seconds per second of this machine (``HwaClient.clock_rate``): what a poll
    interval is worth on the engine's clock, by which data ages are judged."""
    engine_name: str = ""
    """What the header calls the engine: its [engines.NAME], else the URL's host."""
    _closed: bool = False

    @property
    def hwa_api(self) -> CircuitBreaker:
        return self.breakers.get("hwa_api")

    @property
    def hwa_job_status(self) -> CircuitBreaker:
        return self.breakers.get("hwa_job_status")

    @property
    def redis_breaker(self) -> CircuitBreaker:
        return self.breakers.get("redis")

    @property
    def is_transient(self) -> Callable[[BaseException], bool]:
        return is_transient

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Close the HWA client, stop cache loads, close the Redis pool."""
        if self._closed:
            return
        self._closed = True
        for name, closer in (("cache", self.cache.aclose), ("hwa client", self.client.aclose),
                             ("redis", self.redis.aclose)):
            try:
                await closer()
            except Exception:  # closing must go on with the others
                _log.exception("closing %s failed", name)


def engine_clock(client: HwaClient) -> Clock:
    """The engine's time in this machine's zone: lateness, elapsed times and data ages are
    judged on it (a job scheduled at 10:00 engine time is late at 10:00 engine time,
    whatever this machine's clock says). This machine's time until the engine answered."""

    last: list[datetime] = []

    def now() -> datetime:
        # Never backwards: each new Date sample moves the estimate by up to a second, and
        # a clock that steps back would make ages negative and the header's time jump.
        value = client.engine_now().astimezone()
        if last and value < last[0]:
            return last[0]
        last[:] = [value]
        return value

    return now


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  metrics: ResilienceMetrics | None = None, lazy_redis: bool = False) -> Runtime:
    """Build the runtime from settings (no connection is opened here). ``lazy_redis``:
    the Redis client is a :class:`~resync_tui.resilience.redis_pool.LazyRedis`, built
    (redis-py imported) on first use; whoever asks for it builds it (``.client()``)
    before the first command, else the import counts against that command's timeout."""
    hwa = settings.hwa
    metrics = metrics if metrics is not None else ResilienceMetrics()
    registry = BreakerRegistry()
    for name, bs in settings.breakers.items():
        record = counts_as_failure if name.startswith("hwa") else None
        registry.get(name, breaker_config(bs, record=record))
    metrics.track_breakers(registry)
    token = hwa.token.reveal() if hwa.token else None
    password_file = hwa.password_file

    def reread_password() -> str | None:
        """The password file's first line again (the operator fixed it and pressed r)."""
        lines = Path(password_file).expanduser().read_text(encoding="utf-8").splitlines()
        password = lines[0].strip() if lines else ""
        if password:
            register_secret(password)  # masked in every log line, like the first one
        return password or None

    client = HwaClient(
        hwa.url,
        user=None if token else hwa.user,
        password=None if token else hwa.password.reveal(),
        token=token,
        verify=hwa.verify,
        connect_timeout=hwa.connect_timeout,
        read_timeout=hwa.read_timeout,
        pool_timeout=hwa.pool_timeout,
        call_timeout=hwa.call_deadline,
        max_connections=hwa.max_connections,
        page_size=hwa.page_size,
        parallel_pages=hwa.parallel_pages,
        plan_id=hwa.plan_id,
        on_request=metrics.observe_request,
        auth_retry_seconds=hwa.auth_retry_seconds,
        password_provider=reread_password if password_file and not token else None,
    )
    rs = settings.redis
    sentinels: tuple[tuple[str, int], ...] = ()
    master, db = "", 0
    if rs.url.startswith(f"{SENTINEL_SCHEME}://"):
        sentinels, master, db = parse_sentinel_url(rs.url)
    # The dashboard's is built (redis-py imported) after its first frame: the first read
    # of the plan needs no Redis, and importing redis-py takes a tenth of a second or more.
    redis = (lazy_redis_client if lazy_redis else make_redis_client)(RedisClientConfig(
        url=rs.url,
        sentinels=sentinels,
        sentinel_master=master,
        db=db,
        username=rs.user,
        password=rs.password.reveal(),
        ca_file=rs.ca_file,
        max_connections=rs.max_connections,
        socket_timeout=rs.socket_timeout,
        socket_connect_timeout=rs.connect_timeout,
        pool_timeout=rs.socket_timeout,
        health_check_interval=int(rs.health_check_interval),
    ))
    cs = settings.cache
    l1: LocalCache[Any] = LocalCache(
        max_entries=cs.l1_max_entries,
        shards=cs.l1_shards,
        default_ttl=max(cs.l1_ttl, 0.001),
        negative_ttl=cs.negative_ttl or None,
        stale_ttl=cs.l2_ttl if cs.stale_while_revalidate else 0.0,
    )
    cache: TieredCache[Any] = TieredCache(
        l1, redis, breaker=registry.get("redis"), namespace=cache_namespace(settings),
        l2_ttl=max(cs.l2_ttl, 0.001), command_timeout=rs.socket_timeout,
    )
    metrics.track_cache(cache)
    rt = settings.retry
    retry = RetryPolicy(
        max_attempts=rt.max_attempts,
        initial_backoff_seconds=rt.initial_backoff,
        max_backoff_seconds=rt.max_backoff,
        deadline_seconds=rt.deadline,
    )
    return Runtime(
        settings=settings, client=client, breakers=registry, retry=retry, redis=redis,
        cache=cache, metrics=metrics, clock=clock or engine_clock(client),
        clock_offset=(lambda: None) if clock is not None else (lambda: client.clock_offset),
        clock_rate=(lambda: 1.0) if clock is not None else (lambda: client.clock_rate),
        engine_name=settings.engine or urlsplit(hwa.url).hostname or hwa.url,
    )


def cache_namespace(settings: Settings) -> str:
    """The cache's namespace: ``[cache] namespace``, then the engine's name when there are
    several (``resync:prod``), so two engines on one Redis never share an entry (the
    engine info, job details... have the same keys on every engine)."""
    namespace = settings.cache.namespace
    return f"{namespace}:{settings.engine}" if settings.engine else namespace


class _EngineLabelled:
    """Every engine's metrics under their own names, each sample with an ``engine``
    label: one /metrics for all engines, the names unchanged (a prometheus collector)."""

    def __init__(self, metrics: Mapping[str, ResilienceMetrics]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.metrics_core import Metric

        merged: dict[str, Metric] = {}
        for engine, metrics in self._metrics.items():
            for metric in metrics.registry.collect():
                out = merged.get(metric.name)
                if out is None:
                    out = merged[metric.name] = Metric(
                        metric.name, metric.documentation, metric.type, metric.unit)
                for sample in metric.samples:
                    out.add_sample(sample.name, {**sample.labels, "engine": engine},
                                   sample.value, sample.timestamp, sample.exemplar)
        yield from merged.values()


class EngineRuntimes(msgspec.Struct, eq=False):
    """One :class:`Runtime` per engine, in the settings' order, each with its own client,
    breakers, cache namespace and metrics. With the single-engine form ([hwa]) it holds
    one runtime, named by its host. ``aclose()`` closes them all."""

    runtimes: dict[str, Runtime]
    _combined: CollectorRegistry | None = None

    @property
    def metrics_registry(self) -> CollectorRegistry:
        """What /metrics serves: every engine's metrics (labelled ``engine`` when several;
        built on first use, as each engine's: ``resilience.metrics``)."""
        if len(self.runtimes) == 1:
            return next(iter(self.runtimes.values())).metrics.registry
        if self._combined is None:
            from prometheus_client import CollectorRegistry

            combined = CollectorRegistry()
            combined.register(_EngineLabelled(
                {name: rt.metrics for name, rt in self.runtimes.items()}))
            self._combined = combined
        return self._combined

    def materialize_metrics(self) -> None:
        """Every engine's metrics built now (the app, once its first frame is drawn)."""
        for runtime in self.runtimes.values():
            runtime.metrics.materialize()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.runtimes)

    def get(self, name: str) -> Runtime:
        """The runtime of engine ``name`` (``KeyError`` for an unknown name)."""
        return self.runtimes[name]

    def __len__(self) -> int:
        return len(self.runtimes)

    @classmethod
    def single(cls, runtime: Runtime) -> EngineRuntimes:
        """An already built runtime as the only engine (tests, the single-engine form)."""
        return cls({runtime.engine_name: runtime})

    async def aclose(self) -> None:
        for runtime in self.runtimes.values():
            await runtime.aclose()


def build_runtimes(settings: Settings, *, clock: Clock | None = None,
                   lazy_redis: bool = False) -> EngineRuntimes:
    """A runtime for every [engines.NAME] (no connection opened), or the one of [hwa]."""
    if not settings.engines:
        return EngineRuntimes.single(build_runtime(settings, clock=clock, lazy_redis=lazy_redis))
    runtimes = {name: build_runtime(settings.for_engine(name), clock=clock,
                                    lazy_redis=lazy_redis)
                for name in settings.engines}
    return EngineRuntimes(runtimes)


class FirstRead:
    """The jobs feed's first poll, started before the UI is imported (``resync-tui demo``).

    The first frame with data waited for the UI's imports (Textual, the panes: a few
    tenths of a second of one core) and then for the whole first read of the plan. Here
    the read starts on the event loop the app will run on, while :meth:`while_running`
    imports the UI in a thread: the engine answers, and the rows are built, meanwhile.
    The app takes it over (``ResyncApp(first_read=...)``): its jobs runner's first result
    is this poll's, its job view this one's. Nothing else is read before the app runs.
    Use it as a context manager: on exit the loop is closed (the runtimes too, when no
    app took them over).
    """

    def __init__(self, settings: Settings, *, clock_rate: float = 1.0) -> None:
        """``clock_rate``: how fast the engine's clock is known to run (``demo``'s
        simulator's time scale; ``HwaClient.expect_clock_rate``)."""
        from resync_tui.feeds.jobs import JobsFeed
        from resync_tui.model.jobs_view import JobsView

        self.engines = build_runtimes(settings, lazy_redis=True)  # Redis after the frame
        for runtime in self.engines.runtimes.values():
            runtime.client.expect_clock_rate(clock_rate)
        self.runtime = self.engines.get(self.engines.names[0] if not settings.engine
                                        else settings.engine)
        self.view: JobsView = JobsView(clock=self.runtime.clock)
        self.jobs: JobsFeed = JobsFeed(self.runtime, self.view)
        self.runner = asyncio.Runner()
        self.taken = False
        """An app runs on these runtimes (it closes them)."""
        self._first: asyncio.Task[JobsState] | None = None

    def __enter__(self) -> FirstRead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def while_running(self, work: Callable[[], T]) -> T:
        """Start the read, and run ``work`` (the imports) in a thread meanwhile."""
        if self._first is None:
            self._first = asyncio.get_running_loop().create_task(
                self.jobs.poll(), name="jobs:first-read")
        return await asyncio.to_thread(work)

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` on the read's event loop."""
        return self.runner.run(main)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The read's event loop: the app runs on it (``app.run(loop=...)``)."""
        return self.runner.get_loop()

    def feed(self) -> Feed[JobsState]:
        """The jobs feed for the app's runner: its first poll is the one started here."""
        self.taken = True
        return _StartedFeed(self.jobs, self._first)

    def close(self) -> None:
        if not self.taken:
            self.runner.run(self.engines.aclose())
        self.runner.close()  # cancels what is left (a read nobody took over)


class _StartedFeed:
    """A feed whose first poll was started already: it returns that one's result."""

    def __init__(self, feed: JobsFeed, first: asyncio.Task[JobsState] | None) -> None:
        self.name = feed.name
        self.inner = feed
        self._first = first

    async def poll(self) -> JobsState:
        first, self._first = self._first, None
        if first is not None:
            return await first
        return await self.inner.poll()

    def refresh(self) -> None:
        self.inner.refresh()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
