"""The job detail screen's loader, wired to the HWA client through the resilience core.

``job`` and ``runs`` come from one ``GET /plan/job/{id}`` (shared for a moment,
since the screen asks for both at once) and are always fresh. Predecessor and
successor names change rarely, so they go through the tiered cache, and so does the
log of a finished run (it can no longer change).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.models import FlowNode, JobInPlan

__all__ = ["RuntimeDetailLoader"]

_SHARE_SECONDS = 2.0
_MAX_CACHED_LOG = 256 * 1024
"""Characters; a bigger job log is read from the engine each time."""


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


def _node_line(node: FlowNode) -> str:
    kind = (node.flow_node_type or "").upper()
    name = node.name or node.id or "?"
    if kind == "JOB" and node.job_stream_name:
        name = f"{node.job_stream_name}.{name}"
    where = f" @ {node.workstation}" if node.workstation else ""
    status = f" [{node.status}]" if node.status else ""
    prefix = "stream " if kind == "JOBSTREAM" else ""
    return f"{prefix}{name}{where}{status}"


class RuntimeDetailLoader:
    """Implements ``JobDetailLoader`` (resync_tui.ui.screens.job_detail)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._recent: dict[str, tuple[float, asyncio.Task[JobInPlan]]] = {}

    async def _job(self, job_id: str) -> JobInPlan:
        now = time.monotonic()
        entry = self._recent.get(job_id)
        if entry is None or now - entry[0] > _SHARE_SECONDS or (
                entry[1].done() and entry[1].exception() is not None):
            rt = self._rt
            task = asyncio.ensure_future(hwa_call(
                rt, lambda: rt.client.get_job(job_id), breaker=rt.hwa_api, operation="get_job"))
            self._recent = {job_id: (now, task)}
            entry = (now, task)
        return await asyncio.shield(entry[1])

    async def job(self, job_id: str) -> Mapping[str, str]:
        job = await self._job(job_id)
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

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        job = await self._job(job_id)
        rows: list[Mapping[str, str]] = []
        for run in reversed(job.jobruns):
            rows.append({
                "#": _text(run.job_number),
                "Status": _text(run.status),
                "RC": _text(run.return_code),
                "Workstation": _text(run.actual_workstation),
                "Started": _when(run.started_at),
                "Ended": _when(run.ended_at),
                "Elapsed": _span(run.duration),
                "Rerun": "yes" if run.rerun_job else "",
                "Run id": _text(run.id),
            })
        return rows

    async def _nodes(self, kind: str, job_id: str) -> list[str]:
        rt = self._rt
        fetch = rt.client.predecessors if kind == "predecessors" else rt.client.successors

        async def load() -> list[str]:
            nodes = await hwa_call(rt, lambda: fetch(job_id), breaker=rt.hwa_api,
                                   operation=kind)
            return [_node_line(node) for node in nodes]

        ttl = max(rt.settings.cache.l1_ttl, 1.0)
        value = await rt.cache.get_or_load(f"deps:{kind}:{job_id}", load, ttl=ttl)
        return [str(line) for line in value] if isinstance(value, list) else []

    async def predecessors(self, job_id: str) -> list[str]:
        return await self._nodes("predecessors", job_id)

    async def successors(self, job_id: str) -> list[str]:
        return await self._nodes("successors", job_id)

    def _run_finished(self, run_id: str) -> bool:
        """True when the job read last says this run has ended (its log can no longer grow)."""
        for _when_read, task in self._recent.values():
            if not task.done() or task.cancelled() or task.exception() is not None:
                continue
            for run in task.result().jobruns:
                if run.id == run_id and run.ended_at is not None:
                    return True
        return False

    async def job_log(self, run_id: str) -> str:
        rt = self._rt

        async def load() -> str:
            return await hwa_call(rt, lambda: rt.client.job_log(run_id), breaker=rt.hwa_api,
                                  operation="job_log")

        if not self._run_finished(run_id):
            return await load()  # a running job's log grows: always read it live
        # A finished run's log never changes: reopening it (or another dashboard on the
        # same Redis opening it) is served by the cache. Huge logs are not kept.
        key = f"joblog:{run_id}"
        cached = await rt.cache.get(key)
        if isinstance(cached, str):
            return cached
        content = await load()
        if len(content) <= _MAX_CACHED_LOG:
            await rt.cache.set(key, content, ttl=max(rt.settings.cache.l2_ttl, 1.0))
        return content
