"""Circuit breaker with a rolling time window and a real half-open gate.

Why not a library: the Python breakers count consecutive failures, let every
concurrent caller through while half-open, or count a cancelled call as a
success (see docs/ANCHORS). This one keeps Resilience4j's semantics:

* CLOSED: every call runs; outcomes land in a rolling window of ``window_seconds``
  made of ``bucket_seconds`` buckets (running totals, buckets expire lazily, so a
  call and a snapshot are O(1)). Once ``minimum_calls`` are in the window and the
  failure rate (or slow-call rate) reaches its threshold, the breaker opens.
* OPEN: calls are rejected with :class:`CircuitOpenError` without running, until
  ``open_wait_seconds`` have passed; the next caller then turns it HALF_OPEN.
* HALF_OPEN: at most ``half_open_max_calls`` trial calls run at once, everyone
  else is rejected at once. One failed (or slow) trial reopens; ``success_threshold``
  successful trials close it with a fresh window.
* FORCED_OPEN rejects everything, DISABLED lets everything through and records
  nothing, METRICS_ONLY records but never changes state. ``reset()`` goes back
  to CLOSED.

Exceptions for which ``record_exception`` is false (a 4xx: the service answered)
count as successes. ``asyncio.CancelledError`` (any BaseException that is not an
Exception) counts as nothing and gives back a half-open permit. A call started
before a state change does not count towards the new state (each change starts a
new generation); it still shows in the cumulative call counters.

Calls run on one event loop; ``snapshot()`` may also run on another thread (the
metrics server). A lock guards every multi-field update of the window (moving to
a new bucket, recording a failure, clearing) and the snapshot's read of it, so a
snapshot never sees a half-moved window (negative or doubled counts). The hot
success path takes no lock: it bumps one counter, a step that is consistent on
its own, and moves the window (under the lock) once per bucket.

The hot path (``with breaker.guard():`` in CLOSED, with or without slow-call timing;
``async with`` works too) allocates nothing of its own: ``guard()`` takes the permit
with a guard from a per-breaker free list (sequential calls reuse one spare guard held
in a slot: no list method call), entering is a C call (for ``async with``
it returns one shared, already-done awaitable: no coroutine objects), leaving is a
plain function that CPython inlines (each guard has a class of its own whose
``__exit__`` is a closure over it, see ``_new_guard``: no bound method), and a call
reads the clock once before (only when slow calls are timed) and once after, each a
slot read then a call (``self._clock()`` would be a method look-up that CPython 3.11
cannot specialise: about 10% of the guard's cost). A plain
success bumps one counter; the cumulative success count is derived from the window's
buckets when they move, and everything is read at scrape time (``snapshot()``).
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, TypeVarTuple, cast

import msgspec

__all__ = [
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerTransition",
    "CircuitBreaker",
    "CircuitOpenError",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    FORCED_OPEN = "forced_open"
    DISABLED = "disabled"
    METRICS_ONLY = "metrics_only"


_CLOSED: Final = BreakerState.CLOSED
_OPEN: Final = BreakerState.OPEN
_HALF_OPEN: Final = BreakerState.HALF_OPEN
_FORCED_OPEN: Final = BreakerState.FORCED_OPEN
_DISABLED: Final = BreakerState.DISABLED
_METRICS_ONLY: Final = BreakerState.METRICS_ONLY


def _count_every_exception(exc: BaseException) -> bool:
    return True


_EXHAUSTED: Final[Iterator[None]] = iter(())


class _Done:
    """An awaitable that is already done: ``await`` gives None without suspending.

    ``__await__`` hands back one shared, exhausted iterator (a C call, no Python
    frame): one object serves every guard's enter and exit, so the async context
    protocol costs no coroutine object per call.
    """

    __slots__ = ()
    __await__ = staticmethod(_EXHAUSTED.__iter__)


_DONE: Final = cast(Awaitable[None], _Done())

# No-argument C callables for the guard's __enter__/__aenter__: entering costs no
# Python frame (guard() has already taken the permit). The sync one is ``clear`` of a
# list no one else holds (always empty): a builtin method returning None, called
# straight through CPython's no-argument path, cheaper than a method-wrapper.
_enter_sync: Final[Callable[[], None]] = [].clear
_enter_async: Final[Callable[[], Awaitable[None]]] = itertools.repeat(_DONE).__next__

#: A guard's generation once it has been left (no breaker generation is negative).
_LEFT: Final = -2

#: Guards kept on a breaker's free list (more only after a burst of concurrent calls:
#: the extra ones are dropped when the window moves to its next bucket).
_POOL_MAX: Final = 64


class BreakerConfig(msgspec.Struct, frozen=True):
    """Plain data: how a breaker decides. Rates are percentages (0-100)."""

    failure_rate_threshold: float = 50.0
    window_seconds: float = 60.0
    bucket_seconds: float = 1.0
    minimum_calls: int = 10
    slow_call_seconds: float | None = None
    slow_call_rate_threshold: float = 100.0
    open_wait_seconds: float = 15.0
    half_open_max_calls: int = 1
    success_threshold: int = 1
    record_exception: Callable[[BaseException], bool] = _count_every_exception
    history_size: int = 50

    def __post_init__(self) -> None:
        if not 0.0 < self.failure_rate_threshold <= 100.0:
            raise ValueError("failure_rate_threshold must be in (0, 100]")
        if not 0.0 < self.slow_call_rate_threshold <= 100.0:
            raise ValueError("slow_call_rate_threshold must be in (0, 100]")
        if self.bucket_seconds <= 0 or self.window_seconds < self.bucket_seconds:
            raise ValueError("need 0 < bucket_seconds <= window_seconds")
        if self.minimum_calls < 1 or self.half_open_max_calls < 1 or self.success_threshold < 1:
            raise ValueError("minimum_calls, half_open_max_calls, success_threshold must be >= 1")
        if self.open_wait_seconds < 0:
            raise ValueError("open_wait_seconds must be >= 0")
        if self.slow_call_seconds is not None and self.slow_call_seconds <= 0:
            raise ValueError("slow_call_seconds must be > 0 or None")

    @property
    def bucket_count(self) -> int:
        return max(1, math.ceil(self.window_seconds / self.bucket_seconds - 1e-9))


class BreakerTransition(msgspec.Struct, frozen=True):
    """One state change; ``at`` is wall-clock (epoch seconds) for display."""

    name: str
    from_state: BreakerState
    to_state: BreakerState
    at: float


class BreakerSnapshot(msgspec.Struct, frozen=True):
    """What the breaker pane and the metrics read. Rates are percentages."""

    name: str
    state: BreakerState
    failure_rate: float
    slow_call_rate: float
    calls_in_window: int
    failed_calls_in_window: int
    slow_calls_in_window: int
    not_permitted_calls: int
    seconds_until_trial: float | None
    last_transition: BreakerTransition | None
    history: tuple[BreakerTransition, ...]
    successful_calls_total: int = 0
    failed_calls_total: int = 0
    cancelled_calls_total: int = 0
    half_open_calls_in_flight: int = 0
    config: BreakerConfig = msgspec.field(default_factory=BreakerConfig)


class CircuitOpenError(Exception):
    """The breaker rejected the call without running it.

    ``retry_in_seconds`` is when a trial call will be let through: 0.0 when a
    half-open trial is already running, None when forced open.
    """

    def __init__(self, name: str, retry_in_seconds: float | None) -> None:
        self.name = name
        self.retry_in_seconds = retry_in_seconds
        detail = "forced open" if retry_in_seconds is None else f"retry in {retry_in_seconds:.1f}s"
        super().__init__(f"circuit {name!r} is open ({detail})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.retry_in_seconds))


Listener = Callable[[BreakerTransition], None]


class CircuitBreaker:
    """A named breaker; see the module docstring for the semantics."""

    __slots__ = (
        "__weakref__", "_bucket_end", "_bucket_s", "_clock", "_closed_gen", "_cur_calls",
        "_cur_counted", "_cur_failed", "_cur_slow", "_epoch", "_fail_pct", "_fast_end",
        "_generation", "_history", "_listeners", "_lock", "_min_calls", "_n_buckets",
        "_n_cancelled", "_n_failure", "_n_fast", "_n_not_permitted", "_n_success", "_opened_at",
        "_pool", "_prev_calls", "_record_exception", "_ring_calls", "_ring_failed",
        "_ring_slow", "_slow_limit", "_slow_pct", "_slow_s", "_spare", "_state", "_total_failed",
        "_total_slow", "_trial_successes", "_trials_in_flight", "_wall_clock", "config", "name",
    )

    def __init__(
        self,
        name: str,
        config: BreakerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = cfg = config if config is not None else BreakerConfig()
        self._clock = clock
        self._wall_clock = wall_clock
        self._listeners: list[Listener] = []
        self._history: deque[BreakerTransition] = deque(maxlen=cfg.history_size)
        self._lock = threading.Lock()  # window updates vs. snapshots from other threads
        # Hot-path copies of the config.
        self._record_exception = cfg.record_exception
        self._slow_s = cfg.slow_call_seconds
        self._slow_limit = math.inf if cfg.slow_call_seconds is None else cfg.slow_call_seconds
        self._min_calls = cfg.minimum_calls
        self._fail_pct = cfg.failure_rate_threshold
        self._slow_pct = cfg.slow_call_rate_threshold
        self._bucket_s = cfg.bucket_seconds
        self._n_buckets = n = cfg.bucket_count
        # Rolling window: ring of finished buckets + the current bucket held in scalars.
        self._ring_calls = [0] * n
        self._ring_failed = [0] * n
        self._ring_slow = [0] * n
        self._epoch = -math.inf  # bucket number (now // bucket_s) of the current bucket
        self._bucket_end = -math.inf  # when the current bucket ends
        # _bucket_end while the window holds no failed or slow call, else -inf: the
        # guard's exit needs one compare to know that a success is only a counter bump.
        self._fast_end = -math.inf
        self._cur_calls = 0
        # Calls of the current bucket whose outcome was also counted in _n_success or
        # _n_failure (the others are the hot path's successes, counted only here).
        self._cur_counted = 0
        self._cur_failed = 0
        self._cur_slow = 0
        self._prev_calls = 0  # calls in the window's finished buckets; + _cur_calls = all
        self._total_failed = 0
        self._total_slow = 0
        # State machine.
        self._state = _CLOSED
        self._generation = 0
        self._closed_gen = 0  # the generation while CLOSED, else -1: one compare per call
        self._opened_at = 0.0
        self._trials_in_flight = 0
        self._trial_successes = 0
        # Cumulative counters (metrics).
        self._n_success = 0
        self._n_fast = 0  # hot-path successes of finished buckets (see _cur_counted)
        self._n_failure = 0
        self._n_cancelled = 0
        self._n_not_permitted = 0
        # Free list of guards: a call takes one and gives it back on exit.
        self._pool: list[_Guard] = []
        # The free guard of sequential calls, held apart from the list: taking it and
        # giving it back are two slot writes, not two list method calls.
        self._spare: _Guard | None = None

    # ------------------------------------------------------------------ public

    @property
    def state(self) -> BreakerState:
        return self._state

    def rejects_now(self) -> bool:
        """Whether a call started now would be rejected without running.

        No side effect (unlike a call, it never turns OPEN into HALF_OPEN): for
        work that may be skipped cheaply, such as a write-behind cache write.
        """
        state = self._state
        if state is _OPEN:
            return self._opened_at + self.config.open_wait_seconds > self._clock()
        if state is _HALF_OPEN:
            return self._trials_in_flight >= self.config.half_open_max_calls
        return state is _FORCED_OPEN

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(transition)`` after every state change (errors are logged)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    async def call(self, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> T:
        """Run ``await fn(*args)`` under the breaker (use functools.partial for kwargs)."""
        generation = self._closed_gen
        if generation >= 0:
            clock = self._clock  # a slot read and a call (see guard())
            start = clock() if self._slow_s is not None else 0.0
            try:
                result = await fn(*args)
            except BaseException as exc:
                self._finish_error(generation, False, start, exc)
                raise
            if generation == self._closed_gen:  # still the CLOSED state it started in
                self._closed_success(start, clock())
            else:
                self._n_success += 1
            return result
        generation, trial, start = self._acquire()
        try:
            result = await fn(*args)
        except BaseException as exc:
            self._finish_error(generation, trial, start, exc)
            raise
        self._finish_success(generation, trial, start)
        return result

    def guard(self) -> _Guard:
        """``with breaker.guard(): ...`` (or ``async with``) runs the block under the breaker.

        ``guard()`` takes the permit (an open breaker raises CircuitOpenError here), so
        enter it at once. Entering and leaving do no I/O and never suspend: inside a
        coroutine the plain ``with`` is the same and cheaper. A guard serves one block:
        it goes back to the breaker's free list on exit; leaving it twice raises
        RuntimeError.
        """
        guard = self._spare
        if guard is not None:
            self._spare = None
        else:
            try:
                guard = self._pool.pop()
            except IndexError:
                guard = _new_guard(self)
        generation = self._closed_gen
        if generation >= 0:  # CLOSED; _trial is False on every pooled guard
            guard._generation = generation
            if self._slow_s is not None:
                clock = self._clock  # a slot read, then a call: `self._clock()` is a
                guard._start = clock()  # method look-up CPython 3.11 cannot specialise
            return guard
        try:
            guard._generation, guard._trial, guard._start = self._acquire()
        except BaseException:
            guard._trial = False
            self._pool.append(guard)
            raise
        return guard

    def force_open(self) -> None:
        """Reject every call until reset() (operator override)."""
        self._transition(_FORCED_OPEN)

    def disable(self) -> None:
        """Let every call through and record nothing until reset()."""
        self._transition(_DISABLED)

    def metrics_only(self) -> None:
        """Record outcomes but never change state until reset()."""
        self._transition(_METRICS_ONLY)

    def reset(self) -> None:
        """Back to CLOSED with an empty window and zeroed rejection counter."""
        self._clear_window()
        self._n_not_permitted = 0
        if self._state is _CLOSED:
            self._generation += 1
            self._closed_gen = self._generation
        else:
            self._transition(_CLOSED)

    def snapshot(self) -> BreakerSnapshot:
        """Read-only (safe from the metrics server's thread): expiry is computed, not applied."""
        now = self._clock()
        with self._lock:
            calls, failed, slow = self._window_totals(now)
            successes = self._n_success + self._n_fast + self._cur_calls - self._cur_counted
        state = self._state
        until: float | None = None
        if state is _OPEN:
            until = max(0.0, self._opened_at + self.config.open_wait_seconds - now)
        elif state is _HALF_OPEN:
            until = 0.0
        history = tuple(self._history)
        return BreakerSnapshot(
            name=self.name,
            state=state,
            failure_rate=100.0 * failed / calls if calls else 0.0,
            slow_call_rate=100.0 * slow / calls if calls else 0.0,
            calls_in_window=calls,
            failed_calls_in_window=failed,
            slow_calls_in_window=slow,
            not_permitted_calls=self._n_not_permitted,
            seconds_until_trial=until,
            last_transition=history[-1] if history else None,
            history=history,
            successful_calls_total=successes,
            failed_calls_total=self._n_failure,
            cancelled_calls_total=self._n_cancelled,
            half_open_calls_in_flight=self._trials_in_flight,
            config=self.config,
        )

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._state.value}>"

    # ---------------------------------------------------------------- internals

    def _acquire(self) -> tuple[int, bool, float]:
        """Permit or reject one call: (generation, is_trial, start time)."""
        state = self._state
        if state is _OPEN:
            now = self._clock()
            wait_left = self._opened_at + self.config.open_wait_seconds - now
            if wait_left > 0:
                self._n_not_permitted += 1
                raise CircuitOpenError(self.name, wait_left)
            self._transition(_HALF_OPEN)
            state = _HALF_OPEN
        if state is _HALF_OPEN:
            if self._trials_in_flight >= self.config.half_open_max_calls:
                self._n_not_permitted += 1
                raise CircuitOpenError(self.name, 0.0)
            self._trials_in_flight += 1
            return self._generation, True, self._clock()
        if state is _FORCED_OPEN:
            self._n_not_permitted += 1
            raise CircuitOpenError(self.name, None)
        start = self._clock() if self._slow_s is not None else 0.0
        return self._generation, False, start

    def _finish_success(self, generation: int, trial: bool, start: float) -> None:
        self._n_success += 1
        if generation != self._generation:
            return
        slow_s = self._slow_s
        now = self._clock()
        slow = slow_s is not None and now - start > slow_s
        if trial:
            self._trials_in_flight -= 1
            if slow:
                self._open(now)
                return
            self._trial_successes += 1
            if self._trial_successes >= self.config.success_threshold:
                self._clear_window()
                self._transition(_CLOSED)
            return
        state = self._state
        if state is _CLOSED or state is _METRICS_ONLY:
            self._record(now, False, slow)

    def _finish_error(self, generation: int, trial: bool, start: float,
                      exc: BaseException) -> None:
        if not isinstance(exc, Exception):  # CancelledError, KeyboardInterrupt...
            self._n_cancelled += 1
            if trial and generation == self._generation:
                self._trials_in_flight -= 1
            return
        try:
            counts = self._record_exception(exc)
        except Exception:  # a buggy predicate must not break the caller
            _log.exception("record_exception predicate of breaker %r failed", self.name)
            counts = True
        if not counts:
            self._finish_success(generation, trial, start)
            return
        self._n_failure += 1
        if generation != self._generation:
            return
        now = self._clock()
        if trial:
            self._trials_in_flight -= 1
            self._open(now)
            return
        state = self._state
        if state is _CLOSED or state is _METRICS_ONLY:
            slow_s = self._slow_s
            self._record(now, True, slow_s is not None and now - start > slow_s)

    def _closed_success(self, start: float, now: float) -> None:
        """A success, at ``now``, of a call that started in the current CLOSED generation.

        ``_Guard.__exit__`` does the common case inline (not slow, same bucket, no
        failure in the window: one counter bump) and calls this for the rest.
        """
        slow_s = self._slow_s
        if slow_s is not None and now - start > slow_s:
            self._n_success += 1
            self._record(now, False, True)
            return
        if now >= self._bucket_end:
            self._advance(now)
        self._cur_calls += 1  # a hot-path success: _n_success follows from it
        if ((self._total_failed or self._total_slow)
                and self._prev_calls + self._cur_calls >= self._min_calls):
            self._check_rates()

    def _record(self, now: float, failed: bool, slow: bool) -> None:
        if now >= self._bucket_end:
            self._advance(now)
        with self._lock:
            self._cur_calls += 1
            self._cur_counted += 1
            if failed:
                self._cur_failed += 1
                self._total_failed += 1
            if slow:
                self._cur_slow += 1
                self._total_slow += 1
            calls = self._prev_calls + self._cur_calls
        if failed or slow:
            self._fast_end = -math.inf
        if calls >= self._min_calls and (self._total_failed or self._total_slow):
            self._check_rates()

    def _check_rates(self) -> None:
        if self._state is not _CLOSED:
            return
        calls = self._prev_calls + self._cur_calls
        too_slow = self._slow_s is not None and self._total_slow * 100.0 >= self._slow_pct * calls
        if too_slow or self._total_failed * 100.0 >= self._fail_pct * calls:
            self._open(self._clock())

    def _advance(self, now: float) -> None:
        """Move the window to the bucket holding ``now``, expiring old buckets."""
        epoch = now // self._bucket_s
        if epoch <= self._epoch:
            return
        with self._lock:
            self._advance_locked(epoch)
        self._fast_end = (self._bucket_end if not (self._total_failed or self._total_slow)
                          else -math.inf)
        if len(self._pool) > _POOL_MAX:  # after a burst of concurrent calls
            del self._pool[_POOL_MAX:]

    def _advance_locked(self, epoch: float) -> None:
        old = self._epoch
        if epoch <= old:
            return
        n = self._n_buckets
        if old != -math.inf:
            i = int(old) % n
            self._ring_calls[i] = self._cur_calls
            self._ring_failed[i] = self._cur_failed
            self._ring_slow[i] = self._cur_slow
        self._prev_calls += self._cur_calls
        self._n_fast += self._cur_calls - self._cur_counted
        self._cur_calls = self._cur_failed = self._cur_slow = self._cur_counted = 0
        self._epoch = epoch
        self._bucket_end = (epoch + 1) * self._bucket_s
        if epoch - old >= n:
            for ring in (self._ring_calls, self._ring_failed, self._ring_slow):
                ring[:] = [0] * n
            self._prev_calls = self._total_failed = self._total_slow = 0
            return
        # Buckets old+1..epoch reuse the slots of buckets that just left the window.
        e = int(old) + 1
        last = int(epoch)
        while e <= last:
            i = e % n
            self._prev_calls -= self._ring_calls[i]
            self._total_failed -= self._ring_failed[i]
            self._total_slow -= self._ring_slow[i]
            self._ring_calls[i] = self._ring_failed[i] = self._ring_slow[i] = 0
            e += 1

    def _window_totals(self, now: float) -> tuple[int, int, int]:
        """Totals of the window ending at ``now`` without moving the window."""
        epoch = now // self._bucket_s
        old = self._epoch
        calls = self._prev_calls + self._cur_calls
        failed, slow = self._total_failed, self._total_slow
        if epoch <= old:
            return calls, failed, slow
        n = self._n_buckets
        if epoch - old >= n:
            return 0, 0, 0
        for e in range(int(old) + 1, int(epoch) + 1):
            i = e % n
            calls -= self._ring_calls[i]
            failed -= self._ring_failed[i]
            slow -= self._ring_slow[i]
        return calls, failed, slow

    def _clear_window(self) -> None:
        n = self._n_buckets
        with self._lock:
            self._ring_calls = [0] * n
            self._ring_failed = [0] * n
            self._ring_slow = [0] * n
            self._n_fast += self._cur_calls - self._cur_counted
            self._cur_calls = self._cur_failed = self._cur_slow = self._cur_counted = 0
            self._prev_calls = self._total_failed = self._total_slow = 0
        self._fast_end = self._bucket_end

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._transition(_OPEN)

    def _transition(self, to: BreakerState) -> None:
        frm = self._state
        if frm is to:
            return
        self._state = to
        self._generation += 1
        self._closed_gen = self._generation if to is _CLOSED else -1
        self._trials_in_flight = 0
        self._trial_successes = 0
        event = BreakerTransition(self.name, frm, to, self._wall_clock())
        self._history.append(event)
        log = _log.warning if to is _OPEN or to is _FORCED_OPEN else _log.info
        log("circuit %r: %s -> %s", self.name, frm.value, to.value)
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("listener of circuit %r failed", self.name)


