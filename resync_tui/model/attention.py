"""The attention order: what needs an operator first, and when a job becomes late.

Failed jobs first, then jobs past their deadline or critical start (``model.critical``),
then stuck ones and long-running EXEC, then HOLD past its scheduled time, then the rest
by how calm their status is. Lateness is judged on the clock the
caller passes (the engine's, in the app).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import msgspec

from resync_tui.model.critical import due_at
from resync_tui.model.job_row import JobRow, aware
from resync_tui.model.status import FAILED_STATUSES, RUNNING_STATUSES, group

__all__ = [
    "RANK_CRITICAL_LATE",
    "RANK_LATE_HOLD",
    "AttentionPolicy",
    "attention_rank",
    "late_and_rank",
    "late_at",
    "rank_at",
    "rank_floor",
    "status_rank",
]

# Rank of each internal status in the attention order (lower comes first). The two
# time-dependent ranks (late EXEC, late HOLD) are added by ``attention_rank``. A status
# ranks at or above RANK_LATE_HOLD exactly when it is in ATTENTION_STATUSES (the failed
# and stuck groups of resync_tui.model.status): the attention filter and the groups agree.
RANK_FAILED = 0
RANK_CRITICAL_LATE = 2
"""Past its deadline or critical start and not done (a failed one stays RANK_FAILED)."""
RANK_STUCK = 3
RANK_LATE_EXEC = 3
RANK_LATE_HOLD = 4
RANK_UNKNOWN = 10
_STATUS_RANK: Final[Mapping[str, int]] = {
    **dict.fromkeys(FAILED_STATUSES, RANK_FAILED),
    "ABENP": 1,
    **dict.fromkeys(group("stuck").statuses, RANK_STUCK),
    "EXEC": 5,
    "STARTED": 5,
    "READY": 6,
    "INTRO": 7,
    "WAIT": 8,
    "PEND": 8,
    "PENDPRED": 8,
    "FENCE": 8,
    "EXTRN": 8,
    "NONREPPRED": 8,
    "HOLD": 9,
    "ARRVING": 9,
    "CANCLP": 11,
    "CANCL": 11,
    "SUPPR": 12,
    "COMPLT": 13,
    "END": 13,
    "SUCCP": 14,
    "SUCC": 15,
}
"""Unknown statuses rank RANK_UNKNOWN: above the calm ones, so a newer engine's value shows."""
_RUNNING: Final = RUNNING_STATUSES
_HELD: Final = frozenset({"HOLD"})


class AttentionPolicy(msgspec.Struct, frozen=True):
    """When a running or held job counts as late (and moves up the attention order)."""

    long_running_factor: float = 1.5
    """EXEC is late once elapsed > factor x estimated duration..."""
    long_running_after: timedelta = timedelta(minutes=60)
    """...or once elapsed exceeds this, estimate or not."""


def late_at(row: JobRow, policy: AttentionPolicy) -> datetime | None:
    """The instant a row becomes late, or None if the clock cannot make it late: the
    sooner of its own lateness and its deadline/critical start."""
    own = _own_late_at(row, policy)
    if not (row.critical or row.deadline is not None or row.critical_start is not None):
        return own
    due = due_at(row)
    if due is None or (own is not None and own <= due):
        return own
    return due


def _own_late_at(row: JobRow, policy: AttentionPolicy) -> datetime | None:
    if row.status in _RUNNING and row.started is not None:
        limit = policy.long_running_after
        if row.estimated_duration:
            estimate = timedelta(seconds=row.estimated_duration * policy.long_running_factor)
            limit = min(limit, estimate)
        return aware(row.started) + limit
    if row.status in _HELD and row.scheduled is not None:
        return aware(row.scheduled)
    return None


def rank_at(row: JobRow, late: datetime | None, now: datetime) -> int:
    status_rank = _STATUS_RANK.get(row.status, RANK_UNKNOWN)
    if late is not None and now > late:
        if row.deadline is not None or row.critical_start is not None:
            due = due_at(row)
            if due is not None and now > due:
                return min(status_rank, RANK_CRITICAL_LATE)
        # ``late`` is the sooner of the two: the due time has not passed, its own has.
        if row.status in _RUNNING:
            return RANK_LATE_EXEC
        if row.status in _HELD:
            return RANK_LATE_HOLD
    return status_rank


def late_and_rank(row: JobRow, policy: AttentionPolicy, now: datetime
                  ) -> tuple[datetime | None, int]:
    """``(late_at(row, policy), rank_at(row, that, now))`` in one call: a first read ranks
    200k rows, most of them without a deadline or critical start, for which the due time
    is not looked at and ``rank_at`` is not called (~0.5 us a row saved)."""
    if row.critical or row.deadline is not None or row.critical_start is not None:
        late = late_at(row, policy)
        return late, rank_at(row, late, now)
    late = _own_late_at(row, policy)
    if late is None or not now > late:
        return late, _STATUS_RANK.get(row.status, RANK_UNKNOWN)
    return late, RANK_LATE_EXEC if row.status in _RUNNING else RANK_LATE_HOLD


def status_rank(status: str) -> int:
    """The rank a status has while the clock makes nothing late: the most a row of it ranks."""
    return _STATUS_RANK.get(status, RANK_UNKNOWN)


def rank_floor(status: str, *, dated: bool) -> int:
    """The least rank (the nearest the top) a row of ``status`` can reach whatever the
    clock: running ones may turn late EXEC, held ones late HOLD, and ``dated`` ones (a
    deadline or a critical start) late against it. ``late_and_rank`` never goes below it,
    so rows whose floor is past a rank need no look to find who ranks up to it."""
    floor = _STATUS_RANK.get(status, RANK_UNKNOWN)
    if status in _RUNNING:
        floor = min(floor, RANK_LATE_EXEC)
    elif status in _HELD:
        floor = min(floor, RANK_LATE_HOLD)
    if dated:
        floor = min(floor, RANK_CRITICAL_LATE)
    return floor


def attention_rank(row: JobRow, now: datetime, policy: AttentionPolicy | None = None) -> int:
    """Rank of a row in the attention order: failures 0, past deadline 2, stuck/late EXEC
    3, late HOLD 4."""
    return rank_at(row, late_at(row, policy or AttentionPolicy()), aware(now))
