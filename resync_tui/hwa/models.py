"""Typed views of the HWA REST API V2 payloads resync-tui reads (msgspec Structs).

Field names are the spec's (``components.schemas`` in openapi-v2.json), in
snake_case here and camelCase on the wire (``rename="camel"``). Only the fields
the console uses are declared: unknown fields are skipped by the decoder, which
keeps a 200k-job plan small in memory. Every field is optional (default None or
empty) because the engine omits what it has no value for.

Enum-like values (statuses, substatus, common status, workstation type and
states) are strings (see ``Word`` below): a newer engine's new value is kept as
it is, never rejected. Timestamps (spec ``date-time``) decode to ``datetime`` and durations
(spec ``duration``, ISO 8601 like ``PT1H2M``) to ``timedelta``; a value that is not
one is a decode error, which the client reports as ``MalformedResponse``.

Structs are frozen (a snapshot of the plan, safe to share with the UI) and
untracked by the garbage collector (``gc=False``): decoded JSON has no cycles,
and 200k tracked objects would make every collection slow.

Enum-like fields are typed ``Word`` (``str`` for the type checker): they decode
through an interning ``str`` subclass, so the 200k "SUCC"s of a plan are one
object, not 200k. A value outside the spec's vocabulary is kept as it is.
"""

from __future__ import annotations

import enum
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import msgspec

__all__ = [
    "VOCABULARY",
    "ActionItem",
    "ActionResult",
    "BulkActionResult",
    "CompositeStatus",
    "DependenciesStats",
    "EngineInfo",
    "FlowNode",
    "FlowNodeList",
    "GroupedCount",
    "JobInPlan",
    "JobOptions",
    "JobPage",
    "JobRun",
    "JobStreamInPlan",
    "JobStreamPage",
    "JobStreamRead",
    "JobStreamStats",
    "Page",
    "PlanJob",
    "PlanJobOptions",
    "PlanJobPage",
    "PlanJobRestrictions",
    "PlanJobRun",
    "PlanJobStatus",
    "PlanRead",
    "PlanSignature",
    "TimeInfo",
    "TimeRestrictions",
    "UnreadableRecord",
    "Word",
    "Workstation",
    "WorkstationPage",
    "WorkstationRead",
]


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


VOCABULARY: frozenset[str] = _words(
    # JobInPlanStatus
    "HOLD READY FENCE INTRO FAIL EXEC WAIT SUPPR END SUCC SUCCP ABEND CANCL CANCLP ABENP PEND "
    "SUSP STUCK EXTRN INTRPT COMPLT ERROR PENDPRED STARTED UNDCDED ARRVING NONREPPRED "
    # JobInPlanSubStatus
    "HOLD_WAITING_FOR_PREDECESSOR HOLD_UNEXPECTED_PREDECESSOR_CONDITION HOLD_WAITING_FOR_TIME "
    "HOLD_WAITING_FOR_PROMPT HOLD_WAITING_FOR_FILE HOLD_WAITING_FOR_INPUT HOLD_PRIORITY_ZERO "
    "READY_WAITING_FOR_RESOURCES READY_SUPPRESSED SUPPR_UNSATISFIED_DEPENDENCY "
    "SUPPR_WORKSTATION_IGNORED READY_SUBMITTED READY_WAITING_FOR_LIMIT READY_WAITING_FOR_AGENT "
    "READY_WAITING_FOR_USER_INTERVENTION SUCC_DO_NOT_RUN SUCC_COMPLETED "
    # JobStreamInPlanStatus (predecessors can be job streams)
    "UNKNOWN ADD BOUND COMPLETE DELETED PENDINGPRED UNDECIDED WAITFORINPUT INTERRUPTED "
    "NONREPORTINGPRED SUPPRBYCOND "
    # CommonStatusV2
    "WAITING WAITING_FOR_TRIGGER READY_PREV_WS_NONREP COMPLETED SUPPRESS_BY_COND "
    "DUMMY_COMPLETED RUNNING SUCCESSFUL CANCELED HELD BLOCKED SUPPRESS "
    # WorkstationStateEnum
    "MASTER MANAGER LINKED FULLY_LINKED DIRECTLY_LINKED HOST_LINKED EXTENDED_LINKED BROKER "
    "START TCP_IP_LINKED MONMAN INSTALLED_AND_RUNNING INSTALLED UPDATE SERVER_STARTED "
    "SERVER_RESTARTING ONLINE WRITER_RUNNING JOBMAN_UP WRITER_UP EVT_PROC_RUNNING SSM_RUNNING "
    "CONFIG_UPDATED BEHIND_FIREWALL IS_INITED "
    # WorkstationType, HostWorkstationType, WorkstationFlagEnum
    "AGENT POOL D-POOL REM-ENG FTA X-AGENT S-AGENT WORKLOAD_BROKER DOMAIN_MANAGER WORKSTATION "
    "AUTO_LINK DISABLED_DEACTIVE_JOB_LAUNCHING_FLAG FULL_STATUS MAILMAN TCP_IP_LINK "
    # RerunType, FlowNodeType
    "RERUN RECOVERY_RERUN RERUN_EVERY RERUN_FROM RECOVERY REGULAR RERUN_STEP JOB JOBSTREAM",
)
"""The spec's enum values for status, substatus, common status, workstation and run fields."""

