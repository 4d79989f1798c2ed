"""What OQL can ask of a job or a workstation: field names, their aliases, and selection.

The spec's OQL paths (``jobStream.name``, ``lastRunCompositeStatus.status``...) map to
getters on the plan's records here; parsing and ordering are ``hwa.oql``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resync_tui.hwa import oql
from resync_tui.hwa.simulator.model import Job, JobStream, Workstation
from resync_tui.hwa.simulator.wire import format_instant

__all__ = ["select_jobs", "select_streams", "select_workstations"]


def select_jobs(jobs: list[Job], query: str | None, epoch: int) -> list[Job]:
    """Jobs matching an OQL text, in its ORDER BY (else the given) order."""
    parsed = oql.parse(query)

    def field(path: str) -> Callable[[Job], Any]:
        if _JOB_ALIASES.get(path.lower(), path.lower()) == "schedtime":
            return lambda j: format_instant(j.sched_time, epoch)
        return _job_field(path)

    predicate = oql.compile_predicate(parsed, field)
    selected = jobs if predicate is None else [j for j in jobs if predicate(j)]
    if parsed.order:
        selected = sorted(selected, key=oql.sort_key(parsed.order, field, _job_id))
    return selected


def select_workstations(workstations: list[Workstation], query: str | None) -> list[Workstation]:
    """Workstations matching an OQL text, in its ORDER BY (else the given) order."""
    parsed = oql.parse(query)
    predicate = oql.compile_predicate(parsed, _ws_field)
    selected = [w for w in workstations if predicate is None or predicate(w)]
    if parsed.order:
        selected.sort(key=oql.sort_key(parsed.order, _ws_field, lambda w: w.id))
    return selected


def select_streams(streams: list[JobStream], query: str | None) -> list[JobStream]:
    """Job streams matching an OQL text (id, name, folder, workstation), in id order."""
    parsed = oql.parse(query)
    predicate = oql.compile_predicate(parsed, _stream_field)
    return [s for s in streams if predicate is None or predicate(s)]


_STREAM_FIELDS: dict[str, Callable[[JobStream], Any]] = {
    "id": lambda s: s.id,
    "name": lambda s: s.name,
    "key.name": lambda s: s.name,
    "jobstreamname": lambda s: s.name,
    "folder": lambda s: s.folder,
    "key.folder": lambda s: s.folder,
    "workstation": lambda s: s.workstation.name,
    "key.workstation": lambda s: s.workstation.name,
}


def _stream_field(path: str) -> Callable[[JobStream], Any]:
    try:
        return _STREAM_FIELDS[path.lower()]
    except KeyError:
        raise oql.OqlError(f"unknown job stream field {path!r}") from None


def _job_id(job: Job) -> str:
    return job.id


_JOB_FIELDS: dict[str, Callable[[Job], Any]] = {
    "id": _job_id,
    "name": lambda j: j.name,
    "folder": lambda j: j.folder,
    "workstation": lambda j: j.workstation.name,
    "workstationid": lambda j: j.workstation.id,
    "jobstreamname": lambda j: j.stream.name,
    "jobstreamid": lambda j: j.stream.id,
    "jobstreamworkstation": lambda j: j.stream.workstation.name,
    "priority": lambda j: j.priority,
    "position": lambda j: j.position,
    "schedtime": lambda j: format_instant(j.sched_time),
    "status": lambda j: j.status,
    "substatus": lambda j: j.substatus,
    "commonstatus": lambda j: j.common_status,
    "critical": lambda j: j.critical,
    "returncode": lambda j: j.last_run.return_code,
    "jobnumber": lambda j: j.last_run.job_number,
}
_JOB_ALIASES = {
    "key.name": "name",
    "jobname": "name",
    "key.folder": "folder",
    "key.workstation": "workstation",
    "workstationname": "workstation",
    "jobstream.name": "jobstreamname",
    "jobruns.compositestatus.status": "status",
    "lastruncompositestatus.status": "status",
    "jobruns.compositestatus.substatus": "substatus",
    "lastruncompositestatus.substatus": "substatus",
    "lastruncommonstatus": "commonstatus",
    "jobruns.commonstatus": "commonstatus",
    "joboptions.critical": "critical",
    "jobruns.returncode": "returncode",
    "jobruns.jobnumber": "jobnumber",
}


def _job_field(path: str) -> Callable[[Job], Any]:
    name = path.lower()
    name = _JOB_ALIASES.get(name, name)
    try:
        return _JOB_FIELDS[name]
    except KeyError:
        raise oql.OqlError(f"unknown job field {path!r}") from None


_WS_FIELDS: dict[str, Callable[[Workstation], Any]] = {
    "id": lambda w: w.id,
    "name": lambda w: w.name,
    "key": lambda w: w.name,
    "folder": lambda w: w.folder,
    "type": lambda w: w.type,
    "os": lambda w: w.os,
    "activestates": lambda w: w.active_states,
    "nodename": lambda w: w.node,
}


def _ws_field(path: str) -> Callable[[Workstation], Any]:
    try:
        return _WS_FIELDS[path.lower()]
    except KeyError:
        raise oql.OqlError(f"unknown workstation field {path!r}") from None
