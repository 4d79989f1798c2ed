"""``--record FILE``: what each feed published, appended to a recording as it happens.

The recorder sits on the runners' publish path (the app hands it every state it
shows), so it records exactly what the dashboard showed and never polls anything.
Jobs: the whole plan once, then each publication's changed rows and removed ids.
Small feeds: the whole state each time it reads differently from the last one.

Entries are buffered and written as one compressed frame every ``flush_seconds``
(and at close): a crash loses at most that much. Past ``max_bytes`` the recording
stops, with one warning in the log, and the dashboard goes on (the file stays
readable: it ends on a whole frame).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import msgspec
import zstandard

from resync_tui import __version__
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

__all__ = ["DEFAULT_MAX_BYTES", "Recorder", "settings_digest"]

_log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: Final = 1024 * 1024 * 1024
"""1 GiB: a simulated day at 5,000 jobs takes a few MB (see bench/bench_record.py)."""

_TIME_FIELDS: Final = ("started", "ended", "scheduled")


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
    """Append what the feeds publish to ``path``. Call :meth:`observe` from the loop."""

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
        self._pending: list[Entry] = []
        self._last_flush = time.monotonic()
        self._last_small: dict[str, bytes] = {}
        self._jobs_view: object | None = None
        self._file: IO[bytes] | None = None
        self._meta = {"format": FORMAT, "resync_tui": __version__, **(meta or {})}
        self.bytes_written = 0
        self.entries = 0
        self.cpu_seconds = 0.0
        """Thread CPU time spent in the recorder (the bench reads it)."""
        self.stopped = ""
        """Why recording stopped early (empty while recording)."""

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
        """Create the file and write its header; RecordingError says why it cannot."""
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
        self.cpu_seconds += time.thread_time() - started

    @property
    def recording(self) -> bool:
        return self._file is not None and not self.stopped

    def observe(self, name: str, state: object) -> None:
        """One state a runner published (the same object the dashboard shows)."""
        if not self.recording:
            return
        started = time.thread_time()
        try:
            entry = self._entry(name, state)
            if entry is not None:
                self._pending.append(entry)
                self.entries += 1
            if time.monotonic() - self._last_flush >= self.flush_seconds:
                self.flush()
        except OSError as exc:
            self._stop(f"cannot write {str(self.path)!r} ({exc.strerror})")
        finally:
            self.cpu_seconds += time.thread_time() - started

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
            record = StreamsRecord(rows, dataclasses.replace(state.health, polls=0),
                                   state.jobs_counted, state.unreadable, state.interval)
        health = getattr(record, "health", None)
        if isinstance(health, FeedHealth) and dataclasses.is_dataclass(record):
            # ``polls`` moves on every poll: not a change the screen shows.
            record = dataclasses.replace(record, health=dataclasses.replace(  # type: ignore[type-var]
                health, polls=0))
        data = msgspec.json.encode(record)
        if self._last_small.get(name) == data:
            return None
        self._last_small[name] = data
        return Entry("state", name, wall, engine, state=data)

    def _jobs_entry(self, state: JobsState, wall: float, engine: float) -> Entry:
        view = state.view
        health = msgspec.json.encode(dataclasses.replace(state.health, polls=0))
        if view is not self._jobs_view:
            self._jobs_view = view
            rows = list(view.all_rows())
            return Entry("jobs", "jobs", wall, engine, rows=rows, full=True, state=health,
                         offset=_offset(rows))
        change = state.change
        get = view.get
        changed = [row for job_id in (*change.added, *change.changed)
                   if (row := get(job_id)) is not None]
        return Entry("jobs", "jobs", wall, engine, rows=changed, removed=list(change.removed),
                     state=health, offset=_offset(changed))

    def flush(self) -> None:
        """Write the pending entries as one frame (a crash loses at most what is pending)."""
        self._last_flush = time.monotonic()
        if not self._pending or self._file is None:
            return
        frame = encode_frame(self._pending, self._compressor)
        self._pending = []
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
        self.stopped = why
        _log.warning("recording stopped: %s; the dashboard goes on", why)
        self._pending = []
        self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                _log.exception("closing the recording failed")
            self._file = None

    def close(self) -> None:
        """Write what is pending and close the file (idempotent)."""
        if self._file is None:
            return
        started = time.thread_time()
        try:
            self.flush()
        except OSError as exc:
            self._stop(f"cannot write {str(self.path)!r} ({exc.strerror})")
        self._close_file()
        self.cpu_seconds += time.thread_time() - started
