"""Retry policy and the one place where timeout, breaker and retry are layered.

The order is fixed (Polly, AWS, Google SRE): the timeout is innermost (it bounds
one attempt), the breaker wraps one attempt (so a timed-out attempt is a failure
it sees, and an open breaker rejects before any I/O), retry is outermost (it
never retries an open breaker, a cancellation or a non-transient error such as a
401). Backoff is capped exponential with full jitter, at most ``max_attempts``
attempts, all inside one overall ``deadline_seconds``.

Deadline: each attempt gets ``min(attempt timeout, time left)``. An attempt that
would have less than ``min_attempt_seconds`` (or the attempt timeout, if that is
smaller) is not started: a squeezed last attempt would only time out, count as a
breaker failure and hide the real error. The previous failure is raised instead;
if not even the first attempt fits, :class:`DeadlineExceeded`. An attempt cut by
its timeout raises :class:`AttemptTimeout` naming the operation and the seconds,
and ``attempt_timed_out()`` tells code that reports the cancellation (the request
metrics) that it was a timeout, not a cancellation.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import msgspec
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError

__all__ = [
    "AttemptTimeout",
    "DeadlineExceeded",
    "RetryCounter",
    "RetryPolicy",
    "attempt_timed_out",
    "call_resilient",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")


# The timeout of the attempt running in this context (None outside call_resilient).
_ATTEMPT: contextvars.ContextVar[asyncio.Timeout | None] = contextvars.ContextVar(
    "resync_attempt_timeout", default=None)


def attempt_timed_out() -> bool:
    """Whether the call_resilient attempt running here has hit its timeout.

    True while the cancellation it caused unwinds: a hook that sees
    CancelledError (the HWA client's request metrics) can report ``timeout``.
    """
    cm = _ATTEMPT.get()
    return cm is not None and cm.expired()


class DeadlineExceeded(TimeoutError):
    """The overall deadline left no time for a first attempt of ``operation``."""

    def __init__(self, operation: str, deadline_seconds: float, needed_seconds: float) -> None:
        self.operation = operation
        self.deadline_seconds = deadline_seconds
        self.needed_seconds = needed_seconds
        super().__init__(f"{operation}: deadline of {deadline_seconds:g} s leaves no time for "
                         f"an attempt (needs {needed_seconds:g} s)")


class AttemptTimeout(TimeoutError):
    """Attempt ``attempt`` of ``operation`` was cut after ``seconds``."""

    def __init__(self, operation: str, seconds: float, attempt: int) -> None:
        self.operation = operation
        self.seconds = seconds
        self.attempt = attempt
        super().__init__(f"{operation}: attempt {attempt} timed out after {seconds:.3g} s")


class RetryCounter(Protocol):
    """What call_resilient needs from metrics (ResilienceMetrics provides it)."""

    def count_retry(self, operation: str) -> None: ...


class RetryPolicy(msgspec.Struct, frozen=True):
    """How often and how long to retry. Seconds everywhere.

    ``min_attempt_seconds``: an attempt is started only with at least this much
    time left before the deadline (or the attempt timeout, if smaller). 0.5 s is
    above a healthy engine's answer time and well under ``hwa.call_deadline``.
    """

    max_attempts: int = 3
    initial_backoff_seconds: float = 0.2
    max_backoff_seconds: float = 5.0
    deadline_seconds: float = 30.0
    min_attempt_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff must be >= 0")
        if self.deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be > 0")
        if self.min_attempt_seconds < 0:
            raise ValueError("min_attempt_seconds must be >= 0")


class _OutOfTime(stop_base):
    """No retry unless the next attempt, after its backoff, gets ``floor`` seconds."""

    def __init__(self, deadline_at: float, floor: float) -> None:
        self.deadline_at = deadline_at
        self.floor = floor

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.deadline_at - time.monotonic() - retry_state.upcoming_sleep < self.floor


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
    idempotent: bool = True,
) -> T:
    """Run ``await fn()`` as ``retry(breaker(timeout(fn())))``.

    * ``timeout``: seconds for one attempt (None: no limit of its own); every
      attempt is also capped by what is left of ``retry.deadline_seconds``, so
      no call outlives the deadline. A timed-out attempt raises AttemptTimeout
      (a TimeoutError), which counts as a breaker failure and is retried while
      time remains; an attempt with less than ``retry.min_attempt_seconds`` left
      is not started (the previous failure is raised, or DeadlineExceeded).
    * ``idempotent=False``: exactly one attempt, never retried whatever the error
      (an operator action such as a rerun must not run twice).
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
    floor = retry.min_attempt_seconds if timeout is None else min(retry.min_attempt_seconds,
                                                                   timeout)
    attempts = 0

    def should_retry(exc: BaseException) -> bool:
        if not isinstance(exc, Exception) or isinstance(exc, CircuitOpenError | DeadlineExceeded):
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

    async def timed_attempt(per_try: float, attempt: int) -> T:
        token = _ATTEMPT.set(None)
        try:
            cm = asyncio.timeout(per_try)
            try:
                async with cm:
                    _ATTEMPT.set(cm)
                    return await fn()
            except TimeoutError:
                if cm.expired():
                    raise AttemptTimeout(op, per_try, attempt) from None
                raise
        finally:
            _ATTEMPT.reset(token)

    async def one_attempt() -> T:
        nonlocal attempts
        attempts += 1
        # Never past the overall deadline, even without a per-attempt timeout.
        left = deadline_at - time.monotonic()
        if left < floor:  # only the first attempt gets here: out_of_time stops the others
            raise DeadlineExceeded(op, retry.deadline_seconds, floor)
        per_try = left if timeout is None else min(timeout, left)
        if breaker is None:
            return await timed_attempt(per_try, attempts)
        with breaker.guard():  # takes the permit; never suspends on its own
            return await timed_attempt(per_try, attempts)

    stop = stop_any(stop_after_attempt(retry.max_attempts if idempotent else 1),
                    stop_before_delay(retry.deadline_seconds),
                    _OutOfTime(deadline_at, floor))
    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(should_retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    return await retrying(one_attempt)