_MAX_EXTRA_WORDS = 1024
_extra_lock = threading.Lock()


class _InternedWord(enum.StrEnum):
    """A ``str`` whose spec-known values are shared objects; new values are kept too.

    It compares, hashes, prints and encodes exactly like the plain string (its
    repr too); only ``type()`` tells. Values outside ``VOCABULARY`` become new
    members on the fly (up to ``_MAX_EXTRA_WORDS`` of them are shared; a flood
    of distinct values from a broken engine still decodes, unshared).
    """

    def __repr__(self) -> str:
        return str.__repr__(self)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        with _extra_lock:
            known = cls._value2member_map_
            if value in known:
                return known[value]
            if len(known) < len(VOCABULARY) + _MAX_EXTRA_WORDS:
                known[value] = member
        return member


if TYPE_CHECKING:
    Word = str
else:
    Word = _InternedWord("Word", [(value, value) for value in sorted(VOCABULARY)])


class _RerunLink(Protocol):
    @property
    def last_in_rerun_chain(self) -> bool | None: ...


_R = TypeVar("_R", bound=_RerunLink)


class _Model(
    msgspec.Struct,
    rename="camel",
    kw_only=True,
    omit_defaults=True,
    frozen=True,
    gc=False,
):
    """Shared configuration of every payload struct."""


class CompositeStatus(_Model, frozen=True):
    """``JobInPlanCompositeStatusV2`` (also the shape of a job stream's composite status)."""

    status: Word | None = None
    substatus: Word | None = None
    error: bool | None = None
    started: bool | None = None
    canceled: bool | None = None
    cancel_pending: bool | None = None
    dont_run: bool | None = None


class TimeInfo(_Model, frozen=True):
    """``TimeInfoV2``: when a run really started and ended, and how long it took."""

    estimated_duration: timedelta | None = None
    actual_start_time: datetime | None = None
    elapsed_time: timedelta | None = None
    actual_end_time: datetime | None = None


class JobRun(_Model, frozen=True):
    """``JobRunInstanceV2``: one run of a job; a rerun appends another."""

    id: str | None = None
    name: str | None = None
    job_id: str | None = None
    job_key: str | None = None
    actual_workstation: str | None = None
    job_number: int | None = None
    composite_status: CompositeStatus | None = None
    common_status: Word | None = None
    return_code: int | None = None
    rerun_job: bool | None = None
    rerun_type: Word | None = None
    confirmed: bool | None = None
    released: bool | None = None
    step: str | None = None
    time_info: TimeInfo | None = None
    submitted_time: datetime | None = None
    last_in_rerun_chain: bool | None = None
    run_attempt: int | None = None

    @property
    def status(self) -> str | None:
        return self.composite_status.status if self.composite_status else None

    @property
    def started_at(self) -> datetime | None:
        return self.time_info.actual_start_time if self.time_info else None

    @property
    def ended_at(self) -> datetime | None:
        return self.time_info.actual_end_time if self.time_info else None

    @property
    def duration(self) -> timedelta | None:
        """The engine's elapsed time, else end minus start when both are known."""
        return _run_duration(self.time_info)


