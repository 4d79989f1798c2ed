"""The engines overview feed: every engine's state and job counts, through its own runtime.

Only the engine shown holds its whole plan (the jobs feed); every engine, shown or
not, is watched here through the check's cheap read, ``GET /plan/job/count``
grouped by status: one small answer whatever the plan's size. The engines not
shown are read at ``ui.engines_interval`` (slower), the shown one at each poll.
Each read goes through that engine's own ``hwa_api`` breaker and retry, so one
engine down opens its breaker only, and its row says UNREACHABLE while the others
keep counting. Ages are on each engine's own clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final, Literal

import msgspec

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import EngineRuntimes, Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.model.overall import stale_after
from resync_tui.model.status import GroupName, count_by_group
from resync_tui.sanitize import safe_text

__all__ = ["ENGINE_STATES", "EngineSummary", "EngineWatch", "EnginesFeed", "EnginesState"]

EngineStateLabel = Literal["OK", "STALE", "UNREACHABLE", "CREDENTIALS REJECTED", "ERROR",
                           "CONNECTING"]
ENGINE_STATES: Final[tuple[EngineStateLabel, ...]] = (
    "OK", "STALE", "UNREACHABLE", "CREDENTIALS REJECTED", "ERROR", "CONNECTING")
"""What an engine's row may say: read fine; last good read too old; not answering
(refused, timeout, 5xx); 401/403; an answer not usable; not read yet."""

_URL_MAX: Final = 80
_FAILED_STATES: Final[Mapping[str, EngineStateLabel]] = {
    "credentials": "CREDENTIALS REJECTED", "unreachable": "UNREACHABLE",
    "server": "UNREACHABLE", "down": "UNREACHABLE"}
"""A failed read's kind (``FeedHealth.kind``) as the row says it; the rest: ERROR."""


class EngineSummary(msgspec.Struct, frozen=True):
    """One engine's row of the overview."""

    name: str
    url: str
    shown: bool
    """The engine whose plan the dashboard shows."""
    state: EngineStateLabel
    groups: Mapping[GroupName, int] = msgspec.field(default_factory=dict)
    """Jobs per status group at the last good read (empty before one)."""
    total: int = 0
    age: float | None = None
    """Seconds since the last good read, on that engine's clock (None: never read)."""
    reason: str = ""
    """Why it is not OK, in words (safe to display)."""
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)

    @property
    def failed(self) -> int:
        return self.groups.get("failed", 0)


class EnginesState(msgspec.Struct, frozen=True):
    """Every engine, in the settings' order."""

    engines: tuple[EngineSummary, ...] = ()
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)

    def get(self, name: str) -> EngineSummary | None:
        return next((e for e in self.engines if e.name == name), None)


class EngineWatch:
    """One engine's counts read, its health on its own clock, and when it is next due."""

    def __init__(self, name: str, runtime: Runtime) -> None:
        self.name = name
        self.runtime = runtime
        self.tracker = HealthTracker(runtime.clock, what=f"engine {name}")
        self.groups: Mapping[GroupName, int] = {}
        self.total = 0
        self.read_at: float | None = None
        """Monotonic time of the last read (good or bad); None = never."""

    async def read(self, now: float) -> None:
        """Read the counts once (``now``: the monotonic time it is due at)."""
        rt = self.runtime
        self.read_at = now
        try:
            counts = await hwa_call(rt, rt.client.job_counts, breaker=rt.hwa_api,
                                    operation="engine_counts")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # said in its row; the other engines go on
            self.tracker.failure(exc)
            return
        self.groups = count_by_group(counts)
        self.total = sum(self.groups.values())
        self.tracker.success()

    def summary(self, *, shown: bool, interval: float) -> EngineSummary:
        health = self.tracker.health
        rt = self.runtime
        url = safe_text(rt.settings.hwa.url, _URL_MAX)
        age = None
        if health.last_success is not None:
            age = max((rt.clock() - health.last_success).total_seconds(), 0.0)
        state: EngineStateLabel
        reason = "" if health.ok else health.reason
        if not health.polls:
            state = "CONNECTING"
        elif not health.ok:
            state = _FAILED_STATES.get(health.kind, "ERROR")
        elif age is not None and age > stale_after(interval * rt.clock_rate()):
            state, reason = "STALE", f"counts {age:.0f} s old"
        else:
            state = "OK"
        return EngineSummary(safe_text(self.name, 32), url, shown, state, self.groups,
                             self.total, age, reason, health)


class EnginesFeed:
    """Polls the counts of every engine of ``runtimes``: ``shown()`` names the one the
    dashboard shows (read at every poll), the others are read every ``slow`` seconds."""

    name = "engines"

    def __init__(self, runtimes: EngineRuntimes, shown: Callable[[], str], *,
                 slow: float, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._watches = {name: EngineWatch(name, rt) for name, rt in runtimes.runtimes.items()}
        self._shown = shown
        self._slow = slow
        self._monotonic = monotonic
        self._tracker = HealthTracker(clock, what="engines")
        self._force = True

    def refresh(self) -> None:
        """The next poll reads every engine (the overview was opened, or r pressed)."""
        self._force = True

    def _due(self, watch: EngineWatch, shown: str) -> bool:
        return (self._force or watch.name == shown or watch.read_at is None
                or self._monotonic() - watch.read_at >= self._slow)

    async def poll(self) -> EnginesState:
        shown = self._shown()
        due = [w for w in self._watches.values() if self._due(w, shown)]
        self._force = False
        now = self._monotonic()
        await asyncio.gather(*(w.read(now) for w in due))
        rows = tuple(
            w.summary(shown=w.name == shown,
                      interval=w.runtime.settings.hwa.poll_interval if w.name == shown
                      else self._slow)
            for w in self._watches.values())
        return EnginesState(rows, self._tracker.success())
