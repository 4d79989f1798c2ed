"""Prometheus metrics for breakers, retries, caches and HWA requests.

Everything lives on one ``CollectorRegistry`` passed in (a new one by default,
so each test reads its own). Breaker and cache figures are read from their
snapshots at scrape time by custom collectors: the hot paths pay nothing.
Names: prefix ``resync_``, base units, ``_total`` counters, bounded labels
(an endpoint *template*, never a job id). Rates are ratios in [0, 1].

prometheus_client (with the HTTP server and exposition modules its package loads: a
dashboard's start pays ~8 ms for them) is imported when the metrics are first needed:
``registry`` read (a scrape, a test), :meth:`ResilienceMetrics.materialize` (the app
calls it after its first frame) or the ``_PENDING_MAX``-th event recorded before
either. Until then the events are kept and then counted in order: nothing is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol

from resync_tui.resilience.breaker import BreakerRegistry, BreakerState, CircuitBreaker
from resync_tui.resilience.cache import CacheStats, LocalCache
from resync_tui.resilience.retry import attempt_timed_out
from resync_tui.resilience.tiered import TieredCache

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

__all__ = ["ResilienceMetrics", "start_metrics_server"]

_PENDING_MAX: Final = 512
"""Events recorded before the registry exists; one more builds it (a process that never
reads its metrics still keeps only this many)."""

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

StatsSource = Callable[[], Iterable[CacheStats]]


class _BreakerCollector:
    """The breakers' figures, read from their snapshots at each scrape (a prometheus
    collector: what ``CollectorRegistry.register`` takes has a ``collect``)."""

    def __init__(self) -> None:
        self.breakers: dict[str, CircuitBreaker] = {}
        self.registries: list[BreakerRegistry] = []

    def _all(self) -> Iterator[CircuitBreaker]:
        seen: set[str] = set()
        for registry in self.registries:
            for breaker in registry:
                seen.add(breaker.name)
                yield breaker
        for name, breaker in self.breakers.items():
            if name not in seen:
                yield breaker

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        state = GaugeMetricFamily("resync_circuitbreaker_state",
                                  "1 for the breaker's current state, 0 for the others",
                                  labels=["name", "state"])
        calls = CounterMetricFamily("resync_circuitbreaker_calls",
                                    "Calls that ran under the breaker, by outcome",
                                    labels=["name", "outcome"])
        rejected = CounterMetricFamily("resync_circuitbreaker_not_permitted_calls",
                                       "Calls rejected without running", labels=["name"])
        failure_rate = GaugeMetricFamily("resync_circuitbreaker_failure_rate",
                                         "Failed / all calls in the rolling window (ratio)",
                                         labels=["name"])
        slow_rate = GaugeMetricFamily("resync_circuitbreaker_slow_call_rate",
                                      "Slow / all calls in the rolling window (ratio)",
                                      labels=["name"])
        window = GaugeMetricFamily("resync_circuitbreaker_window_calls",
                                   "Calls in the rolling window", labels=["name"])
        for breaker in self._all():
            snap = breaker.snapshot()
            for s in BreakerState:
                state.add_metric([snap.name, s.value], 1.0 if snap.state is s else 0.0)
            calls.add_metric([snap.name, "success"], snap.successful_calls_total)
            calls.add_metric([snap.name, "failure"], snap.failed_calls_total)
            calls.add_metric([snap.name, "cancelled"], snap.cancelled_calls_total)
            rejected.add_metric([snap.name], snap.not_permitted_calls)
            failure_rate.add_metric([snap.name], snap.failure_rate / 100.0)
            slow_rate.add_metric([snap.name], snap.slow_call_rate / 100.0)
            window.add_metric([snap.name], snap.calls_in_window)
        yield from (state, calls, rejected, failure_rate, slow_rate, window)


class _CacheCollector:
    """The caches' figures, read from their stats at each scrape."""

    def __init__(self) -> None:
        self.sources: list[StatsSource] = []

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        fams = {
            "hits": CounterMetricFamily("resync_cache_hits", "Cache hits", labels=["level"]),
            "misses": CounterMetricFamily("resync_cache_misses", "Cache misses",
                                          labels=["level"]),
            "stale_hits": CounterMetricFamily("resync_cache_stale_hits",
                                              "Stale values served while refreshing",
                                              labels=["level"]),
            "loads": CounterMetricFamily("resync_cache_loads", "Loader calls", labels=["level"]),
            "load_failures": CounterMetricFamily("resync_cache_load_failures",
                                                 "Loader calls that raised", labels=["level"]),
            "evictions": CounterMetricFamily("resync_cache_evictions",
                                             "Entries evicted for space", labels=["level"]),
            "expirations": CounterMetricFamily("resync_cache_expirations",
                                               "Entries dropped after their TTL",
                                               labels=["level"]),
            "errors": CounterMetricFamily("resync_cache_errors",
                                          "Backend (Redis) failures", labels=["level"]),
            "rejected": CounterMetricFamily("resync_cache_rejected",
                                            "Backend commands skipped: breaker open",
                                            labels=["level"]),
            "decode_errors": CounterMetricFamily("resync_cache_decode_errors",
                                                 "Backend entries the codec could not read",
                                                 labels=["level"]),
            "writes_dropped": CounterMetricFamily("resync_cache_writes_dropped",
                                                  "Write-behind writes never sent (queue "
                                                  "full, breaker open, closing)",
                                                  labels=["level"]),
        }
        size = GaugeMetricFamily("resync_cache_size", "Entries held", labels=["level"])
        in_flight = GaugeMetricFamily("resync_cache_loads_in_flight", "Loads running",
                                      labels=["level"])
        pending = GaugeMetricFamily("resync_cache_writes_pending",
                                    "Write-behind writes queued or being sent", labels=["level"])
        for source in self.sources:
            for st in source():
                for attr, fam in fams.items():
                    fam.add_metric([st.level], getattr(st, attr))
                if st.size is not None:
                    size.add_metric([st.level], st.size)
                in_flight.add_metric([st.level], st.loads_in_flight)
                pending.add_metric([st.level], st.writes_pending)
        yield from fams.values()
        yield size
        yield in_flight
        yield pending