def _run_duration(info: TimeInfo | None) -> timedelta | None:
    """A run's elapsed time (``JobRun.duration``, ``PlanJobRun.duration``)."""
    if info is None:
        return None
    if info.elapsed_time is not None:
        return info.elapsed_time
    if info.actual_start_time is not None and info.actual_end_time is not None:
        try:
            return info.actual_end_time - info.actual_start_time
        except TypeError:  # one naive, one aware: the engine mixed formats
            return None
    return None


class DependenciesStats(_Model, frozen=True):
    """``DependenciesStatsV2``: how many dependencies a job has and how many are still open."""

    number_of_dependencies: int | None = None
    number_of_job_dependencies: int | None = None
    number_of_job_stream_dependencies: int | None = None
    number_of_internetwork_dependencies: int | None = None
    number_of_prompt_dependencies: int | None = None
    number_of_resource_dependencies: int | None = None
    number_of_file_dependencies: int | None = None
    number_of_unresolved_dependencies: int | None = None
    number_of_non_resource_unresolved_dependencies: int | None = None


class JobOptions(_Model, frozen=True):
    """``JobInPlanOptions``: flags set on the job by its definition or an operator."""

    critical: bool | None = None
    requires_confirmation: bool | None = None
    no_operation: bool | None = None
    every: bool | None = None


class TimeRestrictions(_Model, frozen=True):
    """``TimeRestrictionsInPlanV2``: when a job may start and by when it must end."""

    start_time: datetime | None = None
    deadline_time: datetime | None = None
    latest_start_time: datetime | None = None
    deadline_satisfied: bool | None = None


class JobInPlan(_Model, frozen=True):
    """``JobInPlanV2``: a job in the current plan, with its runs.

    ``id`` is the one required field: the engine always sends it, and an object
    without one is a wrong-shape answer rather than a job.
    """

    id: str
    name: str | None = None
    folder: str | None = None
    workstation: str | None = None
    job_stream_id: str | None = None
    job_stream_name: str | None = None
    job_stream_workstation: str | None = None
    position: int | None = None
    priority: int | None = None
    orig_priority: int | None = None
    sched_time: datetime | None = None
    end_time: datetime | None = None
    critical_start: datetime | None = None
    job_options: JobOptions | None = None
    last_run_composite_status: CompositeStatus | None = None
    last_run_common_status: Word | None = None
    jobruns: tuple[JobRun, ...] = ()
    dependencies_stats: DependenciesStats | None = None
    time_restrictions: TimeRestrictions | None = None

    @property
    def deadline(self) -> datetime | None:
        """``timeRestrictions.deadlineTime``: by when the job must have ended."""
        return self.time_restrictions.deadline_time if self.time_restrictions else None

    @property
    def last_run(self) -> JobRun | None:
        """The run the engine marks last in the rerun chain, else the last one listed."""
        return _last_run(self.jobruns)

    @property
    def status(self) -> str | None:
        """Internal status (``JobInPlanStatus``: SUCC, ABEND, EXEC, HOLD, ...), as sent."""
        composite = self.last_run_composite_status
        if composite is not None and composite.status is not None:
            return composite.status
        run = self.last_run
        return run.status if run else None

    @property
    def substatus(self) -> str | None:
        composite = self.last_run_composite_status
        if composite is not None and composite.substatus is not None:
            return composite.substatus
        run = self.last_run
        if run is not None and run.composite_status is not None:
            return run.composite_status.substatus
        return None

    @property
    def common_status(self) -> str | None:
        """What the web console shows (``CommonStatusV2``: SUCCESSFUL, ERROR, RUNNING, ...)."""
        if self.last_run_common_status is not None:
            return self.last_run_common_status
        run = self.last_run
        return run.common_status if run else None

    @property
    def is_error(self) -> bool:
        """The engine flags the last run as an error (ABEND, FAIL, ERROR...)."""
        composite = self.last_run_composite_status
        return bool(composite is not None and composite.error)

    @property
    def is_critical(self) -> bool:
        return bool(self.job_options is not None and self.job_options.critical)

    @property
    def return_code(self) -> int | None:
        run = self.last_run
        return run.return_code if run else None

    @property
    def job_number(self) -> int | None:
        run = self.last_run
        return run.job_number if run else None

    @property
    def started_at(self) -> datetime | None:
        run = self.last_run
        return run.started_at if run else None

    @property
    def ended_at(self) -> datetime | None:
        run = self.last_run
        return run.ended_at if run else None

    @property
    def duration(self) -> timedelta | None:
        """How long the last run took (None while it has not finished)."""
        run = self.last_run
        return run.duration if run else None

    @property
    def estimated_duration(self) -> timedelta | None:
        run = self.last_run
        if run is None or run.time_info is None:
            return None
        return run.time_info.estimated_duration

    @property
    def unresolved_dependencies(self) -> int | None:
        stats = self.dependencies_stats
        return stats.number_of_unresolved_dependencies if stats else None

    @property
    def rerun_count(self) -> int:
        return sum(1 for run in self.jobruns if run.rerun_job)


