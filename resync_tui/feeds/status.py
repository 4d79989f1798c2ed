"""What every feed publishes besides its data: is it fresh, and if not, why.

A feed never raises into the UI. A failed poll keeps the last good data and
returns a :class:`FeedHealth` whose ``reason`` is one line an operator can act
on ("engine unreachable since 10:42:07", "credentials rejected", "malformed
response from GET /plan/job: ..."). ``kind`` is a fixed word the header uses to
pick the overall state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol, TypeVar

import msgspec
from msgspec.structs import replace

from resync_tui.hwa.errors import (
    BadRequest,
    CredentialsRejected,
    EngineRateLimited,
    EngineServerError,
    EngineTimeout,
    EngineUnreachable,
    HwaError,
    MalformedResponse,
    NotFound,
)
from resync_tui.model.overall import hms
from resync_tui.resilience.breaker import CircuitOpenError
from resync_tui.sanitize import safe_text

__all__ = [
    "Clock",
    "FailureKind",
    "Feed",
    "FeedHealth",
    "HealthTracker",
    "describe_error",
    "local_now",
]

S_co = TypeVar("S_co", covariant=True)

Clock = Callable[[], datetime]

FailureKind = Literal[
    "", "unreachable", "credentials", "malformed", "server", "refused", "down", "error"
]

_REASON_MAX: Final = 160


def local_now() -> datetime:
    """Wall-clock time in the local zone (the default clock of every feed)."""
    return datetime.now().astimezone()


class FeedHealth(msgspec.Struct, frozen=True):
    """Freshness of one feed. ``ok`` False means the data shown is the last good one."""

    ok: bool = True
    kind: FailureKind = ""
    reason: str = ""
    since: datetime | None = None
    """Start of the current failure streak."""
    last_success: datetime | None = None
    polls: int = 0
    """Polls finished, good or bad (tests and the snapshot command wait on it)."""

    @property
    def has_data(self) -> bool:
        return self.last_success is not None


class Feed(Protocol[S_co]):
    """One pane's source: ``poll()`` fetches once and returns an immutable state.

    ``refresh()`` asks that the next poll skip every shortcut (the operator pressed
    ``r``): the app calls it without knowing what a feed caches or compares.
    """

    name: str

    async def poll(self) -> S_co: ...

    def refresh(self) -> None: ...


def describe_error(exc: BaseException, since: datetime, *,
                   what: str = "engine") -> tuple[FailureKind, str]:
    """A failure kind and a one-line reason, safe to display (no escapes, bounded)."""
    at = hms(since)
    kind: FailureKind
    if isinstance(exc, CredentialsRejected):
        kind = "credentials"
        # The client's message names the user and the engine, never the password.
        said = exc.message if exc.message.startswith("credentials rejected") else (
            f"credentials rejected ({_status(exc)})")
        # The client tries once more by itself every ``auth_retry_seconds`` (an LDAP
        # account locks after a few bad logins): say how seldom, never a countdown.
        # What to do first: a narrow pane cuts the end of the line.
        every = f"every {_every(exc.retry_after)}, or " if exc.retry_after else ""
        text = f"{said}: check user and password (tried again {every}now with r)"
    elif isinstance(exc, EngineTimeout | TimeoutError):
        kind, text = "unreachable", f"{what} not answering (timeout) since {at}"
    elif isinstance(exc, EngineUnreachable):
        kind, text = "unreachable", f"{what} unreachable since {at}"
    elif isinstance(exc, MalformedResponse):
        kind, text = "malformed", f"malformed response from {exc.endpoint}: {exc.message}"
    elif isinstance(exc, EngineRateLimited):
        kind, text = "server", f"{what} rate limiting {exc.endpoint} since {at}"
    elif isinstance(exc, EngineServerError):
        kind, text = "server", f"{what} error {_status(exc)} on {exc.endpoint} since {at}"
    elif isinstance(exc, NotFound | BadRequest):
        kind, text = "refused", f"{what} refused {exc.endpoint}: {exc.message}"
    elif isinstance(exc, HwaError):
        kind, text = "error", f"{what} error on {exc.endpoint}: {exc.message}"
    else:
        message = str(exc) or type(exc).__name__
        kind, text = "error", f"{what} error since {at}: {message}"
    return kind, safe_text(text, _REASON_MAX)


def _every(seconds: float) -> str:
    """``5 min``, ``90 s``, ``2 h``: a fixed interval, as an operator says it."""
    whole = round(seconds)
    if whole >= 3600 and whole % 3600 == 0:
        return f"{whole // 3600} h"
    if whole >= 60 and whole % 60 == 0:
        return f"{whole // 60} min"
    return f"{whole} s"


def _status(exc: HwaError) -> str:
    return f"HTTP {exc.status}" if exc.status else "HTTP error"


class HealthTracker:
    """Turns poll outcomes into :class:`FeedHealth`, remembering the failure streak.

    While a circuit breaker is open the poll fails with CircuitOpenError; the
    reason then keeps the cause that opened it and says when the next trial is.
    """

    def __init__(self, clock: Clock, *, what: str = "engine",
                 describe: Callable[[BaseException, datetime], tuple[FailureKind, str]]
                 | None = None) -> None:
        self._clock = clock
        self._what = what
        self._describe = describe
        self.health = FeedHealth()

    def success(self) -> FeedHealth:
        self.health = FeedHealth(ok=True, last_success=self._clock(),
                                 polls=self.health.polls + 1)
        return self.health

    def failure(self, exc: BaseException) -> FeedHealth:
        previous = self.health
        since = previous.since if not previous.ok and previous.since else self._clock()
        if isinstance(exc, CircuitOpenError):
            wait = exc.retry_in_seconds
            # When, not how long: a reason stays on screen until the next poll, and a
            # countdown in it read "next trial in 0s" for a minute while the pane ticked.
            tail = (f"circuit {exc.name} open" if wait is None else
                    f"circuit {exc.name} open, next trial at "
                    f"{hms(self._clock() + timedelta(seconds=max(0, math.ceil(wait))))}")
            kind: FailureKind
            if not previous.ok and previous.kind:
                base = previous.reason.split(" [circuit ", 1)[0]
                kind, reason = previous.kind, f"{base} [{tail}]"
            else:
                kind, reason = "error", f"{self._what} calls suspended since {hms(since)} [{tail}]"
        elif self._describe is not None:
            kind, reason = self._describe(exc, since)
        else:
            kind, reason = describe_error(exc, since, what=self._what)
        self.health = replace(previous, ok=False, kind=kind, reason=reason, since=since,
                              polls=previous.polls + 1)
        return self.health
