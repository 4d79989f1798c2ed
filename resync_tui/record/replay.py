"""A recording played back as feeds: the same runners, dashboard and widgets, no engine.

:class:`Timeline` is the position in the recording (the engine's clock as it was
recorded) and the dashboard's clock while replaying: ages, lateness and the header's
time are judged at that moment, as they were. Each replay feed answers a poll with its
feed's state at the timeline's position; a poll with nothing new returns the previous
state object, which the runner does not publish again.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec

from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsState
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.streams import StreamsView
from resync_tui.record.format import STATE_TYPES, Entry, Recording, StreamsRecord, rows_in_zone

__all__ = ["ReplayJobsFeed", "ReplayStateFeed", "Timeline", "parse_at", "replay_feed"]

SEEK_SECONDS: Final = 60.0
"""``[`` and ``]`` move the timeline this far."""


def parse_at(text: str, recording: Recording) -> float:
    """``HH:MM[:SS]`` on the recording's (first) day in its zone, or an ISO date-time;
    the engine clock in Unix seconds. ValueError says what is accepted."""
    value = text.strip()
    try:
        if "-" in value or "T" in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=recording.zone)
            return moment.timestamp()
        parts = [int(p) for p in value.split(":")]
        if len(parts) not in (2, 3):
            raise ValueError(value)
        hour, minute, second = (*parts, 0)[:3]
        day = recording.local(_first_time(recording))
        return day.replace(hour=hour, minute=minute, second=second, microsecond=0).timestamp()
    except ValueError:
        raise ValueError(f"--at {text!r}: give HH:MM[:SS] on the recording's day, or an "
                         f"ISO date-time such as 2026-12-01T03:12:00") from None


def _first_time(recording: Recording) -> float:
    return min((e.engine for e in recording.entries), default=0.0)


class Timeline:
    """Where the replay is, and whether it moves; ``now()`` is the dashboard's clock."""

    def __init__(self, recording: Recording, *, speed: float = 1.0, at: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.recording = recording
        self.speed = speed
        self._monotonic = monotonic
        firsts: dict[str, float] = {}
        for e in recording.entries:
            firsts.setdefault(e.feed, e.engine)
        self.start = max(firsts.values(), default=0.0)
        """The first moment every recorded feed has data."""
        self.end = max((e.engine for e in recording.entries), default=self.start)
        self.times = sorted({e.engine for e in recording.entries if e.engine >= self.start})
        """Every recorded moment (``←``/``→`` step between them)."""
        self._base = self.start
        self._since: float | None = None
        self.seek(self.start if at is None else at)
        self.play()

    @property
    def playing(self) -> bool:
        return self._since is not None

    def position(self) -> float:
        """The engine clock (Unix seconds) being shown."""
        if self._since is None:
            return self._base
        moved = self._base + (self._monotonic() - self._since) * self.speed
        if moved >= self.end:
            self._base, self._since = self.end, None  # the end: stay there, paused
            return self.end
        return moved

    def now(self) -> datetime:
        return self.recording.local(self.position())

    def play(self) -> None:
        if self._since is None and self._base < self.end:
            self._since = self._monotonic()

    def pause(self) -> None:
        self._base = self.position()
        self._since = None

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, engine_seconds: float) -> None:
        """Go to a moment (clamped to the recording), keeping play or pause."""
        playing = self.playing
        self._base = min(max(engine_seconds, self.start), self.end)
        self._since = self._monotonic() if playing and self._base < self.end else None

    def seek_by(self, seconds: float) -> None:
        self.seek(self.position() + seconds)

    def step(self, direction: int) -> None:
        """Pause on the next (``+1``) or previous (``-1``) recorded moment."""
        here = self.position()
        self.pause()
        if direction > 0:
            i = bisect.bisect_right(self.times, here)
            target = self.times[i] if i < len(self.times) else self.end
        else:
            i = bisect.bisect_left(self.times, here) - 1
            target = self.times[i] if i >= 0 else self.start
        self.seek(target)


