"""One job of the plan as the dashboard holds it, and its mapping from the HWA model.

``JobRow`` is immutable (a msgspec ``Struct``, so equality is a C-level field comparison
and a diff of 200k rows stays cheap) and untracked by the cycle collector.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, overload

import msgspec

from resync_tui.hwa.models import JobInPlan, PlanJob

__all__ = ["JobRow", "RowMapper", "aware", "job_row_from_model"]

_V = TypeVar("_V")


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


def _name(value: str | None) -> str:
    """Names repeat across a plan (16,000 streams, 40 workstations, a few folders for
    200k jobs): one shared object per name instead of one per job (``sys.intern`` is
    released with its last user, so names of past plans do not accumulate)."""
    return sys.intern(value) if value else ""


class RowMapper:
    """``job_row_from_model`` for one read of the plan, sharing equal values between rows.

    Times and durations repeat too (a 200k plan has a few hundred scheduled times): a
    value already seen in this read is reused, so each row holds references, not its
    own copies. A time is reused only with the same ``tzinfo`` object (equal instants in
    two offsets stay distinct). Make one per read: the table of values dies with it.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def _share(self, value: _V) -> _V:
        if value is None:
            return value
        shared = self._seen.setdefault(value, value)
        if shared is value or type(shared) is not type(value):
            return value
        if isinstance(value, datetime) and shared.tzinfo is not value.tzinfo:  # type: ignore[attr-defined]
            return value
        return shared

    def __call__(self, job: JobInPlan | PlanJob) -> JobRow:
        return _map(job, self._share)

    def settle(self, row: JobRow, old: JobRow | None = None) -> JobRow:
        """``row`` holding ``old``'s objects for its equal ids and times, and this
        mapper's for the others (a row of a re-read kept by the diff, ``PlanDiff``).

        Why: a re-read maps every job to compare it, and the rows equal to the view's
        are dropped at once; a table of every value seen (``__call__``) would hold the
        read's 200k times until it ends. So a re-read maps without sharing and only the
        few thousand rows kept are settled: their unchanged values are the view's own
        objects, their new ones shared among themselves.
        """
        share = self._share
        values: dict[str, object] = {}
        for name in _SHARED_FIELDS:
            value = getattr(row, name)
            if value is None:
                continue
            if old is not None:
                prior = getattr(old, name)
                if prior is value:
                    continue
                if _same_value(prior, value):
                    values[name] = prior
                    continue
            shared = share(value)
            if shared is not value:
                values[name] = shared
        return msgspec.structs.replace(row, **values) if values else row


_SHARED_FIELDS: Final = ("job_id", "run_id", "started", "ended", "duration",
                         "estimated_duration", "scheduled", "critical_start", "deadline")
"""The fields of a row whose values ``RowMapper.settle`` shares (names are interned)."""


def _same_value(prior: object, value: object) -> bool:
    """Equal, of one type and (times) in the same ``tzinfo`` object, as ``_share`` asks."""
    if type(prior) is not type(value) or prior != value:
        return False
    return not isinstance(value, datetime) or value.tzinfo is prior.tzinfo  # type: ignore[attr-defined]


def _same(value: _V) -> _V:
    return value


def job_row_from_model(job: JobInPlan | PlanJob) -> JobRow:
    """Map a ``resync_tui.hwa.models.JobInPlan`` (spec ``JobInPlanV2``), or the ``PlanJob``
    of the same record (``HwaClient.read_plan``: the same row), to a ``JobRow``.

    Status, substatus, return code and times come from the last run (the model's
    ``last_run``: last in the rerun chain); absent fields give empty values.
    """
    return _map(job, _same)


def _map(job: JobInPlan | PlanJob, share: Callable[[Any], Any]) -> JobRow:
    """The mapping itself; the last run is looked up once (the model's properties would
    search the rerun chain once per field, 9 µs a job)."""
    last = job.last_run
    composite = job.last_run_composite_status
    status = composite.status if composite is not None else None
    substatus = composite.substatus if composite is not None else None
    run_composite = last.composite_status if last is not None else None
    if status is None and run_composite is not None:
        status = run_composite.status
    if substatus is None and run_composite is not None:
        substatus = run_composite.substatus
    common = job.last_run_common_status
    if common is None and last is not None:
        common = last.common_status
    info = last.time_info if last is not None else None
    options = job.job_options
    restrictions = job.time_restrictions
    return JobRow(
        job_id=job.id,
        stream=_name(job.job_stream_name),
        job=_name(job.name),
        workstation=_name(job.workstation),
        folder=_name(job.folder),
        status=status or "",
        common_status=common or "",
        substatus=substatus or "",
        return_code=last.return_code if last is not None else None,
        started=share(info.actual_start_time) if info is not None else None,
        ended=share(info.actual_end_time) if info is not None else None,
        duration=share(_seconds(last.duration)) if last is not None else None,
        estimated_duration=(share(_seconds(info.estimated_duration))
                            if info is not None else None),
        run_id=last.id if last is not None else None,
        scheduled=share(job.sched_time),
        critical=bool(options is not None and options.critical),
        critical_start=share(job.critical_start),
        deadline=share(restrictions.deadline_time) if restrictions is not None else None,
    )