class _Guard:
    """Context manager for one call, sync or async; reused from the breaker's free list.

    ``CircuitBreaker.guard`` has taken the permit; entering is a C call that returns
    None (or, for ``async with``, an already-done awaitable). Leaving does the
    accounting: in CLOSED one clock reading and a counter bump.

    Every guard is made by :func:`_new_guard`, of a class of its own whose
    ``__exit__`` (and ``__aexit__``) is a plain function, a closure over the guard:
    CPython 3.11 calls a ``with`` block's ``__exit__`` method as a bound method it
    allocates and calls through the generic path, but a plain function as an inlined
    call (a bare ``with`` block: 188 -> 47 ns; the guard in bench_breaker: about 40 ns
    less). A guard made otherwise has no ``__exit__`` at all: ``with`` refuses it.
    """

    __slots__ = ("_breaker", "_generation", "_start", "_trial")

    __enter__ = staticmethod(_enter_sync)
    __aenter__ = staticmethod(_enter_async)

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._generation = _LEFT
        self._start = 0.0
        self._trial = False

    if TYPE_CHECKING:  # each guard's own class sets them: see _new_guard
        def __exit__(self, exc_type: type[BaseException] | None,
                     exc: BaseException | None, tb: TracebackType | None) -> None: ...

        def __aexit__(self, exc_type: type[BaseException] | None,
                      exc: BaseException | None,
                      tb: TracebackType | None) -> Awaitable[None]: ...

    def _leave(self, exc: BaseException | None) -> None:
        """Every exit but a success in the CLOSED generation the call started in."""
        breaker = self._breaker
        generation = self._generation
        if generation == _LEFT:
            raise RuntimeError("breaker guard left twice; "
                               "use `with breaker.guard():` for each call")
        self._generation = _LEFT
        if exc is None:
            breaker._finish_success(generation, self._trial, self._start)
        else:
            breaker._finish_error(generation, self._trial, self._start, exc)
        self._trial = False
        breaker._pool.append(self)


