"""The job detail screen's loader, wired to the HWA client through the resilience core.

What is cached is what is read again and cannot have changed under its key:

* a finished job's fields and runs, keyed by job id, last run id and status (the
  live jobs view says which; a rerun or a confirm changes the key). A job that is
  not finished is always read from the engine (``job`` and ``runs`` share one
  ``GET /plan/job/{id}`` for a moment, since the screen asks for both at once);
* a finished run's whole log, keyed by run id (it can no longer change). A running
  job's log, and every read from a line on (``from_line``, following a log), is read
  live: a log that grows must never be served stale;
* the dependency *structure* (which jobs are predecessors/successors). A neighbour's
  status never comes from the cache: it is read from the live jobs view, else from
  the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.cache_stats import cached_read
from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.models import FlowNode, JobInPlan
from resync_tui.model.jobs_view import JobRow

__all__ = ["FINISHED_STATUSES", "JobLookup", "RuntimeDetailLoader"]

JobLookup = Callable[[str], JobRow | None]
"""The live jobs view by job id (``JobsView.get``): current status and last run."""

FINISHED_STATUSES: Final = frozenset({"SUCC", "ABEND", "FAIL", "ERROR", "CANCL", "SUPPR"})
"""Statuses after which a run no longer changes (a rerun starts a new run id)."""

_SHARE_SECONDS = 2.0
_MAX_CACHED_LOG = 256 * 1024
"""Characters; a bigger job log is read from the engine each time."""
_ENDED_RUNS_KEPT = 4096

Details = dict[str, Any]
"""``{"fields": {label: value}, "runs": [{column: value}], "ended": [run id]}``."""


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _span(value: timedelta | None) -> str:
    if value is None:
        return ""
    total = int(value.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _structure(node: FlowNode) -> dict[str, str]:
    """What a dependency is, without its status (which changes, and is read live)."""
    return {"id": _text(node.id), "type": _text(node.flow_node_type).upper(),
            "name": _text(node.name), "stream": _text(node.job_stream_name),
            "workstation": _text(node.workstation)}


def _structure_from(value: Any) -> list[dict[str, str]] | None:
    """A cached structure, checked (Redis is untrusted); None if it is not one."""
    if not isinstance(value, list):
        return None
    nodes: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            return None
        nodes.append({k: str(item.get(k, "")) for k in
                      ("id", "type", "name", "stream", "workstation")})
    return nodes


def _node_line(node: Mapping[str, str], status: str | None) -> str:
    kind = node.get("type", "")
    name = node.get("name") or node.get("id") or "?"
    if kind == "JOB" and node.get("stream"):
        name = f"{node['stream']}.{name}"
    where = f" @ {node['workstation']}" if node.get("workstation") else ""
    shown = f" [{status}]" if status else " [status unknown]" if status is None else ""
    prefix = "stream " if kind == "JOBSTREAM" else ""
    return f"{prefix}{name}{where}{shown}"


def _fields(job: JobInPlan) -> dict[str, str]:
    composite = job.last_run_composite_status
    last = job.jobruns[-1] if job.jobruns else None
    deps = job.dependencies_stats
    fields = {
        "Job": _text(job.name),
        "Job stream": _text(job.job_stream_name),
        "Workstation": _text(job.workstation),
        "Folder": _text(job.folder),
        "Status": _text(composite.status if composite else None),
        "Substatus": _text(composite.substatus if composite else None),
        "Common status": _text(job.last_run_common_status),
        "Priority": _text(job.priority),
        "Scheduled": _when(job.sched_time),
        "Critical start": _when(job.critical_start),
        "Return code": _text(last.return_code if last else None),
        "Started": _when(last.started_at if last else None),
        "Ended": _when(last.ended_at if last else None),
        "Elapsed": _span(last.duration if last else None),
        "Runs": str(len(job.jobruns)),
        "Unresolved dependencies": _text(
            deps.number_of_unresolved_dependencies if deps else None),
        "Job id": _text(job.id),
    }
    return {label: value for label, value in fields.items() if value}


def _runs(job: JobInPlan) -> list[dict[str, str]]:
    return [{
        "#": _text(run.job_number),
        "Status": _text(run.status),
        "RC": _text(run.return_code),
        "Workstation": _text(run.actual_workstation),
        "Started": _when(run.started_at),
        "Ended": _when(run.ended_at),
        "Elapsed": _span(run.duration),
        "Rerun": "yes" if run.rerun_job else "",
        "Run id": _text(run.id),
    } for run in reversed(job.jobruns)]


def _details(job: JobInPlan) -> Details:
    return {"fields": _fields(job), "runs": _runs(job),
            "ended": [run.id for run in job.jobruns if run.id and run.ended_at is not None]}


def _is_run(details: Details, *, run_id: str, status: str) -> bool:
    """Whether the engine's answer is the run the key names (the view may be a poll behind)."""
    runs = details["runs"]
    return bool(runs) and runs[0].get("Run id") == run_id and (
        details["fields"].get("Status") == status)


