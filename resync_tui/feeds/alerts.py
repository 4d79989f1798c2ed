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

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from resync_tui.alerts.rules import AlertEvaluator, AlertEvent, AlertInput, AlertRule, JobFacts
from resync_tui.alerts.webhook import WebhookSender
from resync_tui.feeds.breakers import BreakersState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.model.critical import due_at
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.status import FAILED_STATUSES

__all__ = ["AlertCenter", "FiredAlert", "JobFactsIndex"]

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


def _facts_of(row: JobRow, now: datetime) -> JobFacts | None:
    """A job's facts if a rule can fire on it (failed, or critical and past its deadline
    or critical start on the engine's clock); None: it is neither."""
    failed = row.status in FAILED_STATUSES
    due = due_at(row) if row.critical else None
    late = due is not None and due < now
    if failed or late:
        return JobFacts(row.status, row.stream, row.job, row.workstation, row.folder,
                        critical=row.critical, late=late)
    return None


def _job_facts(state: JobsState) -> dict[str, JobFacts]:
    """The jobs a rule can fire on (failed ones, critical ones past their deadline or
    critical start on the engine's clock), not all 200,000: a job absent here is simply
    not failing nor late, which is what the evaluator needs to re-arm. The whole view
    once; ``JobFactsIndex`` keeps it from each change after that."""
    now = state.view.now()
    return {row.job_id: facts for row in state.view.all_rows()
            if (facts := _facts_of(row, now)) is not None}


class JobFactsIndex:
    """``_job_facts`` kept from each jobs state's ``ChangeSet``, not from all 200k rows.

    The whole view is read once (and again for another view object, or a state whose
    change is not the view's latest: ``change.version != view.version``); after that a state
    re-reads only the jobs its change names, those already in the facts (a failing job
    that recovered, left the plan or became late while failed) and the critical jobs
    whose due instant the engine's clock has passed since (late with no new data: a heap
    by due instant). At 200k, ``_job_facts`` on each state held the loop ~20 ms.
    """

    __slots__ = ("_due", "_due_of", "_touched", "_view", "facts")

    def __init__(self) -> None:
        self._view: JobsView | None = None
        self.facts: dict[str, JobFacts] = {}
        self._touched: set[str] = set()
        """Jobs written into the view outside a published state (``touch``)."""
        self._due: list[tuple[datetime, str]] = []
        self._due_of: dict[str, datetime] = {}
        """The due instant pushed for each critical job not late yet."""

    def forget(self) -> None:
        """A state was not taken: the next one reads the whole view again."""
        self._view = None

    def touch(self, job_ids: Iterable[str]) -> None:
        """These jobs were written into the view without a state of their own (an action's
        re-read): the next state re-checks them, though its change does not name them."""
        self._touched.update(job_ids)

    def update(self, state: JobsState) -> dict[str, JobFacts]:
        """The facts after this state (a copy: the evaluator may keep it)."""
        view = state.view
        now = view.now()
        if view is not self._view or state.change.version != view.version:
            # Another view, or a change that is not the view's latest (a state built
            # without its ChangeSet, or the view written since): read it whole.
            self._view = view
            self.facts = {}
            self._due, self._due_of = [], {}
            self._touched.clear()
            for row in view.all_rows():
                self._take(row.job_id, row, now)
            return dict(self.facts)
        ids = set(state.change.changed_ids)
        ids.update(self.facts)
        ids.update(self._touched)
        self._touched.clear()
        due, due_of = self._due, self._due_of
        while due and due[0][0] < now:
            at, job_id = heapq.heappop(due)
            if due_of.get(job_id) == at:
                del due_of[job_id]
                ids.add(job_id)
        get = view.get
        for job_id in ids:
            self._take(job_id, get(job_id), now)
        return dict(self.facts)

    def _take(self, job_id: str, row: JobRow | None, now: datetime) -> None:
        facts = _facts_of(row, now) if row is not None else None
        if facts is None:
            self.facts.pop(job_id, None)
        else:
            self.facts[job_id] = facts
        if row is None or not row.critical:
            return
        due = due_at(row)
        if due is not None and not due < now and self._due_of.get(job_id) != due:
            self._due_of[job_id] = due
            heapq.heappush(self._due, (due, job_id))


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
        self._job_facts = JobFactsIndex()

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
                self._job_facts.forget()  # its change is not taken: read all next time
                return None
            version = state.view.version
            if version == self._jobs_version:
                return None  # nothing moved: the same answer as last time
            self._jobs_version = version
            return AlertInput(now, jobs=self._job_facts.update(state))
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

    def jobs_written(self, job_ids: Iterable[str]) -> None:
        """Jobs the app wrote into the view itself (an action's re-read, not a feed's
        poll): the next jobs state evaluates them too."""
        self._job_facts.touch(job_ids)

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
