"""One audit record per action attempt, identified by a UUIDv7 and chained per writer.

A record is a plain JSON object (``dict``) so that what is hashed, spooled, sent to
Redis and verified is the same bytes: :func:`canonical` (sorted keys, no spaces).
Each writer (host + pid + start time) numbers its records from 1 and puts in
``prev`` the SHA-256 of its previous record's canonical JSON, so a lost record
shows as a gap and an edited one as a broken link.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, NewType

import msgspec

RecordId = NewType("RecordId", str)
Record = dict[str, Any]
#: ``prev`` of a writer's first record.
GENESIS: Final = ""
Kind = Literal["intent", "outcome"]
Result = Literal["done", "refused", "unknown"]

_uuid_lock = threading.Lock()
_last_ms = 0
_last_counter = 0


def uuid7(now_ns: int | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix ms, then a 12-bit counter (method 1 of
    section 6.2) and 62 random bits. Monotonic within the process: a clock that
    stands still or steps back reuses the last ms and bumps the counter."""
    global _last_ms, _last_counter
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    with _uuid_lock:
        if ms > _last_ms:
            _last_ms, _last_counter = ms, secrets.randbits(11)  # room to count up
        else:
            _last_counter += 1
            if _last_counter > 0xFFF:  # counter spent: borrow the next millisecond
                _last_ms, _last_counter = _last_ms + 1, 0
        ms, counter = _last_ms, _last_counter
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80) | (0x7 << 76) | (counter << 64) \
        | (0b10 << 62) | secrets.randbits(62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def canonical(record: Mapping[str, Any]) -> str:
    """The one serialisation that is hashed, spooled and streamed."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()


def utc_now(clock_seconds: float | None = None) -> str:
    """ISO 8601 UTC with microseconds and ``Z``."""
    moment = datetime.fromtimestamp(time.time() if clock_seconds is None else clock_seconds,
                                    UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """Seconds since the epoch of a record's ``time``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class Justification(msgspec.Struct, frozen=True):
    """Why the operator acted (sent to the engine as the Justification-* headers too)."""

    category: str = ""
    description: str = ""
    ticket: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"category": self.category, "description": self.description,
                "ticket": self.ticket}


class JobRef(msgspec.Struct, frozen=True):
    """What the action is aimed at, as the operator saw it."""

    job_id: str
    name: str = ""
    stream: str = ""
    workstation: str = ""


class Outcome(msgspec.Struct, frozen=True):
    """done; refused by the engine (HTTP status and its message); or unknown (the
    request may or may not have been carried out: a timeout, a lost connection, a
    process killed before it heard back)."""

    result: Result
    status: int | None = None
    message: str = ""

    @classmethod
    def done(cls, status: int | None = None) -> Outcome:
        return cls("done", status)

    @classmethod
    def refused(cls, status: int, message: str) -> Outcome:
        return cls("refused", status, message)

    @classmethod
    def unknown(cls, message: str = "") -> Outcome:
        return cls("unknown", None, message)

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "status": self.status, "message": self.message}


_start_lock = threading.Lock()
_last_start_ns = 0


def _start_ns() -> int:
    """Start times strictly increasing within the process: two logs never share an id."""
    global _last_start_ns
    with _start_lock:
        _last_start_ns = max(time.time_ns(), _last_start_ns + 1)
        return _last_start_ns


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no LOGNAME: still audit
        return str(os.getuid())


class Writer(msgspec.Struct):
    """One writer's identity and chain state: every record it makes takes the next
    sequence number and the hash of the record before it."""

    host: str = msgspec.field(default_factory=socket.gethostname)
    pid: int = msgspec.field(default_factory=os.getpid)
    start_ns: int = msgspec.field(default_factory=_start_ns)
    os_user: str = msgspec.field(default_factory=_os_user)
    seq: int = 0
    last_hash: str = GENESIS

    @property
    def id(self) -> str:
        return f"{self.host}/{self.pid}/{self.start_ns}"

    def make(self, fields: Mapping[str, Any], *, clock_seconds: float | None = None) -> Record:
        """The next record of this chain. The chain only moves on :meth:`commit`, once
        the record is safely spooled: a record that never reached the disk leaves no gap."""
        record: Record = {
            "id": uuid7(), "time": utc_now(clock_seconds), "os_user": self.os_user,
            "host": self.host, "writer": self.id, "seq": self.seq + 1,
            "prev": self.last_hash, **fields,
        }
        return record

    def commit(self, record: Record) -> None:
        self.seq = int(record["seq"])
        self.last_hash = record_hash(record)
