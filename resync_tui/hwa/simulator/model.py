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

    @property
    def active_states(self) -> list[str]:
        if self.type == "MANAGER":
            return ["MASTER", "LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "ONLINE"]
        if self.linked:
            return ["LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "ONLINE"]
        return ["INSTALLED"]


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

    @property
    def last_run(self) -> Run:
        return self.runs[-1]

    @property
    def killed(self) -> bool:
        return self.last_run.killed

    @property
    def common_status(self) -> str:
        return common_status(self.status, self.user_held)
