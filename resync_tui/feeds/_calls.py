"""One helper: an HWA call through retry + breaker + timeout with the runtime's policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.errors import is_transient
from resync_tui.resilience.breaker import CircuitBreaker
from resync_tui.resilience.retry import RetryPolicy, call_resilient

T = TypeVar("T")


def _retry_after(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


_UNSET: float = -1.0


async def hwa_call(runtime: Runtime, fn: Callable[[], Awaitable[T]], *,
                   breaker: CircuitBreaker, operation: str,
                   attempt_timeout: float | None = _UNSET, retry: RetryPolicy | None = None,
                   idempotent: bool = True) -> T:
    """``retry(breaker(timeout(fn())))`` with the settings' deadline per attempt.

    ``attempt_timeout=None`` leaves the bound to the client (a whole-plan read has its own).
    ``idempotent=False`` (operator actions): one attempt, never retried.
    """
    return await call_resilient(
        fn,
        breaker=breaker,
        retry=retry or runtime.retry,
        timeout=(runtime.settings.hwa.call_deadline if attempt_timeout == _UNSET
                 else attempt_timeout),
        is_transient=is_transient,
        retry_after=_retry_after,
        metrics=runtime.metrics,
        operation=operation,
        idempotent=idempotent,
    )
