"""Critical jobs feed: the jobs with ``critical`` or a deadline, by slack on the engine's clock.

No engine call of its own: the jobs feed's ``JobsView`` already holds every job with its
``critical``, ``criticalStart`` and ``timeRestrictions.deadlineTime``; each poll lists the
view (on the event loop, its only writer) and orders the watched ones by slack
(``model.critical.critical_view``) on the view's clock, the engine's. Its freshness is
the jobs feed's: until the jobs view has data there is nothing to order.

Listing 200k rows is done only when the view has changed (its ``version``); in between,
a poll re-measures the slack of the watched rows it kept, so the pane can poll every
couple of seconds and its slack ticks on the engine's clock. Neither holds the event
loop: the listing reads the view's rows a slice at a time (again if the view changed
meanwhile; even a snapshot of 200k rows in one go held the loop 15-20 ms), the order
is kept by ``CriticalIndex`` (only changed jobs re-placed, in a worker thread: rows are
immutable), and the entries are built a slice at a time, a loop turn between slices
(at 200k, done in one go, this poll held the loop 0.1-0.5 s).
"""

from __future__ import annotations

import asyncio
import itertools
from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime

import msgspec

from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.loop_turns import next_turn
from resync_tui.model.critical import CriticalIndex, CriticalRow
from resync_tui.model.jobs_view import JobRow, JobsView

__all__ = ["CriticalFeed", "CriticalState", "missed_count"]

_SLICE = 2_000
"""Rows looked at (or entries built) per loop turn: well under a millisecond each."""
_ATTEMPTS = 3
"""Listings started again when the view changes under them, before taking a snapshot."""


class CriticalState(msgspec.Struct, frozen=True):
    rows: tuple[CriticalRow, ...] = ()
    """Watched jobs, past due first, then by slack."""
    now: datetime | None = None
    """The engine-clock instant the slack was measured at."""
    jobs_seen: int = 0
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)
    missed: int = 0
    """Jobs past their deadline or critical start, counted once when the state is made
    (whatever is passed is recounted from ``rows``):
    the tab's mark reads it on every redraw of the header (any pane's poll, the
    freshness timer), and a pass over every row each time held the loop 20-30 ms at
    200k jobs."""

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "missed", missed_count(self.rows))


def missed_count(rows: tuple[CriticalRow, ...]) -> int:
    """How many of ``rows`` (``critical_view``'s order: negative slack first) are past
    due: a binary search, not a pass over every row."""
    return bisect_left(rows, True, key=lambda entry: not entry.missed)


class CriticalFeed:
    name = "critical"

    def __init__(self, jobs: JobsView, clock: Callable[[], datetime],
                 now: Callable[[], datetime] | None = None, *,
                 first_wait: float = 5.0,
                 jobs_health: Callable[[], FeedHealth | None] = lambda: None) -> None:
        """``jobs_health``: the jobs feed's last health. The view is made from the job list,
        so it is exactly as fresh as that (a failed read, the time of the last good one)."""
        self._jobs = jobs
        self._jobs_health = jobs_health
        self._first_wait = first_wait
        self._now = now or jobs.now
        self._tracker = HealthTracker(clock, what="engine")
        # A view that holds jobs already (built before this feed) is listed at once.
        self._version = jobs.version if not jobs.total else -1
        self._index = CriticalIndex()
        self._seen = 0

    def refresh(self) -> None:
        """The next poll lists the whole view again."""
        if self._seen:
            self._version = -1

    async def _first_rows(self) -> None:
        """Before the jobs feed's first answer there is nothing to order: wait a little
        for it, so that the first picture is not an empty pane (the pane says "waiting
        for the job list" meanwhile: never "none at risk")."""
        for _ in range(int(self._first_wait / 0.05)):
            if self._jobs.version != self._version:
                return
            await asyncio.sleep(0.05)

    async def _listing(self) -> tuple[int, int, dict[str, JobRow]]:
        """The watched rows of the whole view (its version, how many rows it held), read
        ``_SLICE`` rows a loop turn straight from the view; read again from the start if
        the view changed meanwhile (its version moved), and after ``_ATTEMPTS`` such
        reads from a snapshot taken in one turn (a tuple: the collector stops tracking
        it once seen, where a 200k list is rescanned by each young collection)."""
        jobs = self._jobs
        for attempt in range(_ATTEMPTS):
            if attempt:
                await asyncio.sleep(0.05)  # a big apply runs in slices: let it end first
            version = jobs.version
            rows = jobs.all_rows()
            watched: dict[str, JobRow] = {}
            seen = 0
            try:
                while chunk := list(itertools.islice(rows, _SLICE)):
                    seen += len(chunk)
                    watched.update((row.job_id, row) for row in chunk if row.critical or (
                        row.deadline is not None or row.critical_start is not None))
                    await next_turn()  # model.critical.is_watched, inlined ^
                    if jobs.version != version:
                        break
                else:
                    return version, seen, watched
            except RuntimeError:  # the view's dict changed size under the iteration
                pass
        version = jobs.version
        snapshot = tuple(jobs.all_rows())
        watched = {}
        for start in range(0, len(snapshot), _SLICE):
            watched.update((row.job_id, row) for row in snapshot[start : start + _SLICE]
                           if row.critical or row.deadline is not None
                           or row.critical_start is not None)
            await next_turn()
        return version, len(snapshot), watched

    async def poll(self) -> CriticalState:
        jobs = self._jobs
        if not self._seen:
            await self._first_rows()
        if jobs.version != self._version:
            self._version, self._seen, watched = await self._listing()
            # A first listing places ~10k jobs (tens of ms): in a thread, off the loop.
            await asyncio.to_thread(self._index.sync, watched)
        now = self._now()
        ordered: list[CriticalRow] = []
        for entry in self._index.ordered(now):
            ordered.append(entry)
            if len(ordered) % _SLICE == 0:
                await next_turn()
        health = self._tracker.success()
        jobs_health = self._jobs_health()
        if jobs_health is not None:
            health = msgspec.structs.replace(jobs_health, polls=health.polls)
        return CriticalState(tuple(ordered), now, self._seen, health)
