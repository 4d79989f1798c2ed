"""What the NOC wall shows, computed from the jobs the dashboard holds.

The wall is read across a room, so it shows few things, large: failed, stuck and late
critical jobs and workstations down (:class:`WallCounts`), and the newest failures
(:class:`WallFailure`). :class:`WallTracker` keeps what those need as the job list
changes, at a cost that follows the number of changed jobs (a 200k plan is walked
once, on the first load): the failed jobs, and the critical jobs the clock can make late
(long-running EXEC, HOLD past its time: :func:`~resync_tui.model.attention.late_at`).
Lateness is judged on the clock the caller passes (the engine's, in the app).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import msgspec

from resync_tui.model.attention import AttentionPolicy, late_at
from resync_tui.model.job_row import JobRow, aware
from resync_tui.model.status import FAILED_STATUSES, count_by_group

__all__ = ["WallCounts", "WallFailure", "WallTracker", "wall_counts"]

_NEVER = datetime.min.replace(tzinfo=UTC)


class WallCounts(msgspec.Struct, frozen=True):
    """The four large figures of the wall; ``None``: not known yet (no data read)."""

    failed: int | None = None
    """Jobs in the ``failed`` group (ABEND, FAIL, ERROR, ABENP)."""
    stuck: int | None = None
    """Jobs in the ``stuck`` group (STUCK, INTRPT, SUSP, UNDCDED)."""
    late: int | None = None
    """Critical jobs (``jobOptions.critical``) late on the engine's clock."""
    workstations_down: int | None = None
    """Workstations not linked or not running (pools excepted)."""


def wall_counts(counts: Mapping[str, int] | None, late_critical: int | None,
                workstations_down: int | None) -> WallCounts:
    """The figures from jobs per status (None: no job list yet) and the other two."""
    if counts is None:
        return WallCounts(workstations_down=workstations_down)
    groups = count_by_group(counts)
    return WallCounts(groups["failed"], groups["stuck"], late_critical, workstations_down)


class WallFailure(msgspec.Struct, frozen=True):
    """One line of the newest failures (strings from the API: untrusted, sanitize)."""

    job_id: str
    job: str
    stream: str
    workstation: str
    status: str
    return_code: int | None
    at: datetime | None
    """When it failed: the run's end, else its start (None: the engine gave neither)."""


def _failure(row: JobRow) -> WallFailure:
    return WallFailure(row.job_id, row.job, row.stream, row.workstation, row.status,
                       row.return_code, aware(row.ended or row.started))


class WallTracker:
    """Failed jobs and late-prone critical jobs, kept up to date from the job list's
    changes (``track``), so the wall never walks 200k rows on each poll or tick."""

    def __init__(self, policy: AttentionPolicy | None = None) -> None:
        self._policy = policy or AttentionPolicy()
        self._failed: dict[str, WallFailure] = {}
        self._critical: dict[str, datetime] = {}
        """Critical job id -> the instant it becomes late."""
        self._seeded = False

    @property
    def seeded(self) -> bool:
        """Whether the whole job list has been read once."""
        return self._seeded

    def rescan(self, rows: Iterable[JobRow]) -> None:
        """Forget everything and read every row (the first load, or after a gap).

        The rows that matter (failed or critical, a few percent) are picked by one
        comprehension first: a call per row held the loop ~50 ms at 200k."""
        self._failed = {}
        self._critical = {}
        failed = FAILED_STATUSES
        for row in [row for row in rows if row.critical or row.status in failed]:
            self._put(row)
        self._seeded = True

    def track(self, get: Callable[[str], JobRow | None], job_ids: Iterable[str]) -> None:
        """Rows that changed, were added or removed (``get`` returns None for gone ones)."""
        for job_id in job_ids:
            self._failed.pop(job_id, None)
            self._critical.pop(job_id, None)
            row = get(job_id)
            if row is not None:
                self._put(row)

    def _put(self, row: JobRow) -> None:
        if row.status in FAILED_STATUSES:
            self._failed[row.job_id] = _failure(row)
        if row.critical:
            late = late_at(row, self._policy)
            if late is not None:
                self._critical[row.job_id] = late

    def late_critical(self, now: datetime) -> int:
        """Critical jobs late at ``now``: EXEC past its estimate, HOLD past its time."""
        now = aware(now)
        return sum(1 for late in self._critical.values() if now > late)

    def newest_failures(self, limit: int) -> tuple[WallFailure, ...]:
        """Up to ``limit`` failed jobs, the newest first (same time: by job name)."""
        if limit <= 0:
            return ()
        ordered = sorted(self._failed.values(), key=lambda f: (f.job, f.stream, f.job_id))
        ordered.sort(key=lambda f: f.at or _NEVER, reverse=True)
        return tuple(ordered[:limit])
