"""Resilience core: retry, circuit breakers, tiered cache, metrics. No UI, no HWA.

Layering of one call (see retry.call_resilient): retry( breaker( timeout( fn ) ) ).
Its names are imported on first use (PEP 562): ``resync_tui.resilience.redis_pool``
alone, which the settings need, must not pull the metrics and the cache in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resync_tui.resilience.breaker import (
        BreakerConfig,
        BreakerRegistry,
        BreakerSnapshot,
        BreakerState,
        BreakerTransition,
        CircuitBreaker,
        CircuitOpenError,
    )
    from resync_tui.resilience.cache import CacheStats, LocalCache, Lookup
    from resync_tui.resilience.codec import Codec, CodecError, CodecVersionError, MsgpackCodec
    from resync_tui.resilience.metrics import ResilienceMetrics, start_metrics_server
    from resync_tui.resilience.redis_pool import RedisClientConfig, make_redis_client, redact_url
    from resync_tui.resilience.retry import (
        AttemptTimeout,
        DeadlineExceeded,
        RetryCounter,
        RetryPolicy,
        attempt_timed_out,
        call_resilient,
    )
    from resync_tui.resilience.tiered import TieredCache, TieredCacheStats

__all__ = [
    "AttemptTimeout",
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerTransition",
    "CacheStats",
    "CircuitBreaker",
    "CircuitOpenError",
    "Codec",
    "CodecError",
    "CodecVersionError",
    "DeadlineExceeded",
    "LocalCache",
    "Lookup",
    "MsgpackCodec",
    "RedisClientConfig",
    "ResilienceMetrics",
    "RetryCounter",
    "RetryPolicy",
    "TieredCache",
    "TieredCacheStats",
    "attempt_timed_out",
    "call_resilient",
    "make_redis_client",
    "redact_url",
    "start_metrics_server",
]

_HOME = {
    "BreakerConfig": "breaker",
    "BreakerRegistry": "breaker",
    "BreakerSnapshot": "breaker",
    "BreakerState": "breaker",
    "BreakerTransition": "breaker",
    "CircuitBreaker": "breaker",
    "CircuitOpenError": "breaker",
    "CacheStats": "cache",
    "LocalCache": "cache",
    "Lookup": "cache",
    "Codec": "codec",
    "CodecError": "codec",
    "CodecVersionError": "codec",
    "MsgpackCodec": "codec",
    "ResilienceMetrics": "metrics",
    "start_metrics_server": "metrics",
    "RedisClientConfig": "redis_pool",
    "make_redis_client": "redis_pool",
    "redact_url": "redis_pool",
    "AttemptTimeout": "retry",
    "DeadlineExceeded": "retry",
    "RetryCounter": "retry",
    "RetryPolicy": "retry",
    "attempt_timed_out": "retry",
    "call_resilient": "retry",
    "TieredCache": "tiered",
    "TieredCacheStats": "tiered",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
