"""What a plan is made of: workstations, job streams, jobs and their runs, and the status words.

Plain mutable records shared by every other part of the simulator (generation, the
engine, operator actions, the wire format), so none of them needs another to know
what a job is. No behaviour beyond derived properties lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "FINAL",
    "SATISFIES",
    "STARTED",
    "ActionError",
    "Job",
    "JobStream",
    "Run",
    "Workstation",
    "common_status",
    "stream_common_status",
    "stream_status",
]

FINAL = frozenset({"SUCC", "ABEND", "FAIL", "CANCL"})
"""Statuses a run ends in: a job here can be rerun, and shows its end time."""
SATISFIES = frozenset({"SUCC", "CANCL"})
"""Predecessor statuses that let a successor go."""
STARTED = frozenset({"INTRO", "EXEC", "SUCC", "ABEND", "STUCK"})


class ActionError(ValueError):
    """An operator action that makes no sense for the job's current status (HTTP 400)."""


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
    """A workstation in the plan; ``flaps`` ones unlink and relink as the clock moves."""

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
    running: bool = True
    """False once an operator stopped it (``stop``) until ``start``: it launches nothing."""
    held_link: bool = False
    """An operator linked or unlinked it: its link no longer flaps by itself."""

    @property
    def launches(self) -> bool:
        """Whether a job routed here can be launched now (linked and running)."""
        return self.linked and self.running

    @property
    def active_states(self) -> list[str]:
        master = ["MASTER"] if self.type == "MANAGER" else []
        if self.linked and self.running:
            return [*master, "LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "ONLINE"]
        if self.linked:  # stopped: linked, but no batchman/jobman to launch anything
            return [*master, "LINKED", "FULLY_LINKED", "ONLINE"]
        return [*master, "INSTALLED"]


@dataclass(slots=True, eq=False)
class JobStream:
    """A job stream: its jobs share its folder and scheduled time."""

    index: int
    id: str
    name: str
    folder: str
    workstation: Workstation
    sched_time: float
    held: bool = False
    held_jobs: list[Job] = field(default_factory=list)
    """The jobs the stream's hold put on hold (its release lets exactly these go)."""
    cancelled: bool = False
    carry_forward: bool = False
    """``jsOptions.carryForward``: left unfinished at the plan's end, it moves to the next plan."""
    carried_forward: bool = False
    """Carried forward into this plan from the previous plan day (``jsDefinitionFlags``)."""


_RUNNING = frozenset({"INTRO", "EXEC"})
_BROKEN = frozenset({"ABEND", "FAIL", "STUCK"})
_STREAM_COMMON = {
    "CANCL": "CANCELED",
    "CANCLP": "CANCELED",
    "SUCC": "SUCCESSFUL",
    "ABEND": "ERROR",
    "STUCK": "BLOCKED",
    "EXEC": "RUNNING",
    "HOLD": "WAITING",
    "READY": "READY",
}


def stream_status(stream: JobStream, statuses: list[str], now: float) -> str:
    """A job stream's ``JobStreamInPlanStatus``, derived from its jobs' statuses as HWA does.

    In order: cancelled, CANCL (CANCLP while a job still runs); every job final, ABEND if
    one ended ABEND/FAIL, else SUCC (an empty stream is SUCC); a job INTRO/EXEC, EXEC;
    a job ABEND/FAIL/STUCK with none running, STUCK (nothing moves without an operator);
    some job started or finished, EXEC; nothing started, HOLD while the stream is held
    or its scheduled time is ahead, else READY.
    """
    running = any(s in _RUNNING for s in statuses)
    if stream.cancelled:
        return "CANCLP" if running else "CANCL"
    if all(s in FINAL for s in statuses):
        return "ABEND" if any(s in ("ABEND", "FAIL") for s in statuses) else "SUCC"
    if running:
        return "EXEC"
    if any(s in _BROKEN for s in statuses):
        return "STUCK"
    if any(s in STARTED or s in FINAL for s in statuses):
        return "EXEC"
    if stream.held or now < stream.sched_time:
        return "HOLD"
    return "READY"


def stream_common_status(status: str, held: bool = False) -> str:
    """The CommonStatusV2 of a job stream status (HELD for a held stream not started)."""
    if held and status == "HOLD":
        return "HELD"
    return _STREAM_COMMON.get(status, "UNDECIDED")


@dataclass(slots=True, eq=False)
class Run:
    """One run of a job; ``fate`` (drawn at launch) says how it will end."""

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
    """A job in the plan; ``generation`` moves on when its pending events become void."""

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
    deadline: float | None = None
    """Plan-clock second by which the job must have ended (``timeRestrictions.deadlineTime``)."""

    @property
    def last_run(self) -> Run:
        return self.runs[-1]

    @property
    def killed(self) -> bool:
        return self.last_run.killed

    @property
    def common_status(self) -> str:
        return common_status(self.status, self.user_held)
