"""L1 (in-process) in front of L2 (Redis): read-through, write-behind.

Redis is an accelerator, never a dependency: every Redis command runs under the
``redis`` circuit breaker and a short timeout, and any failure (down, slow,
garbage bytes) is counted, logged and treated as a miss, so no Redis exception
reaches the caller and the app carries on with L1 alone. When Redis comes back,
the breaker's half-open trial lets commands through again and redis-py
reconnects by itself: nothing has to be recreated.

Keys in Redis are ``<key_prefix>:<namespace>:<key>`` (``resync:plan:JS1``).
A value is written to L2 for ``min(l2_ttl, the caller's ttl)``, so a short-lived
value (a 6 s job status) is not re-served from L2 for minutes. An L2 hit is read
with its remaining TTL (GET + PTTL, one round trip) and kept in L1 for
``min(L1 TTL, what it has left in L2)``: L1 never outlives L2.

L2 writes are *write-behind*: they go to a bounded queue drained by one
background task, so an L1 miss costs at most one Redis round trip (the GET) on
the caller's path, even when Redis is frozen. The queue holds one pending write
per key (a newer write or delete of the key replaces it) and one task sends them
in order, so the writes of a key reach Redis in the order they were made. A
write is dropped, and counted in ``writes_dropped``, when the queue is full,
when the ``redis`` breaker rejects calls, or after ``aclose()``. ``set`` and
``delete`` wait for their own write (an explicit store is done when they
return); a loaded value's write-back does not. ``flush()`` waits for all.

An entry written by a newer codec version (a newer release on the same Redis)
is a miss that is neither deleted nor overwritten by our write-back: we cannot
know that the newer reader tolerates our format, and keeping its entry only
costs this older instance an origin load per L1 miss. Entries we cannot decode
otherwise (garbage, an older format) are misses that the write-back overwrites.
Decode failures are counted in ``decode_errors``, apart from Redis ``errors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from msgspec.structs import replace

from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError
from resync_tui.resilience.cache import CacheStats, LocalCache, Lookup
from resync_tui.resilience.codec import Codec, CodecError, CodecVersionError, MsgpackCodec
from resync_tui.resilience.tasks import raise_if_cancelling

if TYPE_CHECKING:  # redis-py is the caller's: a lazy client stays unbuilt until used
    from redis.asyncio import Redis

__all__ = ["TieredCache", "TieredCacheStats"]

_log = logging.getLogger(__name__)

V = TypeVar("V")
T = TypeVar("T")

_MISS: Any = object()
_NEWER: Any = object()  # an L2 entry of a newer codec version: a miss we must not overwrite


class _Write:
    """One pending L2 write of a key: ``data`` for ``px`` ms, or a delete if None."""

    __slots__ = ("data", "px", "waiters")

    def __init__(self, data: bytes | None, px: int) -> None:
        self.data = data
        self.px = px
        self.waiters: list[asyncio.Future[None]] = []

    def done(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


class TieredCacheStats(msgspec.Struct, frozen=True):
    """Per-level snapshot. In ``l2``: hits/misses are Redis GETs, ``loads`` and
    ``load_failures`` are calls of the origin loader after an L2 miss, ``errors``
    Redis failures, ``rejected`` commands skipped while the breaker was open,
    ``decode_errors`` entries the codec could not read, ``writes_dropped`` and
    ``writes_pending`` the write-behind queue's losses and backlog."""

    l1: CacheStats
    l2: CacheStats

    @property
    def levels(self) -> tuple[CacheStats, CacheStats]:
        return (self.l1, self.l2)


