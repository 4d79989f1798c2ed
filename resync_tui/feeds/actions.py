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

A job stream action (``ActionRequest(target="jobstream")``: hold, release, cancel of
``plan/jobstream/{id}/action/*``) takes the same path; its audit record names the
stream (``jobstream-hold``...). A workstation action (``target="workstation"``: link,
unlink, start, stop, update-fence and update-limit of ``plan/workstation/{id}/action/*``,
the last two with ``value``) takes it too, recorded as ``workstation-link``...; the spec
gives these operations no Justification headers, so the justification lives in the audit
trail only. A bulk action is a :class:`BulkRun`: the same path once
per job, one job after the other (see there why not the spec's bulk paths).

Strings in a result (the engine's message, job names) are raw: a caller that shows
them passes them through ``sanitize.safe_text``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import msgspec

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome, SpoolError
from resync_tui.audit import default_spool_dir as _default_spool_dir
from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.client import (
    JOB_ACTIONS,
    JOBSTREAM_ACTIONS,
    WORKSTATION_ACTIONS,
    JobAction,
    JobStreamAction,
    WorkstationAction,
)
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

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["ACTIONS", "DANGEROUS_ACTIONS", "STREAM_ACTIONS", "UNKNOWN_ADVICE", "WS_ACTIONS",
           "WS_VALUE_RANGE", "ActionRequest", "ActionResult", "ActionService", "BulkRun",
           "build_audit_log", "job_ref"]

_log = logging.getLogger(__name__)

#: Every action on one job: the spec's job actions, and update-priority (priority asked).
ACTIONS: Final[tuple[str, ...]] = (*JOB_ACTIONS, "update-priority")
#: Every action on a job stream (``ActionRequest(target="jobstream")``).
STREAM_ACTIONS: Final[tuple[str, ...]] = JOBSTREAM_ACTIONS
#: Every action on a workstation (``ActionRequest(target="workstation")``).
WS_ACTIONS: Final[tuple[str, ...]] = WORKSTATION_ACTIONS
#: The value each valued workstation action takes: (audit parameter name, lowest, highest).
#: The fence is a job priority (0-101); conman takes a limit of 0-1024.
WS_VALUE_RANGE: Final[dict[str, tuple[str, int, int]]] = {
    "update-fence": ("fence", 0, 101), "update-limit": ("limit", 0, 1024)}
#: Actions that cannot be taken back (marked as such wherever they are offered), by
#: :attr:`ActionRequest.audit_action` (a job stream's cancel is ``jobstream-cancel``).
DANGEROUS_ACTIONS: Final = frozenset({"kill", "cancel", "confirm-succ", "confirm-abend",
                                      "jobstream-cancel", "workstation-unlink",
                                      "workstation-stop"})
UNKNOWN_ADVICE: Final = "outcome unknown — check the job before trying again"
#: Seconds added to ``hwa.call_deadline`` for the one attempt: the client's own verdict
#: (ActionOutcomeUnknown, with the endpoint) comes before the resilience layer's timeout.
_ATTEMPT_MARGIN: Final = 5.0

#: A bulk run stops after this many unanswered jobs in a row (see :class:`BulkRun`).
STOP_AFTER_UNANSWERED: Final = 3

Result = Literal["done", "refused", "unknown", "not_sent", "invalid", "disabled"]
Target = Literal["job", "jobstream", "workstation"]


class ActionRequest(msgspec.Struct, frozen=True):
    """One action on one job, as the operator asked for it."""

    job_id: str
    action: str
    justification: Justification = msgspec.field(default_factory=Justification)
    priority: int | None = None
    #: What the operator saw (name, stream, workstation) for the audit record; None: the
    #: service reads the job first.
    job: JobRef | None = None
    #: ``jobstream``: ``job_id`` is a job stream's id and ``action`` one of
    #: :data:`STREAM_ACTIONS` (``job`` then names the stream for the audit record);
    #: ``workstation``: ``job_id`` is a workstation's id, ``action`` one of
    #: :data:`WS_ACTIONS` (``job`` names the workstation).
    target: Target = "job"
    #: The new fence or limit of ``update-fence`` / ``update-limit`` on a workstation.
    value: int | None = None

    @property
    def audit_action(self) -> str:
        """The action as the audit trail and the metrics name it (``jobstream-hold``,
        ``workstation-unlink``)."""
        return self.action if self.target == "job" else f"{self.target}-{self.action}"

    @property
    def parameters(self) -> dict[str, int]:
        """What the action is sent with, as the audit record names it."""
        if self.target == "workstation" and self.value is not None \
                and self.action in WS_VALUE_RANGE:
            return {WS_VALUE_RANGE[self.action][0]: self.value}
        return {} if self.priority is None else {"priority": self.priority}


class ActionResult(msgspec.Struct, frozen=True):
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
        known = {"jobstream": STREAM_ACTIONS, "workstation": WS_ACTIONS}.get(
            request.target, ACTIONS)
        if request.action not in known:
            what = {"jobstream": " on a job stream", "workstation": " on a workstation"}.get(
                request.target, "")
            return ActionResult(request, "invalid", f"unknown action {request.action!r}"
                                f"{what}; one of {', '.join(known)}")
        if not request.job_id.strip():
            return ActionResult(request, "invalid", f"no {request.target} id")
        given = request.justification.as_dict()
        missing = [name for name in settings.require if not given.get(name, "").strip()]
        if missing:
            return ActionResult(request, "invalid",
                                f"justification required: {', '.join(missing)} "
                                "(actions.require)")
        if request.target == "workstation":
            return _ws_value_refusal(request)
        if request.value is not None:
            return ActionResult(request, "invalid", "a value is only for a workstation's "
                                "update-fence or update-limit")
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

    def bulk(self, requests: Iterable[ActionRequest], *,
             confirmed_count: int | None = None) -> BulkRun:
        """A :class:`BulkRun` of ``requests``. Above ``actions.max_bulk`` jobs the operator
        must have confirmed the exact count a second time (``confirmed_count``): else
        ValueError, and nothing is sent."""
        run = BulkRun(self, requests)
        cap = self.runtime.settings.actions.max_bulk
        if run.total > cap and confirmed_count != run.total:
            raise ValueError(f"{run.total} jobs is above actions.max_bulk ({cap}): the count "
                             "must be confirmed a second time")
        return run

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
        if target is None and request.target in ("jobstream", "workstation"):
            target = JobRef(request.job_id)
        if target is None:
            try:
                target = job_ref(request.job_id, await self.read_job(request.job_id))
            except (HwaError, CircuitOpenError, TimeoutError) as exc:
                # The engine stays the judge: the action itself says what is wrong.
                _log.info("action %s: job %s not read first (%s)", request.action,
                          request.job_id, type(exc).__name__)
                target = JobRef(request.job_id)
        parameters = request.parameters
        try:
            intent = await self.audit.intent(request.audit_action, target, parameters=parameters,
                                             justification=request.justification)
        except SpoolError as exc:
            _log.error("action %s on %s not sent: the audit spool cannot be written (%s)",
                       request.audit_action, request.job_id, exc)
            self.runtime.metrics.count_action(request.audit_action, "not_sent")
            return ActionResult(request, "not_sent",
                                f"not sent: the audit spool cannot be written ({exc})")
        started = self._clock()
        outcome, result = await self._send(request)
        latency = self._clock() - started
        try:
            await self.audit.outcome(intent, outcome, latency=latency)
        except SpoolError as exc:  # sent already: the drain marks the intent unknown later
            _log.error("audit: outcome of %s not recorded (%s)", intent, exc)
        self.runtime.metrics.count_action(request.audit_action, result)
        job = None
        if result == "done" and request.target == "job":
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
            if request.target == "workstation":
                ws_action: WorkstationAction = request.action  # type: ignore[assignment]
                return await client.workstation_action(request.job_id, ws_action,
                                                       request.value)
            if request.target == "jobstream":
                stream_action: JobStreamAction = request.action  # type: ignore[assignment]
                return await client.jobstream_action(
                    request.job_id, stream_action,
                    justification_category=why.category or None,
                    justification_description=why.description or None,
                    justification_ticket=why.ticket or None)
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
                           operation=f"action {request.audit_action}", idempotent=False,
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
            return Outcome.refused(exc.status or 0, _without_status(exc)), "refused"
        return Outcome.done(), "done"


def _without_status(exc: HwaError) -> str:
    """The error's words without its ``(HTTP 400)``: the outcome keeps the status apart,
    and every line showing a refusal names it ("refused  release  …  HTTP 400  rejected
    (HTTP 400): job … is not held" said it twice)."""
    if not exc.status:
        return exc.message
    return exc.message.replace(f" (HTTP {exc.status})", "", 1)


def _ws_value_refusal(request: ActionRequest) -> ActionResult | None:
    """Why a workstation request's value is wrong (None: it is right)."""
    if request.priority is not None:
        return ActionResult(request, "invalid", "a workstation action takes no priority")
    bounds = WS_VALUE_RANGE.get(request.action)
    value = request.value
    if bounds is None:
        if value is not None:
            return ActionResult(request, "invalid", f"{request.action} takes no value")
        return None
    name, low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return ActionResult(request, "invalid",
                            f"{request.action} needs a {name} from {low} to {high}")
    return None


class BulkRun:
    """One action on many jobs: :meth:`ActionService.perform` once per job, in order.

    Why not the spec's bulk paths (``PUT /plan/job/action/{action}?oql=...``): their
    answer counts the objects affected, it does not say which job was done, refused or
    left unknown, so no audit record could say what happened to each job (and an OQL
    filter is re-evaluated by the engine: it may match jobs the operator never saw).
    One job after the other keeps the engine's load that of one operator, gives each
    job its own intent and outcome, and makes :meth:`cancel` exact: what was sent is
    recorded, the rest is not sent.

    Never retried. An unanswered job (``unknown``: sent, no answer; ``not_sent``: the
    engine was not reached) does not stop the run, the others are independent; but
    after :data:`STOP_AFTER_UNANSWERED` of them in a row the engine is not answering,
    and the rest is not sent (``stopped`` says why): each would hang for the full
    timeout or be refused unsent, and an operator gains nothing from either.
    """

    def __init__(self, service: ActionService, requests: Iterable[ActionRequest], *,
                 stop_after_unanswered: int = STOP_AFTER_UNANSWERED) -> None:
        self.service = service
        self.requests: tuple[ActionRequest, ...] = tuple(requests)
        self.results: list[ActionResult] = []
        """One per job sent (or refused before sending), in order."""
        self.stopped = ""
        """Why the rest was not sent ("" while running, or when every job was sent)."""
        self._stop_after = stop_after_unanswered
        self._cancelled = False

    @property
    def total(self) -> int:
        return len(self.requests)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def unsent(self) -> tuple[ActionRequest, ...]:
        """The requests not sent (cancelled or stopped; all of them before :meth:`run`)."""
        return self.requests[len(self.results):]

    def cancel(self) -> None:
        """Send nothing more; the job being sent finishes and is recorded."""
        self._cancelled = True

    async def run(self, on_result: Callable[[ActionResult], None] | None = None
                  ) -> list[ActionResult]:
        """Send each job's action in turn (``on_result`` after each); the results."""
        unanswered = 0
        for request in self.requests:
            if self._cancelled:
                self.stopped = "cancelled by the operator"
                break
            result = await self.service.perform(request)
            self.results.append(result)
            if on_result is not None:
                on_result(result)
            unanswered = unanswered + 1 if result.result in ("unknown", "not_sent") else 0
            if unanswered >= self._stop_after and len(self.results) < self.total:
                self.stopped = (f"stopped: {unanswered} jobs in a row without an answer "
                                "from the engine")
                _log.warning("bulk %s: %s; %d not sent", request.audit_action,
                             self.stopped, self.total - len(self.results))
                break
            await asyncio.sleep(0)  # a burst of instant refusals still lets the UI draw
        if self._cancelled and not self.stopped and len(self.results) < self.total:
            self.stopped = "cancelled by the operator"
        return self.results
