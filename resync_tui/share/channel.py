"""One feed's data through Redis: a chunked snapshot, then a stream of deltas.

The leader publishes a feed's rows as a **snapshot**: the rows encoded with msgpack
and compressed with zstandard in chunks of ``chunk_rows`` (never one 150 MB value:
Redis would block on it, and so would every reader), written under a new version,
then committed by a fenced script that points the feed's snapshot hash at it and
appends a ``snap`` marker to the feed's delta stream. Each later poll publishes a
**delta** (changed rows, removed ids, meta) as one stream entry, ``XADD`` with an
approximate ``MAXLEN``; the script that appends it also records the previous
entry's id in it (``prev``), so a follower sees a gap (it fell behind the trim, or
missed a snapshot) as ``prev`` not being the entry it applied last, and reloads the
snapshot instead of applying deltas to the wrong base.

Every write that changes what followers see is fenced (see :mod:`.lease`): a
former leader's commit or delta is refused. Chunks are written unfenced (a stale
leader's chunks are never pointed at) and expire: those of the current snapshot
after ``chunk_ttl`` (the leader publishes a fresh snapshot well before), those of
a replaced one ``_OLD_CHUNKS_TTL_MS`` after the commit, so a follower still loading
them can finish. With no leader for ``chunk_ttl`` the snapshot is gone, and
followers say so rather than showing data of unknown age as current.

Knows Redis and msgspec; the rows are any msgspec-encodable type given by the
caller (the feeds pass their row type).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar, cast

import msgspec
import redis.asyncio as aioredis
import zstandard

from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Lease

__all__ = ["BaseMoved", "Delta", "Follower", "Publisher", "Snapshot", "SnapshotMissing"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_OLD_CHUNKS_TTL_MS: Final = 60_000
_THREAD_ROWS: Final = 5_000
"""Snapshots bigger than this are encoded/decoded in a worker thread (the loop keeps drawing)."""

#: KEYS: fence, snapshot hash, delta stream, the new chunks...
#: ARGV: token, version, chunk count, meta, maxlen, rows, chunk ttl ms, same as (entry id
#: whose state these rows are, or ''): the marker's ``prev`` when that entry is the last.
_COMMIT: Final = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return false end
for i = 4, #KEYS do
  if redis.call('PEXPIRE', KEYS[i], ARGV[7]) == 0 then return redis.error_reply('chunk lost') end
end
local same = ''
if ARGV[8] ~= '' and redis.call('HGET', KEYS[2], 'last') == ARGV[8] then same = ARGV[8] end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*',
  'kind', 'snap', 'version', ARGV[2], 'fence', ARGV[1], 'prev', same)
local old = redis.call('HMGET', KEYS[2], 'version', 'chunks')
redis.call('HSET', KEYS[2], 'version', ARGV[2], 'chunks', ARGV[3], 'fence', ARGV[1],
  'meta', ARGV[4], 'id', id, 'last', id, 'rows', ARGV[6], 'deltas', 0)
return {id, old[1] or '', old[2] or ''}
"""
#: KEYS: fence, snapshot hash, delta stream. ARGV: token, maxlen, payload, base ('': any).
#: Returns {id, deltas since the snapshot}; 0 when ``base`` is not the last entry.
_DELTA: Final = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return false end
local prev = redis.call('HGET', KEYS[2], 'last')
if not prev then return redis.error_reply('no snapshot') end
if ARGV[4] ~= '' and prev ~= ARGV[4] then return 0 end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*',
  'kind', 'delta', 'fence', ARGV[1], 'prev', prev, 'd', ARGV[3])
redis.call('HSET', KEYS[2], 'last', id)
return {id, redis.call('HINCRBY', KEYS[2], 'deltas', 1)}
"""


class SnapshotMissing(Exception):
    """No snapshot to load (no leader yet, or none for longer than the chunks live)."""


class BaseMoved(Exception):
    """A delta made against one entry of the stream, which is no longer the last: what
    followers hold is not what it was computed from (publish a snapshot instead)."""


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    version: int
    fence: int
    rows: list[T]
    meta: dict[str, Any]
    stream_id: bytes
    """The snapshot's marker in the delta stream: deltas after it apply to it."""


