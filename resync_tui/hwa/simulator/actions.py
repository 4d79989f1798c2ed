"""Operator actions on jobs in the plan: hold, release, rerun, cancel, kill, confirm.

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
from resync_tui.hwa.simulator.model import FINAL, ActionError, Job, Run

__all__ = ["ACTIONS", "act"]

ACTIONS = ("hold", "release", "rerun", "cancel", "kill", "confirm-succ", "confirm-abend")
"""The actions the simulator serves (``PUT /plan/job/{id}/action/{action}``)."""

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
    record = {"action": action, **(justification or {})}
    job.justifications = [*(job.justifications or []), record]
    job.encoded = None
    engine.version += 1


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
}
