"""The living plan: job streams, jobs, runs and workstations moving on a simulated clock.

``Plan`` is the facade the server and tests use; each concern lives in its own
module: ``model`` (the records), ``generate`` (building a seeded plan), ``engine``
(the clock and job life), ``actions`` (operator actions), ``wire`` (the spec's
JSON), ``query`` (OQL fields) and ``joblog``. Everything happens through a heap of
timed events drawn from one seeded RNG, so the same seed and the same ticks give
the same plan, byte for byte. Each job keeps its encoded JSON until it changes, so
a page of 10,000 jobs is a join of cached bytes. All public methods take the plan's
lock: the HTTP server reads from its own thread while tests tick from theirs.
"""

from __future__ import annotations

import gc
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from resync_tui.hwa.simulator import actions
from resync_tui.hwa.simulator.actions import ACTIONS, STREAM_ACTIONS, WORKSTATION_ACTIONS
from resync_tui.hwa.simulator.engine import Engine
from resync_tui.hwa.simulator.faults import hostile_text, is_hostile
from resync_tui.hwa.simulator.generate import generate
from resync_tui.hwa.simulator.joblog import joblog_lines
from resync_tui.hwa.simulator.model import (
    ActionError,
    Job,
    JobStream,
    Run,
    Workstation,
    common_status,
    stream_status,
)
from resync_tui.hwa.simulator.query import select_jobs, select_streams, select_workstations
from resync_tui.hwa.simulator.wire import (
    PLAN_START_EPOCH,
    JobDoc,
    encode_job,
    format_instant,
    job_doc,
    stream_doc,
    stream_node_doc,
    workstation_doc,
)

__all__ = [
    "ACTIONS",
    "CLOCK_START",
    "PINNED_START",
    "PLAN_START",
    "STREAM_ACTIONS",
    "WORKSTATION_ACTIONS",
    "ActionError",
    "Job",
    "JobStream",
    "Plan",
    "Run",
    "Workstation",
    "common_status",
    "format_instant",
    "iter_job_bytes",
]

PLAN_START = "2026-11-25T00:00:00Z"
CLOCK_START = "2026-11-25T06:00:00Z"
_CLOCK_START_OFFSET = 6 * 3600.0
PINNED_START = PLAN_START_EPOCH + _CLOCK_START_OFFSET
"""CLOCK_START as epoch seconds: where a plan without an explicit start begins."""


