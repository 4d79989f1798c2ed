"""``AuditLog``: what an action's caller talks to, and the drain that empties the spool.

The caller appends the intent (``await log.intent(...)``) BEFORE it sends the
request, and the outcome after. Each record is fsync'd into the spool first, then
the spool is drained to the Redis Stream in order; when Redis is down records wait
in the spool until a drain (this process or any other sharing the spool) gets
through. An intent whose writer died before writing its outcome gets an
``outcome unknown`` record from the drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgspec

from resync_tui.audit.record import (
    JobRef,
    Justification,
    Outcome,
    Record,
    RecordId,
    Writer,
    parse_time,
)
from resync_tui.audit.spool import Spool, SpoolError
from resync_tui.audit.stream import AuditStream
from resync_tui.resilience.tasks import raise_if_cancelling

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

#: Fields an outcome repeats from its intent, so each record reads on its own.
JOB_FIELDS: Final = ("hwa_user", "engine", "job_id", "job_name", "job_stream", "workstation",
                     "action", "parameters", "justification")
_BATCH: Final = 200


class DrainResult(msgspec.Struct, frozen=True):
    sent: int = 0       # records new to the stream
    unsent: int = 0     # records left in the spool
    unknown: int = 0    # "outcome unknown" records written for dead writers' intents
    error: str = ""     # why the drain stopped short ("" when it did not)
    skipped: bool = False  # another drain held the spool


class AuditHealth(msgspec.Struct, frozen=True):
    """The trail's health as one read sees it (the check the replaced system had, made
    true: its queue said "healthy" while records were being lost).

    Strings are raw (a Redis error's text): whoever shows them sanitizes them."""

    spool_records: int = 0
    """Records in the spool that Redis does not have yet (every process's)."""
    stream_length: int | None = None
    """``XLEN`` of the stream; None: no Redis, or it could not be read now."""
    last_write: float | None = None
    """Epoch seconds of the newest record (stream or spool); None: no record yet."""
    drain_errors: int = 0
    """Drains of this log that stopped short on a Redis error, since it started."""
    last_error: str = ""
    """The last drain's error ("" when the last drain got through)."""
    last_exception: BaseException | None = None
    """The exception behind ``last_error`` (to put it in plain words)."""
    has_redis: bool = False
    """Whether records go to a Redis at all (False: spool only)."""
    redis_error: BaseException | None = None
    """Why the stream could not be read by this health read (None: it was)."""
    spooled: tuple[Record, ...] = ()
    """The records still only in the spool, oldest first."""
    recent: tuple[Record, ...] = ()
    """With :meth:`AuditLog.health` ``recent=N``: the stream's N newest records, newest
    first (entries that are not records left out)."""


def _record_time(record: Record | None) -> float | None:
    if record is None:
        return None
    try:
        return parse_time(str(record.get("time")))
    except ValueError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process of this host still runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _writer_host_pid(writer: str) -> tuple[str, int | None]:
    host, _, rest = writer.partition("/")
    pid, _, _ = rest.partition("/")
    return host, int(pid) if pid.isdigit() else None


def pending_intents(records: list[Record]) -> list[Record]:
    """Intents in ``records`` with no outcome among them."""
    answered = {r.get("intent") for r in records if r.get("kind") == "outcome"}
    return [r for r in records if r.get("kind") == "intent" and r["id"] not in answered]


class AuditLog:
    """One writer's audit trail: spool ``spool_dir``, stream ``stream`` of ``redis``
    (None: spool only). Counters for metrics: :attr:`spool_records`,
    :attr:`write_failures`."""

    def __init__(self, spool_dir: Path | str, redis: aioredis.Redis | None = None, *,
                 stream: str = "resync:audit", max_len: int = 1_000_000,
                 hwa_user: str = "", engine: str = "", outcome_grace: float = 900.0,
                 lock_wait: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self.spool = Spool(spool_dir)
        self.stream = AuditStream(redis, stream, max_len) if redis is not None else None
        self.writer = Writer()
        self.hwa_user = hwa_user
        self.engine = engine
        self.outcome_grace = outcome_grace
        self.lock_wait = lock_wait
        self._clock = clock
        self._pending: dict[str, Record] = {}
        self._write = asyncio.Lock()
        #: Records in the spool that Redis does not have yet (after the last drain).
        self.spool_records = 0
        #: Spool writes and Redis writes that failed (a Redis failure leaves the record
        #: spooled, not lost).
        self.write_failures = 0
        #: The last drain's error, in words ("" after a drain that got through).
        self.last_error = ""
        #: The exception behind :attr:`last_error` (None after a drain that got through).
        self.last_exception: BaseException | None = None
        #: Drains that stopped short on a Redis error since this log was made.
        self.drain_errors = 0

    def _spool_one(self, fields: Mapping[str, Any]) -> Record:
        """Make the next record, fsync it into the spool, then move the chain on."""
        record = self.writer.make(fields, clock_seconds=self._clock())
        try:
            self.spool.append([record])
        except SpoolError:
            self.write_failures += 1
            raise
        self.writer.commit(record)
        return record

    async def intent(self, action: str, job: JobRef, *,
                     parameters: Mapping[str, Any] | None = None,
                     justification: Justification | None = None) -> RecordId:
        """Record that ``action`` is about to be sent. Raises :class:`SpoolError` when
        it cannot be written: the action must not be sent then."""
        fields = {
            "kind": "intent", "intent": None, "hwa_user": self.hwa_user,
            "engine": self.engine, "job_id": job.job_id, "job_name": job.name,
            "job_stream": job.stream, "workstation": job.workstation, "action": action,
            "parameters": dict(parameters or {}),
            "justification": (justification or Justification()).as_dict(),
            "outcome": None, "latency": None,
        }
        async with self._write:
            # fsync off the event loop: a bulk action's 10 fsyncs per job stalled the UI
            # (bench/bench_bulk_actions.py); the _write lock keeps the chain in order.
            record = await asyncio.to_thread(self._spool_one, fields)
            self._pending[record["id"]] = record
        await self.drain()
        return RecordId(record["id"])

    async def outcome(self, intent_id: RecordId, outcome: Outcome, *,
                      latency: float | None = None) -> RecordId:
        """Record what came of the intent ``intent_id`` (one of this log's)."""
        intent = self._pending.get(intent_id)
        if intent is None:
            raise KeyError(f"no pending intent {intent_id} in this audit log")
        fields = {key: intent[key] for key in JOB_FIELDS}
        fields.update(kind="outcome", intent=intent_id, outcome=outcome.as_dict(),
                      latency=None if latency is None else round(latency, 6))
        async with self._write:
            record = await asyncio.to_thread(self._spool_one, fields)
            del self._pending[intent_id]
        await self.drain()
        return RecordId(record["id"])

    def _orphaned(self, intent: Record, now: float) -> bool:
        if intent["id"] in self._pending:
            return False
        try:
            if now - parse_time(str(intent["time"])) > self.outcome_grace:
                return True
        except ValueError:
            return True
        host, pid = _writer_host_pid(str(intent.get("writer", "")))
        if str(intent.get("writer")) == self.writer.id or pid is None:
            return False
        return host == socket.gethostname() and not pid_alive(pid)

    def _close_orphans_locked(self, records: list[Record]) -> int:
        """Under the spool lock: an ``outcome unknown`` for each dead writer's intent."""
        now = self._clock()
        added = 0
        for intent in pending_intents(records):
            if not self._orphaned(intent, now):
                continue
            fields = {key: intent.get(key) for key in JOB_FIELDS}
            fields.update(kind="outcome", intent=intent["id"], latency=None,
                          outcome=Outcome.unknown(
                              f"writer {intent.get('writer')} ended before recording the "
                              "outcome: check the job").as_dict())
            record = self.writer.make(fields, clock_seconds=now)
            self.spool.append_locked([record])
            self.writer.commit(record)
            records.append(record)
            added += 1
            log.warning("audit: intent %s of %s has no outcome; recorded as unknown",
                        intent["id"], intent.get("writer"))
        return added

    async def drain(self) -> DrainResult:
        """Send the spool to Redis in order, then drop what Redis has. Safe to run from
        any number of processes at once (one drains, the record id keeps duplicates out)."""
        deadline = time.monotonic() + self.lock_wait
        while (fd := self.spool.try_drain_lock()) is None:
            if time.monotonic() >= deadline:
                return DrainResult(unsent=self.spool_records, skipped=True)
            await asyncio.sleep(0.01)
        try:
            return await self._drain_held()
        finally:
            self.spool.release(fd)

    async def _drain_held(self) -> DrainResult:
        sent_now, unknown, error = 0, 0, ""
        failure: BaseException | None = None
        while True:
            async with self._write:
                with self.spool.locked():
                    records = self.spool.read_locked()
                    sent = self.spool.sent_locked()
                    unknown += self._close_orphans_locked(records)
            unsent = [r for r in records if r["id"] not in sent]
            if not unsent or self.stream is None or error:
                break
            for start in range(0, len(unsent), _BATCH):
                batch = unsent[start:start + _BATCH]
                from redis.exceptions import RedisError  # the stream's: imported by now

                try:
                    sent_now += await self.stream.add(batch)
                except (RedisError, OSError) as exc:
                    self.write_failures += 1
                    failure, error = exc, f"{type(exc).__name__}: {exc}"
                    log.warning("audit: Redis write failed, %d record(s) stay in the spool "
                                "(%s)", len(unsent) - start, error)
                    break
                await asyncio.to_thread(self._mark_sent, [str(r["id"]) for r in batch])
            # loop: records appended meanwhile are sent by this same drain
        await asyncio.to_thread(self._compact)
        self.last_error, self.last_exception = error, failure
        if error:
            self.drain_errors += 1
        return DrainResult(sent=sent_now, unsent=self.spool_records, unknown=unknown,
                           error=error)

    def _mark_sent(self, ids: list[str]) -> None:
        with self.spool.locked():
            self.spool.mark_sent_locked(ids)

    def _compact(self) -> None:
        """Drop what Redis has, except intents still waiting for their outcome."""
        with self.spool.locked():
            records = self.spool.read_locked()
            sent = self.spool.sent_locked()
            waiting = {r["id"] for r in pending_intents(records)}
            keep = [r for r in records if r["id"] not in sent or r["id"] in waiting]
            if len(keep) < len(records) or self.spool.unreadable:
                self.spool.rewrite_locked(keep, sent)
            self.spool_records = sum(1 for r in keep if r["id"] not in sent)

    async def run(self, interval: float = 5.0, *, wake: asyncio.Event | None = None) -> None:
        """Drain every ``interval`` seconds until cancelled: spooled records go out as
        soon as Redis is back, dead writers' intents get their unknown outcome.
        ``wake``: setting it drains at once (a caller that sees Redis answer again)."""
        while True:
            raise_if_cancelling()  # a Redis call below may have swallowed it
            try:
                await self.drain()
            except SpoolError as exc:
                log.warning("audit: cannot read the spool: %s", exc)
            if wake is None:
                await asyncio.sleep(interval)
                continue
            with contextlib.suppress(TimeoutError):  # not wait_for: see feeds/runner.py
                async with asyncio.timeout(interval):
                    await wake.wait()
            wake.clear()

    async def health(self, *, recent: int = 0,
                     redis_timeout: float | None = None) -> AuditHealth:
        """Read the spool (every process's records waiting there) and the stream's
        length and newest record; ``recent``: also that many newest records. The spool
        depth read here is what :attr:`spool_records` (the metric) says from now on.
        Redis errors (and a Redis that does not answer within ``redis_timeout``) are
        reported in the result, never raised: the spool depth is known without Redis. A
        spool that cannot be read raises :class:`SpoolError`."""
        try:
            records, sent = await asyncio.to_thread(self.spool.read)
        except OSError as exc:
            raise SpoolError(exc.errno or 0, f"cannot read the audit spool: {exc}") from exc
        spooled = tuple(r for r in records if r["id"] not in sent)
        self.spool_records = len(spooled)
        times = [t for t in (_record_time(r) for r in records[-1:]) if t is not None]
        length: int | None = None
        newest: tuple[Record, ...] = ()
        problem: BaseException | None = None
        if self.stream is not None:
            from redis.exceptions import RedisError  # not before a Redis is read

            try:
                async with asyncio.timeout(redis_timeout):
                    length = await self.stream.length()
                    entries = await self.stream.latest(max(recent, 1))
                newest = tuple(r for _, r in entries if r is not None)
            except (RedisError, OSError) as exc:  # TimeoutError is an OSError
                problem, length = exc, None
        times += [t for t in (_record_time(r) for r in newest[:1]) if t is not None]
        return AuditHealth(
            spool_records=len(spooled), stream_length=length,
            last_write=max(times) if times else None, drain_errors=self.drain_errors,
            last_error=self.last_error, last_exception=self.last_exception,
            has_redis=self.stream is not None, redis_error=problem, spooled=spooled,
            recent=newest[:recent] if recent else ())