def _last_run(runs: tuple[_R, ...]) -> _R | None:
    """The run the engine marks last in the rerun chain, else the last one listed."""
    for run in reversed(runs):
        if run.last_in_rerun_chain:
            return run
    return runs[-1] if runs else None


# ---- the plan as the job table reads it (HwaClient.read_plan) --------------------------
#
# A 200k plan is re-read every minute and mapped to rows (model/job_row.py) at once, so
# its decoded records are pure transients: these declare only the fields a row is made
# of, nested as JobInPlanV2 is on the wire (same names, same types: a field they have
# that does not match the spec is still a decode error; every other field is skipped).


class PlanJobStatus(_Model, frozen=True):
    """``JobInPlanCompositeStatusV2``, its ``status`` and ``substatus`` only."""

    status: Word | None = None
    substatus: Word | None = None


class PlanJobRun(_Model, frozen=True):
    """``JobRunInstanceV2``, the fields of a row (see ``JobRun``)."""

    id: str | None = None
    composite_status: PlanJobStatus | None = None
    common_status: Word | None = None
    return_code: int | None = None
    time_info: TimeInfo | None = None
    last_in_rerun_chain: bool | None = None

    @property
    def duration(self) -> timedelta | None:
        """As ``JobRun.duration``."""
        return _run_duration(self.time_info)


class PlanJobOptions(_Model, frozen=True):
    """``JobInPlanOptions``, ``critical`` only."""

    critical: bool | None = None


class PlanJobRestrictions(_Model, frozen=True):
    """``TimeRestrictionsInPlanV2``, ``deadlineTime`` only."""

    deadline_time: datetime | None = None


class PlanJob(_Model, frozen=True):
    """``JobInPlanV2`` with only what ``model.job_row`` maps to a row (``HwaClient.read_plan``):
    13 of its 19 fields and 6 of each run's 18, about half the objects of a ``JobInPlan``.
    A record broken only in a field it skips is read (a ``JobInPlan`` would refuse it)."""

    id: str
    name: str | None = None
    folder: str | None = None
    workstation: str | None = None
    job_stream_name: str | None = None
    priority: int | None = None
    """Not on a row, but a record whose priority is not an integer is one the job detail
    (a ``JobInPlan``) cannot read: the table counts it unreadable too (a small int: no
    object of its own)."""
    sched_time: datetime | None = None
    critical_start: datetime | None = None
    job_options: PlanJobOptions | None = None
    last_run_composite_status: PlanJobStatus | None = None
    last_run_common_status: Word | None = None
    jobruns: tuple[PlanJobRun, ...] = ()
    time_restrictions: PlanJobRestrictions | None = None

    @property
    def last_run(self) -> PlanJobRun | None:
        """As ``JobInPlan.last_run``."""
        return _last_run(self.jobruns)


T = TypeVar("T")


