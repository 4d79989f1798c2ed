"""Walk the stream and the spool, writer by writer: every chain whole, or what broke.

A gap (a sequence number missing: a record lost or deleted), a duplicate (one
record id twice in the stream, or two records claiming one place in a chain) and
an edit (a record whose hash is not what its successor says, or whose spooled and
streamed copies differ) are each one line of the report.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from resync_tui.audit.record import GENESIS, Record, canonical, record_hash
from resync_tui.audit.spool import Spool
from resync_tui.audit.stream import AuditStream

if TYPE_CHECKING:
    import redis.asyncio as aioredis


class Report(msgspec.Struct):
    problems: list[str] = msgspec.field(default_factory=list)
    writers: int = 0
    records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


async def collect(redis: aioredis.Redis | None, spool_dir: Path | str, *,
                  stream: str = "resync:audit"
                  ) -> tuple[list[tuple[str, Record | None]], list[Record]]:
    """The stream's entries (entry id, record or None) and the spool's records."""
    entries: list[tuple[str, Record | None]] = []
    if redis is not None:
        entries = [entry async for entry in AuditStream(redis, stream).entries()]
    spooled, _ = Spool(spool_dir).read()
    return entries, spooled


async def verify(redis: aioredis.Redis | None, spool_dir: Path | str, *,
                 stream: str = "resync:audit") -> Report:
    entries, spooled = await collect(redis, spool_dir, stream=stream)
    return check(entries, spooled)


def check(entries: list[tuple[str, Record | None]], spooled: list[Record]) -> Report:
    """The verdict on records already read (stream entries first, then the spool)."""
    report = Report()
    problems = report.problems
    by_id: dict[str, Record] = {}
    for entry_id, record in entries:
        if record is None:
            problems.append(f"stream entry {entry_id}: not an audit record (unreadable)")
            continue
        rid = record["id"]
        if rid in by_id:
            problems.append(f"duplicate: record {rid} appears again in stream entry "
                            f"{entry_id}")
            continue
        by_id[rid] = record
    for record in spooled:
        rid = record["id"]
        if rid in by_id:
            if canonical(by_id[rid]) != canonical(record):
                problems.append(f"edit: record {rid} differs between the spool and the "
                                "stream")
            continue
        by_id[rid] = record

    chains: dict[str, dict[int, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for record in by_id.values():
        seq = record.get("seq")
        if not isinstance(seq, int) or not isinstance(record.get("writer"), str):
            problems.append(f"record {record['id']}: no writer or sequence number")
            continue
        chains[record["writer"]][seq].append(record)
    report.writers, report.records = len(chains), len(by_id)

    for writer in sorted(chains):
        chain = chains[writer]
        expected = 1
        for seq in sorted(chain):
            if seq > expected:
                missing = (f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}")
                problems.append(f"gap: writer {writer} has no record {missing} "
                                f"(lost or deleted)")
            expected = seq + 1
            if len(chain[seq]) > 1:
                problems.append(f"duplicate: writer {writer} has {len(chain[seq])} "
                                f"different records numbered {seq}")
            record = chain[seq][0]
            before = chain.get(seq - 1)
            if seq == 1 and record.get("prev") != GENESIS:
                problems.append(f"edit: writer {writer} record 1 does not start a chain")
            elif before and record.get("prev") != record_hash(before[0]):
                problems.append(f"edit: writer {writer} record {seq - 1} "
                                f"({before[0]['id']}) is not the one record {seq} follows "
                                "(changed after it was written)")
    return report
