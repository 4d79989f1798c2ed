"""The wire format: plan objects as the JSON the HWA REST API V2 spec defines.

``JobInPlanV2`` (with its ``JobInPlanRunV2`` runs) and ``WorkstationInPlanV2`` are
built here and nowhere else, so conformance with ``openapi-v2.json`` is one file's
business. Docs are msgspec structs (camelCase, falsy values left out) and the small
repeated pieces (composite statuses, instants, durations) are cached: a page of
10,000 jobs must encode fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from resync_tui.hwa.simulator.model import (
    FINAL,
    SATISFIES,
    STARTED,
    Job,
    JobStream,
    Run,
    Workstation,
    common_status,
    stream_common_status,
    stream_status,
)

__all__ = [
    "PLAN_START_EPOCH",
    "JobDoc",
    "Served",
    "encode_job",
    "format_duration",
    "format_instant",
    "job_doc",
    "run_doc",
    "stream_doc",
    "stream_node_doc",
    "workstation_doc",
]

PLAN_START_EPOCH = 1795564800  # 2026-11-25T00:00:00Z
Served = Callable[[str, str], str]
"""(key, name) -> the name as served (hostile variants when that fault is on)."""


def format_instant(offset: float, epoch: int = PLAN_START_EPOCH) -> str:
    """ISO 8601 UTC instant for a plan offset in seconds (from the pinned day unless told)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch + int(offset)))


def format_duration(seconds: float) -> str:
    """ISO 8601 duration, e.g. PT1H2M3S."""
    total = max(0, int(seconds))
    cached = _DURATIONS.get(total)
    if cached is not None:
        return cached
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or text == "PT":
        text += f"{secs}S"
    if len(_DURATIONS) < 50_000:
        _DURATIONS[total] = text
    return text


_DURATIONS: dict[int, str] = {}


class _Doc(msgspec.Struct, rename="camel", omit_defaults=True):
    """Encoded with camelCase names; None and false values left out."""


class CompositeDoc(_Doc):
    status: str
    substatus: str | None = None
    error: bool = False
    started: bool = False
    canceled: bool = False


class TimeInfoDoc(_Doc):
    estimated_duration: str | None = None
    actual_start_time: str | None = None
    actual_end_time: str | None = None
    elapsed_time: str | None = None


class RunDoc(_Doc):
    id: str
    actual_workstation: str
    composite_status: CompositeDoc
    common_status: str
    time_info: TimeInfoDoc
    job_number: int | None = None
    return_code: int | None = None
    rerun_job: bool = False
    rerun_type: str | None = None
    confirmed: bool = False


class DependenciesDoc(_Doc):
    number_of_dependencies: int
    number_of_job_dependencies: int
    number_of_unresolved_dependencies: int


class JobOptionsDoc(_Doc):
    critical: bool = False


class TimeRestrictionsDoc(_Doc):
    deadline_time: str | None = None


class JobDoc(_Doc):
    id: str
    folder: str
    name: str
    workstation_id: str
    workstation: str
    job_stream_id: str
    job_stream_name: str
    job_stream_workstation: str
    position: int
    priority: int
    orig_priority: int
    sched_time: str
    job_options: JobOptionsDoc
    last_run_composite_status: CompositeDoc
    last_run_common_status: str
    jobruns: list[RunDoc]
    dependencies_stats: DependenciesDoc
    flow_node_type: str
    critical_start: str | None = None
    end_time: str | None = None
    time_restrictions: TimeRestrictionsDoc | None = None


_CRITICAL = JobOptionsDoc(critical=True)
_NOT_CRITICAL = JobOptionsDoc()
_COMPOSITES: dict[tuple[str, str | None], CompositeDoc] = {}


def _composite(status: str, substatus: str | None) -> CompositeDoc:
    key = (status, substatus)
    doc = _COMPOSITES.get(key)
    if doc is None:
        doc = CompositeDoc(
            status=status,
            substatus=substatus,
            error=status in ("ABEND", "FAIL", "ERROR"),
            started=status in STARTED,
            canceled=status == "CANCL",
        )
        _COMPOSITES[key] = doc
    return doc


_INSTANTS: dict[float, str] = {}


def _instant_cached(offset: float, epoch: int) -> str:
    key = epoch + offset
    text = _INSTANTS.get(key)
    if text is None:
        text = format_instant(offset, epoch)
        if len(_INSTANTS) < 100_000:
            _INSTANTS[key] = text
    return text


_encoder = msgspec.json.Encoder()


def encode_job(job: Job, epoch: int, served: Served) -> bytes:
    """The job's JSON, cached on the job until something it shows changes."""
    encoded = job.encoded
    if encoded is None:
        encoded = _encoder.encode(job_doc(job, epoch, served))
        job.encoded = encoded
    return encoded


