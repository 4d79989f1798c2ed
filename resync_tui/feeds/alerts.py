"""Alerts from what the feeds publish: ``[[alerts]]`` rules on the dashboard's own data.

:class:`AlertCenter` is given every state a feed publishes (the path the panes are
drawn from, never a second poll), turns it into an
:class:`~resync_tui.alerts.rules.AlertInput`, lets the evaluator decide what fired
(once per state change, rate-limited per rule), and dispatches each event: the bell and
desktop notification through callbacks the UI gives, the webhook through the
:class:`~resync_tui.alerts.webhook.WebhookSender` (bounded queue, retried, its own
breaker) — only when ``sends_webhooks()`` says so: with the shared feed, the leader
alone posts, so a NOC gets one message per event, not one per screen.

What fired is kept (the last ``history`` events) for the alerts screen, with where
it went and whether the operator has seen it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from resync_tui.alerts.rules import AlertEvaluator, AlertEvent, AlertInput, AlertRule, JobFacts
from resync_tui.alerts.webhook import WebhookSender
from resync_tui.feeds.breakers import BreakersState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.model.critical import due_at
from resync_tui.model.status import FAILED_STATUSES

__all__ = ["AlertCenter", "FiredAlert"]

log = logging.getLogger(__name__)

_OPEN_STATES = frozenset({"open", "forced_open"})
_JOB_KINDS = frozenset({"job_failed", "critical_late"})
"""Alert kinds whose subject is a job id."""


@dataclass(slots=True)
class FiredAlert:
    """One event as the alerts screen lists it."""

    event: AlertEvent
    went: list[str] = field(default_factory=list)
    """Where it went: ``bell``, ``notify``, ``webhook``, ``webhook: not sent (...)``."""
    seen: bool = False


def _job_facts(state: JobsState) -> dict[str, JobFacts]:
    """The jobs a rule can fire on (failed ones, critical ones past their deadline or
    critical start on the engine's clock), not all 200,000: a job absent here is simply
    not failing nor late, which is what the evaluator needs to re-arm."""
    facts: dict[str, JobFacts] = {}
    now = state.view.now()
    for row in state.view.all_rows():
        failed = row.status in FAILED_STATUSES
        due = due_at(row) if row.critical else None
        late = due is not None and due < now
        if failed or late:
            facts[row.job_id] = JobFacts(row.status, row.stream, row.job, row.workstation,
                                         row.folder, critical=row.critical, late=late)
    return facts


class AlertCenter:
    """Evaluates the rules on each published state and dispatches what fired."""

    def __init__(self, rules: Iterable[AlertRule], *, sender: WebhookSender | None = None,
                 ring: Callable[[AlertEvent], None] | None = None,
                 notify: Callable[[AlertEvent], None] | None = None,
                 sends_webhooks: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.time, history: int = 500) -> None:
        self.evaluator = AlertEvaluator(rules)
        self.sender = sender
        self._ring = ring
        self._notify = notify
        self._sends_webhooks = sends_webhooks
        self._clock = clock
        self.fired: deque[FiredAlert] = deque(maxlen=history)
        self._kinds = {rule.on for rule in self.evaluator.rules}
        self._jobs_version: int | None = None

    @property
    def unseen(self) -> int:
        return sum(1 for alert in self.fired if not alert.seen)

    def mark_seen(self) -> list[str]:
        """The operator acknowledged every alert; the jobs they were about (failed,
        critical late), so the job table can drop their "new" marks too."""
        jobs: list[str] = []
        for alert in self.fired:
            if not alert.seen and alert.event.kind in _JOB_KINDS:
                jobs.append(alert.event.subject)
            alert.seen = True
        return jobs

    def _input(self, name: str, state: Any) -> AlertInput | None:
        now = self._clock()
        kinds = self._kinds
        if name == "jobs" and isinstance(state, JobsState):
            if not kinds & {"job_failed", "critical_late"} or not state.health.has_data:
                return None
            version = state.view.version
            if version == self._jobs_version:
                return None  # nothing moved: the same answer as last time
            self._jobs_version = version
            return AlertInput(now, jobs=_job_facts(state))
        if name == "workstations" and isinstance(state, WorkstationsState):
            if "workstation_down" not in kinds or not state.health.has_data:
                return None
            return AlertInput(now, workstations_down=[row.name for row in state.problems])
        if name == "engine" and isinstance(state, EngineState):
            if "engine_unreachable" not in kinds or state.health.polls == 0:
                return None
            reachable = state.health.ok or state.health.kind not in ("unreachable",)
            return AlertInput(now, engine_reachable=reachable)
        if name == "breakers" and isinstance(state, BreakersState):
            if "breaker_open" not in kinds:
                return None
            return AlertInput(now, breakers_open=[row.name for row in state.rows
                                                  if row.state in _OPEN_STATES])
        spool = getattr(state, "spool_records", None)  # the audit health feed's state
        if "audit_spool" in kinds and isinstance(spool, int):
            return AlertInput(now, audit_spool=spool)
        return None

    def observe(self, name: str, state: Any) -> list[AlertEvent]:
        """Evaluate one published state; dispatch and keep what fired."""
        observed = self._input(name, state)
        if observed is None:
            return []
        events = self.evaluator.evaluate(observed)
        for event in events:
            self._dispatch(event)
        return events

    def _dispatch(self, event: AlertEvent) -> None:
        fired = FiredAlert(event)
        self.fired.append(fired)
        if event.limited:
            fired.went.append("rate-limited: counted, not sent")
            if self.sender is not None:
                self.sender.count(event.rule, "limited")
            return
        if event.bell and self._ring is not None:
            self._ring(event)
            fired.went.append("bell")
        if event.notify and self._notify is not None:
            self._notify(event)
            fired.went.append("notify")
        if event.webhook:
            if self.sender is None:
                fired.went.append("webhook: no sender")
            elif not self._sends_webhooks():
                fired.went.append("webhook: the shared feed's leader sends it")
            elif self.sender.submit(event):
                fired.went.append("webhook")
            else:
                fired.went.append("webhook: dropped (queue full)")
        log.info("alert %s: %s (%s)", event.rule, event.summary, ", ".join(fired.went) or "-")
