"""Resilience core: retry, circuit breakers, tiered cache, metrics. No UI, no HWA.

Layering of one call (see retry.call_resilient): retry( breaker( timeout( fn ) ) ).
"""

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
