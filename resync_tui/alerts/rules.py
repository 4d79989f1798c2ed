"""Alert rules and their evaluator: successive states in, events out, once per state change.

Pure: no I/O, no clock of its own (``now`` comes with each state), so a test can
drive a day in a loop. Whoever watches the engine (a feed, ``check``, a test) builds
an :class:`AlertInput` at each poll; :meth:`AlertEvaluator.evaluate` returns what
became true since the last one, each subject (a job, a workstation, a breaker) at
most once until it clears and comes back.

- ``job_failed``: a job entering the failed group (ABEND, FAIL, ERROR, ABENP);
  ``critical_late``: a critical job becoming late. The first state seen is a
  baseline: jobs already failed when watching starts do not fire (starting the
  dashboard must not page the on-call for yesterday's failures).
- ``workstation_down``, ``engine_unreachable``, ``breaker_open``, ``audit_spool``
  (records waiting in the spool): fire once the condition has held ``for_seconds``,
  including at start.
- A part of the state that was not read this time (``None``) changes nothing:
  unknown is neither a recovery nor a new failure.
- Rate limit per rule: at most ``rate_limit`` events per ``rate_window`` seconds;
  the rest come back marked ``limited`` (counted, not sent) and stay deduplicated.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal, cast, get_args

from resync_tui.model.status import FAILED_STATUSES
from resync_tui.settings import AlertSettings

__all__ = [
    "ALERT_KINDS",
    "MATCH_FIELDS",
    "AlertEvaluator",
    "AlertEvent",
    "AlertInput",
    "AlertKind",
    "AlertRule",
    "JobFacts",
    "pattern_matches",
    "rules_from_settings",
]

AlertKind = Literal["job_failed", "critical_late", "workstation_down", "engine_unreachable",
                    "breaker_open", "audit_spool"]
ALERT_KINDS: Final[tuple[str, ...]] = get_args(AlertKind)
MATCH_FIELDS: Final = ("stream", "job", "workstation", "folder")
"""What ``match`` patterns may name (a workstation_down rule matches on ``workstation``)."""
_BASELINED: Final = frozenset({"job_failed", "critical_late"})


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One ``[[alerts]]`` table, validated."""

    name: str
    on: AlertKind
    match: Mapping[str, str] = field(default_factory=dict)
    """Field -> HWA pattern (``@`` any run of characters, ``?`` one), case-insensitive."""
    for_seconds: float = 0.0
    bell: bool = False
    notify: bool = False
    webhook: str = ""
    rate_limit: int = 10
    rate_window: float = 60.0
    webhook_format: str = "generic"
    """generic, slack or teams (see :func:`resync_tui.alerts.webhook.webhook_body`)."""


@dataclass(frozen=True, slots=True)
class JobFacts:
    """What a rule may look at of one job (strings straight from the API: untrusted)."""

    status: str
    stream: str = ""
    job: str = ""
    workstation: str = ""
    folder: str = ""
    critical: bool = False
    late: bool = False


@dataclass(frozen=True, slots=True)
class AlertInput:
    """One observation; ``None`` parts were not read this time."""

    now: float
    jobs: Mapping[str, JobFacts] | None = None
    workstations_down: Iterable[str] | None = None
    engine_reachable: bool | None = None
    breakers_open: Iterable[str] | None = None
    audit_spool: int | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A rule that fired for one subject."""

    rule: str
    kind: AlertKind
    subject: str
    """The job id, workstation, breaker name, ``engine`` or ``spool``."""
    summary: str
    at: float
    bell: bool = False
    notify: bool = False
    webhook: str = ""
    limited: bool = False
    """Over the rule's rate limit: count it, do not send it."""
    webhook_format: str = "generic"


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "@" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def pattern_matches(pattern: str, value: str) -> bool:
    """HWA's wildcards: ``PAY@`` matches ``PAYROLL``; ``@`` matches anything."""
    return _compiled(pattern).fullmatch(value) is not None


