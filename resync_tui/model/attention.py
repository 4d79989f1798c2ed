"""The attention order: what needs an operator first, and when a job becomes late.

Failed jobs first, then stuck ones and long-running EXEC, then HOLD past its scheduled
time, then the rest by how calm their status is. Lateness is judged on the clock the
caller passes (the engine's, in the app).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from resync_tui.model.job_row import JobRow, aware
from resync_tui.model.status import FAILED_STATUSES, RUNNING_STATUSES, group

__all__ = [
    "RANK_LATE_HOLD",
    "AttentionPolicy",
    "attention_rank",
    "late_at",
    "rank_at",
]

# Rank of each internal status in the attention order (lower comes first). The two
# time-dependent ranks (late EXEC, late HOLD) are added by ``attention_rank``. A status
# ranks at or above RANK_LATE_HOLD exactly when it is in ATTENTION_STATUSES (the failed
# and stuck groups of resync_tui.model.status): the attention filter and the groups agree.
RANK_FAILED = 0
RANK_STUCK = 2
RANK_LATE_EXEC = 2
RANK_LATE_HOLD = 3
RANK_UNKNOWN = 9
_STATUS_RANK: Final[Mapping[str, int]] = {
    **dict.fromkeys(FAILED_STATUSES, RANK_FAILED),
    "ABENP": 1,
    **dict.fromkeys(group("stuck").statuses, RANK_STUCK),
    "EXEC": 4,
    "STARTED": 4,
    "READY": 5,
    "INTRO": 6,
    "WAIT": 7,
    "PEND": 7,
    "PENDPRED": 7,
    "FENCE": 7,
    "EXTRN": 7,
    "NONREPPRED": 7,
    "HOLD": 8,
    "ARRVING": 8,
    "CANCLP": 10,
    "CANCL": 10,
    "SUPPR": 11,
    "COMPLT": 12,
    "END": 12,
    "SUCCP": 13,
    "SUCC": 14,
}
"""Unknown statuses rank RANK_UNKNOWN: above the calm ones, so a newer engine's value shows."""
_RUNNING: Final = RUNNING_STATUSES
_HELD: Final = frozenset({"HOLD"})


@dataclass(frozen=True, slots=True)
class AttentionPolicy:
    """When a running or held job counts as late (and moves up the attention order)."""

    long_running_factor: float = 1.5
    """EXEC is late once elapsed > factor x estimated duration..."""
    long_running_after: timedelta = timedelta(minutes=60)
    """...or once elapsed exceeds this, estimate or not."""


def late_at(row: JobRow, policy: AttentionPolicy) -> datetime | None:
    """The instant a row becomes late, or None if the clock cannot make it late."""
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
    if late is not None and now > late:
        return RANK_LATE_EXEC if row.status in _RUNNING else RANK_LATE_HOLD
    return _STATUS_RANK.get(row.status, RANK_UNKNOWN)


def attention_rank(row: JobRow, now: datetime, policy: AttentionPolicy | None = None) -> int:
    """Rank of a row in the attention order: failures 0, stuck/late EXEC 2, late HOLD 3."""
    return rank_at(row, late_at(row, policy or AttentionPolicy()), aware(now))