class _Entries:
    """One feed's entries in time order, and which applies at a moment."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.engine)
        self.times = [e.engine for e in self.entries]

    def index_at(self, engine_seconds: float) -> int:
        return max(bisect.bisect_right(self.times, engine_seconds) - 1, 0)


_health_decoder = msgspec.json.Decoder(FeedHealth)


class ReplayStateFeed:
    """A small feed's recorded states: the newest one at the timeline's position."""

    def __init__(self, name: str, entries: list[Entry], timeline: Timeline) -> None:
        self.name = name
        self._entries = _Entries(entries)
        self._timeline = timeline
        self._decoder = msgspec.json.Decoder(STATE_TYPES[name])
        self._at = -1
        self._last: Any = None
        self._polls = 0
        self.view = StreamsView() if name == "streams" else None

    def refresh(self) -> None:
        """Nothing cached that a refresh could skip."""

    async def poll(self) -> Any:
        return self.state_at(self._timeline.position())

    def state_at(self, engine_seconds: float) -> Any:
        index = self._entries.index_at(engine_seconds)
        if index == self._at and self._last is not None:
            return self._last
        self._at = index
        state: Any = self._decoder.decode(self._entries.entries[index].state)
        self._polls += 1
        if isinstance(state, StreamsRecord):
            assert self.view is not None
            self.view.set_rows(state.rows)
            state = StreamsState(self.view, msgspec.structs.replace(state.health,
                                                                    polls=self._polls),
                                 state.jobs_counted, state.unreadable, state.interval)
        elif isinstance(getattr(state, "health", None), FeedHealth):
            state = msgspec.structs.replace(state, health=msgspec.structs.replace(
                state.health, polls=self._polls))
        self._last = state
        return state


class ReplayJobsFeed:
    """The recorded plan at the timeline's position, applied to the app's jobs view as
    changes (forward: the deltas in between; backward: rebuilt from the whole plan)."""

    name = "jobs"

    def __init__(self, entries: list[Entry], timeline: Timeline, view: JobsView) -> None:
        self._entries = _Entries(entries)
        self._timeline = timeline
        self.view = view
        self._at = -1
        self._last: JobsState | None = None
        self._polls = 0

    def refresh(self) -> None:
        """Nothing cached that a refresh could skip."""

    async def poll(self) -> JobsState:
        return self.state_at(self._timeline.position())

    def _full_before(self, index: int) -> int:
        entries = self._entries.entries
        for i in range(index, -1, -1):
            if entries[i].full:
                return i
        return 0

    def state_at(self, engine_seconds: float) -> JobsState:
        index = self._entries.index_at(engine_seconds)
        if index == self._at and self._last is not None:
            return self._last
        entries = self._entries.entries
        full = self._full_before(index)
        if self._at < 0 or index < self._at or full > self._at:
            rows: dict[str, JobRow] = {}
            for entry in entries[full:index + 1]:
                if entry.full:
                    rows.clear()
                for row in rows_in_zone(entry.rows, entry.offset):
                    rows[row.job_id] = row
                for job_id in entry.removed:
                    rows.pop(job_id, None)
            changed, removed = self.view.diff(rows.values())
        else:
            merged: dict[str, JobRow] = {}
            gone: set[str] = set()
            for entry in entries[self._at + 1:index + 1]:
                for row in rows_in_zone(entry.rows, entry.offset):
                    merged[row.job_id] = row
                    gone.discard(row.job_id)
                for job_id in entry.removed:
                    merged.pop(job_id, None)
                    gone.add(job_id)
            changed, removed = list(merged.values()), list(gone)
        change = self.view.apply_changes(changed, removed)
        self._at = index
        self._polls += 1
        health = msgspec.structs.replace(_health_decoder.decode(entries[index].state),
                                         polls=self._polls)
        self._last = JobsState(self.view, change, health, full_read=True)
        return self._last


def replay_feed(name: str, recording: Recording, timeline: Timeline,
                view: JobsView) -> ReplayJobsFeed | ReplayStateFeed | None:
    """The replay feed of one registry entry; None when the recording has nothing of it."""
    entries = [e for e in recording.entries if e.feed == name]
    if not entries:
        return None
    if name == "jobs":
        return ReplayJobsFeed(entries, timeline, view)
    if name in STATE_TYPES:
        return ReplayStateFeed(name, entries, timeline)
    return None
