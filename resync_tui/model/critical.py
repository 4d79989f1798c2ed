"""Critical jobs and deadlines: which jobs will be late, and by how much, on the engine's clock.

A job is watched when it is ``critical`` or has a deadline (``timeRestrictions``). It is
due at its deadline (it must have ended by then), else at its ``criticalStart`` (it
must have started by then). Slack is the time left until it is due; negative once it
is past. A job that ended successfully in time is no longer watched; one that ended
after its deadline stays, missed by how late it ended.

``critical_view`` orders by slack, so those already past come first, most overdue
first. ``attention.rank_at`` gives a job past due its own rank (``due_at`` below).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from resync_tui.model.job_row import JobRow, aware

__all__ = ["CriticalRow", "critical_view", "due_at", "is_watched"]

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


@dataclass(frozen=True, slots=True)
class CriticalRow:
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