class TieredCache(Generic[V]):
    """Read-through/write-behind L1+L2 cache with single-flight per key."""

    def __init__(
        self,
        l1: LocalCache[V],
        redis: Redis,
        *,
        breaker: CircuitBreaker,
        namespace: str,
        l2_ttl: float = 300.0,
        codec: Codec[V] | None = None,
        command_timeout: float = 0.25,
        key_prefix: str = "resync",
        write_queue_size: int = 1024,
    ) -> None:
        if l2_ttl <= 0 or command_timeout <= 0:
            raise ValueError("l2_ttl and command_timeout must be > 0")
        if write_queue_size < 1:
            raise ValueError("write_queue_size must be >= 1")
        self.l1 = l1
        self.redis = redis
        self.breaker = breaker
        self.namespace = namespace
        self.l2_ttl = l2_ttl
        self.codec: Codec[V] = codec if codec is not None else MsgpackCodec()
        self.command_timeout = command_timeout
        self._prefix = f"{key_prefix}:{namespace}:"
        self._l2_ttl_ms = max(1, round(l2_ttl * 1000))
        self._hits = 0
        self._misses = 0
        self._loads = 0
        self._load_failures = 0
        self._errors = 0
        self._rejected = 0
        self._decode_errors = 0
        self._writes_dropped = 0
        self._l2_was_ok = True
        # Write-behind: pending writes by key (FIFO), the one being sent, the task
        # sending them and an event that is set whenever nothing is pending.
        self.write_queue_size = write_queue_size
        self._writes: OrderedDict[str, _Write] = OrderedDict()
        self._writing: _Write | None = None
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        # L1 hits answered by peek(), per caller's tag (the feeds' kinds of data), each
        # in a one-element list: the hit path bumps it and nothing else; the L1 level's
        # hit count adds them up when read (stats()).
        self._peek_hits: dict[str, list[int]] = {}
        # L1's dict of entries and its clock, fixed for its life: one attribute read each.
        self._l1_entries = l1._entries
        self._l1_clock = l1._clock

    def l2_key(self, key: str) -> str:
        return self._prefix + key

    # ------------------------------------------------------------------- reads

    def peek(self, key: str, tag: str) -> V | None:
        """L1's fresh value of ``key``, or None; synchronous: nothing to await on a hit.

        A hit counts under ``tag`` in ``peek_hits()`` and in the L1 level's hits of
        ``stats()`` (the Cache pane's hit rate); anything else counts nowhere, so the
        caller's async read that follows (``get``, ``get_or_load``) counts that lookup
        once. The L1 entry check (``LocalCache.hit_nowait``) is inlined: this is the
        app's hot read. One dict lookup (no ``hash()`` call to pick a shard), the clock
        read through a local (``self._l1_clock()`` is a look-up CPython 3.11 does not
        specialise) and the read bit set in place (second-chance eviction, see
        ``LocalCache``: no reordering).
        """
        entry = self._l1_entries.get(key)
        if entry is None:
            return None
        clock = self._l1_clock
        if entry[1] > clock() and not entry[3]:
            entry[4] = True
            try:
                self._peek_hits[tag][0] += 1
            except KeyError:
                self._peek_hits[tag] = [1]
            return entry[0]  # type: ignore[no-any-return]
        return None

    def peek_hits(self) -> dict[str, int]:
        """L1 hits answered by ``peek``, by tag, since start."""
        return {tag: cell[0] for tag, cell in tuple(self._peek_hits.items())}

    async def get(self, key: str) -> V | None:
        """L1, else L2 (filling L1); None if neither has it. Never loads."""
        entry = self._l1_entries.get(key)  # L1's hit inlined, as in peek
        if entry is not None:
            clock = self._l1_clock
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self.l1._hits += 1
                return entry[0]  # type: ignore[no-any-return]
        value = self.l1.get_nowait(key, _MISS)  # not a hit: counted (and dropped if dead)
        if value is not _MISS:
            return value
        value, l2_left = await self._l2_get(key)
        if value is _MISS or value is _NEWER:
            return None
        self.l1.set(key, value, self._l1_ttl_after_l2_hit(None, l2_left))
        return value  # type: ignore[no-any-return]

    async def get_or_load(self, key: str, loader: Callable[[], Awaitable[V]], *,
                          ttl: float | None = None) -> V:
        """L1 hit, else one flight per key: L2 GET, else ``loader()`` written to L2."""
        entry = self._l1_entries.get(key)  # L1's hit inlined, as in peek
        if entry is not None:
            clock = self._l1_clock
            if entry[1] > clock() and not entry[3]:
                entry[4] = True
                self.l1._hits += 1
                return entry[0]  # type: ignore[no-any-return]
        # Not a hit: fetch counts the miss (once) and loads.
        return (await self.fetch(key, loader, ttl=ttl)).value

    async def fetch(self, key: str, loader: Callable[[], Awaitable[V]], *,
                    ttl: float | None = None) -> Lookup[V]:
        """Like get_or_load, and says whether the value is stale (see LocalCache)."""
        return await self.l1.fetch(key, partial(self._load_through, key, loader, ttl), ttl=ttl)

    # ------------------------------------------------------------------ writes

    async def set(self, key: str, value: V, ttl: float | None = None) -> None:
        """Store in L1 for ``ttl`` and in L2 for ``min(l2_ttl, ttl)``: a value never
        outlives in L2 what its caller asked for. ``ttl <= 0`` deletes from both.

        Returns once its L2 write is done or dropped; an L2 failure is only counted.
        """
        if ttl is not None and ttl <= 0:
            await self.delete(key)
            return
        self.l1.set(key, value, ttl)
        data = self._encode(value)
        if data is not None:
            await self._wait_for(self._enqueue(key, _Write(data, self._l2_px(ttl))))

    async def delete(self, key: str) -> None:
        """Forget ``key`` in both levels (after any write of it still queued)."""
        self.l1.delete(key)
        await self._wait_for(self._enqueue(key, _Write(None, 0)))

    async def flush(self) -> None:
        """Wait until every L2 write issued so far is done (sent, failed or dropped)."""
        await self._idle.wait()

    def stats(self) -> TieredCacheStats:
        l1 = self.l1.stats()
        peeked = sum(cell[0] for cell in tuple(self._peek_hits.values()))
        if peeked:
            l1 = replace(l1, hits=l1.hits + peeked)
        l2 = CacheStats(
            level="l2", hits=self._hits, misses=self._misses, stale_hits=0,
            loads=self._loads, load_failures=self._load_failures, evictions=0,
            expirations=0, size=None, max_size=None, loads_in_flight=l1.loads_in_flight,
            errors=self._errors, rejected=self._rejected, decode_errors=self._decode_errors,
            writes_dropped=self._writes_dropped, writes_pending=self.writes_pending,
        )
        return TieredCacheStats(l1=l1, l2=l2)

    @property
    def writes_pending(self) -> int:
        """L2 writes queued or being sent."""
        return len(self._writes) + (self._writing is not None)

    async def aclose(self, drain_timeout: float | None = None) -> None:
        """Stop L1 loads, send what is queued for up to ``drain_timeout`` seconds
        (default: twice the command timeout), then drop the rest and stop the writer.
        Later writes are dropped. The Redis client belongs to the caller."""
        await self.l1.aclose()
        self._closed = True
        wait = 2 * self.command_timeout if drain_timeout is None else drain_timeout
        if self._writer is not None and not self._idle.is_set() and wait > 0:
            try:
                async with asyncio.timeout(wait):
                    await self._idle.wait()
            except TimeoutError:
                _log.info("cache %s: %d L2 writes dropped at close", self.namespace,
                          self.writes_pending)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        self._drop_all()

    # --------------------------------------------------------------- internals

    def _l1_ttl_after_l2_hit(self, ttl: float | None, l2_left: float | None) -> float:
        """An L2 value lives in L1 no longer than it has left in L2 (<= 0: not kept in L1)."""
        l1_ttl = self.l1.default_ttl if ttl is None else ttl
        return l1_ttl if l2_left is None else min(l1_ttl, l2_left)

    async def _load_through(self, key: str, loader: Callable[[], Awaitable[V]],
                            ttl: float | None = None) -> V:
        value, l2_left = await self._l2_get(key)
        newer = value is _NEWER
        if value is not _MISS and not newer:
            # Storing now supersedes this load in L1 (LocalCache.set), so L1 keeps the
            # value for what is left of its L2 life rather than for a full L1 TTL.
            self.l1.set(key, value, self._l1_ttl_after_l2_hit(ttl, l2_left))
            return value  # type: ignore[no-any-return]
        self._loads += 1
        try:
            value = await loader()
        except Exception:
            self._load_failures += 1
            raise
        if not newer:  # write-behind: the caller does not wait for Redis
            data = self._encode(value)
            if data is not None:
                self._enqueue(key, _Write(data, self._l2_px(ttl)))
        return value

    async def _get_with_pttl(self, l2_key: str) -> list[Any]:
        """GET and PTTL of one key in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(l2_key)
            pipe.pttl(l2_key)
            return await pipe.execute()

    async def _l2_get(self, key: str) -> tuple[Any, float | None]:
        """(value or _MISS, seconds it has left in L2 or None if it never expires)."""
        reply = await self._redis_call(partial(self._get_with_pttl, self.l2_key(key)))
        if reply is _MISS:
            return _MISS, None
        raw, pttl = reply
        if raw is None:
            self._misses += 1
            return _MISS, None
        if not isinstance(raw, bytes):
            self._misses += 1
            self._decode_errors += 1
            return _MISS, None
        try:
            value = self.codec.decode(raw)
        except CodecVersionError as exc:
            self._misses += 1  # one lookup, one hit or one miss: this one is a miss
            self._decode_errors += 1
            if exc.newer:
                _log.debug("cache %s: L2 entry of a newer format left alone (%s)",
                           self.namespace, exc)
                return _NEWER, None
            _log.warning("cache %s: unreadable L2 entry treated as a miss (%s)",
                         self.namespace, exc)
            return _MISS, None
        except CodecError as exc:
            self._misses += 1
            self._decode_errors += 1
            _log.warning("cache %s: undecodable L2 entry treated as a miss (%s)",
                         self.namespace, exc)
            return _MISS, None
        self._hits += 1
        # PTTL: -1 no expiry, -2 gone since the GET (expired in between): nothing left.
        if not isinstance(pttl, int) or pttl == -1:
            return value, None
        left = max(0.0, pttl / 1000.0)
        return value, left

    def _l2_px(self, ttl: float | None) -> int:
        """L2 lifetime in ms: ``l2_ttl``, or less if the caller asked for less."""
        if ttl is None or ttl >= self.l2_ttl:
            return self._l2_ttl_ms
        return max(1, round(ttl * 1000))

    def _encode(self, value: V) -> bytes | None:
        """The value's L2 bytes, taken now (later changes to the value do not leak in)."""
        try:
            return self.codec.encode(value)
        except (TypeError, ValueError) as exc:
            self._errors += 1
            _log.warning("cache %s: value not encodable for L2 (%s)", self.namespace,
                         type(exc).__name__)
            return None

    def _enqueue(self, key: str, write: _Write) -> _Write | None:
        """Queue ``write`` for the writer task (replacing a pending one of ``key``);
        None if it was dropped. Deletes are never dropped for a full queue: a lost
        delete would leave a value in L2 that its owner wanted gone."""
        if self._closed or self.breaker.rejects_now():
            self._writes_dropped += 1
            return None
        old = self._writes.pop(key, None)
        if old is not None:
            write.waiters.extend(old.waiters)  # the newer write supersedes it
            old.waiters.clear()
        elif write.data is not None and len(self._writes) >= self.write_queue_size:
            self._writes_dropped += 1
            return None
        self._writes[key] = write
        self._idle.clear()
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(
                self._drain(), name=f"cache-l2-writer[{self.namespace}]")
        return write

    async def _wait_for(self, write: _Write | None) -> None:
        if write is None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        write.waiters.append(waiter)
        await asyncio.shield(waiter)  # a cancelled caller leaves the write queued

    async def _drain(self) -> None:
        """The writer task: send the queued writes one at a time, oldest first."""
        try:
            while True:
                raise_if_cancelling()  # a Redis call below may have swallowed it
                if not self._writes:
                    self._idle.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                key, write = self._writes.popitem(last=False)
                self._writing = write
                try:
                    if self.breaker.rejects_now():
                        self._writes_dropped += 1
                    elif write.data is None:
                        await self._redis_call(partial(self.redis.delete, self.l2_key(key)))
                    else:
                        await self._redis_call(partial(self.redis.set, self.l2_key(key),
                                                       write.data, px=write.px))
                finally:
                    self._writing = None
                    write.done()
        finally:
            self._drop_all()

    def _drop_all(self) -> None:
        """Count everything still queued as dropped and release whoever waits for it."""
        while self._writes:
            _, write = self._writes.popitem(last=False)
            self._writes_dropped += 1
            write.done()
        if self._writing is None:
            self._idle.set()

    async def _redis_call(self, command: Callable[[], Awaitable[T]]) -> T | Any:
        """Run one command under the breaker and a timeout; _MISS on any failure."""
        try:
            with self.breaker.guard():
                async with asyncio.timeout(self.command_timeout):
                    result = await command()
        except CircuitOpenError:
            self._rejected += 1
            return _MISS
        except Exception as exc:
            self._errors += 1
            # One warning per outage, then debug: a dead Redis must not flood the log.
            log = _log.warning if self._l2_was_ok else _log.debug
            log("cache %s: Redis unavailable (%s); using L1 only", self.namespace,
                type(exc).__name__)
            self._l2_was_ok = False
            return _MISS
        if not self._l2_was_ok:
            _log.info("cache %s: Redis reachable again", self.namespace)
            self._l2_was_ok = True
        return result
