"""The demo's simulator in a process of its own: the same engine, reachable at once, and
never left behind by the dashboard that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from resync_tui.hwa.simulator import API_BASE, Faults, Simulator
from resync_tui.hwa.simulator.process import SimulatorProcess

START = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def _jobs(base_url: str) -> bytes:
    with httpx.Client(base_url=base_url + API_BASE, auth=("demo", "demo"),
                      timeout=httpx.Timeout(30.0)) as client:
        answer = client.get("/plan/job", params={"limit": "100"})
        assert answer.status_code == 200, answer.text
        return answer.content


def _gone(pid: int, seconds: float = 15.0) -> bool:
    """Whether ``pid`` has exited (a zombie counts: it serves nothing) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
        except (FileNotFoundError, IndexError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_the_child_serves_the_plan_this_process_would_have_served() -> None:
    """Same seed, size, start and faults: byte for byte the jobs of an in-process one."""
    here = Simulator(jobs=60, seed=5, start=START)
    here.start_in_thread("127.0.0.1", 0)
    try:
        expected = _jobs(here.base_url)
    finally:
        here.stop()
    with SimulatorProcess(jobs=60, seed=5, user="demo", password="demo", start=START,
                          faults=Faults()) as child:
        assert _jobs(child.base_url) == expected


def test_its_url_answers_as_soon_as_it_is_known() -> None:
    """No waiting for the child: a request sent before the plan is built is answered
    once it is (it waits in the socket's backlog), never refused."""
    with SimulatorProcess(jobs=2000, seed=1, user="demo", password="demo") as child:
        assert child.base_url.startswith("http://127.0.0.1:")
        assert b'"jobStreamName"' in _jobs(child.base_url)  # sent before wait_ready
        child.wait_ready(timeout=30)
        assert child.running


def test_stop_ends_the_child_and_its_port() -> None:
    child = SimulatorProcess(jobs=20, seed=1, user="demo", password="demo")
    url = child.start()
    child.wait_ready(timeout=30)
    pid = child.pid
    assert pid is not None
    child.stop()
    assert _gone(pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_sim/state", timeout=5.0)


def test_the_child_dies_with_the_process_that_started_it() -> None:
    """A killed dashboard (SIGKILL, dropped SSH) must not leave a simulator behind."""
    code = (
        "from resync_tui.hwa.simulator.process import SimulatorProcess; import time\n"
        "s = SimulatorProcess(jobs=20, seed=1, user='demo', password='demo')\n"
        "s.start(); s.wait_ready(30); print(s.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
    assert _gone(child_pid), f"simulator {child_pid} outlived its parent"


def test_its_warnings_go_to_the_log_it_is_given(tmp_path: Path) -> None:
    """The dashboard owns the terminal: the child's complaints land in the log file."""
    log = tmp_path / "resync.log"
    with SimulatorProcess(jobs=20, seed=1, user="demo", password="demo") as child:
        child.wait_ready(timeout=30)
        child.log_to(log)
        assert child._proc is not None and child._proc.stdin is not None
        child._proc.stdin.write(b"not json\n")  # what a confused parent might send
        child._proc.stdin.flush()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "bad line" not in _read(log):
            time.sleep(0.05)
    assert "WARNING" in _read(log) and "bad line from the parent" in _read(log)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_the_credentials_never_reach_its_command_line() -> None:
    """Another user of the host sees command lines (ps): the parameters go on stdin."""
    with SimulatorProcess(jobs=20, seed=1, user="demo", password="s3cret-pw") as child:
        child.wait_ready(timeout=30)
        assert child.pid is not None
        cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes()
        assert b"s3cret-pw" not in cmdline
        assert os.path.basename(sys.executable).encode() in cmdline
