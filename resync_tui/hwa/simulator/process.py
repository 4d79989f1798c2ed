"""The simulator in a child process: the demo's engine, started beside the dashboard.

Why a process and not a thread: importing aiohttp, building the plan, ticking it and
serving every poll would otherwise share the dashboard's interpreter lock, and the
first frame (and every refresh after it) would wait for them. The parent binds the
listening socket itself, so the URL is known at once and connections wait in the
socket's backlog until the plan is built: nothing has to wait for the child to start.
Only the standard library is imported here; the child imports the server.

The parameters (credentials too) go to the child as one JSON line on its stdin, never
on its command line; the pipe then stays open for later lines (``log_to``: where its
warnings go, said once the parent has read its settings: the child is started before
them), and its end (the parent exited, even killed) stops the child. It runs in a
session of its own, so a Ctrl-C meant for the terminal does not kill it before the
dashboard has closed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resync_tui.hwa.simulator.faults import Faults

__all__ = ["SimulatorProcess", "SimulatorProcessError"]

log = logging.getLogger(__name__)

_READY = b"ready\n"

_NO_CA_STORE = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}
"""The child's environment: it serves plain HTTP on loopback and opens no TLS connection,
but importing aiohttp builds two default SSL contexts, each loading the CA store (40-90
ms of the simulator's start). Pointed at nothing, they load nothing."""


class SimulatorProcessError(RuntimeError):
    """The simulator's process exited, or did not say it was serving in time."""


class SimulatorProcess:
    """A :class:`~resync_tui.hwa.simulator.server.Simulator` in a child process.

    ``start()`` returns the API's base URL at once (the plan is still being built);
    ``wait_ready()`` blocks until the child serves; ``stop()`` ends it. ``log_to(path)``:
    the child's warnings are appended there from then on (before, they are dropped: the
    dashboard owns the terminal).
    """

    def __init__(self, *, jobs: int, seed: int, user: str, password: str,
                 time_scale: float = 0.0, start: datetime | None = None,
                 faults: Faults | None = None, host: str = "127.0.0.1") -> None:
        self._params: dict[str, Any] = {
            "jobs": jobs, "seed": seed, "user": user, "password": password,
            "time_scale": time_scale, "host": host,
            "start": start.timestamp() if start is not None else None,
            "faults": faults.to_json().decode() if faults is not None else None,
        }
        self._host = host
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self.base_url = ""

    def __repr__(self) -> str:
        return f"SimulatorProcess(url={self.base_url!r}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> str:
        """Bind a free loopback port, start the child on it; the URL, without waiting."""
        if self._proc is not None:
            return self.base_url
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((self._host, 0))
            sock.listen(128)
            port = int(sock.getsockname()[1])
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                pass_fds=(sock.fileno(),), start_new_session=True, close_fds=True,
                env={**os.environ, **_NO_CA_STORE})
            self._send({**self._params, "fd": sock.fileno()})
        finally:
            sock.close()  # the child has its own copy: if it dies, connections are refused
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(json.dumps(message).encode() + b"\n")
            proc.stdin.flush()
        except OSError:  # it exited: said by wait_ready, or by the dashboard's feeds
            pass

    def log_to(self, path: str | os.PathLike[str]) -> None:
        """The child appends its warnings to ``path`` from now on."""
        self._send({"log": os.fspath(path)})

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the child serves the plan (its first line), else :class:`SimulatorProcessError`."""
        if self._ready:
            return
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise SimulatorProcessError("the simulator was not started")
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        seen = b""
        while time.monotonic() < deadline:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], min(0.2, left))
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    break
                seen += chunk
                if seen.startswith(_READY):
                    self._ready = True
                    return
            elif proc.poll() is not None:
                break
        code = proc.poll()
        if code is not None:
            raise SimulatorProcessError(f"the simulator exited (code {code})")
        raise SimulatorProcessError(f"the simulator did not serve within {timeout:g} s")

    def stop(self, timeout: float = 5.0) -> None:
        """End the child: its stdin closed (serving, it stops at once); still building
        its plan a second later, SIGTERM; killed if it lingers after ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            proc.wait(timeout=min(1.0, timeout))
            return
        except subprocess.TimeoutExpired:
            proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("simulator process %d did not stop within %g s: killed",
                        proc.pid, timeout)
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _child(stdin: int, stdout: IO[bytes]) -> int:
    """The child's side: build the plan, serve it on the inherited socket until stdin ends."""
    import asyncio
    import gc
    import signal

    # Modules and the plan live as long as the process: not collected while they are
    # built, then frozen out of the collector's reach (it would only rescan them).
    gc.disable()

    from resync_tui.hwa.simulator.faults import Faults
    from resync_tui.hwa.simulator.server import Simulator

    pending = b""
    while b"\n" not in pending:  # unbuffered: later lines are read by the loop's reader
        chunk = os.read(stdin, 65536)
        if not chunk:
            return 0  # the parent went before saying anything
        pending += chunk
    first, pending = pending.split(b"\n", 1)
    params = json.loads(first)
    sock = socket.socket(fileno=int(params["fd"]))
    start = params["start"]

    def command(line: bytes) -> None:
        path = json.loads(line).get("log")
        if path:
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s (simulator): %(message)s"))
            logging.getLogger().addHandler(handler)

    def take(data: bytes) -> None:
        """Run every complete line of what came so far; keep the rest."""
        nonlocal pending
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            try:
                command(line)
            except (OSError, ValueError, AttributeError):
                log.warning("bad line from the parent", exc_info=True)

    async def main() -> int:
        sim = Simulator(jobs=params["jobs"], seed=params["seed"], user=params["user"],
                        password=params["password"], time_scale=params["time_scale"],
                        start=datetime.fromtimestamp(start, UTC) if start is not None else None,
                        faults=Faults.from_json(params["faults"]) if params["faults"] else None)
        await sim.start(params["host"], sock=sock)
        gc.freeze()
        gc.enable()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def readable() -> None:
            chunk = os.read(stdin, 65536)
            if not chunk:  # EOF: the parent closed it, or died
                stop.set()
            else:
                take(chunk)

        take(b"")  # lines that came with the first
        loop.add_reader(stdin, readable)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stdout.write(_READY)
        stdout.flush()
        try:
            await stop.wait()
        finally:
            loop.remove_reader(stdin)
            await sim.aclose()
        return 0

    return asyncio.run(main())


if __name__ == "__main__":  # pragma: no cover - the child process
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(_child(sys.stdin.fileno(), sys.stdout.buffer))
