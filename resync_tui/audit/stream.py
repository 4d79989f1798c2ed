"""The Redis side: a Stream of canonical records, written at most once per record id.

``XADD`` and the id check run in one Lua script (atomic on the server): a record
sent twice (two drains, a retry after a lost reply) appears once. The ids live in
the SET ``<stream>:ids``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from resync_tui.audit.record import Record, canonical

if TYPE_CHECKING:
    import redis.asyncio as aioredis

_ADD_ONCE: Final = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'record', ARGV[3])
end
return false
"""
FIELD: Final = b"record"


def ids_key(stream: str) -> str:
    return f"{stream}:ids"


class AuditStream:
    """Where records end up: ``XADD stream MAXLEN ~ max_len``."""

    def __init__(self, redis: aioredis.Redis, stream: str = "resync:audit",
                 max_len: int = 1_000_000) -> None:
        self.redis = redis
        self.stream = stream
        self.max_len = max_len

    async def add(self, records: Sequence[Record]) -> int:
        """Send ``records`` in order in one round trip; how many were new to the stream.
        Raises redis errors: then none is known sent (sending again is harmless)."""
        if not records:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for record in records:
            pipe.eval(_ADD_ONCE, 2, self.stream, ids_key(self.stream), str(record["id"]),
                      str(self.max_len), canonical(record))
        results = await pipe.execute()
        return sum(1 for r in results if r)

    async def length(self) -> int:
        """``XLEN``: records in the stream (after ``MAXLEN`` trimming)."""
        return int(await self.redis.xlen(self.stream))

    async def latest(self, count: int) -> list[tuple[str, Record | None]]:
        """The ``count`` newest entries, newest first (one ``XREVRANGE``)."""
        chunk: list[Any] = list(await self.redis.xrevrange(
            self.stream, max="+", min="-", count=count) or [])
        return [(_text(entry_id), _decode(fields or {})) for entry_id, fields in chunk]

    async def entries(self, start: str = "-", *, batch: int = 1000
                      ) -> AsyncIterator[tuple[str, Record | None]]:
        """Every entry from ``start`` on, oldest first: (entry id, record, or None when
        the entry is not a record this program wrote)."""
        lower = start
        while True:
            chunk: list[Any] = list(await self.redis.xrange(
                self.stream, min=lower, max="+", count=batch) or [])
            for entry_id, fields in chunk:
                yield _text(entry_id), _decode(fields or {})
            if len(chunk) < batch:
                return
            lower = "(" + _text(chunk[-1][0])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(fields: dict[Any, Any]) -> Record | None:
    raw = fields.get(FIELD, fields.get("record"))
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("id"), str) else None