class AuditCounters(Protocol):
    """What the audit metrics read from an audit log (``audit.AuditLog`` has both)."""

    spool_records: int
    write_failures: int


class _AuditCollector:
    """The audit logs' spool depth and write failures, read at each scrape."""

    def __init__(self) -> None:
        self.logs: list[AuditCounters] = []

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        spooled = GaugeMetricFamily("resync_audit_spool_records",
                                    "Audit records in the local spool, not yet in Redis")
        failures = CounterMetricFamily("resync_audit_write_failures",
                                       "Audit spool or Redis writes that failed")
        if self.logs:
            spooled.add_metric([], sum(log.spool_records for log in self.logs))
            failures.add_metric([], sum(log.write_failures for log in self.logs))
        yield spooled
        yield failures


class ResilienceMetrics:
    """The app's metrics. ``registry`` is the one to scrape or to read in tests (given:
    built on it now; else a new one, built on first need: see the module's doc)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._registry: CollectorRegistry | None = None
        self._pending: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        """Events recorded before the registry was built (method, arguments)."""
        # Labelled children bound once per label set: a label look-up parses and
        # validates its labels, too much for every HWA request.
        self._retry_children: dict[str, Any] = {}
        self._duration_children: dict[str, Any] = {}
        self._request_children: dict[tuple[str, str], Any] = {}
        self._breakers = _BreakerCollector()
        self._caches = _CacheCollector()
        self._audit = _AuditCollector()
        if registry is not None:
            self._build(registry)

    @property
    def registry(self) -> CollectorRegistry:
        self.materialize()
        assert self._registry is not None
        return self._registry

    def materialize(self) -> None:
        """Build the registry and its metrics now (once), counting what was recorded."""
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            self._build(CollectorRegistry())

    def _build(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Histogram

        self.retries = Counter("resync_retries", "Retries after a transient failure",
                               ["operation"], registry=registry)
        self.request_duration = Histogram("resync_request_duration_seconds",
                                          "HWA request duration by endpoint template",
                                          ["endpoint"], buckets=_REQUEST_BUCKETS,
                                          registry=registry)
        self.requests = Counter("resync_requests", "HWA requests by endpoint template and outcome",
                                ["endpoint", "outcome"], registry=registry)
        self.actions = Counter("resync_actions", "Operator actions by action and outcome "
                               "(done, refused, unknown, not_sent)", ["action", "outcome"],
                               registry=registry)
        registry.register(self._breakers)
        registry.register(self._caches)
        registry.register(self._audit)
        self._registry = registry
        pending, self._pending = self._pending, []
        for record, args in pending:
            record(*args)

    def _defer(self, record: Callable[..., None], *args: Any) -> bool:
        """Keep an event for the registry to come (True), or build it at the limit."""
        if self._registry is not None:
            return False
        if len(self._pending) >= _PENDING_MAX:
            self.materialize()
            return False
        self._pending.append((record, args))
        return True

    def track_breaker(self, breaker: CircuitBreaker) -> None:
        self._breakers.breakers[breaker.name] = breaker

    def track_breakers(self, registry: BreakerRegistry) -> None:
        """All breakers of ``registry``, including ones created later."""
        self._breakers.registries.append(registry)

    def track_cache(self, cache: LocalCache[Any] | TieredCache[Any]) -> None:
        """Export the stats of a cache (both levels of a TieredCache) at each scrape."""
        if isinstance(cache, TieredCache):
            tiered = cache
            self._caches.sources.append(lambda: tiered.stats().levels)
        else:
            local = cache
            self._caches.sources.append(lambda: (local.stats(),))

    def track_cache_stats(self, source: StatsSource) -> None:
        """Export stats from any callable returning CacheStats (one per level)."""
        self._caches.sources.append(source)

    def count_action(self, action: str, outcome: str) -> None:
        """One operator action attempt (``resync_actions_total{action,outcome}``)."""
        if self._defer(self.count_action, action, outcome):
            return
        self.actions.labels(action=action, outcome=outcome).inc()

    def track_audit(self, log: AuditCounters) -> None:
        """Export an audit log's spool depth and write failures at each scrape."""
        self._audit.logs.append(log)

    def count_retry(self, operation: str) -> None:
        child = self._retry_children.get(operation)
        if child is None and self._defer(self.count_retry, operation):
            return
        if child is None:
            child = self._retry_children[operation] = self.retries.labels(operation=operation)
        child.inc()

    def observe_request(self, endpoint: str, seconds: float, outcome: str) -> None:
        """Matches the HWA client's ``on_request(endpoint_template, seconds, outcome)`` hook.

        A request cancelled because its call_resilient attempt timed out is a
        ``timeout``, not a ``cancelled`` (which stays for real cancellations).
        """
        if outcome == "cancelled" and attempt_timed_out():
            outcome = "timeout"
        if self._registry is None and self._defer(self.observe_request, endpoint, seconds,
                                                  outcome):
            return
        duration = self._duration_children.get(endpoint)
        if duration is None:
            duration = self._duration_children[endpoint] = self.request_duration.labels(
                endpoint=endpoint)
        duration.observe(seconds)
        key = (endpoint, outcome)
        requests = self._request_children.get(key)
        if requests is None:
            requests = self._request_children[key] = self.requests.labels(
                endpoint=endpoint, outcome=outcome)
        requests.inc()


def start_metrics_server(port: int, registry: CollectorRegistry, addr: str = "127.0.0.1"
                         ) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` for ``--metrics-port`` (loopback by default); returns (server,
    thread): ``server.shutdown()`` stops it."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr=addr, registry=registry)