def _details_from(value: Any) -> Details | None:
    """Cached details, checked (Redis is untrusted); None if they are not."""
    if not isinstance(value, dict):
        return None
    fields, runs, ended = value.get("fields"), value.get("runs"), value.get("ended")
    if not (isinstance(fields, dict) and isinstance(runs, list) and isinstance(ended, list)
            and all(isinstance(run, dict) for run in runs)):
        return None
    return {"fields": {str(k): str(v) for k, v in fields.items()},
            "runs": [{str(k): str(v) for k, v in run.items()} for run in runs],
            "ended": [str(run_id) for run_id in ended]}


class RuntimeDetailLoader:
    """Implements ``JobDetailLoader`` (resync_tui.ui.screens.job_detail).

    ``jobs`` is the live jobs view (``JobsView.get``): without it nothing about a job
    is known before asking the engine, so details are never cached and every
    neighbour's status is read from the engine.
    """

    def __init__(self, runtime: Runtime, jobs: JobLookup | None = None) -> None:
        self._rt = runtime
        self._jobs = jobs
        self._recent: dict[str, tuple[float, asyncio.Task[tuple[Details, bool]]]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()

    def _key(self, *parts: str) -> str:
        return ":".join((*parts[:1], self._rt.engine_name, *parts[1:]))

    @property
    def _long_ttl(self) -> float:
        return max(self._rt.settings.cache.l2_ttl, 1.0)

    def _row(self, job_id: str) -> JobRow | None:
        return self._jobs(job_id) if self._jobs is not None else None

    # -- fields and runs -----------------------------------------------------------------

    async def _read_details(self, job_id: str) -> tuple[Details, bool]:
        """The details, and whether they are not cacheable (a later ask reads the engine)."""
        rt = self._rt

        async def live() -> Details:
            job = await hwa_call(rt, lambda: rt.client.get_job(job_id), breaker=rt.hwa_api,
                                 operation="get_job")
            return _details(job)

        row = self._row(job_id)
        details: Details | None = None
        if row is not None and row.status in FINISHED_STATUSES and row.run_id:
            # Status in the key too: confirm-succ turns ABEND into SUCC on the same run.
            key = self._key("job", job_id, row.run_id, row.status)
            cached = rt.cache.peek(key, "job details")  # an L1 hit: nothing to await
            details = _details_from(cached if cached is not None else await cached_read(
                rt.cache, "job details", key, live, ttl=self._long_ttl,
                keep=partial(_is_run, run_id=row.run_id, status=row.status)))
        uncached = details is None
        if details is None:
            details = await live()
        for run_id in details["ended"]:
            self._ended[run_id] = None
            self._ended.move_to_end(run_id)
        while len(self._ended) > _ENDED_RUNS_KEPT:
            self._ended.popitem(last=False)
        return details, uncached

    def _shared(self, job_id: str, now: float) -> asyncio.Task[tuple[Details, bool]] | None:
        """A read to share: one in flight, or an uncacheable answer of the last moment."""
        entry = self._recent.get(job_id)
        if entry is None:
            return None
        when, task = entry
        if not task.done():
            return task
        if task.cancelled() or task.exception() is not None or now - when > _SHARE_SECONDS:
            return None
        return task if task.result()[1] else None  # a cached answer is cheap to ask again

    async def _details(self, job_id: str) -> Details:
        now = time.monotonic()
        task = self._shared(job_id, now)
        if task is None:
            task = asyncio.ensure_future(self._read_details(job_id))
            self._recent = {job_id: (now, task)}
        return (await asyncio.shield(task))[0]

    async def job(self, job_id: str) -> Mapping[str, str]:
        fields: dict[str, str] = (await self._details(job_id))["fields"]
        return fields

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        return list((await self._details(job_id))["runs"])

    # -- dependencies --------------------------------------------------------------------

    async def _nodes(self, kind: str, job_id: str) -> list[str]:
        rt = self._rt
        fetch = rt.client.predecessors if kind == "predecessors" else rt.client.successors
        live: list[FlowNode] | None = None

        async def read_live() -> list[FlowNode]:
            nonlocal live
            live = await hwa_call(rt, lambda: fetch(job_id), breaker=rt.hwa_api,
                                  operation=kind)
            return live

        async def load() -> list[dict[str, str]]:
            return [_structure(node) for node in await read_live()]

        key = self._key("deps", kind, job_id)
        cached = rt.cache.peek(key, "dependencies")  # an L1 hit: nothing to await
        structure = _structure_from(cached if cached is not None else await cached_read(
            rt.cache, "dependencies", key, load, ttl=self._long_ttl))
        if structure is None:
            structure = await load()
        statuses: dict[str, str | None] = {}
        if live is None:
            for node in structure:
                row = self._row(node["id"]) if node["type"] == "JOB" else None
                statuses[node["id"]] = row.status if row is not None else None
            if any(status is None for status in statuses.values()):
                # The view does not know a neighbour (a stream, or no view): ask the engine.
                with contextlib.suppress(Exception):
                    await read_live()
        if live is not None:
            statuses.update((node.id or "", node.status or "") for node in live)
        return [_node_line(node, statuses.get(node["id"])) for node in structure]

    async def predecessors(self, job_id: str) -> list[str]:
        return await self._nodes("predecessors", job_id)

    async def successors(self, job_id: str) -> list[str]:
        return await self._nodes("successors", job_id)

    # -- job log -------------------------------------------------------------------------

    async def _run_finished(self, run_id: str) -> bool:
        """True when a job read says this run has ended (its log can no longer grow)."""
        if run_id not in self._ended:
            # The log may be asked for while the job itself is still being read.
            for _when_read, task in list(self._recent.values()):
                if not task.done():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(task)
        return run_id in self._ended

    async def _read_log(self, run_id: str, from_line: int | None) -> str:
        rt = self._rt
        return await hwa_call(rt, lambda: rt.client.job_log(run_id, from_line=from_line),
                              breaker=rt.hwa_api, operation="job_log")

    async def job_log(self, run_id: str, from_line: int | None = None) -> str:
        """The log of a run (from line ``from_line`` on, 1-based as the API counts).

        Only a whole log of a finished run is cached: a running job's log grows, and a
        stale copy of it would hide the lines the operator is waiting for.
        """
        load = partial(self._read_log, run_id, from_line)
        if from_line not in (None, 1) or not await self._run_finished(run_id):
            return await load()  # a running job's log grows: always read it live
        # A finished run's log never changes: reopening it (or another dashboard on the
        # same Redis opening it) is served by the cache. Huge logs are not kept.
        key = self._key("joblog", run_id)
        content = self._rt.cache.peek(key, "job logs")  # an L1 hit: nothing to await
        if content is None:
            content = await cached_read(
                self._rt.cache, "job logs", key, load, ttl=self._long_ttl,
                keep=lambda text: isinstance(text, str) and len(text) <= _MAX_CACHED_LOG)
        return content if isinstance(content, str) else await load()

    async def _run_ended(self, job_id: str, run_id: str) -> bool:
        """Whether the run is over: the live jobs view says so (no call), else a job read."""
        row = self._row(job_id)
        if row is not None:
            return bool(row.run_id) and (row.run_id != run_id or row.status in FINISHED_STATUSES)
        await self._details(job_id)  # records the runs it saw end
        return run_id in self._ended

    async def job_log_tail(self, job_id: str, run_id: str, from_line: int) -> tuple[str, bool]:
        """Following a log: the lines from ``from_line`` on, read live (never cached), and
        whether the run had ended before they were read (then nothing more will come).

        The end is judged first, so the lines read after it are the last ones.
        """
        ended = await self._run_ended(job_id, run_id)
        return await self._read_log(run_id, max(from_line, 1)), ended
