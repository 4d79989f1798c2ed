"""Critical jobs and deadlines: which jobs will be late, and by how much, on the engine's clock.

A job is watched when it is ``critical`` or has a deadline (``timeRestrictions``). It is
due at its deadline (it must have ended by then), else at its ``criticalStart`` (it
must have started by then). Slack is the time left until it is due; negative once it
is past. A job that ended successfully in time is no longer watched; one that ended
after its deadline stays, missed by how late it ended.

``critical_view`` orders by slack, so those already past come first, most overdue
first. ``attention.rank_at`` gives a job past due its own rank (``due_at`` below).
``CriticalIndex`` gives the same order from one listing to the next without re-sorting:
a job's place among the open ones is its due instant (slack is due minus now for all of
them), so only the jobs that changed are re-placed, and each poll merely walks the order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec

from resync_tui.model.job_row import JobRow, aware

__all__ = ["CriticalIndex", "CriticalRow", "critical_view", "due_at", "is_watched"]

_DONE: Final = frozenset({"SUCC", "CANCL", "SUPPR"})
"""Statuses after which nobody waits for the job any more."""


def is_watched(row: JobRow) -> bool:
    return row.critical or row.deadline is not None or row.critical_start is not None


def _target(row: JobRow) -> tuple[datetime, str] | None:
    if row.deadline is not None:
        return aware(row.deadline), "end"
    if row.critical_start is not None:
        return aware(row.critical_start), "start"
    return None


def due_at(row: JobRow) -> datetime | None:
    """When the job becomes late against its deadline/critical start; None if it cannot."""
    target = _target(row)
    if target is None or row.status in _DONE:
        return None
    if target[1] == "start" and row.started is not None:
        return None
    return target[0]


class CriticalRow(msgspec.Struct, frozen=True, gc=False):
    """One watched job at one instant (a Struct outside the collector's reach: ten
    thousand of them are built on each poll of a 200k plan)."""

    row: JobRow
    due: datetime | None
    """The deadline (must end) or critical start (must start); None: critical, no time."""
    kind: str
    """``end`` (deadline), ``start`` (critical start) or ``""`` (no time known)."""
    slack: timedelta | None
    """Time left until due (negative: past it); for a job that ended late, by how much."""
    done: bool = False
    """Ended (late: otherwise it is not listed)."""

    @property
    def missed(self) -> bool:
        return self.slack is not None and self.slack < timedelta(0)


def _entry(row: JobRow, now: datetime) -> CriticalRow | None:
    target = _target(row)
    if target is None:
        return None if row.status in _DONE else CriticalRow(row, None, "", None)
    due, kind = target
    if row.status in _DONE:
        if kind == "end" and row.ended is not None and aware(row.ended) > due:
            return CriticalRow(row, due, kind, due - aware(row.ended), done=True)
        return None  # met (or cancelled): nothing to watch
    if kind == "start" and row.started is not None:
        if aware(row.started) > due:
            return CriticalRow(row, due, kind, due - aware(row.started), done=True)
        return None
    return CriticalRow(row, due, kind, due - now)


def critical_view(rows: Iterable[JobRow], now: datetime) -> list[CriticalRow]:
    """Watched jobs by slack (past due first, most overdue first); no known time last."""
    now = aware(now)
    out = [entry for row in rows if is_watched(row)
           if (entry := _entry(row, now)) is not None]
    far = timedelta.max
    out.sort(key=lambda e: (e.slack if e.slack is not None else far, e.row.stream,
                            e.row.job, e.row.job_id))
    return out


_FAR: Final = timedelta.max

_Open = tuple[datetime, str, str, str, JobRow, str]
"""An open job's place: (due, stream, job, id) then the row and its kind."""
_Fixed = tuple[tuple[timedelta, str, str, str], CriticalRow]
"""A job whose slack no longer moves (ended or started late): its sort key and entry."""


