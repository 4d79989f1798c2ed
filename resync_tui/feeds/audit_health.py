"""The audit trail's health and latest records, for the Redis pane, the header and the
audit screen.

The replaced system's health check said "healthy" while its queue lost records; this
one reads what is true: records waiting in the local spool (every process's), the
stream's length and the age of its newest record, and whether the drain is failing.
The spool depth is read from disk, so it is right even when Redis is down or frozen;
the stream figures then keep their last reading and are marked stale (FeedHealth).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from msgspec.structs import replace

from resync_tui.audit import AuditHealth, AuditLog, SpoolError
from resync_tui.audit.record import Record, parse_time
from resync_tui.feeds.status import Clock, FailureKind, FeedHealth, HealthTracker
from resync_tui.model.overall import hms
from resync_tui.resilience.redis_pool import describe_redis_error
from resync_tui.sanitize import safe_text

__all__ = ["AuditFeed", "AuditRow", "AuditState", "rows_of"]

_log = logging.getLogger(__name__)

RECENT: Final = 500
"""Stream records the audit screen reads (intent + outcome: about 250 actions)."""


class AuditRow(msgspec.Struct, frozen=True):
    """One action attempt: its intent, and its outcome once recorded. Strings are raw
    (from Redis or the spool): the screen passes each through ``safe_text``."""

    id: str
    time: datetime | None
    os_user: str = ""
    host: str = ""
    hwa_user: str = ""
    action: str = ""
    job_id: str = ""
    job_name: str = ""
    job_stream: str = ""
    workstation: str = ""
    parameters: str = ""
    result: str = "pending"
    """done, refused, unknown; ``pending`` while the intent has no outcome."""
    status: int | None = None
    message: str = ""
    category: str = ""
    description: str = ""
    ticket: str = ""
    latency: float | None = None
    spooled: bool = False
    """Some of its records are still only in the local spool (not in Redis yet)."""


class AuditState(msgspec.Struct, frozen=True):
    """What the Redis pane, the header and the audit screen show of the trail."""

    spool_records: int = 0
    stream_length: int | None = None
    """Last good ``XLEN`` (kept while Redis cannot be read: see ``health``)."""
    last_write_age: float | None = None
    """Seconds from the newest record to the read (this machine's clock)."""
    drain_errors: int = 0
    drain_error: str = ""
    """Why the last drain failed, in plain words ("" when it got through)."""
    has_redis: bool = False
    """False: records stay in the spool (no shared Redis)."""
    rows: tuple[AuditRow, ...] = ()
    """Newest first (only when the feed reads records: the audit screen's)."""
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)
    """The stream read: ok, or why not and since when (the spool depth is always fresh)."""

    @property
    def problem(self) -> str:
        """A few words for the header when the trail needs attention, else ""."""
        parts = []
        if self.spool_records:
            parts.append(f"{self.spool_records:,} spooled")
        if self.drain_error:
            parts.append("drain failing")
        return ", ".join(parts)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _time(record: Record) -> datetime | None:
    try:
        return datetime.fromtimestamp(parse_time(str(record.get("time"))), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _row(record: Record, *, spooled: bool) -> AuditRow:
    why = record.get("justification")
    why = why if isinstance(why, dict) else {}
    params = record.get("parameters")
    shown = (", ".join(f"{k}={v}" for k, v in params.items()) if isinstance(params, dict)
             else _text(params))
    return AuditRow(
        id=_text(record.get("id")), time=_time(record), os_user=_text(record.get("os_user")),
        host=_text(record.get("host")), hwa_user=_text(record.get("hwa_user")),
        action=_text(record.get("action")), job_id=_text(record.get("job_id")),
        job_name=_text(record.get("job_name")), job_stream=_text(record.get("job_stream")),
        workstation=_text(record.get("workstation")), parameters=shown,
        category=_text(why.get("category")), description=_text(why.get("description")),
        ticket=_text(why.get("ticket")), spooled=spooled)


def _with_outcome(row: AuditRow, outcome: Record, *, spooled: bool) -> AuditRow:
    result = outcome.get("outcome")
    result = result if isinstance(result, dict) else {}
    status = result.get("status")
    latency = outcome.get("latency")
    return replace(row, result=_text(result.get("result")) or "unknown",
                    status=status if isinstance(status, int) else None,
                    message=_text(result.get("message")),
                    latency=float(latency) if isinstance(latency, int | float) else None,
                    spooled=row.spooled or spooled)


def rows_of(streamed: Iterable[Record], spooled: Iterable[Record]) -> tuple[AuditRow, ...]:
    """One row per action attempt, newest first: each intent with its outcome (a record
    seen in both places counts once, as streamed)."""
    seen: set[str] = set()
    ordered: list[tuple[Record, bool]] = []
    for records, in_spool in ((streamed, False), (spooled, True)):
        for record in records:
            rid = record.get("id")
            if isinstance(rid, str) and rid not in seen:
                seen.add(rid)
                ordered.append((record, in_spool))
    rows: dict[str, AuditRow] = {}
    outcomes: list[tuple[Record, bool]] = []
    for record, in_spool in ordered:
        if record.get("kind") == "outcome":
            outcomes.append((record, in_spool))
        else:
            rows[str(record["id"])] = _row(record, spooled=in_spool)
    for record, in_spool in outcomes:
        intent = _text(record.get("intent"))
        if intent in rows:
            rows[intent] = _with_outcome(rows[intent], record, spooled=in_spool)
        else:  # its intent is older than what was read (or trimmed): the outcome alone
            rows[str(record["id"])] = _with_outcome(_row(record, spooled=in_spool), record,
                                                    spooled=in_spool)
    epoch = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(rows.values(), key=lambda r: (r.time or epoch, r.id), reverse=True))


