"""Run a command in a real pseudo-terminal of a given size and read what it draws."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence


class PtyProcess:
    """A child whose stdin/stdout/stderr is the slave side of a fresh pty."""

    def __init__(self, argv: Sequence[str], size: tuple[int, int], env: dict[str, str],
                 cwd: str | None = None) -> None:
        master, slave = os.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(width),
                    "LINES": str(height), **env}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
            start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self.master = master

    def read_for(self, seconds: float, until: bytes | None = None) -> tuple[int, bytes, float]:
        """Bytes read within ``seconds`` (stops early once ``until`` was seen).

        Returns (count, tail of the output, seconds when ``until`` was first seen or -1)."""
        deadline = time.perf_counter() + seconds
        count = 0
        window = b""
        seen_at = -1.0
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            count += len(chunk)
            window = (window + chunk)[-200_000:]
            if until is not None and seen_at < 0 and until in window:
                seen_at = time.perf_counter() - self.started
                break
        return count, window, seen_at

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self, timeout: float = 10.0) -> int:
        """Ask politely (q), then terminate; returns the exit code."""
        with contextlib.suppress(OSError):
            self.write(b"q")
        deadline = time.perf_counter() + timeout
        while self.proc.poll() is None and time.perf_counter() < deadline:
            self.read_for(0.2)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)
        return self.proc.returncode
