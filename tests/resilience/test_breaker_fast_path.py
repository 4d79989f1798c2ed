"""The breaker's hot path (``with breaker.guard():`` in CLOSED) with the app's own settings.

The hot path counts successes in the window's current bucket only and derives the
cumulative figure from it, takes guards from a free list and skips work while the
window holds no failure: these tests pin what a user sees of that (the breaker opens
at the configured threshold, half-open probing, the scraped figures), not its speed.
"""

from __future__ import annotations

import asyncio

import pytest

from resync_tui.feeds.runtime import breaker_config, counts_as_failure
from resync_tui.resilience.breaker import BreakerState, CircuitBreaker, CircuitOpenError
from resync_tui.resilience.metrics import ResilienceMetrics
from resync_tui.settings import Settings
from tests.resilience.helpers import Boom, FakeClock

S = BreakerState


def app_breaker(clock: FakeClock) -> CircuitBreaker:
    """``hwa_job_status`` exactly as the app builds it (slow calls timed at 20 s)."""
    config = breaker_config(Settings().breakers["hwa_job_status"], record=counts_as_failure)
    assert config.slow_call_seconds == 20.0 and config.minimum_calls == 5
    return CircuitBreaker("hwa_job_status", config, clock=clock)


def timed_call(breaker: CircuitBreaker, clock: FakeClock, seconds: float) -> None:
    with breaker.guard():
        clock.advance(seconds)


def concurrent_calls(breaker: CircuitBreaker, clock: FakeClock, *seconds: float) -> None:
    """Calls that start together and end ``seconds`` later, shortest first (like the
    per-job status calls the app sends at once)."""
    guards = [breaker.guard() for _ in seconds]
    elapsed = 0.0
    for guard, duration in sorted(zip(guards, seconds, strict=True), key=lambda g: g[1]):
        clock.advance(duration - elapsed)
        elapsed = duration
        with guard:
            pass


def test_slow_calls_open_the_app_breaker_exactly_at_its_threshold(clock: FakeClock) -> None:
    breaker = app_breaker(clock)  # minimum 5 calls, slow-call rate 80 %
    concurrent_calls(breaker, clock, 1, 21, 21, 21)
    assert breaker.state is S.CLOSED  # 3 slow of 4: under the minimum number of calls
    clock.advance(120)  # those leave the window
    guards = [breaker.guard() for _ in range(10)]  # ten calls sent at once
    for guard in guards[:2]:
        with guard:
            pass  # two answer at once
    clock.advance(20.5)
    for done, guard in enumerate(guards[2:9], start=3):
        with guard:
            pass  # then the slow ones: 1 of 3, 2 of 4, ... 7 of 9 = 78 %
        assert breaker.state is S.CLOSED, done
    with guards[9]:
        pass  # 8 of 10 = 80 %
    snap = breaker.snapshot()
    assert snap.state is S.OPEN and snap.slow_call_rate == 80.0
    assert (snap.calls_in_window, snap.slow_calls_in_window) == (10, 8)
    with pytest.raises(CircuitOpenError):
        breaker.guard()


def test_a_call_of_exactly_the_slow_threshold_is_not_slow(clock: FakeClock) -> None:
    breaker = app_breaker(clock)
    concurrent_calls(breaker, clock, *[20.0] * 10)
    snap = breaker.snapshot()
    assert snap.state is S.CLOSED and snap.slow_calls_in_window == 0
    assert snap.calls_in_window == 10 and snap.successful_calls_total == 10


def test_one_failure_among_fast_successes_is_weighed_on_every_later_call(
        clock: FakeClock) -> None:
    breaker = app_breaker(clock)  # failure rate 50 %, minimum 5 calls
    for _ in range(2):
        with pytest.raises(Boom), breaker.guard():
            raise Boom()
    timed_call(breaker, clock, 0.01)
    timed_call(breaker, clock, 0.01)
    assert breaker.state is S.CLOSED  # 2 of 4: under the minimum
    with pytest.raises(Boom), breaker.guard():
        raise Boom()
    assert breaker.state is S.OPEN  # 3 of 5 = 60 %


def test_half_open_through_guard_admits_one_trial_and_a_success_closes(
        clock: FakeClock) -> None:
    breaker = app_breaker(clock)
    for _ in range(5):
        with pytest.raises(Boom), breaker.guard():
            raise Boom()
    assert breaker.state is S.OPEN
    clock.advance(breaker.config.open_wait_seconds)
    trial = breaker.guard()
    assert breaker.state is S.HALF_OPEN
    with pytest.raises(CircuitOpenError) as refused:
        breaker.guard()  # the one permit is out
    assert refused.value.retry_in_seconds == 0.0
    with trial:
        clock.advance(1)
    snap = breaker.snapshot()
    assert snap.state is S.CLOSED and snap.calls_in_window == 0  # a fresh window
    timed_call(breaker, clock, 1)
    assert breaker.snapshot().calls_in_window == 1


def test_a_slow_trial_reopens(clock: FakeClock) -> None:
    breaker = app_breaker(clock)
    concurrent_calls(breaker, clock, *[30.0] * 5)
    assert breaker.state is S.OPEN
    clock.advance(breaker.config.open_wait_seconds)
    timed_call(breaker, clock, 30)
    assert breaker.state is S.OPEN
    clock.advance(breaker.config.open_wait_seconds)
    timed_call(breaker, clock, 3)
    assert breaker.state is S.CLOSED


def test_scraped_success_count_is_exact_across_buckets_resets_and_closing(
        clock: FakeClock) -> None:
    metrics = ResilienceMetrics()
    breaker = app_breaker(clock)
    metrics.track_breaker(breaker)

    def scraped(outcome: str) -> float | None:
        return metrics.registry.get_sample_value(
            "resync_circuitbreaker_calls_total", {"name": "hwa_job_status", "outcome": outcome})

    made = 0
    for step in range(25):  # 0.4 s apart: successes land in several 1 s buckets
        timed_call(breaker, clock, 0.4)
        made += 1
        if step % 7 == 0:
            assert scraped("success") == made
    clock.advance(120)  # the whole window expires: the total must not
    assert scraped("success") == made
    breaker.reset()
    assert scraped("success") == made
    for _ in range(5):
        with pytest.raises(Boom), breaker.guard():
            raise Boom()
    clock.advance(breaker.config.open_wait_seconds)
    timed_call(breaker, clock, 1)  # the trial closes with a fresh window
    made += 1
    timed_call(breaker, clock, 1)
    made += 1
    assert scraped("success") == made
    assert scraped("failure") == 5
    assert metrics.registry.get_sample_value(
        "resync_circuitbreaker_window_calls", {"name": "hwa_job_status"}) == 1


async def test_async_with_guard_counts_like_the_plain_with(clock: FakeClock) -> None:
    breaker = app_breaker(clock)
    async with breaker.guard():
        clock.advance(25)
    with pytest.raises(Boom):
        async with breaker.guard():
            raise Boom()
    snap = breaker.snapshot()
    assert (snap.calls_in_window, snap.slow_calls_in_window, snap.failed_calls_in_window) == (
        2, 1, 1)
    assert snap.successful_calls_total == 1 and snap.failed_calls_total == 1


async def test_cancelled_call_under_guard_counts_as_nothing(clock: FakeClock) -> None:
    breaker = app_breaker(clock)

    async def hang() -> None:
        with breaker.guard():
            await asyncio.sleep(3600)

    task = asyncio.ensure_future(hang())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    snap = breaker.snapshot()
    assert snap.cancelled_calls_total == 1 and snap.calls_in_window == 0
    assert snap.successful_calls_total == 0