class CriticalIndex:
    """The watched jobs, kept in ``critical_view``'s order across listings.

    ``sync`` is given the watched rows of each listing and re-places only those that are
    new, gone or another object than last time (a ``JobsView`` keeps the row object of a
    job that did not change). ``ordered(now)`` then yields exactly ``critical_view(rows,
    now)``: the open jobs are kept by due instant, which is their order by slack at any
    ``now``; the ended-late ones (fixed slack) are merged in, the untimed ones last.
    """

    __slots__ = ("_fixed", "_open", "_place", "_rows", "_untimed")

    def __init__(self) -> None:
        self._rows: Mapping[str, JobRow] = {}
        self._place: dict[str, tuple[int, Any]] = {}
        """Job id -> (which list, its key there) for re-placing it."""
        self._open: list[_Open] = []
        self._fixed: list[_Fixed] = []
        self._untimed: list[tuple[tuple[str, str, str], CriticalRow]] = []

    def __len__(self) -> int:
        return len(self._place)

    def sync(self, watched: Mapping[str, JobRow]) -> int:
        """Take one listing's watched rows by id (kept, not copied); returns how many
        jobs were re-placed. Pure Python on immutable rows: may run in a worker thread."""
        old = self._rows
        new = watched
        touched = [row for job_id, row in new.items() if old.get(job_id) is not row]
        gone = [job_id for job_id in old if job_id not in new] if len(new) != len(
            old) or touched else []
        self._rows = new
        if len(touched) + len(gone) > max(len(new) // 8, 64):
            self._rebuild(new.values())
            return len(touched) + len(gone)
        for job_id in gone:
            self._drop(job_id)
        for row in touched:
            self._drop(row.job_id)
            self._add(row, sort=True)
        return len(touched) + len(gone)

    def ordered(self, now: datetime) -> Iterator[CriticalRow]:
        """The entries in ``critical_view``'s order at ``now`` (do not ``sync`` meanwhile)."""
        now = aware(now)
        fixed = list(self._fixed)  # copies (C-level): a sync meanwhile changes nothing here
        count = len(fixed)
        i = 0
        for due, stream, job, job_id, row, kind in list(self._open):
            slack = due - now
            key = (slack, stream, job, job_id)
            while i < count and fixed[i][0] < key:
                yield fixed[i][1]
                i += 1
            yield CriticalRow(row, due, kind, slack)
        for j in range(i, count):
            yield fixed[j][1]
        for _, entry in list(self._untimed):
            yield entry

    # -- internals -------------------------------------------------------------------

    def _rebuild(self, rows: Iterable[JobRow]) -> None:
        self._place = {}
        self._open, self._fixed, self._untimed = [], [], []
        for row in rows:
            self._add(row, sort=False)
        self._open.sort(key=_open_key)
        self._fixed.sort(key=_first)
        self._untimed.sort(key=_first)

    def _add(self, row: JobRow, *, sort: bool) -> None:
        target = _target(row)
        names = (row.stream, row.job, row.job_id)
        if target is None:
            if row.status in _DONE:
                return
            entry = CriticalRow(row, None, "", None)
            item_u = (names, entry)
            if sort:
                insort(self._untimed, item_u, key=_first)
            else:
                self._untimed.append(item_u)
            self._place[row.job_id] = (2, names)
            return
        due, kind = target
        fixed: timedelta | None = None
        if row.status in _DONE:
            if kind == "end" and row.ended is not None and aware(row.ended) > due:
                fixed = due - aware(row.ended)
            else:
                return
        elif kind == "start" and row.started is not None:
            if aware(row.started) > due:
                fixed = due - aware(row.started)
            else:
                return
        if fixed is None:
            item_o: _Open = (due, *names, row, kind)
            if sort:
                insort(self._open, item_o, key=_open_key)
            else:
                self._open.append(item_o)
            self._place[row.job_id] = (0, item_o[:4])
            return
        key = (fixed, *names)
        item_f: _Fixed = (key, CriticalRow(row, due, kind, fixed, done=True))
        if sort:
            insort(self._fixed, item_f, key=_first)
        else:
            self._fixed.append(item_f)
        self._place[row.job_id] = (1, key)

    def _drop(self, job_id: str) -> None:
        place = self._place.pop(job_id, None)
        if place is None:
            return
        which, key = place
        if which == 0:
            del self._open[bisect_left(self._open, key, key=_open_key)]
        elif which == 1:
            del self._fixed[bisect_left(self._fixed, key, key=_first)]
        else:
            del self._untimed[bisect_left(self._untimed, key, key=_first)]


def _open_key(item: _Open) -> tuple[datetime, str, str, str]:
    return item[:4]


def _first(item: tuple[Any, CriticalRow]) -> Any:
    return item[0]
