"""Test helpers: a fake monotonic clock and a driver for coroutines that never suspend."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that must complete without suspending (breaker enter/exit)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise AssertionError("coroutine suspended")


class Boom(Exception):
    """A failure the breaker counts."""


class ClientError(Exception):
    """A failure the breaker is configured not to count (like a 4xx)."""


def state_of(breaker: Any) -> Any:
    """The breaker's state, read through a call so mypy does not narrow it between awaits."""
    return breaker.state
