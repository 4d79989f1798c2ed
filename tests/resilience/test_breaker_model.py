"""The breaker against a slow, obviously-correct reference model (hypothesis, stateful).

Calls are driven by hand (coroutine.send/throw) so that many calls can be in
flight at once, interleaved with clock steps and operator overrides, without an
event loop. The model keeps every outcome with its timestamp and rescans them;
the breaker keeps running totals in buckets. They must agree after every step.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from resync_tui.resilience.breaker import (
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
)
from tests.resilience.helpers import Boom, ClientError, FakeClock

S = BreakerState


# ----------------------------------------------------------------- reference model


@dataclass
class Record:
    at: float
    failed: bool
    slow: bool


@dataclass
class Token:
    generation: int
    trial: bool
    start: float


class Rejected(Exception):
    def __init__(self, retry_in: float | None) -> None:
        self.retry_in = retry_in


class ModelBreaker:
    def __init__(self, cfg: BreakerConfig) -> None:
        self.cfg = cfg
        self.state = S.CLOSED
        self.records: list[Record] = []
        self.generation = 0
        self.opened_at = 0.0
        self.trials = 0
        self.trial_successes = 0
        self.not_permitted = 0
        self.successes = 0
        self.failures = 0
        self.cancelled = 0

    def window(self, now: float) -> list[Record]:
        b, n = self.cfg.bucket_seconds, self.cfg.bucket_count
        return [r for r in self.records if r.at // b > now // b - n]

    def transition(self, to: S) -> None:
        if to != self.state:
            self.state = to
            self.generation += 1
            self.trials = 0
            self.trial_successes = 0

    def open(self, now: float) -> None:
        self.opened_at = now
        self.transition(S.OPEN)

    def acquire(self, now: float) -> Token:
        if self.state == S.OPEN:
            left = self.opened_at + self.cfg.open_wait_seconds - now
            if left > 0:
                self.not_permitted += 1
                raise Rejected(left)
            self.transition(S.HALF_OPEN)
        if self.state == S.HALF_OPEN:
            if self.trials >= self.cfg.half_open_max_calls:
                self.not_permitted += 1
                raise Rejected(0.0)
            self.trials += 1
            return Token(self.generation, True, now)
        if self.state == S.FORCED_OPEN:
            self.not_permitted += 1
            raise Rejected(None)
        return Token(self.generation, False, now)

    def is_slow(self, token: Token, now: float) -> bool:
        limit = self.cfg.slow_call_seconds
        return limit is not None and now - token.start > limit

    def record(self, now: float, failed: bool, slow: bool) -> None:
        if self.state not in (S.CLOSED, S.METRICS_ONLY):
            return
        self.records.append(Record(now, failed, slow))
        if self.state != S.CLOSED:
            return
        w = self.window(now)
        calls = len(w)
        n_failed = sum(r.failed for r in w)
        n_slow = sum(r.slow for r in w)
        if calls < self.cfg.minimum_calls:
            return
        if 100.0 * n_failed / calls >= self.cfg.failure_rate_threshold or (
            self.cfg.slow_call_seconds is not None
            and 100.0 * n_slow / calls >= self.cfg.slow_call_rate_threshold
        ):
            self.open(now)

    def succeed(self, token: Token, now: float) -> None:
        self.successes += 1
        if token.generation != self.generation:
            return
        slow = self.is_slow(token, now)
        if token.trial:
            self.trials -= 1
            if slow:
                self.open(now)
                return
            self.trial_successes += 1
            if self.trial_successes >= self.cfg.success_threshold:
                self.records.clear()
                self.transition(S.CLOSED)
            return
        self.record(now, False, slow)

    def fail(self, token: Token, now: float) -> None:
        self.failures += 1
        if token.generation != self.generation:
            return
        if token.trial:
            self.trials -= 1
            self.open(now)
            return
        self.record(now, True, self.is_slow(token, now))

    def cancel(self, token: Token) -> None:
        self.cancelled += 1
        if token.trial and token.generation == self.generation:
            self.trials -= 1

    def reset(self) -> None:
        self.records.clear()
        self.not_permitted = 0
        if self.state == S.CLOSED:
            self.generation += 1
        else:
            self.transition(S.CLOSED)


# ------------------------------------------------------------ driving real calls


class Gate:
    """An awaitable that suspends once, then returns or raises what the test decides."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __await__(self) -> Generator[None, None, int]:
        yield
        if self.error is not None:
            raise self.error
        return 1


@dataclass
class Pending:
    coro: Coroutine[Any, Any, Any]
    gate: Gate
    token: Token


def start_call(breaker: CircuitBreaker, gate: Gate, via_guard: bool
               ) -> Coroutine[Any, Any, Any]:
    async def waiter() -> int:
        return await gate

    if via_guard:
        async def guarded() -> int:
            async with breaker.guard():
                return await gate
        return guarded()
    return breaker.call(waiter)


