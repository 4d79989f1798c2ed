"""One job of the plan as the dashboard holds it, and its mapping from the HWA model.

``JobRow`` is immutable (a msgspec ``Struct``, so equality is a C-level field comparison
and a diff of 200k rows stays cheap) and untracked by the cycle collector.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload

import msgspec

from resync_tui.hwa.models import JobInPlan

__all__ = ["JobRow", "aware", "job_row_from_model"]


class JobRow(msgspec.Struct, frozen=True, gc=False):
    """One job of the plan as the dashboard shows it; replaced, never mutated."""

    job_id: str
    stream: str = ""
    job: str = ""
    workstation: str = ""
    folder: str = ""
    status: str = ""
    """Internal status (``JobInPlanStatus``), e.g. ``ABEND``; unknown values are kept."""
    common_status: str = ""
    substatus: str = ""
    return_code: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    duration: float | None = None
    """Elapsed seconds of the last run, as the engine reports it."""
    estimated_duration: float | None = None
    """Estimated seconds, used to spot long-running EXEC jobs."""
    run_id: str | None = None
    """Id of the last run, to fetch its job log."""
    scheduled: datetime | None = None
    """Scheduled start (``schedTime``), to spot HOLD jobs that should have started."""
    critical: bool = False
    """``jobOptions.critical``: on the critical path of the plan (the wall counts the late
    ones)."""
    critical_start: datetime | None = None
    """``criticalStart``: the latest start that still meets the deadline."""
    deadline: datetime | None = None
    """``timeRestrictions.deadlineTime``: late once this passes and it has not ended."""


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC, so that comparisons never raise."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def job_row_from_model(job: JobInPlan) -> JobRow:
    """Map a ``resync_tui.hwa.models.JobInPlan`` (spec ``JobInPlanV2``) to a ``JobRow``.

    Status, substatus, return code and times come from the last run (the model's
    ``last_run``: last in the rerun chain); absent fields give empty values.
    """
    last = job.last_run
    return JobRow(
        job_id=job.id,
        stream=job.job_stream_name or "",
        job=job.name or "",
        workstation=job.workstation or "",
        folder=job.folder or "",
        status=job.status or "",
        common_status=job.common_status or "",
        substatus=job.substatus or "",
        return_code=job.return_code,
        started=job.started_at,
        ended=job.ended_at,
        duration=_seconds(job.duration),
        estimated_duration=_seconds(job.estimated_duration),
        run_id=last.id if last is not None else None,
        scheduled=job.sched_time,
        critical=job.is_critical,
        critical_start=job.critical_start,
        deadline=job.deadline,
    )
