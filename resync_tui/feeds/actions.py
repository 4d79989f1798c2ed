"""Operator actions on one job, with the audit trail: what the dashboard and ``act`` call.

The path of one action is fixed, and nothing skips a step:

1. validation (nothing sent, nothing recorded): actions enabled in ``[actions]``, the
   action known, the justification fields of ``actions.require`` present, a priority
   of 0-101 for ``update-priority``;
2. ``AuditLog.intent`` (fsync'd into the spool) BEFORE the request: when the spool
   cannot be written the action is not sent, and the result says why;
3. the call, once: ``idempotent=False``, never retried (a retried rerun runs the job
   twice). An answer that never came is ``unknown`` ("check the job before trying
   again"), never "failed";
4. ``AuditLog.outcome``: done / refused (HTTP status and the engine's message) /
   unknown, with the latency; a request that never left (engine unreachable, breaker
   open) is recorded as refused with no status and counted as ``not_sent``;
5. after a done action, the job is read again at once (a targeted GET) and returned,
   so a caller can update its row.

Strings in a result (the engine's message, job names) are raw: a caller that shows
them passes them through ``sanitize.safe_text``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from redis.asyncio import Redis

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome, SpoolError
from resync_tui.audit import default_spool_dir as _default_spool_dir
from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.client import JOB_ACTIONS, JobAction
from resync_tui.hwa.errors import (
    ActionOutcomeUnknown,
    EngineUnreachable,
    HwaError,
    MalformedResponse,
)
from resync_tui.hwa.models import JobInPlan
from resync_tui.resilience.breaker import CircuitOpenError
from resync_tui.resilience.retry import AttemptTimeout, DeadlineExceeded
from resync_tui.settings import Settings

__all__ = ["ACTIONS", "DANGEROUS_ACTIONS", "UNKNOWN_ADVICE", "ActionRequest", "ActionResult",
           "ActionService", "build_audit_log", "job_ref"]

_log = logging.getLogger(__name__)

#: Every action on one job: the spec's job actions, and update-priority (priority asked).
ACTIONS: Final[tuple[str, ...]] = (*JOB_ACTIONS, "update-priority")
#: Actions that cannot be taken back (marked as such wherever they are offered).
DANGEROUS_ACTIONS: Final = frozenset({"kill", "cancel", "confirm-succ", "confirm-abend"})
UNKNOWN_ADVICE: Final = "outcome unknown — check the job before trying again"
#: Seconds added to ``hwa.call_deadline`` for the one attempt: the client's own verdict
#: (ActionOutcomeUnknown, with the endpoint) comes before the resilience layer's timeout.
_ATTEMPT_MARGIN: Final = 5.0

Result = Literal["done", "refused", "unknown", "not_sent", "invalid", "disabled"]


@dataclass(frozen=True)
class ActionRequest:
    """One action on one job, as the operator asked for it."""

    job_id: str
    action: str
    justification: Justification = field(default_factory=Justification)
    priority: int | None = None
    #: What the operator saw (name, stream, workstation) for the audit record; None: the
    #: service reads the job first.
    job: JobRef | None = None


@dataclass(frozen=True)
class ActionResult:
    """What came of an :class:`ActionRequest`.

    ``result``: ``done``; ``refused`` by the engine (``status``, ``message``);
    ``unknown`` (sent, no answer: check the job); ``not_sent`` (the engine was not
    reached, or the audit spool could not be written); ``invalid`` or ``disabled``
    (refused before anything was recorded or sent).
    """

    request: ActionRequest
    result: Result
    message: str = ""
    status: int | None = None
    latency: float | None = None
    #: The job as the engine has it right after a done action (None otherwise, or when
    #: that read failed).
    job: JobInPlan | None = None
    #: The intent's audit record id (None when nothing was recorded).
    audit_id: str | None = None

    @property
    def sent(self) -> bool:
        """Whether the request may have reached the engine."""
        return self.result in ("done", "refused", "unknown")


def build_audit_log(settings: Settings, redis: Redis | None) -> AuditLog:
    """The audit log of ``[audit]``. ``redis=None``: spool only (the records wait there for
    a process that reaches the shared Redis). Pass None when ``redis.url`` is "embedded":
    a private Redis of this process would take the records off the spool and lose them
    when it stops (``resync-tui audit`` reads the spool in that case)."""
    audit = settings.audit
    spool = Path(audit.spool_dir).expanduser() if audit.spool_dir else _default_spool_dir()
    hwa = settings.hwa
    return AuditLog(spool, redis, stream=audit.stream, max_len=audit.max_len,
                    hwa_user="" if hwa.token else hwa.user, engine=hwa.url,
                    outcome_grace=audit.outcome_grace)


def job_ref(job_id: str, job: JobInPlan | None) -> JobRef:
    """What the audit record names: the job as the operator was shown it."""
    if job is None:
        return JobRef(job_id)
    return JobRef(job_id, job.name or "", job.job_stream_name or "", job.workstation or "")


class ActionService:
    """Performs operator actions through ``runtime``'s client, audited by ``audit``."""

    def __init__(self, runtime: Runtime, audit: AuditLog, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.audit = audit
        self._clock = clock
        runtime.metrics.track_audit(audit)

    @property
    def enabled(self) -> bool:
        return self.runtime.settings.actions.enabled

    def validate(self, request: ActionRequest) -> ActionResult | None:
        """Why ``request`` must not be sent (an ``invalid``/``disabled`` result), or None."""
        settings = self.runtime.settings.actions
        if not settings.enabled:
            return ActionResult(request, "disabled",
                                "actions are disabled (read-only): set [actions] enabled = "
                                "true or RESYNC_ACTIONS__ENABLED=true")
        if request.action not in ACTIONS:
            return ActionResult(request, "invalid", f"unknown action {request.action!r}; "
                                f"one of {', '.join(ACTIONS)}")
        if not request.job_id.strip():
            return ActionResult(request, "invalid", "no job id")
        given = request.justification.as_dict()
        missing = [name for name in settings.require if not given.get(name, "").strip()]
        if missing:
            return ActionResult(request, "invalid",
                                f"justification required: {', '.join(missing)} "
                                "(actions.require)")
        if request.action == "update-priority":
            priority = request.priority
            if isinstance(priority, bool) or not isinstance(priority, int) \
                    or not 0 <= priority <= 101:
                return ActionResult(request, "invalid",
                                    "update-priority needs a priority from 0 to 101 "
                                    "(100 = HI, 101 = GO)")
        elif request.priority is not None:
            return ActionResult(request, "invalid",
                                f"a priority is only for update-priority, not {request.action}")
        return None

    async def read_job(self, job_id: str) -> JobInPlan:
        """The job as the engine has it now (a GET: retried like any read)."""
        return await hwa_call(self.runtime, lambda: self.runtime.client.get_job(job_id),
                              breaker=self.runtime.hwa_api, operation="get_job")

    async def perform(self, request: ActionRequest) -> ActionResult:
        """Validate, record the intent, send once, record the outcome, re-read the job."""
        refusal = self.validate(request)
        if refusal is not None:
            return refusal
        target = request.job
        if target is None:
            try:
                target = job_ref(request.job_id, await self.read_job(request.job_id))
            except (HwaError, CircuitOpenError, TimeoutError) as exc:
                # The engine stays the judge: the action itself says what is wrong.
                _log.info("action %s: job %s not read first (%s)", request.action,
                          request.job_id, type(exc).__name__)
                target = JobRef(request.job_id)
        parameters = {} if request.priority is None else {"priority": request.priority}
        try:
            intent = await self.audit.intent(request.action, target, parameters=parameters,
                                             justification=request.justification)
        except SpoolError as exc:
            _log.error("action %s on %s not sent: the audit spool cannot be written (%s)",
                       request.action, request.job_id, exc)
            self.runtime.metrics.count_action(request.action, "not_sent")
            return ActionResult(request, "not_sent",
                                f"not sent: the audit spool cannot be written ({exc})")
        started = self._clock()
        outcome, result = await self._send(request)
        latency = self._clock() - started
        try:
            await self.audit.outcome(intent, outcome, latency=latency)
        except SpoolError as exc:  # sent already: the drain marks the intent unknown later
            _log.error("audit: outcome of %s not recorded (%s)", intent, exc)
        self.runtime.metrics.count_action(request.action, result)
        job = None
        if result == "done":
            try:
                job = await self.read_job(request.job_id)
            except (HwaError, CircuitOpenError, TimeoutError) as exc:
                _log.warning("action %s on %s done; reading the job again failed (%s)",
                             request.action, request.job_id, type(exc).__name__)
        return ActionResult(request, result, outcome.message, outcome.status,
                            round(latency, 6), job, str(intent))

    async def _send(self, request: ActionRequest) -> tuple[Outcome, Result]:
        """The one attempt, and what it means (never raises for the engine's answer)."""
        client = self.runtime.client
        why = request.justification

        async def call() -> object:
            if request.action == "update-priority":
                assert request.priority is not None  # validated
                return await client.update_priority(request.job_id, request.priority)
            action: JobAction = request.action  # type: ignore[assignment]  # validated
            return await client.job_action(
                request.job_id, action, justification_category=why.category or None,
                justification_description=why.description or None,
                justification_ticket=why.ticket or None)

        try:
            await hwa_call(self.runtime, call, breaker=self.runtime.hwa_api,
                           operation=f"action {request.action}", idempotent=False,
                           attempt_timeout=self.runtime.settings.hwa.call_deadline
                           + _ATTEMPT_MARGIN)
        except ActionOutcomeUnknown as exc:
            _log.warning("action %s on %s: %s", request.action, request.job_id, exc)
            return Outcome.unknown(UNKNOWN_ADVICE), "unknown"
        except (AttemptTimeout, MalformedResponse):  # sent; what the engine did is unclear
            return Outcome.unknown(UNKNOWN_ADVICE), "unknown"
        except (EngineUnreachable, CircuitOpenError, DeadlineExceeded) as exc:
            # Nothing reached the engine (the client raises ActionOutcomeUnknown otherwise).
            message = exc.message if isinstance(exc, HwaError) else str(exc)
            return Outcome("refused", None, f"not sent: {message}"), "not_sent"
        except HwaError as exc:
            return Outcome.refused(exc.status or 0, exc.message), "refused"
        return Outcome.done(), "done"
