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
    Run,
    Workstation,
    common_status,
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
