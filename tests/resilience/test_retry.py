"""call_resilient: what is retried, how long it waits, and the layering."""

from __future__ import annotations

import asyncio
import logging

import pytest

from resync_tui.resilience.breaker import (
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
)
from resync_tui.resilience.metrics import ResilienceMetrics
from resync_tui.resilience.retry import (
    AttemptTimeout,
    DeadlineExceeded,
    RetryPolicy,
    call_resilient,
)
from tests.resilience.helpers import FakeClock, state_of


class HttpError(Exception):
    """Shaped like the HWA client's errors: status, transient flag, Retry-After."""

    def __init__(self, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} token=s3cr3t")
        self.status = status
        self.transient = status >= 500 or status == 429
        self.retry_after = retry_after


def is_transient(exc: BaseException) -> bool:
    return getattr(exc, "transient", False)


def retry_after(exc: BaseException) -> float | None:
    return getattr(exc, "retry_after", None)


class Script:
    """Raises the scripted errors in order, then returns 'ok'; counts attempts."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


POLICY = RetryPolicy(max_attempts=3, initial_backoff_seconds=0.1, max_backoff_seconds=1.0,
                     deadline_seconds=30.0)


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("hwa_api", BreakerConfig(minimum_calls=100), clock=clock)


async def run(fn: Script, breaker: CircuitBreaker | None, sleeps: Sleeps,
              metrics: ResilienceMetrics | None = None, policy: RetryPolicy = POLICY,
              attempt_timeout: float | None = 5.0) -> str:
    return await call_resilient(fn, breaker=breaker, retry=policy, timeout=attempt_timeout,
                                is_transient=is_transient, retry_after=retry_after,
                                metrics=metrics, operation="plan", sleep=sleeps)


async def test_non_transient_401_is_not_retried(breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(HttpError(401)), Sleeps()
    with pytest.raises(HttpError) as err:
        await run(fn, breaker, sleeps)
    assert err.value.status == 401
    assert fn.attempts == 1 and sleeps.waits == []


async def test_5xx_is_retried_up_to_max_attempts_with_capped_jittered_backoff(
        breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(*(HttpError(503) for _ in range(5))), Sleeps()
    metrics = ResilienceMetrics()
    with pytest.raises(HttpError):
        await run(fn, breaker, sleeps, metrics)
    assert fn.attempts == 3
    assert len(sleeps.waits) == 2
    assert all(0 <= w <= 1.0 for w in sleeps.waits)
    assert metrics.registry.get_sample_value("resync_retries_total", {"operation": "plan"}) == 2
    assert breaker.snapshot().failed_calls_in_window == 3  # each attempt went through it


async def test_transient_failure_then_success_returns_the_value(breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(HttpError(502)), Sleeps()
    assert await run(fn, breaker, sleeps) == "ok"
    assert fn.attempts == 2


async def test_open_breaker_is_not_retried(breaker: CircuitBreaker) -> None:
    breaker.force_open()
    fn, sleeps = Script(), Sleeps()
    with pytest.raises(CircuitOpenError):
        await run(fn, breaker, sleeps)
    assert fn.attempts == 0 and sleeps.waits == []


async def test_breaker_opening_midway_stops_the_retries(clock: FakeClock) -> None:
    breaker = CircuitBreaker("hwa_api", BreakerConfig(minimum_calls=1), clock=clock)
    fn, sleeps = Script(HttpError(500), HttpError(500)), Sleeps()
    with pytest.raises(CircuitOpenError):
        await run(fn, breaker, sleeps)
    assert fn.attempts == 1
    assert state_of(breaker) is BreakerState.OPEN


async def test_retry_after_is_honoured(breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(HttpError(429, retry_after=7.0)), Sleeps()
    assert await run(fn, breaker, sleeps) == "ok"
    assert sleeps.waits == [7.0]


async def test_retry_after_past_the_deadline_gives_up_at_once(breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(HttpError(429, retry_after=60.0)), Sleeps()
    with pytest.raises(HttpError):
        await run(fn, breaker, sleeps)
    assert fn.attempts == 1 and sleeps.waits == []


async def test_attempt_timeout_is_a_retried_breaker_failure(breaker: CircuitBreaker) -> None:
    attempts = 0

    async def hangs_once() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await asyncio.Event().wait()
        return "ok"

    result = await call_resilient(hangs_once, breaker=breaker, retry=POLICY, timeout=0.01,
                                  is_transient=is_transient, sleep=Sleeps())
    assert result == "ok" and attempts == 2
    snap = breaker.snapshot()
    assert (snap.failed_calls_in_window, snap.successful_calls_total) == (1, 1)


async def test_cancellation_is_never_retried(breaker: CircuitBreaker) -> None:
    started = asyncio.Event()
    attempts = 0

    async def hang() -> str:
        nonlocal attempts
        attempts += 1
        started.set()
        await asyncio.Event().wait()
        return "never"

    task = asyncio.create_task(call_resilient(hang, breaker=breaker, retry=POLICY, timeout=None,
                                              is_transient=lambda e: True, sleep=Sleeps()))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert attempts == 1
    assert breaker.snapshot().cancelled_calls_total == 1


async def test_retry_log_names_the_error_class_but_not_its_message(
        breaker: CircuitBreaker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="resync_tui.resilience.retry")
    await run(Script(HttpError(500)), breaker, Sleeps())
    assert "HttpError" in caplog.text
    assert "s3cr3t" not in caplog.text


async def test_without_a_breaker_retry_still_works() -> None:
    fn, sleeps = Script(HttpError(500)), Sleeps()
    assert await run(fn, None, sleeps) == "ok"


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


async def test_the_overall_deadline_bounds_an_attempt_without_its_own_timeout(
        breaker: CircuitBreaker) -> None:
    attempts = 0

    async def hangs() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.Event().wait()
        return "never"

    policy = RetryPolicy(max_attempts=3, initial_backoff_seconds=0, deadline_seconds=0.05,
                         min_attempt_seconds=0.01)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            call_resilient(hangs, breaker=breaker, retry=policy, timeout=None,
                           is_transient=is_transient, sleep=Sleeps()), 5)
    snap = breaker.snapshot()
    assert attempts >= 1  # each attempt timed out (a failure), none was cut by wait_for
    assert (snap.failed_calls_in_window, snap.cancelled_calls_total) == (attempts, 0)


async def test_backoff_is_capped_at_max_backoff(breaker: CircuitBreaker) -> None:
    fn, sleeps = Script(*(HttpError(503) for _ in range(7))), Sleeps()
    policy = RetryPolicy(max_attempts=8, initial_backoff_seconds=1.0, max_backoff_seconds=0.5,
                         deadline_seconds=30.0)
    assert await run(fn, breaker, sleeps, policy=policy) == "ok"
    assert len(sleeps.waits) == 7
    assert all(0 <= w <= 0.5 for w in sleeps.waits)


async def test_an_attempt_never_outlives_the_overall_deadline(breaker: CircuitBreaker) -> None:
    """deadline 1 s, attempt timeout 60 s, a call that never answers."""
    attempts = 0

    async def hangs() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.Event().wait()
        return "never"

    loop = asyncio.get_running_loop()
    started = loop.time()
    policy = RetryPolicy(max_attempts=3, initial_backoff_seconds=0, deadline_seconds=1.0)
    with pytest.raises(AttemptTimeout) as err:
        await asyncio.wait_for(call_resilient(hangs, breaker=breaker, retry=policy, timeout=60,
                                              is_transient=is_transient, operation="plan",
                                              sleep=Sleeps()), 10)
    assert loop.time() - started < 3  # a correctness bound (never 60 s), not a speed test
    assert attempts == 1  # nothing left for a second attempt: not squeezed in
    assert (err.value.operation, err.value.attempt) == ("plan", 1)
    assert "plan" in str(err.value) and "timed out after 1 s" in str(err.value)
    assert breaker.snapshot().failed_calls_in_window == 1


async def test_a_retry_with_too_little_time_left_is_not_started(breaker: CircuitBreaker) -> None:
    """After a 0.6 s timeout only 0.4 s of a 1 s deadline is left, under the 0.5 s floor:
    the first failure is raised rather than a squeezed attempt counted as a failure."""
    fn = Script()
    attempts = 0

    async def slow_then_ok() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await asyncio.Event().wait()
        return await fn()

    policy = RetryPolicy(max_attempts=3, initial_backoff_seconds=0, deadline_seconds=1.0,
                         min_attempt_seconds=0.5)
    with pytest.raises(AttemptTimeout) as err:
        await asyncio.wait_for(call_resilient(slow_then_ok, breaker=breaker, retry=policy,
                                              timeout=0.6, is_transient=is_transient,
                                              operation="plan", sleep=Sleeps()), 10)
    assert attempts == 1 and err.value.attempt == 1
    assert breaker.snapshot().failed_calls_in_window == 1


async def test_no_time_for_a_first_attempt_is_a_clear_deadline_exceeded(
        breaker: CircuitBreaker) -> None:
    fn = Script()
    policy = RetryPolicy(deadline_seconds=0.2, min_attempt_seconds=0.5)
    with pytest.raises(DeadlineExceeded) as err:
        await call_resilient(fn, breaker=breaker, retry=policy, timeout=5,
                             is_transient=is_transient, operation="plan", sleep=Sleeps())
    assert isinstance(err.value, TimeoutError) and err.value.operation == "plan"
    assert "plan" in str(err.value)
    assert fn.attempts == 0
    assert breaker.snapshot().failed_calls_in_window == 0


async def test_a_non_idempotent_call_is_attempted_exactly_once(breaker: CircuitBreaker) -> None:
    metrics = ResilienceMetrics()
    for error in (HttpError(503), HttpError(429, retry_after=0.1), TimeoutError()):
        fn, sleeps = Script(error), Sleeps()
        with pytest.raises(type(error)):
            await call_resilient(fn, breaker=breaker, retry=POLICY, timeout=5,
                                 is_transient=is_transient, retry_after=retry_after,
                                 metrics=metrics, operation="rerun", sleep=sleeps,
                                 idempotent=False)
        assert fn.attempts == 1 and sleeps.waits == []
    assert metrics.registry.get_sample_value("resync_retries_total",
                                             {"operation": "rerun"}) is None


async def test_a_request_cut_by_the_attempt_timeout_is_a_timeout_in_the_request_metrics(
        breaker: CircuitBreaker) -> None:
    """The HWA client reports a cancelled request as "cancelled"; when the cancellation
    is call_resilient's attempt timeout, the metrics record "timeout"."""
    metrics = ResilienceMetrics()
    cancelled = asyncio.Event()

    async def request(seconds: float) -> str:  # shaped like HwaClient._exchange's reporting
        try:
            await asyncio.sleep(seconds)
            return "ok"
        except asyncio.CancelledError:
            metrics.observe_request("/plan/job", seconds, "cancelled")
            cancelled.set()
            raise

    policy = RetryPolicy(max_attempts=1, deadline_seconds=5)
    with pytest.raises(AttemptTimeout):
        await call_resilient(lambda: request(60), breaker=breaker, retry=policy, timeout=0.05,
                             is_transient=is_transient, sleep=Sleeps())
    task = asyncio.create_task(request(60))  # a real cancellation stays "cancelled"
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    value = metrics.registry.get_sample_value
    assert value("resync_requests_total", {"endpoint": "/plan/job", "outcome": "timeout"}) == 1
    assert value("resync_requests_total", {"endpoint": "/plan/job", "outcome": "cancelled"}) == 1