@dataclass(frozen=True, slots=True)
class Delta(Generic[T]):
    changed: list[T] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    fence: int = 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Publisher(Generic[T]):
    """The leader's side of one feed's channel. Every method returns False once fenced off."""

    def __init__(self, lease: Lease, feed: str, *, chunk_rows: int = 5_000,
                 max_deltas: int = 1_000, chunk_ttl: float = 900.0, level: int = 3) -> None:
        self.lease = lease
        self.feed = feed
        self.keys: ShareKeys = lease.keys
        self.chunk_rows = chunk_rows
        self.max_deltas = max_deltas
        self.chunk_ttl_ms = int(chunk_ttl * 1000)
        self._level = level
        self._encoder = msgspec.msgpack.Encoder()
        redis = lease.redis
        self._commit = redis.register_script(_COMMIT)
        self._delta = redis.register_script(_DELTA)
        self.bytes_published = 0
        self.deltas_since_snapshot = 0
        self._chunks_kept = time.monotonic()
        self.last_id: bytes | None = None
        """The stream entry of this publisher's last delta."""

    @property
    def snapshot_due(self) -> bool:
        """Whether the next publication should be a snapshot: before the trim reaches the
        current snapshot's marker, so a follower that just loaded it can always catch up."""
        return self.lease.token is None or self.deltas_since_snapshot >= self.max_deltas // 2

    def _chunks(self, rows: Sequence[T]) -> list[bytes]:
        compressor = zstandard.ZstdCompressor(level=self._level)
        encode = self._encoder.encode
        return [compressor.compress(encode(list(rows[i:i + self.chunk_rows])))
                for i in range(0, max(len(rows), 1), self.chunk_rows)]

    async def snapshot(self, rows: Sequence[T], meta: Mapping[str, Any], *,
                       same_as_last: bool = False) -> bool:
        """Publish every row as the new base; deltas follow it.

        ``same_as_last``: the rows are what this publisher's last delta left (it was
        published first, for this same poll), so a follower that applied that delta holds
        them already and goes on past the marker without loading 200k rows again."""
        token = self.lease.token
        if token is None:
            return False
        if len(rows) > _THREAD_ROWS:
            chunks = await asyncio.to_thread(self._chunks, rows)
        else:
            chunks = self._chunks(rows)
        redis: aioredis.Redis = self.lease.redis
        version = int(await redis.incr(f"{self.keys.tag}:version:{self.feed}"))
        names = [self.keys.chunk(self.feed, version, i) for i in range(len(chunks))]
        async with redis.pipeline(transaction=False) as pipe:
            for name, chunk in zip(names, chunks, strict=True):
                pipe.set(name, chunk, px=self.chunk_ttl_ms)
            await pipe.execute()
        result = await self._commit(
            keys=[self.keys.fence, self.keys.snapshot(self.feed), self.keys.deltas(self.feed),
                  *names],
            args=[token, version, len(chunks), self._encoder.encode(dict(meta)),
                  self.max_deltas, len(rows), self.chunk_ttl_ms,
                  (self.last_id or b"") if same_as_last else b""])
        if result is None:
            self.lease.token = None
            await redis.delete(*names)
            return False
        self.bytes_published += sum(map(len, chunks))
        self.deltas_since_snapshot = 0
        self._chunks_kept = time.monotonic()
        old_version, old_chunks = _text(result[1]), _text(result[2])
        if old_version.isdigit() and old_chunks.isdigit():
            async with redis.pipeline(transaction=False) as pipe:
                for i in range(int(old_chunks)):
                    pipe.pexpire(self.keys.chunk(self.feed, int(old_version), i),
                                 _OLD_CHUNKS_TTL_MS)
                await pipe.execute()
        return True

    async def delta(self, changed: Sequence[T], removed: Sequence[str],
                    meta: Mapping[str, Any], *, base: bytes | None = None) -> bool:
        """Publish one poll's changes (also an empty one: its meta says the data is fresh).

        ``base``: the stream entry the changes were computed against (a new leader's first
        delta, made from what it held as a follower); :class:`BaseMoved` if it is not the
        last one. Without it the changes follow this publisher's own last publication.
        """
        token = self.lease.token
        if token is None:
            return False
        encode = self._encoder.encode
        payload = zstandard.ZstdCompressor(level=self._level).compress(
            encode((list(changed), list(removed), dict(meta))))
        result = await self._delta(
            keys=[self.keys.fence, self.keys.snapshot(self.feed), self.keys.deltas(self.feed)],
            args=[token, self.max_deltas, payload, base or b""])
        if result is None:
            self.lease.token = None
            return False
        if result == 0:
            raise BaseMoved(f"{self.feed}: the stream moved past {_text(base)}")
        self.bytes_published += len(payload)
        self.last_id = result[0] if isinstance(result[0], bytes) else str(result[0]).encode()
        # Counted in Redis: a new leader carries on its predecessor's count, so it still
        # publishes a snapshot before the trim reaches the current one.
        self.deltas_since_snapshot = int(result[1])
        await self._keep_chunks()
        return True

    async def _keep_chunks(self) -> None:
        """Extend the current snapshot's chunks every ``chunk_ttl/3``: deltas alone (500
        polls before a snapshot is due, or a leader that took over with a delta) must not
        outlive the chunks a new follower loads first. Unfenced: extending another
        leader's chunks only keeps what followers are pointed at."""
        now = time.monotonic()
        if now - self._chunks_kept < self.chunk_ttl_ms / 3000:
            return
        self._chunks_kept = now
        redis: aioredis.Redis = self.lease.redis
        version, count = await redis.hmget(self.keys.snapshot(self.feed), ["version", "chunks"])
        if version is None or count is None:
            return
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(int(count)):
                pipe.pexpire(self.keys.chunk(self.feed, int(version), i), self.chunk_ttl_ms)
            await pipe.execute()