configs = st.builds(
    BreakerConfig,
    failure_rate_threshold=st.sampled_from([20.0, 50.0, 100.0]),
    window_seconds=st.sampled_from([5.0, 10.0, 12.0]),
    bucket_seconds=st.sampled_from([1.0, 2.5]),
    minimum_calls=st.integers(1, 5),
    slow_call_seconds=st.sampled_from([None, None, 2.0]),
    slow_call_rate_threshold=st.sampled_from([50.0, 100.0]),
    open_wait_seconds=st.sampled_from([0.0, 1.0, 5.0]),
    half_open_max_calls=st.integers(1, 3),
    success_threshold=st.integers(1, 3),
    record_exception=st.just(lambda exc: not isinstance(exc, ClientError)),
)


OUTCOMES = st.sampled_from(["fail", "ok", "client_error", "cancel"])


class BreakerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.pending: list[Pending] = []

    @initialize(cfg=configs)
    def make(self, cfg: BreakerConfig) -> None:
        self.breaker = CircuitBreaker("model", cfg, clock=self.clock)
        self.model = ModelBreaker(cfg)

    def start(self, via_guard: bool) -> Pending | None:
        """Start one call on both; None if both rejected it."""
        now = self.clock()
        try:
            token = self.model.acquire(now)
        except Rejected as rejected:
            token = None
            expected_retry_in = rejected.retry_in
        gate = Gate()
        coro = start_call(self.breaker, gate, via_guard)
        try:
            coro.send(None)
        except CircuitOpenError as err:
            assert token is None, "breaker rejected a call the model permits"
            if expected_retry_in is None:
                assert err.retry_in_seconds is None
            else:
                assert err.retry_in_seconds is not None
                assert math.isclose(err.retry_in_seconds, expected_retry_in, abs_tol=1e-9)
            return None
        assert token is not None, "breaker permitted a call the model rejects"
        return Pending(coro, gate, token)

    def end(self, call: Pending, outcome: str) -> None:
        """Finish a started call the same way on both."""
        now = self.clock()
        if outcome == "cancel":
            self.model.cancel(call.token)
            try:
                call.coro.throw(asyncio.CancelledError())
            except asyncio.CancelledError:
                return
            raise AssertionError("cancellation swallowed")
        if outcome == "ok":
            self.model.succeed(call.token, now)
        elif outcome == "client_error":
            call.gate.error = ClientError()
            self.model.succeed(call.token, now)
        else:
            call.gate.error = Boom()
            self.model.fail(call.token, now)
        try:
            call.coro.send(None)
        except StopIteration:
            assert outcome == "ok"
        except (Boom, ClientError):
            assert outcome in ("fail", "client_error")

    @rule(via_guard=st.booleans())
    def call(self, via_guard: bool) -> None:
        """Start a call and leave it in flight (concurrency, slow calls, stragglers)."""
        call = self.start(via_guard)
        if call is not None:
            self.pending.append(call)

    @rule(via_guard=st.booleans(), outcomes=st.lists(OUTCOMES, min_size=1, max_size=6))
    def calls_in_a_row(self, via_guard: bool, outcomes: list[str]) -> None:
        """Calls that start and finish at once: what makes the breaker open and half-open."""
        for outcome in outcomes:
            call = self.start(via_guard)
            if call is not None:
                self.end(call, outcome)

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), outcome=OUTCOMES)
    def finish(self, data: st.DataObject, outcome: str) -> None:
        index = data.draw(st.integers(0, len(self.pending) - 1))
        self.end(self.pending.pop(index), outcome)

    @rule(seconds=st.sampled_from([0.0, 0.4, 1.0, 2.1, 2.5, 4.9, 5.0, 7.3, 13.0]))
    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(action=st.sampled_from(["force_open", "disable", "metrics_only", "reset"]))
    def operator(self, action: str) -> None:
        getattr(self.breaker, action)()
        if action == "reset":
            self.model.reset()
        else:
            self.model.transition({"force_open": S.FORCED_OPEN, "disable": S.DISABLED,
                                   "metrics_only": S.METRICS_ONLY}[action])

    @invariant()
    def agrees_with_model(self) -> None:
        if not hasattr(self, "model"):
            return
        now = self.clock()
        snap = self.breaker.snapshot()
        window = self.model.window(now)
        assert snap.state == self.model.state
        assert snap.calls_in_window == len(window)
        assert snap.failed_calls_in_window == sum(r.failed for r in window)
        assert snap.slow_calls_in_window == sum(r.slow for r in window)
        assert snap.not_permitted_calls == self.model.not_permitted
        assert snap.successful_calls_total == self.model.successes
        assert snap.failed_calls_total == self.model.failures
        assert snap.cancelled_calls_total == self.model.cancelled
        assert snap.half_open_calls_in_flight == self.model.trials
        if self.model.state == S.OPEN:
            expected = max(0.0, self.model.opened_at + self.model.cfg.open_wait_seconds - now)
            assert snap.seconds_until_trial is not None
            assert math.isclose(snap.seconds_until_trial, expected, abs_tol=1e-9)
        elif self.model.state == S.HALF_OPEN:
            assert snap.seconds_until_trial == 0.0
        else:
            assert snap.seconds_until_trial is None

    def teardown(self) -> None:
        for call in self.pending:
            call.coro.close()


# Derandomized: CI runs the same 150 programs every time (a failure is reproducible, never
# flaky); no example database, so nothing is written into the checkout. About 2 s.
BreakerMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBreakerAgreesWithModel = BreakerMachine.TestCase
