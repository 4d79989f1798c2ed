"""Breakers feed: samples every circuit breaker and keeps a short failure-rate history."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime

import msgspec

from resync_tui.feeds.status import Clock, FeedHealth, HealthTracker
from resync_tui.model.overall import hms
from resync_tui.resilience.breaker import BreakerRegistry, BreakerSnapshot

__all__ = ["BreakerRow", "BreakersFeed", "BreakersState"]


class BreakerRow(msgspec.Struct, frozen=True):
    """One breaker as the pane shows it (rounded, so equal rows mean no redraw)."""

    name: str
    state: str
    """``closed``, ``open``, ``half_open``, ``forced_open``, ``disabled``, ``metrics_only``."""
    failure_rate: float
    calls_in_window: int
    failed_in_window: int
    not_permitted: int
    seconds_until_trial: int | None
    last_transition: str
    """e.g. ``closed→open 10:42:07``, or empty."""
    history: tuple[float, ...]
    """Failure rate (percent) per sample, oldest first."""
    threshold: float = 50.0
    """Failure rate (percent) at which the breaker opens, once ``minimum_calls`` were made."""
    minimum_calls: int = 0

    @property
    def failing(self) -> bool:
        """Closed, but its calls fail at the opening rate (too few of them to open yet,
        or it just closed again): never to be drawn as healthy."""
        return (self.state == "closed" and self.failed_in_window > 0
                and self.failure_rate >= self.threshold)


class BreakersState(msgspec.Struct, frozen=True):
    rows: tuple[BreakerRow, ...] = ()
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)

    @property
    def open_count(self) -> int:
        return sum(1 for row in self.rows if row.state in ("open", "forced_open"))

    @property
    def all_closed(self) -> bool:
        return all(row.state in ("closed", "disabled", "metrics_only") for row in self.rows)


class BreakersFeed:
    """Reads snapshots from the registry (no I/O); one sample per poll."""

    name = "breakers"

    def __init__(self, registry: BreakerRegistry, clock: Clock, *, samples: int = 120,
                 to_local: Callable[[float], datetime] | None = None) -> None:
        self._registry = registry
        self._tracker = HealthTracker(clock, what="breakers")
        self._history: dict[str, deque[float]] = {}
        self._samples = samples
        self._to_local = to_local or (lambda ts: datetime.fromtimestamp(ts).astimezone())

    def refresh(self) -> None:
        """Nothing to skip: every poll reads afresh."""

    async def poll(self) -> BreakersState:
        try:
            rows = tuple(self._row(snap) for snap in self._registry.snapshots())
        except Exception as exc:  # a bug in a snapshot must not end the feed
            return BreakersState(health=self._tracker.failure(exc))
        return BreakersState(rows=rows, health=self._tracker.success())

    def _row(self, snap: BreakerSnapshot) -> BreakerRow:
        history = self._history.setdefault(snap.name, deque(maxlen=self._samples))
        rate = round(snap.failure_rate, 1)
        history.append(rate)
        last = snap.last_transition
        transition = ""
        if last is not None:
            transition = (f"{last.from_state.value}→{last.to_state.value} "
                          f"{hms(self._to_local(last.at))}")
        until = snap.seconds_until_trial
        return BreakerRow(
            name=snap.name,
            state=snap.state.value,
            failure_rate=rate,
            calls_in_window=snap.calls_in_window,
            failed_in_window=snap.failed_calls_in_window,
            not_permitted=snap.not_permitted_calls,
            seconds_until_trial=None if until is None else math.ceil(until),
            last_transition=transition,
            history=tuple(history),
            threshold=snap.config.failure_rate_threshold,
            minimum_calls=snap.config.minimum_calls,
        )
