"""The one state an operator reads first, and whether the data behind it can be trusted.

Two questions, answered apart (a wall that says "OK" above 26 failed jobs answers the
wrong one): :func:`overall_status` says whether the dashboard's own view is fresh and
complete (OK, STALE, DEGRADED, ENGINE UNREACHABLE, CREDENTIALS REJECTED, CONNECTING);
:func:`batch_state` says how the batch itself is doing (failed and stuck jobs,
workstations down).

Data is *stale* when the last good job list is older than a few poll intervals, whatever
the feeds say about their last poll: a poll that hangs on a slow body has not failed
yet, but its data is getting old all the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, Literal, Protocol

import msgspec

from resync_tui.model.status import count_by_group

__all__ = [
    "STALE_AFTER_POLLS",
    "BatchState",
    "Overall",
    "OverallLabel",
    "batch_state",
    "overall_status",
    "stale_after",
]

OverallLabel = Literal[
    "OK", "STALE", "DEGRADED", "ENGINE UNREACHABLE", "CREDENTIALS REJECTED", "CONNECTING"
]

STALE_AFTER_POLLS: Final = 2
"""Job data older than this many poll intervals is stale (see :func:`stale_after`)."""
_STALE_FLOOR_SECONDS: Final = 10.0
"""...but never before this: a 1 s interval must not flap on a 2 s plan read."""


class Health(Protocol):
    """What a feed says of its last poll (``resync_tui.feeds.status.FeedHealth``)."""

    @property
    def ok(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def last_success(self) -> datetime | None: ...
    @property
    def has_data(self) -> bool: ...
    @property
    def polls(self) -> int: ...


class _BreakerRow(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...


class Breakers(Protocol):
    @property
    def rows(self) -> Sequence[_BreakerRow]: ...


class RedisReading(Protocol):
    @property
    def up(self) -> bool: ...
    @property
    def health(self) -> Health: ...


def hms(when: datetime) -> str:
    return when.strftime("%H:%M:%S")


def stale_after(interval: float) -> float:
    """Seconds after the last good job list from which the view is called stale."""
    return max(STALE_AFTER_POLLS * interval, interval + _STALE_FLOOR_SECONDS)


class Overall(msgspec.Struct, frozen=True):
    label: OverallLabel
    reason: str = ""
    """Every cause, named; no figure that ticks (the header redraws only on a change)."""
    data_from: datetime | None = None
    """When the job list shown was read (None: never)."""
    data_old: bool = False
    """The job list shown is older than :func:`stale_after`, whichever cause won the
    label: ENGINE UNREACHABLE (another read failing) while the job poll hangs on a slow
    body still shows old jobs, and every pane made from them must say so."""


def _from(when: datetime | None) -> str:
    return f"job data from {hms(when)}" if when is not None else "no job data yet"


def overall_status(
    engine: Health | None,
    jobs: Health | None,
    workstations: Health | None,
    breakers: Breakers | None,
    redis: RedisReading | None,
    *,
    now: datetime | None = None,
    interval: float = 0.0,
    paused: bool = False,
    unreadable_jobs: int = 0,
    unreadable_workstations: int = 0,
    reading_jobs: bool = False,
) -> Overall:
    """Whether the view can be trusted; the first cause wins the label, all are named.

    ``now`` and ``interval`` (the job poll interval) turn an old job list into STALE even
    while every feed still reports its last poll as good. Records the last read could not
    decode (``unreadable_*``) are not an engine failure, but the view lacks them (a
    failed job among them is missing from every count): DEGRADED, never OK.
    ``reading_jobs``: the engine is answering a first job read right now (its most urgent
    rows are on screen): what the last job poll said of its failure is over (a password
    fixed, an outage ended), and until the whole list is in the view is CONNECTING.
    """
    if reading_jobs and jobs is not None and not jobs.has_data:
        jobs = None
    data_from = jobs.last_success if jobs is not None else None
    old = (data_from is not None and now is not None and interval > 0
           and (now - data_from).total_seconds() > stale_after(interval))
    named = (("engine info", engine), ("jobs", jobs), ("workstations", workstations))
    hwa = [h for _, h in named if h is not None]
    for health in hwa:
        if not health.ok and health.kind == "credentials":
            return Overall("CREDENTIALS REJECTED", _join(health.reason, _from(data_from)),
                           data_from, old)
    for probe in hwa:
        if (not probe.ok and probe.kind == "unreachable"
                and not any(_answered_since(other, probe) for other in hwa)):
            return Overall("ENGINE UNREACHABLE", _join(probe.reason, _from(data_from)),
                           data_from, old)
    if engine is None or jobs is None or (not jobs.has_data and jobs.ok):
        return Overall("CONNECTING", data_from=data_from, data_old=old)
    # Each read says which it is (a workstation read timing out beside a fresh job list
    # is not "the engine"), but a job list's error that names its endpoint already.
    reasons: list[str] = [h.reason if name == "jobs" and h.kind != "unreachable"
                          else f"{name}: {h.reason}"
                          for name, h in named if h is not None and not h.ok]
    stale = data_from is None or old
    if breakers is not None:
        reasons += [f"breaker {row.name} {row.state.replace('_', '-')}" for row in breakers.rows
                    if row.state not in ("closed", "disabled", "metrics_only")]
    if redis is not None and not redis.up and redis.health.polls:
        reasons.append("redis down")
    reasons += [f"{count:,} {what} record{'' if count == 1 else 's'} unreadable, not shown"
                for count, what in ((unreadable_jobs, "job"),
                                    (unreadable_workstations, "workstation")) if count]
    if stale:
        why = "refresh paused" if paused else "no new job list from the engine"
        return Overall("STALE", _join(f"{why}: {_from(data_from)}", *reasons), data_from,
                       old)
    if reasons:
        return Overall("DEGRADED", _join(*reasons), data_from)
    return Overall("OK", data_from=data_from)


def _answered_since(other: Health, probe: Health) -> bool:
    """The engine answered ``other`` (another read) after ``probe`` began failing: it is
    reachable, only that read of it is not (ENGINE UNREACHABLE would say the view is cut
    off). A job read timing out on a slow body while the engine answers its probe and
    workstations is an old job list (STALE, then), not a lost engine."""
    if other is probe or not other.ok or other.last_success is None or probe.since is None:
        return False
    return other.last_success > probe.since


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


BatchLabel = Literal["FAILURES", "ATTENTION", "BATCH OK", "NO DATA"]


class BatchState(msgspec.Struct, frozen=True):
    """How the batch is doing, from the last job list (a NOC reads this first)."""

    label: BatchLabel
    failed: int = 0
    stuck: int = 0
    workstations_down: int = 0

    @property
    def summary(self) -> str:
        """``26 FAILED · 1 STUCK · 2 WORKSTATIONS DOWN`` or ``no failed or stuck job``."""
        parts = [f"{n:,} {word}" for n, word in (
            (self.failed, "FAILED"), (self.stuck, "STUCK"),
            (self.workstations_down, "WORKSTATIONS DOWN" if self.workstations_down != 1
             else "WORKSTATION DOWN")) if n]
        if self.label == "NO DATA":
            return "no job list read yet"
        return " · ".join(parts) if parts else "no failed or stuck job, every workstation up"


def batch_state(counts: Mapping[str, int] | None, workstations_down: int = 0) -> BatchState:
    """FAILURES when any job failed, ATTENTION for stuck jobs or workstations down."""
    if counts is None:
        return BatchState("NO DATA", workstations_down=workstations_down)
    groups = count_by_group(counts)
    failed, stuck = groups["failed"], groups["stuck"]
    if failed:
        label: BatchLabel = "FAILURES"
    elif stuck or workstations_down:
        label = "ATTENTION"
    else:
        label = "BATCH OK"
    return BatchState(label, failed, stuck, workstations_down)