class Page(_Model, Generic[T], frozen=True):
    """``PaginatedResponseV2xx``: one page of results; ``count`` only with Include-Count.

    ``results`` is None when the answer had no ``results`` member; the client
    reports that as a malformed answer unless ``count`` says the page is empty.
    """

    count: int | None = None
    results: tuple[T, ...] | None = None
    next: str | None = None
    previous: str | None = None


JobPage = Page[JobInPlan]
"""``PaginatedResponseV216``: a page of ``GET /plan/job``."""

PlanJobPage = Page[PlanJob]
"""A page of ``GET /plan/job`` as ``HwaClient.read_plan`` decodes it."""


class Workstation(_Model, frozen=True):
    """``WorkstationInPlanV2``. Its health is the set ``active_states``, not one status."""

    id: str | None = None
    name: str | None = None
    folder: str | None = None
    key: str | None = None
    description: str | None = None
    active_states: tuple[Word, ...] = ()
    active_flags: tuple[Word, ...] = ()
    type: Word | None = None
    host_type: Word | None = None
    os: str | None = None
    time_zone: str | None = None
    node_name: str | None = None
    tcp_port: int | None = None
    domain_name: str | None = None
    limit: int | None = None
    fence: int | None = None
    agent_id: str | None = None
    version: str | None = None
    time_started: datetime | None = None
    ignore: bool | None = None

    @property
    def linked(self) -> bool:
        return "LINKED" in self.active_states

    @property
    def running(self) -> bool:
        return "RUNNING" in self.active_states

    @property
    def needs_attention(self) -> bool:
        """Not linked or not running: jobs routed to it will not start."""
        return not (self.linked and self.running)


WorkstationPage = Page[Workstation]
"""``PaginatedResponseV219``: a page of ``GET /plan/workstation``."""


class JobStreamStats(_Model, frozen=True):
    """``JobStreamStatsV2``: the engine's own job counts of a stream (spelling as sent)."""

    number_of_job: int | None = None
    number_of_successfull_job: int | None = None
    number_of_executing_job: int | None = None
    number_of_abended_job: int | None = None
    number_of_failed_job: int | None = None
    number_of_not_running_job: int | None = None
    number_of_undecided_job: int | None = None


class JobStreamOptions(_Model, frozen=True):
    """``JobStreamInPlanOptions``."""

    carry_forward: bool | None = None
    monitored: bool | None = None


class JobStreamDefinitionFlags(_Model, frozen=True):
    """``JobStreamInPlanDefinitionFlags``."""

    carried_forward: bool | None = None


class JobStreamInPlan(_Model, frozen=True):
    """``JobStreamInPlanV2``: a job stream of the current plan (fields the console uses)."""

    id: str | None = None
    name: str | None = None
    original_job_stream_name: str | None = None
    folder: str | None = None
    workstation: str | None = None
    sched_time: datetime | None = None
    scheduled_date: datetime | None = None
    priority: int | None = None
    composite_status: CompositeStatus | None = None
    common_status: Word | None = None
    time_info: TimeInfo | None = None
    job_stream_stats: JobStreamStats | None = None
    js_options: JobStreamOptions | None = None
    js_definition_flags: JobStreamDefinitionFlags | None = None
    dependencies_stats: DependenciesStats | None = None

    @property
    def status(self) -> str | None:
        """Internal status (``JobStreamInPlanStatus``: SUCC, ABEND, EXEC, HOLD...), as sent."""
        composite = self.composite_status
        return composite.status if composite is not None else None

    @property
    def display_name(self) -> str:
        return self.name or self.original_job_stream_name or self.id or "?"

    @property
    def carried_forward(self) -> bool:
        flags = self.js_definition_flags
        return bool(flags is not None and flags.carried_forward)

    @property
    def started_at(self) -> datetime | None:
        info = self.time_info
        return info.actual_start_time if info is not None else None

    @property
    def ended_at(self) -> datetime | None:
        info = self.time_info
        return info.actual_end_time if info is not None else None


JobStreamPage = Page[JobStreamInPlan]
"""``PaginatedResponseV217``: a page of ``GET /plan/jobstream``."""


