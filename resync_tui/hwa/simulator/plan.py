"""The living plan: job streams, jobs, runs and workstations moving on a simulated clock.

Everything happens through a heap of timed events drawn from one seeded RNG, so
the same seed and the same ticks give the same plan, byte for byte. Each job keeps
its encoded JSON until it changes, so a page of 10,000 jobs is a join of cached
bytes. All public methods take the plan's lock: the HTTP server reads from its own
thread while tests tick from theirs.
"""

from __future__ import annotations

import gc
import heapq
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from resync_tui.hwa import oql
from resync_tui.hwa.simulator.faults import hostile_text, is_hostile

__all__ = [
    "CLOCK_START",
    "PINNED_START",
    "PLAN_START",
    "ActionError",
    "Job",
    "JobStream",
    "Plan",
    "Run",
    "Workstation",
    "common_status",
    "format_instant",
]

PLAN_START = "2026-11-25T00:00:00Z"
CLOCK_START = "2026-11-25T06:00:00Z"
_PLAN_START_EPOCH = 1795564800  # 2026-11-25T00:00:00Z
_CLOCK_START_OFFSET = 6 * 3600.0
PINNED_START = _PLAN_START_EPOCH + _CLOCK_START_OFFSET
"""CLOCK_START as epoch seconds: where a plan without an explicit start begins."""

ACTIONS = ("hold", "release", "rerun", "cancel", "kill", "confirm-succ", "confirm-abend")
_FINAL = frozenset({"SUCC", "ABEND", "FAIL", "CANCL"})
_SATISFIES = frozenset({"SUCC", "CANCL"})
_STARTED = frozenset({"INTRO", "EXEC", "SUCC", "ABEND", "STUCK"})

_EV_EVAL, _EV_LAUNCH, _EV_START, _EV_FINISH, _EV_WS_DOWN, _EV_WS_UP = range(6)

_FOLDERS = ("/FINANCE/", "/HR/", "/OPS/BATCH/", "/SALES/EU/", "/SALES/US/", "/DWH/", "/")
_STREAM_WORDS = (
    "DAILY_CLOSE", "LEDGER", "PAYROLL", "BACKUP", "ETL_LOAD", "REPORTS", "BILLING",
    "INVENTORY", "RECONCILE", "ARCHIVE", "SETTLEMENT", "FEEDS", "CLEANUP", "EXTRACT",
)  # fmt: skip
_JOB_VERBS = (
    "LOAD", "EXTRACT", "SORT", "MERGE", "CHECK", "SEND", "BUILD", "PURGE", "INDEX",
    "VALIDATE", "POST", "COPY", "SPLIT", "AGGREGATE", "NOTIFY", "TRANSFER",
)  # fmt: skip
_JOB_NOUNS = (
    "LEDGER", "ORDERS", "CUSTOMERS", "INVOICES", "STOCK", "FX_RATES", "CLAIMS",
    "PAYMENTS", "GL", "ACCOUNTS", "TICKETS", "USAGE", "EVENTS", "AUDIT",
)  # fmt: skip
_ABEND_CODES = (1, 2, 4, 8, 12, 16, 127, 255)
_PRIORITIES = (10, 10, 10, 20, 50, 101)


class ActionError(ValueError):
    """An operator action that makes no sense for the job's current status (HTTP 400)."""


def format_instant(offset: float, epoch: int = _PLAN_START_EPOCH) -> str:
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


def common_status(status: str, user_held: bool = False) -> str:
    """The web console's CommonStatusV2 for an internal JobInPlanStatus."""
    if user_held:
        return "HELD"
    return _COMMON.get(status, "UNDECIDED")


_COMMON = {
    "HOLD": "WAITING",
    "READY": "READY",
    "FENCE": "BLOCKED",
    "INTRO": "RUNNING",
    "EXEC": "RUNNING",
    "WAIT": "WAITING",
    "SUCC": "SUCCESSFUL",
    "SUCCP": "RUNNING",
    "ABEND": "ERROR",
    "ABENP": "RUNNING",
    "FAIL": "ERROR",
    "ERROR": "ERROR",
    "CANCL": "CANCELED",
    "CANCLP": "CANCELED",
    "STUCK": "BLOCKED",
    "SUPPR": "SUPPRESS",
}


