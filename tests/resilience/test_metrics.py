"""Prometheus figures after a scripted scenario, read back from the registry."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from resync_tui.redis_server import free_port
from resync_tui.resilience.breaker import BreakerConfig, BreakerRegistry, CircuitOpenError
from resync_tui.resilience.cache import LocalCache
from resync_tui.resilience.metrics import ResilienceMetrics, start_metrics_server
from resync_tui.resilience.retry import RetryPolicy, call_resilient
from tests.resilience.helpers import Boom, FakeClock


async def ok() -> int:
    return 1


async def boom() -> int:
    raise Boom()


async def no_sleep(_: float) -> None:
    return None


async def test_breaker_cache_retry_and_request_metrics(clock: FakeClock) -> None:
    metrics = ResilienceMetrics()
    breakers = BreakerRegistry(BreakerConfig(minimum_calls=4, failure_rate_threshold=50),
                               clock=clock)
    metrics.track_breakers(breakers)
    api = breakers.get("hwa_api")
    breakers.get("redis")  # created after tracking began: still exported
    cache: LocalCache[int] = LocalCache(max_entries=2, shards=1, clock=clock)
    metrics.track_cache(cache)

    await api.call(ok)
    await api.call(ok)
    for _ in range(2):  # 50 % of 4 calls: opens
        with pytest.raises(Boom):
            await api.call(boom)
    with pytest.raises(CircuitOpenError):
        await api.call(ok)
    for key in ("a", "b", "c"):
        cache.set(key, 1)  # "a" evicted
    cache.get_nowait("c")
    cache.get_nowait("a")
    await call_resilient(Flaky(), breaker=None, retry=RetryPolicy(), timeout=1,
                         is_transient=lambda e: True, metrics=metrics, operation="plan",
                         sleep=no_sleep)
    metrics.observe_request("/twsd/v2/plan/{planId}/job/query", 0.120, "ok")
    metrics.observe_request("/twsd/v2/plan/{planId}/job/query", 3.5, "error")

    value = metrics.registry.get_sample_value
    assert value("resync_circuitbreaker_state", {"name": "hwa_api", "state": "open"}) == 1
    assert value("resync_circuitbreaker_state", {"name": "hwa_api", "state": "closed"}) == 0
    assert value("resync_circuitbreaker_state", {"name": "redis", "state": "closed"}) == 1
    calls = "resync_circuitbreaker_calls_total"
    assert value(calls, {"name": "hwa_api", "outcome": "success"}) == 2
    assert value(calls, {"name": "hwa_api", "outcome": "failure"}) == 2
    assert value("resync_circuitbreaker_not_permitted_calls_total", {"name": "hwa_api"}) == 1
    assert value("resync_circuitbreaker_failure_rate", {"name": "hwa_api"}) == 0.5
    assert value("resync_cache_hits_total", {"level": "l1"}) == 1
    assert value("resync_cache_misses_total", {"level": "l1"}) == 1
    assert value("resync_cache_evictions_total", {"level": "l1"}) == 1
    assert value("resync_cache_size", {"level": "l1"}) == 2
    assert value("resync_retries_total", {"operation": "plan"}) == 1
    endpoint = {"endpoint": "/twsd/v2/plan/{planId}/job/query"}
    assert value("resync_request_duration_seconds_count", endpoint) == 2
    assert value("resync_request_duration_seconds_bucket", {**endpoint, "le": "0.25"}) == 1
    assert value("resync_requests_total", {**endpoint, "outcome": "error"}) == 1


async def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = ResilienceMetrics(), ResilienceMetrics()
    first.count_retry("x")
    assert second.registry.get_sample_value("resync_retries_total", {"operation": "x"}) is None
    shared = CollectorRegistry()
    assert ResilienceMetrics(shared).registry is shared


async def test_metrics_server_serves_the_registry() -> None:
    metrics = ResilienceMetrics()
    metrics.count_retry("plan")
    port = free_port()
    server, thread = start_metrics_server(port, metrics.registry)
    try:
        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return str(r.read().decode())

        body = await asyncio.wait_for(asyncio.to_thread(scrape), 10)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert 'resync_retries_total{operation="plan"} 1.0' in body


class Flaky:
    """Fails once, then succeeds."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise Boom()
        return 1


def _requests(registry: CollectorRegistry, endpoint: str, outcome: str) -> float | None:
    return registry.get_sample_value("resync_requests_total",
                                     {"endpoint": endpoint, "outcome": outcome})


def test_what_is_recorded_before_the_registry_is_built_is_all_counted() -> None:
    """The registry (prometheus_client's import) is built on first need: the requests,
    retries and actions of the first read, before it, are counted then, none lost."""
    metrics = ResilienceMetrics()
    for seconds in (0.01, 0.02, 0.3):
        metrics.observe_request("GET /plan/job", seconds, "ok")
    metrics.observe_request("GET /plan/job", 0.5, "http_503")
    metrics.count_retry("plan")
    metrics.count_action("hold", "done")
    registry = metrics.registry
    assert _requests(registry, "GET /plan/job", "ok") == 3
    assert _requests(registry, "GET /plan/job", "http_503") == 1
    assert registry.get_sample_value("resync_request_duration_seconds_count",
                                     {"endpoint": "GET /plan/job"}) == 4
    assert registry.get_sample_value("resync_request_duration_seconds_sum",
                                     {"endpoint": "GET /plan/job"}) == pytest.approx(0.83)
    assert registry.get_sample_value("resync_retries_total", {"operation": "plan"}) == 1
    assert registry.get_sample_value("resync_actions_total",
                                     {"action": "hold", "outcome": "done"}) == 1
    metrics.observe_request("GET /plan/job", 0.01, "ok")  # and after it, as before
    assert _requests(metrics.registry, "GET /plan/job", "ok") == 4


def test_a_process_that_never_reads_its_metrics_keeps_a_bounded_backlog() -> None:
    """No scrape, no first frame: past the backlog's limit the registry is built, and
    every request is still counted."""
    from resync_tui.resilience.metrics import _PENDING_MAX

    metrics = ResilienceMetrics()
    for _ in range(3 * _PENDING_MAX):
        metrics.observe_request("GET /plan/job", 0.01, "ok")
        assert len(metrics._pending) <= _PENDING_MAX
    assert _requests(metrics.registry, "GET /plan/job", "ok") == 3 * _PENDING_MAX