def _job_matches(rule: AlertRule, job: JobFacts) -> bool:
    return all(pattern_matches(pattern, getattr(job, name, ""))
               for name, pattern in rule.match.items())


@dataclass(slots=True)
class _RuleState:
    since: dict[str, float] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)
    seen: bool = False
    sent: collections.deque[float] = field(default_factory=collections.deque)


class AlertEvaluator:
    """Keeps, per rule, which subjects are active since when and which have fired."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.rules = tuple(rules)
        self._state = {rule.name: _RuleState() for rule in self.rules}

    def evaluate(self, observed: AlertInput) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for rule in self.rules:
            active = self._active(rule, observed)
            if active is not None:
                events.extend(self._step(rule, active, observed.now))
        return events

    def _active(self, rule: AlertRule, observed: AlertInput) -> dict[str, str] | None:
        """Subject -> summary of what is true now for this rule; None: not observed."""
        kind = rule.on
        if kind in ("job_failed", "critical_late"):
            if observed.jobs is None:
                return None
            if kind == "job_failed":
                return {job_id: f"{job.stream}.{job.job} on {job.workstation}: {job.status}"
                        for job_id, job in observed.jobs.items()
                        if job.status in FAILED_STATUSES and _job_matches(rule, job)}
            return {job_id: f"critical job {job.stream}.{job.job} on {job.workstation} is late"
                    for job_id, job in observed.jobs.items()
                    if job.critical and job.late and _job_matches(rule, job)}
        if kind == "workstation_down":
            if observed.workstations_down is None:
                return None
            pattern = rule.match.get("workstation", "@")
            return {name: f"workstation {name} down" for name in observed.workstations_down
                    if pattern_matches(pattern, name)}
        if kind == "engine_unreachable":
            if observed.engine_reachable is None:
                return None
            return {} if observed.engine_reachable else {"engine": "engine unreachable"}
        if kind == "breaker_open":
            if observed.breakers_open is None:
                return None
            return {name: f"breaker {name} open" for name in observed.breakers_open}
        if observed.audit_spool is None:  # audit_spool
            return None
        return ({"spool": f"{observed.audit_spool} audit records waiting in the spool"}
                if observed.audit_spool > 0 else {})

    def _step(self, rule: AlertRule, active: Mapping[str, str], now: float) -> list[AlertEvent]:
        state = self._state[rule.name]
        for subject in [s for s in state.since if s not in active]:  # cleared: re-armed
            del state.since[subject]
            state.fired.discard(subject)
        baseline = not state.seen and rule.on in _BASELINED
        state.seen = True
        events: list[AlertEvent] = []
        for subject, summary in active.items():
            since = state.since.setdefault(subject, now)
            if baseline:
                state.fired.add(subject)
                continue
            if subject in state.fired or now - since < rule.for_seconds:
                continue
            state.fired.add(subject)
            events.append(AlertEvent(rule.name, rule.on, subject, summary, now, rule.bell,
                                     rule.notify, rule.webhook, self._limited(rule, state, now),
                                     rule.webhook_format))
        return events

    @staticmethod
    def _limited(rule: AlertRule, state: _RuleState, now: float) -> bool:
        sent = state.sent
        while sent and now - sent[0] >= rule.rate_window:
            sent.popleft()
        if len(sent) >= rule.rate_limit:
            return True
        sent.append(now)
        return False


def rules_from_settings(alerts: Iterable[AlertSettings]) -> list[AlertRule]:
    """The validated ``[[alerts]]`` of :class:`resync_tui.settings.Settings` as rules."""
    rules: list[AlertRule] = []
    for a in alerts:
        if a.on not in ALERT_KINDS:  # load_settings refuses these; a hand-built one too
            raise ValueError(f"alert rule {a.name!r}: unknown event {a.on!r}")
        rules.append(AlertRule(a.name, cast(AlertKind, a.on), dict(a.match), a.for_seconds,
                               a.bell, a.notify, a.webhook, a.rate_limit, a.rate_window,
                               a.webhook_format))
    return rules