class EngineInfo(_Model, frozen=True):
    """``EngineInfoV2``: version and time zone for the header; a cheap liveness probe."""

    display_version: str | None = None
    full_version: str | None = None
    capabilities: dict[str, dict[str, str]] | None = None
    reference_id: str | None = None
    license_type: str | None = None
    locale: str | None = None
    timezone: str | None = None


class GroupedCount(_Model, frozen=True):
    """``GroupedCountResponse`` of ``GET /plan/job/count``: total and counts per group key."""

    count: int | None = None
    grouped_count: dict[str, int] = msgspec.field(default_factory=dict)


class FlowNode(_Model, frozen=True):
    """``FlowNodeInPlanV2``: a predecessor or successor, either a job or a job stream.

    ``flow_node_type`` says which ("JOB" or "JOBSTREAM"); a job carries
    ``last_run_composite_status``, a job stream ``composite_status``.
    """

    id: str | None = None
    name: str | None = None
    folder: str | None = None
    workstation: str | None = None
    flow_node_type: Word | None = None
    job_stream_id: str | None = None
    job_stream_name: str | None = None
    sched_time: datetime | None = None
    priority: int | None = None
    last_run_composite_status: CompositeStatus | None = None
    last_run_common_status: Word | None = None
    composite_status: CompositeStatus | None = None
    common_status: Word | None = None

    @property
    def status(self) -> str | None:
        for composite in (self.last_run_composite_status, self.composite_status):
            if composite is not None and composite.status is not None:
                return composite.status
        return None


class FlowNodeList(_Model, frozen=True):
    """``ListResponseV21`` of the predecessors/successors endpoints."""

    count: int | None = None
    results: tuple[FlowNode, ...] = ()


class ActionResult(_Model, frozen=True):
    """``ResourceResponseV2``: what an action call answers (the affected object)."""

    id: str | None = None
    url: str | None = None


class ActionItem(_Model, frozen=True):
    """``ActionResourceResponseV2``: one object of a bulk action, done or failed (``message``)."""

    id: str | None = None
    url: str | None = None
    message: str | None = None
    is_error: bool | None = None
    error: bool | None = None


class BulkActionResult(_Model, frozen=True):
    """``FilterActionResponseV2``: what a bulk action answers, object by object.

    Messages are the engine's raw text: sanitize before display.
    """

    successful_resource_responses: tuple[ActionItem, ...] = ()
    failed_resource_responses: tuple[ActionItem, ...] = ()


PlanSignature = tuple[int, tuple[tuple[str, int], ...]]
"""Total job count and sorted (status, count) pairs: equal signatures suggest an unchanged plan."""


class UnreadableRecord(msgspec.Struct, frozen=True):
    """One record of a page that could not be decoded; the rest of its page was kept.

    ``job_id`` is the record's ``id`` when it had a readable one (for a workstation,
    the workstation's id); ``reason`` is the decoder's explanation, at most ~120
    characters. Both are the engine's raw text: sanitize before display.
    """

    job_id: str | None
    reason: str


class PlanRead(msgspec.Struct, frozen=True):
    """What one whole read of the plan (``HwaClient.fetch_plan``) saw.

    ``complete`` is False when the read saw evidence that the plan moved under it
    (the count changed between pages, a job came twice, the count did not add up,
    or pages had no count to check against): a job missing from ``jobs`` may then
    have been skipped by a page boundary rather than removed from the plan.
    """

    jobs: list[JobInPlan]
    unreadable: tuple[UnreadableRecord, ...] = ()
    complete: bool = True
    received: int = -1
    """Jobs read (each once): ``len(jobs)``, or what went to ``fetch_plan``'s sink."""

    def __post_init__(self) -> None:
        if self.received < 0:
            msgspec.structs.force_setattr(self, "received", len(self.jobs))


class WorkstationRead(msgspec.Struct, frozen=True):
    """Every workstation read by ``HwaClient.workstations``, and the records that were not."""

    workstations: list[Workstation]
    unreadable: tuple[UnreadableRecord, ...] = ()


class JobStreamRead(msgspec.Struct, frozen=True):
    """Every job stream read by ``HwaClient.job_streams``, and the records that were not."""

    streams: list[JobStreamInPlan]
    unreadable: tuple[UnreadableRecord, ...] = ()