def job_doc(job: Job, epoch: int, served: Served) -> JobDoc:
    """The JobInPlanV2 shape of a job (false booleans and unknowns omitted)."""
    stream = job.stream
    ws = job.workstation
    stream_ws = stream.workstation
    last = job.last_run
    unresolved = 0
    for pred in job.preds:
        if pred.status not in SATISFIES:
            unresolved += 1
    return JobDoc(
        flow_node_type="JOB",
        id=job.id,
        folder=job.folder,
        name=served(job.id, job.name),
        workstation_id=ws.id,
        workstation=served(ws.id, ws.name),
        job_stream_id=stream.id,
        job_stream_name=served(stream.id, stream.name),
        job_stream_workstation=served(stream_ws.id, stream_ws.name),
        position=job.position,
        priority=job.priority,
        orig_priority=job.orig_priority,
        sched_time=_instant_cached(job.sched_time, epoch),
        job_options=_CRITICAL if job.critical else _NOT_CRITICAL,
        last_run_composite_status=_composite(job.status, job.substatus),
        last_run_common_status=job.common_status,
        jobruns=[run_doc(job, run, epoch, served) for run in job.runs],
        dependencies_stats=DependenciesDoc(len(job.preds), len(job.preds), unresolved),
        critical_start=(
            _instant_cached(job.sched_time + 2 * 3600, epoch) if job.critical else None
        ),
        end_time=(
            format_instant(last.end, epoch)
            if job.status in FINAL and last.end is not None
            else None
        ),
        time_restrictions=(
            None if job.deadline is None
            else TimeRestrictionsDoc(deadline_time=_instant_cached(job.deadline, epoch))
        ),
    )


def run_doc(job: Job, run: Run, epoch: int, served: Served) -> RunDoc:
    """The JobInPlanRunV2 shape of one of the job's runs; the last run shows the job's status."""
    is_last = run is job.last_run
    status = job.status if is_last else run.status
    finished = run.end is not None and status in FINAL
    started = run.start
    return RunDoc(
        id=run.id,
        actual_workstation=served(run.workstation.id, run.workstation.name),
        job_number=run.job_number,
        return_code=run.return_code,
        composite_status=_composite(status, job.substatus if is_last else None),
        common_status=common_status(status, job.user_held and is_last),
        rerun_job=run.rerun,
        rerun_type="RERUN" if run.rerun else None,
        confirmed=run.confirmed,
        time_info=TimeInfoDoc(
            estimated_duration=format_duration(run.estimated),
            actual_start_time=None if started is None else format_instant(started, epoch),
            actual_end_time=format_instant(run.end, epoch) if finished and run.end else None,
            elapsed_time=(
                format_duration(run.end - started)
                if finished and run.end is not None and started is not None
                else None
            ),
        ),
    )


def workstation_doc(ws: Workstation, served: Served) -> dict[str, Any]:
    """The WorkstationInPlanV2 shape of a workstation."""
    flags = ["AUTO_LINK", "FULL_STATUS"] if ws.type == "FTA" else ["AUTO_LINK"]
    return {
        "engineId": "SIM",
        "id": ws.id,
        "planId": "current",
        "folder": ws.folder,
        "name": served(ws.id, ws.name),
        "key": ws.name,
        "description": f"{ws.type} workstation on {ws.node}",
        "activeStates": ws.active_states,
        "activeFlags": flags,
        "type": ws.type,
        "hostType": "MASTER" if ws.type == "MANAGER" else "WORKSTATION",
        "os": ws.os,
        "timeZone": "UTC",
        "nodeName": ws.node,
        "tcpPort": 31111,
        "domainName": "MASTERDM",
        "limit": ws.limit,
        "fence": ws.fence,
        "version": "10.1.0.1",
        "ignore": False,
    }


_STREAM_STAT_OF = {
    "SUCC": "number_of_successfull_job",
    "INTRO": "number_of_executing_job",
    "EXEC": "number_of_executing_job",
    "ABEND": "number_of_abended_job",
    "FAIL": "number_of_failed_job",
    "HOLD": "number_of_not_running_job",
    "READY": "number_of_not_running_job",
    "WAIT": "number_of_not_running_job",
}


class StreamStatsDoc(_Doc):
    number_of_job: int = 0
    number_of_successfull_job: int = 0
    number_of_executing_job: int = 0
    number_of_abended_job: int = 0
    number_of_failed_job: int = 0
    number_of_not_running_job: int = 0
    number_of_undecided_job: int = 0


class StreamOptionsDoc(_Doc):
    carry_forward: bool = False


class StreamDefinitionFlagsDoc(_Doc):
    carried_forward: bool = False


class StreamStatusFlagsDoc(_Doc):
    late_job_stream: bool = False


