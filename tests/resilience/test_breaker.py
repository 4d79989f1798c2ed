"""Circuit breaker: every transition, the half-open gate, cancellation, overrides."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from types import FrameType
from typing import Any

import pytest

from resync_tui.resilience.breaker import (
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    BreakerTransition,
    CircuitBreaker,
    CircuitOpenError,
)
from tests.resilience.helpers import Boom, ClientError, FakeClock, state_of

S = BreakerState


async def ok() -> str:
    return "ok"


async def boom() -> None:
    raise Boom("down")


async def fail_times(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            await breaker.call(boom)


async def succeed_times(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        assert await breaker.call(ok) == "ok"


def make(clock: FakeClock, **overrides: object) -> CircuitBreaker:
    cfg = {"minimum_calls": 4, "window_seconds": 10, "open_wait_seconds": 5, **overrides}
    return CircuitBreaker("hwa_api", BreakerConfig(**cfg), clock=clock)  # type: ignore[arg-type]


async def open_breaker(breaker: CircuitBreaker) -> None:
    await fail_times(breaker, breaker.config.minimum_calls)
    assert state_of(breaker) is S.OPEN


async def test_stays_closed_until_minimum_calls_then_opens_at_threshold(clock: FakeClock) -> None:
    breaker = make(clock, minimum_calls=10)
    await fail_times(breaker, 9)
    assert state_of(breaker) is S.CLOSED  # 100 % failures, but only 9 calls
    await fail_times(breaker, 1)
    assert state_of(breaker) is S.OPEN
    snap = breaker.snapshot()
    assert (snap.calls_in_window, snap.failed_calls_in_window, snap.failure_rate) == (10, 10, 100.0)


async def test_opens_on_failure_rate_not_on_consecutive_failures(clock: FakeClock) -> None:
    breaker = make(clock, minimum_calls=10, failure_rate_threshold=50.0)
    for _ in range(4):  # alternate: never two failures in a row, 40 % after 10 calls
        await succeed_times(breaker, 1)
        await fail_times(breaker, 1)
    await succeed_times(breaker, 2)
    assert state_of(breaker) is S.CLOSED
    assert breaker.snapshot().failure_rate == 40.0
    await fail_times(breaker, 2)  # 6 of 12 = 50 %
    assert state_of(breaker) is S.OPEN


async def test_failures_leave_the_window_as_time_passes(clock: FakeClock) -> None:
    breaker = make(clock, minimum_calls=4, window_seconds=10)
    await fail_times(breaker, 3)
    clock.advance(10.0)
    assert breaker.snapshot().calls_in_window == 0  # the old system never forgot a failure
    await fail_times(breaker, 3)
    assert state_of(breaker) is S.CLOSED
    await succeed_times(breaker, 1)
    assert breaker.snapshot().failed_calls_in_window == 3


async def test_open_breaker_rejects_without_calling(clock: FakeClock) -> None:
    breaker = make(clock)
    await open_breaker(breaker)
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1

    clock.advance(2.0)
    with pytest.raises(CircuitOpenError) as err:
        await breaker.call(counted)
    with pytest.raises(CircuitOpenError):
        async with breaker.guard():
            calls += 1
    assert calls == 0
    assert err.value.name == "hwa_api"
    assert err.value.retry_in_seconds == pytest.approx(3.0)
    snap = breaker.snapshot()
    assert snap.not_permitted_calls == 2
    assert snap.seconds_until_trial == pytest.approx(3.0)


async def test_after_open_wait_one_trial_success_closes_with_fresh_window(clock: FakeClock) -> None:
    breaker = make(clock)
    await open_breaker(breaker)
    clock.advance(5.0)
    assert await breaker.call(ok) == "ok"
    assert state_of(breaker) is S.CLOSED
    snap = breaker.snapshot()
    assert snap.calls_in_window == 0
    assert [(t.from_state, t.to_state) for t in snap.history] == [
        (S.CLOSED, S.OPEN), (S.OPEN, S.HALF_OPEN), (S.HALF_OPEN, S.CLOSED)]


async def test_trial_failure_reopens_and_restarts_the_wait(clock: FakeClock) -> None:
    breaker = make(clock)
    await open_breaker(breaker)
    clock.advance(6.0)
    await fail_times(breaker, 1)
    assert state_of(breaker) is S.OPEN
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as err:
        await breaker.call(ok)
    assert err.value.retry_in_seconds == pytest.approx(1.0)


async def test_success_threshold_needs_that_many_trial_successes(clock: FakeClock) -> None:
    breaker = make(clock, success_threshold=3)
    await open_breaker(breaker)
    clock.advance(5.0)
    await succeed_times(breaker, 2)
    assert state_of(breaker) is S.HALF_OPEN
    await succeed_times(breaker, 1)
    assert state_of(breaker) is S.CLOSED


async def test_half_open_admits_exactly_max_calls_of_100_concurrent(clock: FakeClock) -> None:
    breaker = make(clock, half_open_max_calls=3, success_threshold=3)
    await open_breaker(breaker)
    clock.advance(5.0)
    release = asyncio.Event()
    ran = 0

    async def trial() -> str:
        nonlocal ran
        ran += 1
        await release.wait()
        return "ok"

    tasks = [asyncio.create_task(breaker.call(trial)) for _ in range(100)]
    await asyncio.sleep(0)  # every task runs up to its first await
    rejected = [t for t in tasks if t.done()]
    assert ran == 3
    assert len(rejected) == 97  # rejected at once, not after the trials finish
    assert all(isinstance(t.exception(), CircuitOpenError) for t in rejected)
    assert breaker.snapshot().not_permitted_calls == 97
    release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert results.count("ok") == 3
    assert state_of(breaker) is S.CLOSED


async def test_cancelled_trial_gives_its_permit_back_and_counts_as_nothing(
        clock: FakeClock) -> None:
    breaker = make(clock)
    await open_breaker(breaker)
    clock.advance(5.0)
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    trial = asyncio.create_task(breaker.call(hang))
    await asyncio.wait_for(started.wait(), 5)
    with pytest.raises(CircuitOpenError):  # the permit is taken
        await breaker.call(ok)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert state_of(breaker) is S.HALF_OPEN  # not closed (no success), not reopened (no failure)
    snap = breaker.snapshot()
    assert snap.half_open_calls_in_flight == 0
    assert snap.cancelled_calls_total == 1
    assert await breaker.call(ok) == "ok"  # the permit came back
    assert state_of(breaker) is S.CLOSED


async def test_cancelled_call_in_closed_state_is_not_recorded(clock: FakeClock) -> None:
    breaker = make(clock)
    task = asyncio.create_task(breaker.call(asyncio.sleep, 10))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    snap = breaker.snapshot()
    assert (snap.calls_in_window, snap.successful_calls_total, snap.cancelled_calls_total) == (
        0, 0, 1)


async def test_excluded_exceptions_do_not_count_as_failures(clock: FakeClock) -> None:
    breaker = make(clock, record_exception=lambda e: not isinstance(e, ClientError))

    async def unauthorized() -> None:
        raise ClientError("401")

    for _ in range(20):
        with pytest.raises(ClientError):
            await breaker.call(unauthorized)
    snap = breaker.snapshot()
    assert state_of(breaker) is S.CLOSED
    assert snap.failed_calls_in_window == 0
    assert snap.failure_rate == 0.0


async def test_excluded_exception_in_a_trial_closes_the_breaker(clock: FakeClock) -> None:
    breaker = make(clock, record_exception=lambda e: not isinstance(e, ClientError))
    await open_breaker(breaker)
    clock.advance(5.0)
    with pytest.raises(ClientError):
        async with breaker.guard():
            raise ClientError("404: the service answered")
    assert state_of(breaker) is S.CLOSED


async def test_slow_calls_open_the_breaker(clock: FakeClock) -> None:
    breaker = make(clock, slow_call_seconds=1.0, slow_call_rate_threshold=50.0)
    for _ in range(4):
        async with breaker.guard():
            clock.advance(1.5)  # a successful but slow call
    assert state_of(breaker) is S.OPEN
    assert breaker.snapshot().slow_call_rate == 100.0


async def test_force_open_rejects_everything_until_reset(clock: FakeClock) -> None:
    breaker = make(clock)
    breaker.force_open()
    clock.advance(3600)
    with pytest.raises(CircuitOpenError) as err:
        await breaker.call(ok)
    assert err.value.retry_in_seconds is None
    assert state_of(breaker) is S.FORCED_OPEN
    breaker.reset()
    assert state_of(breaker) is S.CLOSED
    assert await breaker.call(ok) == "ok"
    assert breaker.snapshot().not_permitted_calls == 0


async def test_disabled_lets_failures_through_and_records_nothing(clock: FakeClock) -> None:
    breaker = make(clock)
    breaker.disable()
    await fail_times(breaker, 50)
    assert state_of(breaker) is S.DISABLED
    assert breaker.snapshot().calls_in_window == 0
    breaker.reset()
    assert state_of(breaker) is S.CLOSED


async def test_metrics_only_records_but_never_opens(clock: FakeClock) -> None:
    breaker = make(clock)
    breaker.metrics_only()
    await fail_times(breaker, 20)
    snap = breaker.snapshot()
    assert snap.state is S.METRICS_ONLY
    assert snap.failure_rate == 100.0


async def test_a_call_started_before_a_transition_does_not_count_after_it(
        clock: FakeClock) -> None:
    breaker = make(clock)
    release = asyncio.Event()

    async def slow_fail() -> None:
        await release.wait()
        raise Boom()

    straggler = asyncio.create_task(breaker.call(slow_fail))
    await asyncio.sleep(0)
    await open_breaker(breaker)
    clock.advance(5.0)
    await breaker.call(ok)  # trial closes it
    release.set()
    with pytest.raises(Boom):
        await straggler
    assert state_of(breaker) is S.CLOSED
    assert breaker.snapshot().failed_calls_in_window == 0


async def test_listeners_get_each_transition_and_a_failing_listener_is_contained(
        clock: FakeClock) -> None:
    seen: list[BreakerTransition] = []

    def broken(_: BreakerTransition) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker("redis", BreakerConfig(minimum_calls=1), clock=clock,
                             wall_clock=lambda: 1_700_000_000.0)
    breaker.add_listener(broken)
    breaker.add_listener(seen.append)
    await fail_times(breaker, 1)
    assert seen == [BreakerTransition("redis", S.CLOSED, S.OPEN, 1_700_000_000.0)]
    assert breaker.snapshot().last_transition == seen[0]


async def test_history_is_bounded(clock: FakeClock) -> None:
    breaker = make(clock, history_size=3)
    for _ in range(5):
        breaker.force_open()
        breaker.reset()
    assert len(breaker.snapshot().history) == 3


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        BreakerConfig(failure_rate_threshold=0)
    with pytest.raises(ValueError):
        BreakerConfig(window_seconds=1, bucket_seconds=2)
    with pytest.raises(ValueError):
        BreakerConfig(half_open_max_calls=0)


async def test_registry_shares_breakers_and_listeners(clock: FakeClock) -> None:
    registry = BreakerRegistry(BreakerConfig(minimum_calls=1), clock=clock)
    seen: list[str] = []
    registry.add_listener(lambda t: seen.append(f"{t.name}:{t.to_state.value}"))
    for name in ("hwa_api", "hwa_job_status", "redis"):
        registry.get(name)
    assert registry.get("redis") is registry.get("redis")
    assert len(registry) == 3 and "hwa_api" in registry
    await fail_times(registry.get("hwa_job_status"), 1)
    assert seen == ["hwa_job_status:open"]
    assert {s.name: s.state for s in registry.snapshots()}["hwa_job_status"] is S.OPEN


async def test_guard_takes_the_permit_when_called(clock: FakeClock) -> None:
    """guard() is the permit: an open breaker refuses there, before any block runs."""
    breaker = make(clock)
    kept = breaker.guard()  # taken while CLOSED
    await open_breaker(breaker)
    with pytest.raises(CircuitOpenError):
        breaker.guard()
    assert breaker.snapshot().not_permitted_calls == 1
    before = breaker.snapshot()
    with kept:  # a permit of the old state: its outcome does not count in the new one
        pass
    snap = breaker.snapshot()
    assert snap.state is S.OPEN and snap.calls_in_window == before.calls_in_window
    assert snap.successful_calls_total == before.successful_calls_total + 1


async def test_a_guard_left_twice_raises_and_counts_once(clock: FakeClock) -> None:
    breaker = make(clock)
    guard = breaker.guard()
    with guard:
        pass
    with pytest.raises(RuntimeError), guard:
        pass
    assert breaker.snapshot().successful_calls_total == 1
    # The free list was not corrupted: two guards taken now are two objects.
    assert breaker.guard() is not breaker.guard()


def test_a_snapshot_from_another_thread_never_sees_a_half_updated_window() -> None:
    """The metrics thread may read while the loop is mid-update: every line of the
    window's updates is a point where a thread switch can happen, so the test stops
    the loop at each of them (a trace hook) and takes a snapshot from another thread."""
    now = [0.0]
    breaker = CircuitBreaker("hwa_api", BreakerConfig(window_seconds=4, bucket_seconds=1,
                                                      minimum_calls=10**9),
                             clock=lambda: now[0])
    seen: list[tuple[int, int]] = []
    readers: list[threading.Thread] = []
    updates = {"_advance", "_advance_locked", "_record", "_clear_window"}

    def read() -> None:
        snap = breaker.snapshot()
        seen.append((snap.calls_in_window, snap.failed_calls_in_window))

    def on_line(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            reader.join(0.01)  # the preempted loop gives the reader a moment
            readers.append(reader)
        return on_line

    def on_call(frame: FrameType, event: str, arg: object) -> Any:
        return on_line if frame.f_code.co_name in updates else None

    async def ok() -> None:
        return None

    async def fail() -> None:
        raise Boom()

    async def record() -> None:
        for i in range(24):  # alternate failure/success, 4 calls per bucket
            now[0] += 0.25
            if i % 2:
                await breaker.call(ok)
            else:
                with contextlib.suppress(Boom):
                    await breaker.call(fail)

    sys.settrace(on_call)
    try:
        asyncio.run(record())
    finally:
        sys.settrace(None)
    for reader in readers:
        reader.join(5)
    assert readers and not any(r.is_alive() for r in readers)
    assert len(seen) == len(readers)
    # Calls alternate failure/success, so any consistent window holds as many of each
    # (+-1) and no more than 5 buckets of 4 calls.
    assert [(c, f) for c, f in seen if not (0 <= f <= c <= 20 and abs(c - 2 * f) <= 1)] == []
