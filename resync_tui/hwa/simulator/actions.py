"""Operator actions on the plan: on jobs (hold, release, rerun, cancel, kill, confirm,
release all dependencies, update priority), on job streams (hold, release, cancel) and
on workstations (link, unlink, start, stop, update fence, update limit).

Each action checks that it makes sense for the job's status (``ActionError``, an
HTTP 400, if not) before it changes anything, then the engine gives the job the
next event of its new life. The two confirmations differ only in the status they
set and the statuses they accept, so they are one function.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from resync_tui.hwa.simulator.engine import Engine
from resync_tui.hwa.simulator.generate import new_run
from resync_tui.hwa.simulator.model import (
    FINAL,
    SATISFIES,
    ActionError,
    Job,
    JobStream,
    Run,
    Workstation,
)

__all__ = ["ACTIONS", "STREAM_ACTIONS", "WORKSTATION_ACTIONS", "act", "act_stream",
           "act_workstation", "update_priority"]

ACTIONS = ("hold", "release", "rerun", "cancel", "kill", "confirm-succ", "confirm-abend",
           "release-all-dependencies")  # fmt: skip
"""The job actions of :func:`act` (update-priority, which takes a value, is apart)."""

STREAM_ACTIONS = ("hold", "release", "cancel")
"""The job stream actions of :func:`act_stream`."""

WORKSTATION_ACTIONS = ("link", "unlink", "start", "stop", "update-fence", "update-limit")
"""The workstation actions of :func:`act_workstation` (the last two take a value)."""

MAX_LIMIT = 1024
"""The highest job limit a workstation takes (conman's ``limit cpu``: 0-1024)."""

MAX_PRIORITY = 101
"""Priorities run 0-99, then 100 (HI) and 101 (GO)."""

Runs = dict[str, tuple[Job, Run]]


def act(
    engine: Engine,
    runs: Runs,
    job: Job,
    action: str,
    justification: dict[str, str] | None = None,
) -> None:
    """Apply ``action`` to ``job`` and record why; ActionError if it is unknown or senseless."""
    handler = _HANDLERS.get(action)
    if handler is None:
        raise ActionError(f"unknown action {action!r}")
    handler(engine, runs, job)
    job.generation += 1
    engine.reschedule(job)
    _note(engine, job, action, justification)


def _note(engine: Engine, job: Job, action: str, justification: dict[str, str] | None) -> None:
    """Keep why the job was acted on (the engine's audit) and show the change."""
    record = {"action": action, **(justification or {})}
    job.justifications = [*(job.justifications or []), record]
    job.encoded = None
    engine.version += 1


def update_priority(
    engine: Engine, job: Job, priority: int, justification: dict[str, str] | None = None
) -> None:
    """Set the job's priority; a held job keeps 0 and gets it back when released.

    The job's life does not change (no event is rescheduled): priority only orders
    jobs that are ready.
    """
    if not 0 <= priority <= MAX_PRIORITY:
        raise ActionError(f"priority must be from 0 to {MAX_PRIORITY}, got {priority}")
    job.orig_priority = priority
    if not job.user_held:
        job.priority = priority
    _note(engine, job, "update-priority", justification)


def act_stream(
    engine: Engine,
    runs: Runs,
    stream: JobStream,
    jobs: list[Job],
    action: str,
    justification: dict[str, str] | None = None,
) -> None:
    """Apply a job stream action to the stream's ``jobs``; ActionError if it makes no sense.

    Hold holds every job of the stream that has not started yet (and release lets
    exactly those go); cancel cancels every job not finished and not running (a
    running job is left to end, as the engine does).
    """
    if action == "hold":
        if stream.held:
            raise ActionError(f"job stream {stream.name} is already held")
        waiting = [j for j in jobs if not j.user_held and j.status in ("HOLD", "READY")]
        for job in waiting:
            act(engine, runs, job, "hold", justification)
        stream.held = True
        stream.held_jobs = waiting
    elif action == "release":
        if not stream.held:
            raise ActionError(f"job stream {stream.name} is not held")
        for job in stream.held_jobs:
            if job.user_held and not job.deleted:
                act(engine, runs, job, "release", justification)
        stream.held = False
        stream.held_jobs = []
    elif action == "cancel":
        open_jobs = [j for j in jobs if j.status not in FINAL and j.status != "EXEC"]
        if not open_jobs:
            raise ActionError(f"job stream {stream.name} has no job left to cancel")
        for job in open_jobs:
            act(engine, runs, job, "cancel", justification)
        stream.cancelled = True
        stream.held = False
        stream.held_jobs = []
    else:
        raise ActionError(f"unknown job stream action {action!r}")


def _hold(engine: Engine, runs: Runs, job: Job) -> None:
    if job.user_held:
        raise ActionError(f"job {job.name} is already held")
    if job.status not in ("HOLD", "READY"):
        raise ActionError(f"cannot hold job {job.name} in status {job.status}")
    job.user_held = True
    job.priority = 0
    engine.set_status(job, "HOLD", "HOLD_PRIORITY_ZERO")


def _release(engine: Engine, runs: Runs, job: Job) -> None:
    if not job.user_held:
        raise ActionError(f"job {job.name} is not held (status {job.status})")
    job.user_held = False
    job.priority = job.orig_priority
    if engine.ready_to_go(job) and engine.now >= job.sched_time:
        engine.set_status(job, "READY")
    elif job.preds and not engine.ready_to_go(job):
        engine.set_status(job, "HOLD", "HOLD_WAITING_FOR_PREDECESSOR")
    else:
        engine.set_status(job, "HOLD", "HOLD_WAITING_FOR_TIME")


def _rerun(engine: Engine, runs: Runs, job: Job) -> None:
    if job.status not in FINAL:
        raise ActionError(f"cannot rerun job {job.name} in status {job.status}")
    new_run(job, runs, rerun=True)
    job.user_held = False
    engine.set_status(job, "READY")


def _cancel(engine: Engine, runs: Runs, job: Job) -> None:
    if job.status in FINAL or job.status == "EXEC":
        raise ActionError(
            f"cannot cancel job {job.name} in status {job.status}"
            + (" (kill it first)" if job.status == "EXEC" else "")
        )
    job.user_held = False
    job.last_run.end = engine.now
    engine.set_status(job, "CANCL")
    engine.release_successors(job)


def _kill(engine: Engine, runs: Runs, job: Job) -> None:
    if job.status not in ("EXEC", "STUCK"):
        raise ActionError(f"cannot kill job {job.name}: not running (status {job.status})")
    run = job.last_run
    run.killed = True
    run.end = engine.now
    run.return_code = -1
    engine.set_status(job, "ABEND")


def _release_dependencies(engine: Engine, runs: Runs, job: Job) -> None:
    """The job stops waiting for its predecessors: every dependency link goes."""
    if all(pred.status in SATISFIES for pred in job.preds):
        raise ActionError(f"job {job.name} has no dependency left to release")
    for pred in job.preds:
        pred.succs.remove(job)
        pred.encoded = None
    job.preds = []


def _confirm(
    engine: Engine, runs: Runs, job: Job, *, status: str, accepted: frozenset[str]
) -> None:
    """The operator says how the run ended: it ends now (if it had not) with ``status``."""
    if job.status not in accepted:
        raise ActionError(f"cannot confirm {status} for job {job.name} in status {job.status}")
    run = job.last_run
    run.confirmed = True
    if run.end is None:
        run.end = engine.now
    engine.set_status(job, status)
    if status == "SUCC":
        engine.release_successors(job)


_RUNNING_OR_FAILED = frozenset({"INTRO", "EXEC", "STUCK", "FAIL"})

_HANDLERS: dict[str, Callable[[Engine, Runs, Job], None]] = {
    "hold": _hold,
    "release": _release,
    "rerun": _rerun,
    "cancel": _cancel,
    "kill": _kill,
    "confirm-succ": partial(_confirm, status="SUCC", accepted=_RUNNING_OR_FAILED | {"ABEND"}),
    "confirm-abend": partial(_confirm, status="ABEND", accepted=_RUNNING_OR_FAILED | {"SUCC"}),
    "release-all-dependencies": _release_dependencies,
}


def act_workstation(engine: Engine, ws: Workstation, action: str, value: int | None) -> None:
    """Apply a workstation action; ActionError for an unknown action or a value out of range.

    As the spec has it, these operations answer 200, 404, 401 or 403 only: linking a
    linked workstation (stopping a stopped one...) is done, and changes nothing. Unlink
    and stop take effect on the plan: the engine launches nothing on a workstation that
    is not linked and running (its ready jobs wait for the agent), and a link an
    operator set no longer flaps by itself. The fence holds back the jobs whose priority
    is at or below it; the limit is kept and shown (the simulator does not count the
    jobs running on a workstation). A value out of range is a 400, as an engine answers
    a parameter it cannot take.
    """
    if action in ("link", "unlink"):
        ws.linked, ws.held_link = action == "link", True
    elif action in ("start", "stop"):
        ws.running = action == "start"
    elif action == "update-fence":
        if value is None or not 0 <= value <= MAX_PRIORITY:
            raise ActionError(f"the fence must be a priority from 0 to {MAX_PRIORITY} "
                              f"(query parameter priority), got {value}")
        ws.fence = value
    elif action == "update-limit":
        if value is None or not 0 <= value <= MAX_LIMIT:
            raise ActionError(f"the limit must be from 0 to {MAX_LIMIT} "
                              f"(query parameter limit), got {value}")
        ws.limit = value
    else:
        raise ActionError(f"unknown workstation action {action!r}")
    engine.version += 1
