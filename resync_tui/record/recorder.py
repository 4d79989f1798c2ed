"""``--record FILE``: what each feed published, appended to a recording as it happens.

The recorder sits on the runners' publish path (the app hands it every state it
shows), so it records exactly what the dashboard showed and never polls anything.
Jobs: the whole plan once, then each publication's changed rows and removed ids.
Small feeds: the whole state each time it reads differently from the last one.

Entries are buffered and handed over as one frame every ``flush_seconds`` (and at
close) to the recorder's own writer thread, which encodes, compresses and writes them
in the order handed (one thread, one queue): a crash loses at most that much plus the
frame being written. The event loop only takes the rows (a list of references): a
200k-job plan is ~50 MB of msgpack, ~0.3 s of encoding that would freeze the screen
on the loop; the writer encodes it in chunks of rows, so the GIL goes back to the loop
between them (zstd releases it while compressing). Past ``max_bytes`` the recording
stops, with one warning in the log, and the dashboard goes on (the file stays
readable: it ends on a whole frame).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import struct
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import msgspec
import zstandard

from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsState
from resync_tui.model.job_row import JobRow
from resync_tui.record.format import (
    FORMAT,
    STATE_TYPES,
    Entry,
    RecordingError,
    StreamsRecord,
    encode_frame,
    preamble,
)

__all__ = ["DEFAULT_MAX_BYTES", "Recorder", "encode_frame_chunked", "settings_digest"]

_log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: Final = 1024 * 1024 * 1024
"""1 GiB: a simulated day at 5,000 jobs takes a few MB (see bench/bench_record.py)."""

_TIME_FIELDS: Final = ("started", "ended", "scheduled")
_CHUNK_ROWS: Final = 1000
"""Rows encoded per call in the writer: ~1 ms each, the longest the loop waits for the GIL."""
_MAX_BACKLOG: Final = 4
"""Frames handed over and not yet written, at most; past it entries wait in ``_pending``
(one larger frame later) rather than piling up in memory behind a slow disk."""
_CLOSE_SECONDS: Final = 30.0
"""How long ``close`` waits for the writer (a hung disk must not hang the exit)."""
_FRAME_HEAD: Final = struct.Struct(">II")
_encoder = msgspec.msgpack.Encoder()


class _WireEntry(msgspec.Struct, array_like=True, omit_defaults=True):
    """``Entry`` with its rows already encoded: the same fields in the same order, so the
    same bytes (``array_like``), and ``read_recording`` decodes it as an ``Entry``."""

    kind: str
    feed: str
    wall: float
    engine: float
    rows: msgspec.Raw
    removed: list[str] = []
    full: bool = False
    state: bytes = b""
    offset: float = 0.0
    meta: dict[str, Any] = {}


def _array_head(count: int) -> bytes:
    """The msgpack header of an array of ``count`` items."""
    if count < 16:
        return bytes((0x90 | count,))
    if count < 1 << 16:
        return b"\xdc" + struct.pack(">H", count)
    return b"\xdd" + struct.pack(">I", count)


def _encode_rows(rows: list[JobRow]) -> msgspec.Raw:
    """``rows`` as msgpack, ``_CHUNK_ROWS`` at a time: one C call per chunk, so a thread
    encoding 200k rows lets the event loop run between chunks."""
    parts = [_array_head(len(rows))]
    for start in range(0, len(rows), _CHUNK_ROWS):
        chunk = rows[start:start + _CHUNK_ROWS]
        parts.append(_encoder.encode(chunk)[len(_array_head(len(chunk))):])
    return msgspec.Raw(b"".join(parts))


def encode_frame_chunked(entries: list[Entry],
                         compressor: zstandard.ZstdCompressor) -> bytes:
    """The bytes ``format.encode_frame`` makes of ``entries``, made so that no single
    call holds the GIL for long (for the writer thread)."""
    wire: list[Entry | _WireEntry] = []
    for entry in entries:
        if len(entry.rows) > _CHUNK_ROWS:
            wire.append(_WireEntry(entry.kind, entry.feed, entry.wall, entry.engine,
                                   _encode_rows(entry.rows), entry.removed, entry.full,
                                   entry.state, entry.offset, entry.meta))
        else:
            wire.append(entry)
    body = compressor.compress(_encoder.encode(wire))  # zstd releases the GIL
    return _FRAME_HEAD.pack(len(body), zlib.crc32(body)) + body


def settings_digest(settings: Any) -> str:
    """A digest telling two recordings' settings apart; secrets are masked in the repr,
    so neither they nor a hash of them get into the file."""
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def _offset(rows: list[JobRow]) -> float:
    for row in rows[:50]:
        for name in _TIME_FIELDS:
            value = getattr(row, name)
            if value is not None and (offset := value.utcoffset()) is not None:
                return float(offset.total_seconds())
    return 0.0


class Recorder:
    """Append what the feeds publish to ``path``. Call :meth:`observe` from the loop; the
    writer thread (started by :meth:`open`) does the encoding and the writing."""

    def __init__(self, path: Path, clock: Callable[[], datetime], *,
                 meta: dict[str, Any] | None = None, flush_seconds: float = 2.0,
                 max_bytes: int = DEFAULT_MAX_BYTES, level: int = 3,
                 wall: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._wall = wall
        self.flush_seconds = flush_seconds
        self.max_bytes = max_bytes
        self._compressor = zstandard.ZstdCompressor(level=level)
        """Used by the writer thread only (after ``open``)."""
        self._pending: list[Entry] = []
        self._last_flush = time.monotonic()
        self._last_small: dict[str, bytes] = {}
        self._jobs_view: object | None = None
        self._file: IO[bytes] | None = None
        from resync_tui import __version__  # importlib.metadata: only when recording

        self._meta = {"format": FORMAT, "resync_tui": __version__, **(meta or {})}
        self._queue: queue.SimpleQueue[list[Entry] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._idle = threading.Condition()
        self._backlog = 0
        """Frames handed to the writer and not written yet (guarded by ``_idle``)."""
        self._loop_cpu = 0.0
        self._writer_cpu = 0.0
        self.bytes_written = 0
        """Bytes in the file (the writer's count: frames handed over come in later)."""
        self.entries = 0
        self.stopped = ""
        """Why recording stopped early (empty while recording)."""

    @property
    def cpu_seconds(self) -> float:
        """Thread CPU time spent in the recorder, on the loop and in its writer (the bench
        reads it)."""
        return self._loop_cpu + self._writer_cpu

    @classmethod
    def for_runtime(cls, runtime: Runtime, path: Path, *,
                    max_bytes: int = DEFAULT_MAX_BYTES, flush_seconds: float = 2.0) -> Recorder:
        """A recorder of the dashboard built on ``runtime`` (its engine clock, its engine)."""
        settings = runtime.settings
        return cls(path, runtime.clock, max_bytes=max_bytes, flush_seconds=flush_seconds,
                   meta={"engine": runtime.engine_name, "plan": settings.hwa.plan_id,
                         "job_interval": settings.hwa.poll_interval,
                         "settings_digest": settings_digest(settings)})

    def open(self) -> None:
        """Create the file, write its header and start the writer; RecordingError says
        why it cannot (before the screen is taken)."""
        started = time.thread_time()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb")
        except OSError as exc:
            raise RecordingError(f"cannot record to {str(self.path)!r} "
                                 f"({exc.strerror})") from exc
        now = self._clock()
        offset = now.utcoffset()
        meta = {**self._meta, "started_wall": self._wall(), "started_engine": now.timestamp()}
        head = Entry("header", wall=self._wall(), engine=now.timestamp(), meta=meta,
                     offset=offset.total_seconds() if offset is not None else 0.0)
        self._write(preamble() + encode_frame([head], self._compressor))
        self._writer = threading.Thread(target=self._write_frames, daemon=True,
                                        name=f"recorder:{self.path.name}")
        self._writer.start()
        self._loop_cpu += time.thread_time() - started

    @property
    def recording(self) -> bool:
        return self._file is not None and not self.stopped

    def observe(self, name: str, state: object) -> None:
        """One state a runner published (the same object the dashboard shows)."""
        if not self.recording:
            self._pending = []
            return
        started = time.thread_time()
        try:
            entry = self._entry(name, state)
            if entry is not None:
                self._pending.append(entry)
                self.entries += 1
            if time.monotonic() - self._last_flush >= self.flush_seconds:
                self.flush()
        finally:
            self._loop_cpu += time.thread_time() - started

    def _times(self) -> tuple[float, float]:
        return self._wall(), self._clock().timestamp()

    def _entry(self, name: str, state: object) -> Entry | None:
        wall, engine = self._times()
        if isinstance(state, JobsState):
            return self._jobs_entry(state, wall, engine)
        if name not in STATE_TYPES:
            return None
        record: object = state
        if isinstance(state, StreamsState):
            # The pane's sort and filter live on the view: record every row it holds.
            rows = list(state.view._rows)
            record = StreamsRecord(rows, msgspec.structs.replace(state.health, polls=0),
                                   state.jobs_counted, state.unreadable, state.interval)
        health = getattr(record, "health", None)
        if isinstance(health, FeedHealth) and isinstance(record, msgspec.Struct):
            # ``polls`` moves on every poll: not a change the screen shows.
            record = msgspec.structs.replace(record, health=msgspec.structs.replace(
                health, polls=0))
        data = msgspec.json.encode(record)
        if self._last_small.get(name) == data:
            return None
        self._last_small[name] = data
        return Entry("state", name, wall, engine, state=data)

    def _jobs_entry(self, state: JobsState, wall: float, engine: float) -> Entry:
        view = state.view
        health = msgspec.json.encode(msgspec.structs.replace(state.health, polls=0))
        if view is not self._jobs_view:
            self._jobs_view = view
            rows = view.rows_snapshot()
            return Entry("jobs", "jobs", wall, engine, rows=rows, full=True, state=health,
                         offset=_offset(rows))
        change = state.change
        get = view.get
        changed = [row for job_id in (*change.added, *change.changed)
                   if (row := get(job_id)) is not None]
        return Entry("jobs", "jobs", wall, engine, rows=changed, removed=list(change.removed),
                     state=health, offset=_offset(changed))

    def flush(self) -> None:
        """Hand the pending entries to the writer as one frame (a crash loses at most what
        is pending and the frame being written). Returns at once."""
        self._last_flush = time.monotonic()
        if not self._pending or not self.recording or self._writer is None:
            return
        with self._idle:
            if self._backlog >= _MAX_BACKLOG:
                return  # the disk is behind: the entries go in the next frame
            self._backlog += 1
        batch, self._pending = self._pending, []
        self._queue.put(batch)

    def wait_written(self, timeout: float | None = None) -> bool:
        """Block until every frame handed over is in the file (tests, benches, close);
        False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._backlog == 0, timeout)

    def _write_frames(self) -> None:
        """The writer thread: frames in the order handed over, until ``None``."""
        while (batch := self._queue.get()) is not None:
            started = time.thread_time()
            try:
                if self._file is not None and not self.stopped:
                    self._write_frame(batch)
            except OSError as exc:
                self._stop(f"cannot write {str(self.path)!r} ({exc.strerror})")
            except Exception:  # a bug here must not leave close() waiting forever
                _log.exception("recording failed")
                self._stop("the recorder failed (see the log)")
            finally:
                self._writer_cpu += time.thread_time() - started
                with self._idle:
                    self._backlog -= 1
                    self._idle.notify_all()
        self._close_file()

    def _write_frame(self, batch: list[Entry]) -> None:
        frame = encode_frame_chunked(batch, self._compressor)
        if self.bytes_written + len(frame) > self.max_bytes:
            self._stop(f"{str(self.path)!r} reached its size cap of "
                       f"{self.max_bytes // (1024 * 1024)} MB")
            return
        self._write(frame)

    def _write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._file.flush()
        self.bytes_written += len(data)

    def _stop(self, why: str) -> None:
        """Stop recording (from the writer): the loop sees ``stopped`` and drops what it
        gathers; the file ends on the last whole frame."""
        self.stopped = why
        _log.warning("recording stopped: %s; the dashboard goes on", why)
        self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                _log.exception("closing the recording failed")
            self._file = None

    def close(self) -> None:
        """Write what is pending, wait for the writer and close the file (idempotent)."""
        writer = self._writer
        if writer is None:
            self._close_file()
            return
        started = time.thread_time()
        if self._pending and self.recording:
            with self._idle:
                self._backlog += 1
            self._queue.put(self._pending)
        self._pending = []
        self._writer = None
        self._queue.put(None)
        writer.join(_CLOSE_SECONDS)
        if writer.is_alive():
            _log.warning("recording: the writer did not finish within %.0f s; %r may end "
                         "on a torn frame", _CLOSE_SECONDS, str(self.path))
        self._loop_cpu += time.thread_time() - started