def _describe(exc: BaseException, since: datetime) -> tuple[FailureKind, str]:
    return "down", safe_text(f"audit stream unreadable since {hms(since)}: "
                             f"{describe_redis_error(exc)}", 160)


class AuditFeed:
    """Polls :meth:`AuditLog.health`; ``recent``: also the latest records (the screen)."""

    name = "audit"

    def __init__(self, log: AuditLog, clock: Clock, *, timeout: float = 1.0,
                 recent: int = 0, wall: Callable[[], float] = time.time) -> None:
        self._log = log
        self._timeout = timeout
        self._recent = recent
        self._wall = wall
        self._tracker = HealthTracker(clock, what="audit", describe=_describe)
        self._last = AuditState(has_redis=log.stream is not None)
        self._streamed: tuple[Record, ...] = ()

    def refresh(self) -> None:
        """Nothing to skip: every poll reads afresh."""

    async def poll(self) -> AuditState:
        try:
            read: AuditHealth = await self._log.health(recent=self._recent,
                                                       redis_timeout=self._timeout)
        except SpoolError as exc:
            _log.warning("audit health: %s", exc)
            self._last = replace(self._last, health=self._tracker.failure(exc))
            return self._last
        if read.redis_error is not None:  # the last reading of the stream, and the spool
            health = self._tracker.failure(read.redis_error)
            length = self._last.stream_length
        else:
            health = self._tracker.success()
            length = read.stream_length
            self._streamed = read.recent
        merged = rows_of(self._streamed, read.spooled) if self._recent else ()
        age = None if read.last_write is None else max(0.0, self._wall() - read.last_write)
        error = ""
        if read.last_error:
            plain = (describe_redis_error(read.last_exception) if read.last_exception
                     is not None else read.last_error)
            error = safe_text(plain, 160)
        self._last = AuditState(
            spool_records=read.spool_records, stream_length=length, last_write_age=age,
            drain_errors=read.drain_errors, drain_error=error, has_redis=read.has_redis,
            rows=merged if self._recent else (), health=health)
        return self._last