class StreamCompositeDoc(_Doc):
    status: str
    error: bool = False
    started: bool = False
    canceled: bool = False
    cancel_pending: bool = False


class StreamDoc(_Doc):
    """``JobStreamInPlanV2`` (``originalJobStreamName`` is the spec's one required field)."""

    flow_node_type: str
    plan_id: str
    engine_id: str
    id: str
    folder: str
    name: str
    original_job_stream_name: str
    key: str
    workstation_id: str
    workstation: str
    sched_time: str
    scheduled_date: str
    priority: int
    orig_priority: int
    composite_status: StreamCompositeDoc
    common_status: str
    job_stream_stats: StreamStatsDoc
    js_options: StreamOptionsDoc
    js_definition_flags: StreamDefinitionFlagsDoc
    js_status_flags: StreamStatusFlagsDoc
    time_info: TimeInfoDoc
    dependencies_stats: DependenciesDoc
    limit: int
    time_zone: str


class StreamNodeDoc(_Doc):
    """A job stream as a ``FlowNodeInPlanV2`` (a predecessor or successor)."""

    flow_node_type: str
    id: str
    folder: str
    name: str
    workstation_id: str
    workstation: str
    sched_time: str
    priority: int


def stream_doc(
    stream: JobStream, jobs: list[Job], now: float, epoch: int, served: Served,
    external_preds: int = 0,
) -> StreamDoc:
    """The JobStreamInPlanV2 shape of a stream, its status derived from ``jobs``
    (see ``model.stream_status``); ``external_preds``: jobs of other streams it waits for."""
    statuses = [job.status for job in jobs]
    status = stream_status(stream, statuses, now)
    stats = StreamStatsDoc(number_of_job=len(jobs))
    for job_status in statuses:
        name = _STREAM_STAT_OF.get(job_status)
        if name is not None:
            setattr(stats, name, getattr(stats, name) + 1)
        elif job_status not in FINAL:
            stats.number_of_undecided_job += 1
    starts = [job.last_run.start for job in jobs if job.last_run.start is not None]
    ends = [job.last_run.end for job in jobs if job.last_run.end is not None]
    final = status in ("SUCC", "ABEND", "CANCL")
    start = min(starts) if starts else None
    end = max(ends) if final and ends else None
    ws = stream.workstation
    name = served(stream.id, stream.name)
    held = stream.held and status == "HOLD"
    day = epoch - 86400 if stream.carried_forward else epoch
    unresolved = sum(1 for job in jobs for pred in job.preds
                     if pred.stream is not stream and pred.status not in SATISFIES)
    return StreamDoc(
        flow_node_type="JOBSTREAM",
        plan_id="current",
        engine_id="SIM",
        limit=-1,
        time_zone="UTC",
        id=stream.id,
        folder=stream.folder,
        name=name,
        original_job_stream_name=name,
        key=f"{ws.name}#{stream.folder}{stream.name}",
        workstation_id=ws.id,
        workstation=served(ws.id, ws.name),
        sched_time=_instant_cached(stream.sched_time, epoch),
        scheduled_date=format_instant(stream.sched_time, day),
        priority=max((job.priority for job in jobs), default=10),
        orig_priority=max((job.orig_priority for job in jobs), default=10),
        composite_status=StreamCompositeDoc(
            status=status,
            error=status in ("ABEND", "STUCK"),
            started=start is not None,
            canceled=status == "CANCL",
            cancel_pending=status == "CANCLP",
        ),
        common_status="HELD" if held else stream_common_status(status),
        job_stream_stats=stats,
        js_options=StreamOptionsDoc(carry_forward=stream.carry_forward),
        js_definition_flags=StreamDefinitionFlagsDoc(carried_forward=stream.carried_forward),
        js_status_flags=StreamStatusFlagsDoc(
            late_job_stream=not final and start is None and now > stream.sched_time + 3600),
        time_info=TimeInfoDoc(
            actual_start_time=None if start is None else format_instant(start, epoch),
            actual_end_time=None if end is None else format_instant(end, epoch),
            elapsed_time=(None if start is None or end is None
                          else format_duration(end - start)),
        ),
        dependencies_stats=DependenciesDoc(external_preds, external_preds, unresolved),
    )


def stream_node_doc(stream: JobStream, epoch: int, served: Served) -> StreamNodeDoc:
    """A job stream as a predecessor or successor (``FlowNodeInPlanV2``)."""
    ws = stream.workstation
    return StreamNodeDoc(
        flow_node_type="JOBSTREAM",
        id=stream.id,
        folder=stream.folder,
        name=served(stream.id, stream.name),
        workstation_id=ws.id,
        workstation=served(ws.id, ws.name),
        sched_time=_instant_cached(stream.sched_time, epoch),
        priority=10,
    )