class Plan:
    """The simulated current plan. Build once per (jobs, seed); advance with :meth:`tick`."""

    def __init__(self, jobs: int = 50, seed: int = 1, start: float | None = None) -> None:
        """``start``: the plan clock's first instant (epoch seconds); the plan's day is its
        UTC day. None pins it to ``CLOCK_START`` (2026-11-25T06:00Z): byte-identical runs."""
        self.seed = seed
        if start is None:
            self.epoch = PLAN_START_EPOCH
            first = _CLOCK_START_OFFSET
        else:
            self.epoch = int(start // 86400 * 86400)
            first = start - self.epoch
        self.size = max(1, jobs)
        self.lock = threading.RLock()
        self._query_cache: dict[str, list[Job]] = {}
        self._query_version = -1
        self._stream_jobs: dict[str, list[Job]] = {}
        self._stream_jobs_version = -1
        self._stream_bytes: dict[str, bytes] = {}
        self._stream_bytes_at = (-1, -1.0)
        self.hostile_rate = 0.0
        self.hostile_seed = 0
        rng = random.Random(seed)
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of linked objects: the collector would rescan them
        try:
            layout = generate(rng, seed, self.size)
            self.workstations: list[Workstation] = layout.workstations
            self.streams: list[JobStream] = layout.streams
            self.jobs: list[Job] = layout.jobs
            self._runs = layout.runs
            self._by_id = {job.id: job for job in self.jobs}
            self._ws_by_id = {ws.id: ws for ws in self.workstations}
            self._streams_by_id = {stream.id: stream for stream in self.streams}
            self._engine = Engine(rng, seed, list(self.jobs), self.workstations)
            self._engine.begin()
            self._engine.advance_to(first)
        finally:
            if collecting:
                gc.enable()

    @property
    def now(self) -> float:
        """The plan clock: seconds since the plan's day began."""
        return self._engine.now

    @property
    def version(self) -> int:
        """Moves on whenever anything a reader could see changed."""
        return self._engine.version

    # ---- changing the plan -----------------------------------------------------------

    def tick(self, seconds: float) -> float:
        """Advance the clock by ``seconds`` and apply every transition due; returns the clock."""
        if seconds < 0:
            raise ValueError("the plan clock only moves forward")
        with self.lock:
            self._engine.advance_to(self._engine.now + seconds)
            return self._engine.now

    def act(self, job_id: str, action: str, justification: dict[str, str] | None = None) -> Job:
        """Apply an operator action; KeyError for an unknown job, ActionError if senseless."""
        with self.lock:
            job = self._by_id[job_id]
            actions.act(self._engine, self._runs, job, action, justification)
            return job

    def update_priority(
        self, job_id: str, priority: int, justification: dict[str, str] | None = None
    ) -> Job:
        """Set a job's priority; KeyError for an unknown job, ActionError if out of range."""
        with self.lock:
            job = self._by_id[job_id]
            actions.update_priority(self._engine, job, priority, justification)
            return job

    def act_stream(
        self, stream_id: str, action: str, justification: dict[str, str] | None = None
    ) -> JobStream:
        """Apply a job stream action; KeyError for an unknown stream, ActionError if senseless."""
        with self.lock:
            stream = self._streams_by_id[stream_id]
            jobs = [job for job in self.jobs if job.stream is stream]
            actions.act_stream(self._engine, self._runs, stream, jobs, action, justification)
            return stream

    def act_workstation(self, ws_id: str, action: str, value: int | None = None) -> Workstation:
        """Apply a workstation action; KeyError for an unknown workstation, ActionError if
        senseless."""
        with self.lock:
            ws = self._ws_by_id[ws_id]
            actions.act_workstation(self._engine, ws, action, value)
            return ws

    def bulk(
        self,
        kind: str,
        action: str,
        query: str,
        max_affected: int | None,
        justification: dict[str, str] | None = None,
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """One action on every job (``kind`` "job") or stream matching ``query``.

        Returns the ids done and the (id, reason) refused. ActionError before anything
        changes if more objects match than ``max_affected``; OqlError for a bad query.
        """
        with self.lock:
            targets: list[Job] | list[JobStream]
            if kind == "job":
                targets = list(self.select(query))
            else:
                targets = select_streams(self.streams, query)
            if max_affected is not None and len(targets) > max_affected:
                raise ActionError(
                    f"{len(targets)} objects match, more than max_object_affected "
                    f"({max_affected}); nothing was changed"
                )
            done: list[str] = []
            failed: list[tuple[str, str]] = []
            for target in targets:
                try:
                    if isinstance(target, Job):
                        self.act(target.id, action, justification)
                    else:
                        self.act_stream(target.id, action, justification)
                except ActionError as exc:
                    failed.append((target.id, str(exc)))
                else:
                    done.append(target.id)
            return done, failed

    def rerun_run(self, run_id: str, justification: dict[str, str] | None = None) -> Job:
        """Rerun the job a run belongs to (the spec's run-level rerun)."""
        with self.lock:
            job, _ = self._runs[run_id]
            return self.act(job.id, "rerun", justification)

    def set_status(self, job: Job, status: str, substatus: str | None = None) -> None:
        """Move a job to ``status`` as the engine would (its last run, the counts and its
        JSON follow): for tests and demos that need a given status now."""
        with self.lock:
            self._engine.set_status(job, status, substatus)

    def delete_job(self, job_id: str) -> None:
        """Take a job out of the plan (KeyError if it is not in it); its dependents forget it."""
        with self.lock:
            engine = self._engine
            job = self._by_id.pop(job_id)
            job.deleted = True
            job.generation += 1  # its pending events are void
            self.jobs.remove(job)
            engine.counts[job.status] -= 1
            for run in job.runs:
                self._runs.pop(run.id, None)
            for pred in job.preds:
                pred.succs.remove(job)
                pred.encoded = None
            for succ in job.succs:
                succ.preds.remove(job)
                succ.encoded = None
                engine.wake(succ)
            engine.version += 1

    def set_hostile(self, rate: float, seed: int) -> None:
        with self.lock:
            if rate != self.hostile_rate or seed != self.hostile_seed:
                self.hostile_rate = rate
                self.hostile_seed = seed
                for job in self.jobs:
                    job.encoded = None
                self._engine.version += 1

    # ---- reading ---------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        """The job with this id (KeyError if none)."""
        return self._by_id[job_id]

    def run(self, run_id: str) -> tuple[Job, Run]:
        return self._runs[run_id]

    def workstation(self, ws_id: str) -> Workstation:
        return self._ws_by_id[ws_id]

    def stream(self, stream_id: str) -> JobStream:
        """The job stream with this id (KeyError if none)."""
        return self._streams_by_id[stream_id]

    @property
    def clock(self) -> str:
        return format_instant(self._engine.now, self.epoch)

    def instant(self, offset: float) -> str:
        """ISO 8601 UTC instant of a plan offset on this plan's day."""
        return format_instant(offset, self.epoch)

    @property
    def engine_time(self) -> float:
        """The plan clock as epoch seconds: the simulated engine's own clock."""
        return self.epoch + self._engine.now

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {status: n for status, n in sorted(self._engine.counts.items()) if n > 0}

    def fingerprint(self) -> bytes:
        """Every job's JSON in id order: equal fingerprints mean identical plans."""
        with self.lock:
            return b"\n".join(self.job_bytes(job) for job in self.jobs) + self.clock.encode()

    def served_name(self, key: str, name: str) -> str:
        """The name as the API shows it (hostile variants when that fault is on)."""
        if self.hostile_rate > 0.0 and is_hostile(key, self.hostile_rate, self.hostile_seed):
            return hostile_text(name, key)
        return name

    def select(self, query: str | None) -> list[Job]:
        """Jobs matching an OQL text, in its ORDER BY (else id) order; cached per version."""
        with self.lock:
            if self._query_version != self.version:
                self._query_cache.clear()
                self._query_version = self.version
            key = query or ""
            cached = self._query_cache.get(key)
            if cached is not None:
                return cached
            selected = select_jobs(self.jobs, query, self.epoch)
            if len(self._query_cache) > 64:
                self._query_cache.clear()
            self._query_cache[key] = selected
            return selected

    def jobs_of_stream(self, stream: JobStream) -> list[Job]:
        """The stream's jobs in plan order (one pass over the plan per plan version)."""
        with self.lock:
            self._group_streams()
            return self._stream_jobs.get(stream.id, [])

    def _group_streams(self) -> None:
        if self._stream_jobs_version == self.version:
            return
        grouped: dict[str, list[Job]] = {}
        for job in self.jobs:
            grouped.setdefault(job.stream.id, []).append(job)
        self._stream_jobs = grouped
        self._stream_jobs_version = self.version

    def select_stream_list(self, query: str | None) -> list[JobStream]:
        """Job streams matching an OQL text (OqlError for a bad one), in id order."""
        with self.lock:
            return select_streams(self.streams, query)

    def stream_bytes(self, stream: JobStream) -> bytes:
        """The stream's JSON (JobStreamInPlanV2), status and counts from its jobs now."""
        with self.lock:
            self._group_streams()
            at = (self.version, self._engine.now)  # a stream's status also moves with the clock
            if at != self._stream_bytes_at:
                self._stream_bytes = {}
                self._stream_bytes_at = at
            cached = self._stream_bytes.get(stream.id)
            if cached is None:
                jobs = self._stream_jobs.get(stream.id, [])
                external = sum(1 for job in jobs for pred in job.preds
                               if pred.stream is not stream)
                doc = stream_doc(stream, jobs, self._engine.now, self.epoch,
                                 self.served_name, external)
                cached = self._stream_bytes[stream.id] = msgspec.json.encode(doc)
            return cached

    def stream_neighbours(self, stream_id: str, kind: str) -> list[bytes]:
        """Streams this one waits for (``predecessors``) or that wait for it (``successors``):
        the other streams of its jobs' predecessor (successor) jobs, as FlowNodeInPlanV2.
        KeyError for an unknown stream."""
        with self.lock:
            stream = self._streams_by_id[stream_id]
            found: dict[str, JobStream] = {}
            for job in self.jobs_of_stream(stream):
                for other in (job.preds if kind == "predecessors" else job.succs):
                    if other.stream is not stream:
                        found.setdefault(other.stream.id, other.stream)
            return [msgspec.json.encode(stream_node_doc(s, self.epoch, self.served_name))
                    for s in found.values()]

    def stream_grouped_counts(self, groups: list[str]) -> tuple[int, dict[str, int]]:
        """Job streams per group key (status, workstation, folder), keys joined with ','."""
        with self.lock:
            self._group_streams()
            getters: list[Callable[[JobStream], str]] = []
            for group in groups:
                if group == "status":
                    getters.append(self._stream_status)
                elif group == "workstation":
                    getters.append(lambda s: s.workstation.name)
                elif group == "folder":
                    getters.append(lambda s: s.folder)
                else:
                    raise ValueError(f"cannot group by {group!r}")
            counts: Counter[str] = Counter()
            if getters:
                for stream in self.streams:
                    counts[",".join(get(stream) for get in getters)] += 1
            return len(self.streams), dict(counts)

    def _stream_status(self, stream: JobStream) -> str:
        jobs = self._stream_jobs.get(stream.id, [])
        return stream_status(stream, [job.status for job in jobs], self._engine.now)

    def select_workstations(self, query: str | None) -> list[Workstation]:
        with self.lock:
            return select_workstations(self.workstations, query)

    def job_bytes(self, job: Job) -> bytes:
        """The job's JSON (JobInPlanV2), encoded once until the job changes."""
        return encode_job(job, self.epoch, self.served_name)

    def warm(self) -> None:
        """Encode every job now, so the first big fetch does not pay for it.

        For big plans (50k+ jobs) the objects built so far are then frozen out of the
        garbage collector's reach: otherwise its next full pass rescans millions of
        long-lived objects in the middle of the first fetch.
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.lock:
                for job in self.jobs:
                    self.job_bytes(job)
        finally:
            if collecting:
                gc.enable()
        if len(self.jobs) >= 50_000:
            gc.freeze()

    def job_doc(self, job: Job) -> JobDoc:
        """The JobInPlanV2 shape of a job (false booleans and unknowns omitted)."""
        return job_doc(job, self.epoch, self.served_name)

    def workstation_doc(self, ws: Workstation) -> dict[str, Any]:
        """The WorkstationInPlanV2 shape of a workstation."""
        return workstation_doc(ws, self.served_name)

    def joblog(self, run_id: str, content_only: bool = False) -> list[str]:
        """The job log lines of a run (KeyError if the run does not exist)."""
        with self.lock:
            job, run = self._runs[run_id]
            return joblog_lines(self.seed, self.epoch, self._engine.now, job, run, content_only)

    def grouped_counts(self, groups: list[str]) -> tuple[int, dict[str, int]]:
        """Counts per group key (status, workstation, folder), keys joined with ','."""
        with self.lock:
            if groups == ["status"]:
                return len(self.jobs), {k: v for k, v in self._engine.counts.items() if v > 0}
            getters: list[Callable[[Job], str]] = []
            for group in groups:
                if group == "status":
                    getters.append(lambda j: j.status)
                elif group == "workstation":
                    getters.append(lambda j: j.workstation.name)
                elif group == "folder":
                    getters.append(lambda j: j.folder)
                else:
                    raise ValueError(f"cannot group by {group!r}")
            counts: Counter[str] = Counter()
            if getters:
                for job in self.jobs:
                    counts[",".join(get(job) for get in getters)] += 1
            return len(self.jobs), dict(counts)

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "clock": self.clock,
                "seed": self.seed,
                "jobs": len(self.jobs),
                "streams": len(self.streams),
                "workstations": len(self.workstations),
                "unlinked": sorted(w.name for w in self.workstations if not w.active_states
                                   or "LINKED" not in w.active_states),
                "counts": self.counts(),
                "version": self.version,
            }  # fmt: skip


def iter_job_bytes(plan: Plan, jobs: Iterable[Job]) -> list[bytes]:
    """Encoded JSON of ``jobs`` (cached per job)."""
    with plan.lock:
        return [plan.job_bytes(job) for job in jobs]
