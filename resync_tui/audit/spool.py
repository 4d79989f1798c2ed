"""The write-ahead spool: JSON lines on local disk, fsync'd, shared by processes.

``spool.jsonl`` holds the records not yet known to be in Redis (and the intents
still waiting for their outcome); ``sent`` lists, one id a line, the records of the
spool that Redis has. Both are only touched under ``spool.lock`` (``fcntl.flock``,
held for a file operation, never across a network call); drains take ``drain.lock``
so one process at a time sends the spool in order.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Final

from resync_tui.audit.record import Record, canonical

log = logging.getLogger(__name__)

SPOOL_FILE: Final = "spool.jsonl"
SENT_FILE: Final = "sent"
_SPOOL_LOCK: Final = "spool.lock"
_DRAIN_LOCK: Final = "drain.lock"


class SpoolError(OSError):
    """The spool cannot be written: the caller must not send the action."""


def default_spool_dir(env: dict[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/resync-tui/audit`` (``~/.local/state/resync-tui/audit``)."""
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "resync-tui" / "audit"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """One spool directory (mode 0700: records name jobs and operators)."""

    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory).expanduser()
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.dir / SPOOL_FILE
        self.sent_path = self.dir / SENT_FILE
        #: Lines that were not JSON (a write torn by a crash) seen by the last read.
        self.unreadable = 0

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The spool lock (short: file operations only)."""
        fd = os.open(self.dir / _SPOOL_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def try_drain_lock(self) -> int | None:
        """The drain lock's descriptor if it was free (release with :meth:`release`),
        else None: another process (or another log of this one) is draining."""
        fd = os.open(self.dir / _DRAIN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    # --- under the spool lock ---

    @staticmethod
    def _append_lines(path: Path, lines: Iterable[str]) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            data = "".join(f"{line}\n" for line in lines).encode("utf-8")
            if size:
                with open(path, "rb") as fh:  # a line torn by a crash must not swallow ours
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def append_locked(self, records: Iterable[Record]) -> None:
        try:
            self._append_lines(self.path, (canonical(r) for r in records))
        except OSError as exc:
            raise SpoolError(exc.errno or errno.EIO,
                             f"cannot write the audit spool {self.path}: {exc.strerror}") from exc

    def append(self, records: Iterable[Record]) -> None:
        """Append and fsync; raises :class:`SpoolError` when the disk said no."""
        with self.locked():
            self.append_locked(records)

    def read_locked(self) -> list[Record]:
        records: list[Record] = []
        self.unreadable = 0
        try:
            fh: IO[str] = self.path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return records
        with fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    self.unreadable += 1
                    continue
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    records.append(record)
                else:
                    self.unreadable += 1
        if self.unreadable:
            log.warning("audit spool %s: %d unreadable line(s) skipped (a torn write)",
                        self.path, self.unreadable)
        return records

    def sent_locked(self) -> set[str]:
        try:
            return set(self.sent_path.read_text(encoding="utf-8").split())
        except FileNotFoundError:
            return set()

    def mark_sent_locked(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._append_lines(self.sent_path, ids)

    def rewrite_locked(self, records: list[Record], sent: set[str]) -> None:
        """Replace the spool by ``records`` (and ``sent`` by those of them already sent):
        atomic renames, spool first (a crash in between leaves extra sent ids: harmless)."""
        for path, lines in ((self.path, [canonical(r) for r in records]),
                            (self.sent_path, [str(r["id"]) for r in records
                                              if r["id"] in sent])):
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(f"{line}\n" for line in lines)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        _fsync_dir(self.dir)

    def read(self) -> tuple[list[Record], set[str]]:
        """Every spooled record (in order) and the ids Redis already has."""
        with self.locked():
            return self.read_locked(), self.sent_locked()
