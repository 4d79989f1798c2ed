"""The recording file: a fixed preamble, then zstandard frames of msgpack entries.

Layout::

    b"RESYNC-TUI-REC\\n"  format (2 bytes, big-endian)
    frame*                 length (4 bytes) crc32 (4 bytes) zstd(msgpack(list[Entry]))

The first frame holds one ``header`` entry (engine, settings digest, clock zone). The
format number sits before anything compressed, so a file of a newer format is refused
on it before a byte of it is misread. Each frame is whole or torn: a last frame cut
short by a crash (or failing its checksum) is ignored; a bad frame with more after it
is corruption, and the reader says where it stops being readable.

Job rows are msgpack (compact; times come back as UTC and are put back in the
engine's offset, recorded with them). The small feeds' states are msgspec JSON, which
keeps every time's offset exactly as the dashboard had it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

import msgspec
import zstandard

from resync_tui.feeds.breakers import BreakersState
from resync_tui.feeds.cache_stats import CacheState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.redis_health import RedisHealth
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.hwa.models import UnreadableRecord
from resync_tui.model.job_row import JobRow
from resync_tui.model.streams import StreamRow
from resync_tui.record.errors import RecordingError

__all__ = [
    "FORMAT",
    "MAGIC",
    "STATE_TYPES",
    "Entry",
    "Recording",
    "RecordingError",
    "StreamsRecord",
    "encode_frame",
    "preamble",
    "read_recording",
    "rows_in_zone",
]

MAGIC: Final = b"RESYNC-TUI-REC\n"
FORMAT: Final = 1
"""The format this version writes and the newest it reads."""

_FRAME_HEAD: Final = struct.Struct(">II")
_TIME_FIELDS: Final = ("started", "ended", "scheduled")


class StreamsRecord(msgspec.Struct, frozen=True):
    """A streams state without its live view: the rows it held."""

    rows: list[StreamRow]
    health: FeedHealth
    jobs_counted: int = 0
    unreadable: tuple[UnreadableRecord, ...] = ()
    interval: float = 0.0


STATE_TYPES: Final[dict[str, type[Any]]] = {
    "engine": EngineState,
    "workstations": WorkstationsState,
    "breakers": BreakersState,
    "cache": CacheState,
    "redis": RedisHealth,
    "streams": StreamsRecord,
}
"""The small feeds recorded whole, and the type their JSON decodes to."""


class Entry(msgspec.Struct, array_like=True, omit_defaults=True):
    """One thing a feed published (or the file's header), with its times.

    ``kind``: ``header``; ``jobs`` (``full``: ``rows`` is the whole plan, else the rows
    added or changed and ``removed`` the ids gone; ``state`` is the health's JSON);
    ``state`` (``state`` is the feed's whole state as JSON).
    """

    kind: str
    feed: str = ""
    wall: float = 0.0
    """This machine's clock (Unix seconds) when it was published."""
    engine: float = 0.0
    """The engine's clock (Unix seconds, as the dashboard estimated it)."""
    rows: list[JobRow] = []
    removed: list[str] = []
    full: bool = False
    state: bytes = b""
    offset: float = 0.0
    """UTC offset (seconds) of the job times in ``rows``; for the header, of the clock."""
    meta: dict[str, Any] = {}
    """Header only: format, engine, settings digest, versions."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Entry])


def preamble() -> bytes:
    """What every recording starts with: the magic and the format number."""
    return MAGIC + struct.pack(">H", FORMAT)


def encode_frame(entries: list[Entry], compressor: zstandard.ZstdCompressor) -> bytes:
    """One self-checking frame of entries."""
    body = compressor.compress(_encoder.encode(entries))
    return _FRAME_HEAD.pack(len(body), zlib.crc32(body)) + body


def rows_in_zone(rows: list[JobRow], offset: float) -> list[JobRow]:
    """The rows with their times in the recorded offset again (msgpack keeps the instant)."""
    if not offset:
        return rows
    zone = timezone(timedelta(seconds=offset))
    out = []
    for row in rows:
        changes = {name: value.astimezone(zone) for name in _TIME_FIELDS
                   if (value := getattr(row, name)) is not None}
        out.append(msgspec.structs.replace(row, **changes) if changes else row)
    return out


@dataclass(frozen=True, slots=True)
class Recording:
    """A recording read whole: its header and its entries in the order written."""

    path: Path
    meta: dict[str, Any]
    entries: list[Entry]
    torn: bool = False
    """The last frame was cut short (a crash) and was ignored."""
    zone: timezone = field(default=UTC)
    """The dashboard clock's zone while recording (times are shown in it)."""

    def feeds(self) -> list[str]:
        return sorted({e.feed for e in self.entries})

    def local(self, seconds: float) -> datetime:
        """A recorded clock value as the dashboard showed it."""
        return datetime.fromtimestamp(seconds, self.zone)


def _frames(data: bytes, start: int) -> Iterator[tuple[int, bytes | None, bool]]:
    """(offset, body, last) for each frame; body None for a bad one, the reading stops
    there. ``last``: the file ends within (or right after) this frame."""
    pos = start
    size = len(data)
    while pos < size:
        if pos + _FRAME_HEAD.size > size:
            yield pos, None, True
            return
        length, crc = _FRAME_HEAD.unpack_from(data, pos)
        end = pos + _FRAME_HEAD.size + length
        body = data[pos + _FRAME_HEAD.size: end]
        if len(body) != length or zlib.crc32(body) != crc:
            yield pos, None, end >= size
            return
        yield pos, body, end >= size
        pos = end


def read_recording(path: Path) -> Recording:
    """Read and check a recording; :class:`RecordingError` says why it cannot be replayed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {str(path)!r} ({exc.strerror})") from exc
    head = len(MAGIC) + 2
    if not data.startswith(MAGIC) or len(data) < head:
        raise RecordingError(f"{str(path)!r} is not a resync-tui recording")
    (fmt,) = struct.unpack_from(">H", data, len(MAGIC))
    if fmt > FORMAT:
        raise RecordingError(f"recorded by a newer resync-tui (format {fmt}); "
                             f"this one reads up to {FORMAT}")
    decompressor = zstandard.ZstdDecompressor()
    entries: list[Entry] = []
    torn = False
    for index, (offset, body, last) in enumerate(_frames(data, head)):
        decoded: list[Entry] | None = None
        if body is not None:
            try:
                decoded = _decoder.decode(decompressor.decompress(body))
            except (zstandard.ZstdError, msgspec.DecodeError):
                decoded = None
        if decoded is None:
            if last and entries:
                torn = True  # a crash mid-write: everything before it is good
                break
            where = (f"after {entries[-1].wall - entries[0].wall:.0f}s of recording"
                     if len(entries) > 1 else "in its header")
            raise RecordingError(f"{str(path)!r} is corrupt at byte {offset} (frame "
                                 f"{index + 1}, {where}); it is readable up to there")
        entries.extend(decoded)
    if not entries or entries[0].kind != "header":
        raise RecordingError(f"{str(path)!r} has no header: nothing was recorded")
    header = entries[0]
    zone = timezone(timedelta(seconds=header.offset))
    return Recording(path, dict(header.meta), entries[1:], torn=torn, zone=zone)