@dataclass(slots=True, eq=False)
class Workstation:
    index: int
    id: str
    name: str
    folder: str
    type: str
    os: str
    node: str
    limit: int
    fence: int
    linked: bool = True
    flaps: bool = False

    @property
    def active_states(self) -> list[str]:
        if self.type == "MANAGER":
            return ["MASTER", "LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "ONLINE"]
        if self.linked:
            return ["LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "ONLINE"]
        return ["INSTALLED"]


@dataclass(slots=True, eq=False)
class JobStream:
    index: int
    id: str
    name: str
    folder: str
    workstation: Workstation
    sched_time: float


@dataclass(slots=True, eq=False)
class Run:
    id: str
    number: int
    workstation: Workstation
    estimated: float
    rerun: bool = False
    status: str = "HOLD"
    job_number: int | None = None
    start: float | None = None
    end: float | None = None
    return_code: int | None = None
    killed: bool = False
    confirmed: bool = False
    fate: str = "succ"


@dataclass(slots=True, eq=False)
class Job:
    index: int
    id: str
    name: str
    folder: str
    workstation: Workstation
    stream: JobStream
    position: int
    priority: int
    sched_time: float
    estimated: float
    critical: bool
    script: str
    preds: list[Job]
    succs: list[Job]
    runs: list[Run]
    status: str = "HOLD"
    substatus: str | None = None
    user_held: bool = False
    orig_priority: int = 10
    forced_fate: str | None = None
    generation: int = 0
    justifications: list[dict[str, str]] | None = None
    encoded: bytes | None = None
    deleted: bool = False

    @property
    def last_run(self) -> Run:
        return self.runs[-1]

    @property
    def killed(self) -> bool:
        return self.last_run.killed

    @property
    def common_status(self) -> str:
        return common_status(self.status, self.user_held)


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
            started=status in _STARTED,
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


class Plan:
    """The simulated current plan. Build once per (jobs, seed); advance with :meth:`tick`."""

    def __init__(self, jobs: int = 50, seed: int = 1, start: float | None = None) -> None:
        """``start``: the plan clock's first instant (epoch seconds); the plan's day is its
        UTC day. None pins it to ``CLOCK_START`` (2026-11-25T06:00Z): byte-identical runs."""
        self.seed = seed
        if start is None:
            self.epoch = _PLAN_START_EPOCH
            first = _CLOCK_START_OFFSET
        else:
            self.epoch = int(start // 86400 * 86400)
            first = start - self.epoch
        self.size = max(1, jobs)
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._events: list[tuple[float, int, int, int, int]] = []
        self._seq = 0
        self.now = 0.0
        self.version = 0
        self.workstations: list[Workstation] = []
        self.streams: list[JobStream] = []
        self.jobs: list[Job] = []
        self._slots: list[Job] = []  # by index, deleted jobs included: what events point at
        self._by_id: dict[str, Job] = {}
        self._runs: dict[str, tuple[Job, Run]] = {}
        self._ws_by_id: dict[str, Workstation] = {}
        self._counts: Counter[str] = Counter()
        self._next_job_number = 100_000 + seed % 1000 * 10
        self._query_cache: dict[str, list[Job]] = {}
        self._query_version = -1
        self.hostile_rate = 0.0
        self.hostile_seed = 0
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of linked objects: the collector would rescan them
        try:
            self._build()
            self._advance_to(first)
        finally:
            if collecting:
                gc.enable()

    # ---- construction ----------------------------------------------------------------

    def _build(self) -> None:
        rng = self._rng
        prefix = f"{self.seed & 0xFFFF:04X}"
        ws_count = min(40, max(8, self.size // 100))
        self.workstations.append(
            Workstation(0, f"W{prefix}{0:08X}", "MASTER", "/", "MANAGER", "LINUX",
                        "hwa-master.example.com", 100, 0)
        )  # fmt: skip
        for index in range(1, ws_count):
            roll = rng.random()
            if roll < 0.6:
                kind, label = "AGENT", "AGT"
            elif roll < 0.85:
                kind, label = "FTA", "FTA"
            else:
                kind, label = "POOL", "POOL"
            system = rng.choice(("LINUX", "LINUX", "LINUX", "WINDOWS", "AIX", "UNIX"))
            name = f"{label}_{system[:3]}_{index:02d}"
            self.workstations.append(
                Workstation(index, f"W{prefix}{index:08X}", name, "/", kind, system,
                            f"{name.lower().replace('_', '-')}.example.com",
                            rng.choice((10, 20, 50, 100)), 0, flaps=rng.random() < 0.35)
            )  # fmt: skip
        self._ws_by_id = {ws.id: ws for ws in self.workstations}
        workers = self.workstations[1:]

        remaining = self.size
        stream_index = 0
        while remaining > 0:
            count = min(remaining, rng.randint(5, 20))
            if remaining - count < 5 and remaining - count > 0:
                count = remaining
            if stream_index == 0:
                sched = 30 * 60.0
            elif stream_index == 1:
                sched = 5 * 3600 + 40 * 60.0
            else:
                sched = float(rng.randrange(0, 22 * 3600, 300))
            folder = _FOLDERS[rng.randrange(len(_FOLDERS))]
            word = _STREAM_WORDS[rng.randrange(len(_STREAM_WORDS))]
            home = workers[rng.randrange(len(workers))]
            stream = JobStream(stream_index, f"S{prefix}{stream_index:08X}",
                               f"{word}_{stream_index:03d}", folder, home, sched)  # fmt: skip
            self.streams.append(stream)
            self._add_jobs(stream, count, workers)
            remaining -= count
            stream_index += 1
        for job in self.jobs:
            self._counts[job.status] += 1
            if not job.preds:
                self._schedule(job.sched_time, _EV_EVAL, job.index, 0)
        for ws in workers:
            if ws.flaps:
                self._schedule(float(rng.randrange(1800, 6 * 3600)), _EV_WS_DOWN, ws.index, 0)

    def _add_jobs(self, stream: JobStream, count: int, workers: list[Workstation]) -> None:
        rnd = self._rng.random
        jobs = self.jobs
        first = len(jobs)
        prefix = f"{self.seed & 0xFFFF:04X}"
        n_workers = len(workers)
        lognorm = self._rng.lognormvariate
        for position in range(count):
            index = len(jobs)
            ws = stream.workstation if rnd() < 0.6 else workers[int(rnd() * n_workers)]
            verb = _JOB_VERBS[int(rnd() * len(_JOB_VERBS))]
            noun = _JOB_NOUNS[int(rnd() * len(_JOB_NOUNS))]
            name = f"{verb}_{noun}_{position + 1:02d}"
            estimated = min(float(int(lognorm(5.0, 1.0)) + 20), 3600.0)
            priority = _PRIORITIES[int(rnd() * len(_PRIORITIES))]
            # Every fourth job has an id of the shape real engines use, WORKSTATION;STREAM;JOB
            # (";" is quoted in paths): the client's quoting is exercised on every endpoint.
            job_id = f"{ws.name};{stream.id};{name}" if index % 4 == 3 else f"{prefix}{index:012X}"
            job = Job(index, job_id, name, stream.folder, ws, stream,
                      position + 1, priority, stream.sched_time, estimated, rnd() < 0.03,
                      f"/opt/batch/bin/{name.lower()}.sh", [], [], [])  # fmt: skip
            job.orig_priority = priority
            if position > 0:
                pred = jobs[first + position - 1]
                if position > 1 and rnd() < 0.25:
                    pred = jobs[first + int(rnd() * position)]
                self._link(pred, job)
                if position > 2 and rnd() < 0.15:
                    other = jobs[first + int(rnd() * (position - 1))]
                    if other not in job.preds:
                        self._link(other, job)
            elif first > 0 and rnd() < 0.2:
                self._link(jobs[int(rnd() * first)], job)
            job.substatus = (
                "HOLD_WAITING_FOR_PREDECESSOR" if job.preds else "HOLD_WAITING_FOR_TIME"
            )
            if stream.index == 0 and position == min(2, count - 1):
                job.forced_fate = "abend"
            elif stream.index == 1 and position == 0:
                job.forced_fate = "hang"
            elif stream.index % 25 == 7 and position == 1:
                job.forced_fate = "abend"
            run = Run(f"{job.id}R01", 1, ws, estimated)
            job.runs.append(run)
            self._runs[run.id] = (job, run)
            jobs.append(job)
            self._slots.append(job)
            self._by_id[job.id] = job

    def _link(self, pred: Job, succ: Job) -> None:
        pred.succs.append(succ)
        succ.preds.append(pred)

    def _new_run(self, job: Job, rerun: bool) -> Run:
        number = len(job.runs) + 1
        run = Run(id=f"{job.id}R{number:02d}", number=number, workstation=job.workstation,
                  estimated=job.estimated, rerun=rerun)  # fmt: skip
        job.runs.append(run)
        self._runs[run.id] = (job, run)
        return run

    # ---- events ----------------------------------------------------------------------

    def _schedule(self, at: float, kind: int, index: int, generation: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, kind, index, generation))

    def tick(self, seconds: float) -> float:
        """Advance the clock by ``seconds`` and apply every transition due; returns the clock."""
        if seconds < 0:
            raise ValueError("the plan clock only moves forward")
        with self.lock:
            self._advance_to(self.now + seconds)
            return self.now

    def _advance_to(self, target: float) -> None:
        events = self._events
        while events and events[0][0] <= target:
            at, _, kind, index, generation = heapq.heappop(events)
            self.now = max(self.now, at)
            if kind >= _EV_WS_DOWN:
                self._workstation_event(kind, self.workstations[index])
                continue
            job = self._slots[index]
            if generation != job.generation or job.deleted:
                continue
            if kind == _EV_EVAL:
                self._evaluate(job)
            elif kind == _EV_LAUNCH:
                self._launch(job)
            elif kind == _EV_START:
                self._start(job)
            else:
                self._finish(job)
        self.now = max(self.now, target)

    def _workstation_event(self, kind: int, ws: Workstation) -> None:
        rng = self._rng
        if kind == _EV_WS_DOWN:
            ws.linked = False
            self._schedule(self.now + rng.randrange(120, 900), _EV_WS_UP, ws.index, 0)
        else:
            ws.linked = True
            self._schedule(self.now + rng.randrange(1800, 4 * 3600), _EV_WS_DOWN, ws.index, 0)
        self.version += 1  # job JSON does not show link state: no cache to drop

    def _set_status(self, job: Job, status: str, substatus: str | None = None) -> None:
        if job.status != status:
            self._counts[job.status] -= 1
            self._counts[status] += 1
        job.status = status
        job.substatus = substatus
        job.last_run.status = status
        job.encoded = None
        self.version += 1

    def _ready_to_go(self, job: Job) -> bool:
        return all(pred.status in _SATISFIES for pred in job.preds)

    def _evaluate(self, job: Job) -> None:
        if job.status != "HOLD" or job.user_held or not self._ready_to_go(job):
            return
        if self.now < job.sched_time:
            self._schedule(job.sched_time, _EV_EVAL, job.index, job.generation)
            return
        self._set_status(job, "READY")
        self._schedule(self.now + self._rng.randrange(2, 30), _EV_LAUNCH, job.index,
                       job.generation)  # fmt: skip

    def _launch(self, job: Job) -> None:
        if job.status != "READY":
            return
        if not job.workstation.linked:
            if job.substatus != "READY_WAITING_FOR_AGENT":
                self._set_status(job, "READY", "READY_WAITING_FOR_AGENT")
            self._schedule(self.now + 60, _EV_LAUNCH, job.index, job.generation)
            return
        rng = self._rng
        run = job.last_run
        self._next_job_number += 1
        run.job_number = self._next_job_number
        roll = rng.random()
        if job.forced_fate is not None and not run.rerun:
            run.fate = job.forced_fate
        elif run.rerun:
            run.fate = "succ" if roll < 0.9 else "abend"
        elif roll < 0.025:
            run.fate = "abend"
        elif roll < 0.03:
            run.fate = "fail"
        elif roll < 0.035:
            run.fate = "stuck"
        elif roll < 0.045:
            run.fate = "hang"
        else:
            run.fate = "succ"
        self._set_status(job, "INTRO")
        self._schedule(self.now + rng.randrange(1, 6), _EV_START, job.index, job.generation)

    def _start(self, job: Job) -> None:
        if job.status != "INTRO":
            return
        run = job.last_run
        if run.fate == "fail":
            run.end = self.now
            self._set_status(job, "FAIL")
            return
        run.start = self.now
        if run.fate == "stuck":
            self._set_status(job, "STUCK")
            return
        self._set_status(job, "EXEC")
        if run.fate == "hang":
            return
        duration = run.estimated * self._rng.uniform(0.6, 1.4)
        if run.fate == "abend":
            duration *= self._rng.uniform(0.05, 0.5)
        self._schedule(self.now + max(1.0, duration), _EV_FINISH, job.index, job.generation)

    def _finish(self, job: Job) -> None:
        if job.status != "EXEC":
            return
        run = job.last_run
        run.end = self.now
        if run.fate == "abend":
            run.return_code = self._rng.choice(_ABEND_CODES)
            self._set_status(job, "ABEND")
        else:
            run.return_code = 0
            self._set_status(job, "SUCC")
            self._release_successors(job)

    def _release_successors(self, job: Job) -> None:
        for succ in job.succs:
            if succ.status == "HOLD" and not succ.user_held and self._ready_to_go(succ):
                self._schedule(self.now, _EV_EVAL, succ.index, succ.generation)
            if succ.status == "HOLD":
                succ.encoded = None  # unresolved dependency count changed

    def _touch_all(self) -> None:
        for job in self.jobs:
            job.encoded = None
        self.version += 1

    # ---- operator actions ------------------------------------------------------------

    def act(self, job_id: str, action: str, justification: dict[str, str] | None = None) -> Job:
        """Apply an operator action; KeyError for an unknown job, ActionError if senseless."""
        with self.lock:
            job = self._by_id[job_id]
            handler = _ACTION_HANDLERS.get(action)
            if handler is None:
                raise ActionError(f"unknown action {action!r}")
            handler(self, job)
            job.generation += 1
            self._reschedule(job)
            record = {"action": action, **(justification or {})}
            job.justifications = [*(job.justifications or []), record]
            job.encoded = None
            self.version += 1
            return job

    def delete_job(self, job_id: str) -> None:
        """Take a job out of the plan (KeyError if it is not in it); its dependents forget it."""
        with self.lock:
            job = self._by_id.pop(job_id)
            job.deleted = True
            job.generation += 1  # its pending events are void
            self.jobs.remove(job)
            self._counts[job.status] -= 1
            for run in job.runs:
                self._runs.pop(run.id, None)
            for pred in job.preds:
                pred.succs.remove(job)
                pred.encoded = None
            for succ in job.succs:
                succ.preds.remove(job)
                succ.encoded = None
                if succ.status == "HOLD" and not succ.user_held and self._ready_to_go(succ):
                    self._schedule(self.now, _EV_EVAL, succ.index, succ.generation)
            self.version += 1

    def rerun_run(self, run_id: str, justification: dict[str, str] | None = None) -> Job:
        """Rerun the job a run belongs to (the spec's run-level rerun)."""
        with self.lock:
            job, _ = self._runs[run_id]
            return self.act(job.id, "rerun", justification)

    def _reschedule(self, job: Job) -> None:
        if job.status == "HOLD" and not job.user_held:
            self._schedule(self.now, _EV_EVAL, job.index, job.generation)
        elif job.status == "READY":
            self._schedule(self.now + self._rng.randrange(2, 30), _EV_LAUNCH, job.index,
                           job.generation)  # fmt: skip
        elif job.status == "INTRO":
            self._schedule(self.now + 1, _EV_START, job.index, job.generation)
        elif job.status == "EXEC" and job.last_run.fate not in ("hang",):
            remaining = job.last_run.estimated * 0.5
            self._schedule(self.now + remaining, _EV_FINISH, job.index, job.generation)

    def _do_hold(self, job: Job) -> None:
        if job.user_held:
            raise ActionError(f"job {job.name} is already held")
        if job.status not in ("HOLD", "READY"):
            raise ActionError(f"cannot hold job {job.name} in status {job.status}")
        job.user_held = True
        job.priority = 0
        self._set_status(job, "HOLD", "HOLD_PRIORITY_ZERO")

    def _do_release(self, job: Job) -> None:
        if not job.user_held:
            raise ActionError(f"job {job.name} is not held (status {job.status})")
        job.user_held = False
        job.priority = job.orig_priority
        if self._ready_to_go(job) and self.now >= job.sched_time:
            self._set_status(job, "READY")
        elif job.preds and not self._ready_to_go(job):
            self._set_status(job, "HOLD", "HOLD_WAITING_FOR_PREDECESSOR")
        else:
            self._set_status(job, "HOLD", "HOLD_WAITING_FOR_TIME")

    def _do_rerun(self, job: Job) -> None:
        if job.status not in _FINAL:
            raise ActionError(f"cannot rerun job {job.name} in status {job.status}")
        self._new_run(job, rerun=True)
        job.user_held = False
        self._set_status(job, "READY")

    def _do_cancel(self, job: Job) -> None:
        if job.status in _FINAL or job.status == "EXEC":
            raise ActionError(
                f"cannot cancel job {job.name} in status {job.status}"
                + (" (kill it first)" if job.status == "EXEC" else "")
            )
        job.user_held = False
        job.last_run.end = self.now
        self._set_status(job, "CANCL")
        self._release_successors(job)

    def _do_kill(self, job: Job) -> None:
        if job.status not in ("EXEC", "STUCK"):
            raise ActionError(f"cannot kill job {job.name}: not running (status {job.status})")
        run = job.last_run
        run.killed = True
        run.end = self.now
        run.return_code = -1
        self._set_status(job, "ABEND")

    def _do_confirm_succ(self, job: Job) -> None:
        if job.status not in ("INTRO", "EXEC", "STUCK", "ABEND", "FAIL"):
            raise ActionError(f"cannot confirm SUCC for job {job.name} in status {job.status}")
        run = job.last_run
        run.confirmed = True
        if run.end is None:
            run.end = self.now
        self._set_status(job, "SUCC")
        self._release_successors(job)

    def _do_confirm_abend(self, job: Job) -> None:
        if job.status not in ("INTRO", "EXEC", "STUCK", "SUCC", "FAIL"):
            raise ActionError(f"cannot confirm ABEND for job {job.name} in status {job.status}")
        run = job.last_run
        run.confirmed = True
        if run.end is None:
            run.end = self.now
        self._set_status(job, "ABEND")

    # ---- reading ---------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        """The job with this id (KeyError if none)."""
        return self._by_id[job_id]

    def run(self, run_id: str) -> tuple[Job, Run]:
        return self._runs[run_id]

    def workstation(self, ws_id: str) -> Workstation:
        return self._ws_by_id[ws_id]

    @property
    def clock(self) -> str:
        return format_instant(self.now, self.epoch)

    def instant(self, offset: float) -> str:
        """ISO 8601 UTC instant of a plan offset on this plan's day."""
        return format_instant(offset, self.epoch)

    @property
    def engine_time(self) -> float:
        """The plan clock as epoch seconds: the simulated engine's own clock."""
        return self.epoch + self.now

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {status: n for status, n in sorted(self._counts.items()) if n > 0}

    def fingerprint(self) -> bytes:
        """Every job's JSON in id order: equal fingerprints mean identical plans."""
        with self.lock:
            return b"\n".join(self.job_bytes(job) for job in self.jobs) + self.clock.encode()

    def set_hostile(self, rate: float, seed: int) -> None:
        with self.lock:
            if rate != self.hostile_rate or seed != self.hostile_seed:
                self.hostile_rate = rate
                self.hostile_seed = seed
                self._touch_all()

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
            parsed = oql.parse(query)
            predicate = oql.compile_predicate(parsed, self._job_field)
            selected = self.jobs if predicate is None else [j for j in self.jobs if predicate(j)]
            if parsed.order:
                selected = sorted(selected, key=oql.sort_key(parsed.order, self._job_field,
                                                             _job_id))
            if len(self._query_cache) > 64:
                self._query_cache.clear()
            self._query_cache[key] = selected
            return selected

    def _job_field(self, path: str) -> Callable[[Job], Any]:
        if _JOB_ALIASES.get(path.lower(), path.lower()) == "schedtime":
            epoch = self.epoch
            return lambda j: format_instant(j.sched_time, epoch)
        return _job_field(path)

    def select_workstations(self, query: str | None) -> list[Workstation]:
        with self.lock:
            parsed = oql.parse(query)
            predicate = oql.compile_predicate(parsed, _ws_field)
            selected = [w for w in self.workstations if predicate is None or predicate(w)]
            if parsed.order:
                selected.sort(key=oql.sort_key(parsed.order, _ws_field, lambda w: w.id))
            return selected

    def job_bytes(self, job: Job) -> bytes:
        encoded = job.encoded
        if encoded is None:
            encoded = _encoder.encode(self.job_doc(job))
            job.encoded = encoded
        return encoded

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
        stream = job.stream
        ws = job.workstation
        stream_ws = stream.workstation
        last = job.last_run
        served = self.served_name
        unresolved = 0
        for pred in job.preds:
            if pred.status not in _SATISFIES:
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
            sched_time=_instant_cached(job.sched_time, self.epoch),
            job_options=_CRITICAL if job.critical else _NOT_CRITICAL,
            last_run_composite_status=_composite(job.status, job.substatus),
            last_run_common_status=job.common_status,
            jobruns=[self._run_doc(job, run) for run in job.runs],
            dependencies_stats=DependenciesDoc(len(job.preds), len(job.preds), unresolved),
            critical_start=(
                _instant_cached(job.sched_time + 2 * 3600, self.epoch) if job.critical else None
            ),
            end_time=(
                self.instant(last.end)
                if job.status in _FINAL and last.end is not None
                else None
            ),
        )

    def _run_doc(self, job: Job, run: Run) -> RunDoc:
        is_last = run is job.last_run
        status = job.status if is_last else run.status
        finished = run.end is not None and status in _FINAL
        started = run.start
        return RunDoc(
            id=run.id,
            actual_workstation=self.served_name(run.workstation.id, run.workstation.name),
            job_number=run.job_number,
            return_code=run.return_code,
            composite_status=_composite(status, job.substatus if is_last else None),
            common_status=common_status(status, job.user_held and is_last),
            rerun_job=run.rerun,
            rerun_type="RERUN" if run.rerun else None,
            confirmed=run.confirmed,
            time_info=TimeInfoDoc(
                estimated_duration=format_duration(run.estimated),
                actual_start_time=None if started is None else self.instant(started),
                actual_end_time=self.instant(run.end) if finished and run.end else None,
                elapsed_time=(
                    format_duration(run.end - started)
                    if finished and run.end is not None and started is not None
                    else None
                ),
            ),
        )

    def workstation_doc(self, ws: Workstation) -> dict[str, Any]:
        flags = ["AUTO_LINK", "FULL_STATUS"] if ws.type == "FTA" else ["AUTO_LINK"]
        return {
            "engineId": "SIM",
            "id": ws.id,
            "planId": "current",
            "folder": ws.folder,
            "name": self.served_name(ws.id, ws.name),
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

    def joblog(self, run_id: str, content_only: bool = False) -> list[str]:
        """The job log lines of a run (KeyError if the run does not exist)."""
        with self.lock:
            job, run = self._runs[run_id]
            return _joblog_lines(self, job, run, content_only)

    def grouped_counts(self, groups: list[str]) -> tuple[int, dict[str, int]]:
        """Counts per group key (status, workstation, folder), keys joined with ','."""
        with self.lock:
            if groups == ["status"]:
                return len(self.jobs), {k: v for k, v in self._counts.items() if v > 0}
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


_ACTION_HANDLERS: dict[str, Callable[[Plan, Job], None]] = {
    "hold": Plan._do_hold,
    "release": Plan._do_release,
    "rerun": Plan._do_rerun,
    "cancel": Plan._do_cancel,
    "kill": Plan._do_kill,
    "confirm-succ": Plan._do_confirm_succ,
    "confirm-abend": Plan._do_confirm_abend,
}


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


def _joblog_lines(plan: Plan, job: Job, run: Run, content_only: bool) -> list[str]:
    rng = random.Random(f"{plan.seed}:{run.id}")
    lines: list[str] = []
    header = [
        "=" * 64,
        f"= JOB       : {job.workstation.name}#{job.folder}{job.stream.name}"
        f"[({plan.instant(job.sched_time)[11:16].replace(':', '')}"
        f" {time.strftime('%m/%d/%y', time.gmtime(plan.epoch))}),({job.stream.id})].{job.name}",
        "= USER      : twsuser",
        f"= JCLFILE   : {job.script}",
        f"= Job Number: {run.job_number if run.job_number is not None else '-'}",
        f"= {_log_stamp(plan, run.start if run.start is not None else plan.now)}",
        "=" * 64,
    ]
    if run.start is None:
        body = [f"Job {job.name} has not started yet (status {job.status})."]
        return body if content_only else [*header, *body]
    total = rng.randint(24, 48)
    finished = run.end is not None
    shown = total if finished else max(3, int(total * min(1.0, (plan.now - run.start)
                                                          / max(1.0, run.estimated))))  # fmt: skip
    stamp = run.start
    body = [f"+ {job.script} --date {plan.instant(0)[:10]} --run {run.number}"]
    for step in range(1, shown):
        stamp += rng.uniform(0.5, 5.0)
        clock = plan.instant(stamp)[11:19]
        noun = _JOB_NOUNS[rng.randrange(len(_JOB_NOUNS))].lower()
        choice = rng.random()
        if choice < 0.6:
            body.append(f"{clock} INFO  step {step}: processed {rng.randint(100, 99999)} {noun}")
        elif choice < 0.8:
            body.append(f"{clock} INFO  reading /data/in/{noun}_{rng.randint(1, 99):02d}.csv")
        elif choice < 0.95:
            body.append(f"{clock} DEBUG commit batch {rng.randint(1, 500)} ok")
        else:
            body.append(f"{clock} WARN  slow response from {noun} service, retrying")
    if run.killed:
        body.append("Job killed by operator request (kill).")
    elif finished and run.return_code not in (None, 0):
        body.append(f"ERROR {job.name} failed: exit status {run.return_code}")
    lines = body if content_only else [*header, *body]
    if finished and not content_only:
        elapsed = (run.end or run.start) - run.start
        lines += [
            "=" * 64,
            f"= Exit Status           : {run.return_code if run.return_code is not None else 0}",
            f"= Elapsed Time (hh:mm:ss) : {_hms(elapsed)}",
            f"= {_log_stamp(plan, run.end or run.start)}",
            "=" * 64,
        ]
    return lines


def _log_stamp(plan: Plan, offset: float) -> str:
    return time.strftime("%a %m/%d/%Y %H:%M:%S UTC", time.gmtime(plan.epoch + int(offset)))


def _hms(seconds: float) -> str:
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def iter_job_bytes(plan: Plan, jobs: Iterable[Job]) -> list[bytes]:
    """Encoded JSON of ``jobs`` (cached per job)."""
    with plan.lock:
        return [plan.job_bytes(job) for job in jobs]