class Follower(Generic[T]):
    """A follower's side of one feed's channel: load the snapshot, then read deltas.

    ``block`` must stay below the Redis client's socket timeout (a blocked
    ``XREAD`` would otherwise look like a dead server).
    """

    def __init__(self, redis: aioredis.Redis, keys: ShareKeys, feed: str, row_type: type[T], *,
                 block: float = 0.4, batch: int = 100,
                 shared_fields: Sequence[str] = ()) -> None:
        """``shared_fields``: fields of a msgspec ``row_type`` whose values repeat between
        rows (names, statuses, times): a snapshot's rows hold one object per distinct value
        instead of their own copies (msgpack decodes every string anew)."""
        self.redis = redis
        fields: tuple[str, ...] = getattr(row_type, "__struct_fields__", ())
        self._row_type = row_type
        self._shared_at = tuple(fields.index(name) for name in shared_fields if name in fields)
        self.keys = keys
        self.feed = feed
        self._rows_decoder = msgspec.msgpack.Decoder(list[row_type])  # type: ignore[valid-type]
        self._payload = msgspec.msgpack.Decoder(
            tuple[list[row_type], list[str], dict[str, Any]])  # type: ignore[valid-type]
        self._meta = msgspec.msgpack.Decoder(dict[str, Any])
        self.block_ms = max(1, int(block * 1000))
        self.batch = batch
        self.last_id: bytes | None = None
        self.version: int | None = None

    def _decode(self, chunks: list[bytes]) -> list[T]:
        decompressor = zstandard.ZstdDecompressor()
        rows: list[T] = []
        tables: list[tuple[int, dict[object, object]]] = [(i, {}) for i in self._shared_at]
        for chunk in chunks:
            decoded = self._rows_decoder.decode(decompressor.decompress(chunk))
            rows.extend(self._share(decoded, tables) if tables else decoded)
        return rows

    def _share(self, rows: list[T], tables: list[tuple[int, dict[object, object]]]
               ) -> list[T]:
        """The rows rebuilt with each shared field's equal values as one object. One table
        per field: the decoder gives a field values of its declared type only, and msgpack
        times all come back in UTC, so equal values are interchangeable."""
        make = self._row_type
        astuple = msgspec.structs.astuple
        out: list[T] = []
        append = out.append
        for row in rows:
            values = list(astuple(row))  # type: ignore[arg-type]
            for i, table in tables:
                value = values[i]
                if value is not None:
                    values[i] = table.setdefault(value, value)
            append(make(*values))
        return out

    async def load(self) -> Snapshot[T]:
        """The current snapshot; afterwards :meth:`deltas` reads from its marker."""
        info = cast(dict[bytes, bytes], await self.redis.hgetall(self.keys.snapshot(self.feed)))
        if not info:
            raise SnapshotMissing(f"no snapshot of {self.feed} published yet")
        version, count = int(info[b"version"]), int(info[b"chunks"])
        found = cast(list[bytes | None], await self.redis.mget(
            [self.keys.chunk(self.feed, version, i) for i in range(count)]) if count else [])
        chunks = [chunk for chunk in found if chunk is not None]
        if len(chunks) != count:
            raise SnapshotMissing(f"snapshot {version} of {self.feed} expired or replaced")
        rows_hint = int(info.get(b"rows", b"0"))
        if rows_hint > _THREAD_ROWS:
            rows = await asyncio.to_thread(self._decode, chunks)
        else:
            rows = self._decode(chunks)
        self.last_id = info[b"id"]
        self.version = version
        return Snapshot(version, int(info[b"fence"]), rows, self._meta.decode(info[b"meta"]),
                        info[b"id"])

    async def deltas(self, *, wait: bool = True) -> list[Delta[T]] | None:
        """The deltas published since the last one read (waiting up to ``block``, unless
        not ``wait``).

        None means the base is gone (a new snapshot, or a gap: entries trimmed
        before this follower read them): call :meth:`load` again.
        """
        if self.last_id is None:
            return None
        stream = self.keys.deltas(self.feed)
        answer = cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
                      await self.redis.xread({stream: self.last_id}, count=self.batch,
                                             block=self.block_ms if wait else None))
        out: list[Delta[T]] = []
        for _, entries in answer or ():
            for entry_id, fields in entries:
                if fields.get(b"kind") == b"snap" and fields.get(b"prev") == self.last_id:
                    # A snapshot of what this follower holds (its last delta's state):
                    # go on from its marker, no reload.
                    self.last_id = entry_id
                    self.version = int(fields.get(b"version", b"0"))
                    continue
                if fields.get(b"kind") != b"delta" or fields.get(b"prev") != self.last_id:
                    self.last_id = None
                    return None
                changed, removed, meta = self._payload.decode(
                    zstandard.ZstdDecompressor().decompress(fields[b"d"]))
                out.append(Delta(changed, removed, meta, int(fields[b"fence"])))
                self.last_id = entry_id
        return out
