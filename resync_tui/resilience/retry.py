"""Retry policy and the one place where timeout, breaker and retry are layered.

The order is fixed (Polly, AWS, Google SRE): the timeout is innermost (it bounds
one attempt), the breaker wraps one attempt (so a timed-out attempt is a failure
it sees, and an open breaker rejects before any I/O), retry is outermost (it
never retries an open breaker, a cancellation or a non-transient error such as a
401). Backoff is capped exponential with full jitter, at most ``max_attempts``
attempts, all inside one overall ``deadline_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError

__all__ = ["RetryCounter", "RetryPolicy", "call_resilient"]

_log = logging.getLogger(__name__)

T = TypeVar("T")


class RetryCounter(Protocol):
    """What call_resilient needs from metrics (ResilienceMetrics provides it)."""

    def count_retry(self, operation: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry. Seconds everywhere."""

    max_attempts: int = 3
    initial_backoff_seconds: float = 0.2
    max_backoff_seconds: float = 5.0
    deadline_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff must be >= 0")
        if self.deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be > 0")


def _never_retry_after(exc: BaseException) -> float | None:
    return None


async def call_resilient(
    fn: Callable[[], Awaitable[T]],
    *,
    breaker: CircuitBreaker | None,
    retry: RetryPolicy,
    timeout: float | None,  # noqa: ASYNC109 - per attempt, applied inside the breaker
    is_transient: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None] | None = None,
    metrics: RetryCounter | None = None,
    operation: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``await fn()`` as ``retry(breaker(timeout(fn())))``.

    * ``timeout``: seconds for one attempt (None: no limit of its own); every
      attempt is also capped by what is left of ``retry.deadline_seconds``, so
      no call outlives the deadline. A timed-out attempt raises TimeoutError,
      which counts as a breaker failure and is retried while time remains.
    * ``is_transient(exc)``: whether an error is worth another attempt (5xx,
      connection reset: yes; 401, 404, validation: no). It is never asked about
      CircuitOpenError or cancellation: those are never retried.
    * ``retry_after(exc)``: server-requested wait (429 Retry-After), used instead
      of the jittered backoff; if it would end past the deadline, no retry.
    * ``operation``: label for logs and ``resync_retries_total`` (default: the
      breaker's name).
    """
    op = operation or (breaker.name if breaker is not None else "call")
    ask_retry_after = retry_after or _never_retry_after
    jitter = wait_random_exponential(multiplier=retry.initial_backoff_seconds,
                                     max=retry.max_backoff_seconds)
    deadline_at = time.monotonic() + retry.deadline_seconds

    def should_retry(exc: BaseException) -> bool:
        if not isinstance(exc, Exception) or isinstance(exc, CircuitOpenError):
            return False
        if isinstance(exc, TimeoutError):
            return True
        try:
            return bool(is_transient(exc))
        except Exception:
            _log.exception("is_transient predicate failed for %s", op)
            return False

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if exc is not None:
            try:
                requested = ask_retry_after(exc)
            except Exception:
                _log.exception("retry_after predicate failed for %s", op)
                requested = None
            if requested is not None and requested >= 0:
                return float(requested)
        return float(jitter(state))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        # Only the class name: messages may carry URLs with tokens.
        _log.warning("%s: attempt %d/%d failed (%s), retrying in %.2fs", op,
                     state.attempt_number, retry.max_attempts, type(exc).__name__,
                     state.upcoming_sleep)
        if metrics is not None:
            metrics.count_retry(op)

    async def one_attempt() -> T:
        # Never past the overall deadline, even without a per-attempt timeout.
        left = max(0.0, deadline_at - time.monotonic())
        per_try = left if timeout is None else min(timeout, left)
        if breaker is None:
            async with asyncio.timeout(per_try):
                return await fn()
        async with breaker.guard():
            async with asyncio.timeout(per_try):
                return await fn()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(retry.max_attempts) | stop_before_delay(retry.deadline_seconds),
        wait=wait,
        retry=retry_if_exception(should_retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    return await retrying(one_attempt)