def _new_guard(breaker: CircuitBreaker) -> _Guard:
    """A guard of a class of its own, whose ``__exit__`` and ``__aexit__`` are closures
    (see ``_Guard``).

    Made only when the free list is empty (the first call, or more calls in flight at
    once than the free list holds), so the class costs nothing per call.
    """
    own = cast(type[_Guard], type("_Guard", (_Guard,), {"__slots__": (),
                                                         "__module__": __name__}))
    guard = own(breaker)

    def exit_(exc_type: type[BaseException] | None, exc: BaseException | None,
              tb: TracebackType | None) -> None:
        if exc is None and guard._generation == breaker._closed_gen:
            # Every call's path: a success in the CLOSED generation it started in.
            guard._generation = _LEFT
            clock = breaker._clock  # see guard(): no method look-up on the hot path
            now = clock()
            if now >= breaker._fast_end or now - guard._start > breaker._slow_limit:
                breaker._closed_success(guard._start, now)
            else:
                breaker._cur_calls += 1  # _n_success follows from it (see _cur_counted)
            if breaker._spare is None:
                breaker._spare = guard
            else:
                breaker._pool.append(guard)  # trimmed once per bucket, in _advance
            return
        guard._leave(exc)

    def aexit_(exc_type: type[BaseException] | None, exc: BaseException | None,
               tb: TracebackType | None) -> Awaitable[None]:
        exit_(exc_type, exc, tb)
        return _DONE

    own.__exit__ = staticmethod(exit_)  # type: ignore[assignment,method-assign]
    own.__aexit__ = staticmethod(aexit_)  # type: ignore[assignment,method-assign]
    return guard


class BreakerRegistry:
    """Named breakers shared by the app; listeners added here apply to all of them."""

    def __init__(
        self,
        default_config: BreakerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.default_config = default_config if default_config is not None else BreakerConfig()
        self._clock = clock
        self._wall_clock = wall_clock
        self._breakers: dict[str, CircuitBreaker] = {}
        self._listeners: list[Listener] = []

    def get(self, name: str, config: BreakerConfig | None = None) -> CircuitBreaker:
        """The breaker called ``name``, created with ``config`` on first use."""
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, config or self.default_config,
                                     clock=self._clock, wall_clock=self._wall_clock)
            for listener in self._listeners:
                breaker.add_listener(listener)
            self._breakers[name] = breaker
        return breaker

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)
        for breaker in self._breakers.values():
            breaker.add_listener(listener)

    def snapshots(self) -> list[BreakerSnapshot]:
        return [b.snapshot() for b in self._breakers.values()]

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(tuple(self._breakers.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)
