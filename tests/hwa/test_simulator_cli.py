"""serve_forever (behind `resync-tui sim`): listening line first, credentials, clean exit."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from resync_tui.hwa.simulator import API_BASE

SCRIPT = (
    "import sys; from resync_tui.hwa.simulator import serve_forever; "
    "sys.exit(serve_forever('127.0.0.1', 0, 30, 2, 0.0, 'ops', 'pa55'))"
)


def line_reader(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """Lines of the child's stdout, read by a thread so that every wait has a deadline."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.fixture
def sim_process() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_first_line_is_the_listening_url_and_signals_exit_zero(
    sim_process: subprocess.Popen[str], stop_signal: signal.Signals
) -> None:
    lines = line_reader(sim_process)
    first = lines.get(timeout=30)
    match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", first)
    assert match, first
    assert int(match.group(2)) > 0
    second = lines.get(timeout=10)
    assert "user=ops" in second
    assert "password=pa55" in second
    url = match.group(1) + API_BASE + "/engine/info"
    assert httpx.get(url, auth=("ops", "pa55"), timeout=5).status_code == 200
    assert httpx.get(url, auth=("demo", "demo"), timeout=5).status_code == 401
    sim_process.send_signal(stop_signal)
    assert sim_process.wait(timeout=10) == 0
