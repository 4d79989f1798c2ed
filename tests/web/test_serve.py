"""``resync-tui serve``: the dashboard in a real headless browser, as a follower of the
feed the server leads; and no listening beyond loopback without ``--public``."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import free_port
from tests.ui.dashboard_support import sim
from tests.web.cdp import Browser

__all__ = ["sim"]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def environment(sim: Simulator, redis_url: str, home: Path) -> dict[str, str]:
    return {**os.environ, "RESYNC_CONFIG": "", "HOME": str(home),
            "XDG_STATE_HOME": str(home / "state"), "RESYNC_HWA__URL": sim.base_url,
            "RESYNC_HWA__USER": "demo", "RESYNC_HWA__PASSWORD": "demo",
            "RESYNC_HWA__POLL_INTERVAL": "3600", "RESYNC_REDIS__URL": redis_url,
            "RESYNC_LOGGING__FILE": str(home / "resync.log")}


def test_a_public_address_is_refused_without_public(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "resync_tui", "serve", "--host", "0.0.0.0"],
                          env={**os.environ, "RESYNC_CONFIG": "", "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "resync-tui: serve: refusing to listen on 0.0.0.0: textual-serve has no "
        "authentication; use --host 127.0.0.1 behind a reverse proxy that authenticates, "
        "or --public"]


@pytest.fixture
def server(sim: Simulator, redis_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "resync_tui", "serve", "--port", str(port)],
                            env=environment(sim, redis_url, tmp_path), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "died")
            import time

            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def requests_to(sim: Simulator, path: str) -> int:
    return sum(n for name, n in sim.stats()["requests"].items() if name.endswith(path))


async def test_a_browser_shows_the_dashboard_following_the_servers_poll(
        sim: Simulator, server: str, tmp_path: Path) -> None:
    async with Browser(1400, 900) as browser:
        await browser.open(server)
        for _ in range(600):  # the session's first bytes: the dashboard is drawing
            if await browser.evaluate("document.querySelector('.-first-byte') !== null"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the browser never received the dashboard")
        await asyncio.sleep(4)  # the follower's first snapshot and a few frames
        # RESYNC_SCREENSHOTS=1 keeps it in screenshots/ (the README's picture); a test run
        # leaves the work tree as it found it.
        where = SCREENSHOTS if os.environ.get("RESYNC_SCREENSHOTS") else tmp_path
        shot = await browser.screenshot(where / "serve-browser.png")
        # The session is still running (not textual-serve's "Session ended." page).
        assert await browser.evaluate("document.querySelector('.-closed') === null")
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 40  # a drawn dashboard, not the splash page
    # One read of the plan's counts: the server's poller. The browser's session followed.
    assert requests_to(sim, "/plan/job/count") == 1
