"""What the operator sees when things break: engine outage, bad credentials, Redis down,
hostile names. The app must keep running and keep the last good data on screen."""

from __future__ import annotations

import asyncio
import logging
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.snapshot import take_snapshot
from resync_tui.ui.watchdog import terminal_alive
from tests.ui.dashboard_support import (
    DEADLINE,
    frozen_clock,
    make_app,
    make_settings,
    ready,
    screen_text,
    sim,
)

__all__ = ["sim"]


async def test_engine_outage_says_unreachable_and_keeps_the_last_jobs(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        jobs_before = app.view.total
        first_job = app.view.row_at(0).job[:10]
        sim.set_faults(Faults(outage="refused"))
        await asyncio.wait_for(app.poll_now("engine", "jobs", "workstations"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "ENGINE UNREACHABLE" in text
        assert "engine unreachable since 06:30:00" in text
        # The jobs pane keeps its rows, marked stale: when they were read, and why.
        assert "⚠ STALE — data from 06:30:00 — engine unreachable since 06:30:00" in text
        assert "STALE" in text  # the workstations pane too
        assert app.view.total == jobs_before
        assert first_job in text  # last good data still shown
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("engine", "jobs", "workstations"), DEADLINE)
        await pilot.pause()
        assert "ENGINE UNREACHABLE" not in screen_text(app)


async def test_wrong_password_says_credentials_rejected_and_is_not_retried(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, password="wrong")
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.wait_for_data(), DEADLINE)
        await asyncio.wait_for(app.poll_now("breakers"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "CREDENTIALS REJECTED" in text
        assert "credentials rejected (HTTP 401)" in text
        # The engine answered: a 401 is not an outage, the breakers stay closed.
        assert all(row.state == "closed" for row in app.dashboard.breakers.state.rows)  # type: ignore[union-attr]


async def test_redis_down_shows_in_its_pane_while_the_jobs_keep_coming(
        sim: Simulator, redis_server: EmbeddedRedis, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        redis_server.stop()
        try:
            await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
            sim.tick(3600)
            polls = app.runners["jobs"].results
            await asyncio.wait_for(app.poll_now("jobs", "engine"), DEADLINE)
            await pilot.pause()
            text = screen_text(app)
            assert "✖ DOWN" in text
            assert "redis down since 06:30:00" in text
            assert "DEGRADED" in text
            assert app.runners["jobs"].results == polls + 1
            assert app.runners["jobs"].last.health.ok
            assert app.is_running
        finally:
            redis_server.start()


async def test_hostile_names_are_shown_as_plain_text(sim: Simulator, redis_url: str) -> None:
    sim.set_faults(Faults(hostile=True))
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        svg = app.export_screenshot()
        text = screen_text(app)
        assert "\x1b" not in svg and "\x07" not in svg
        assert "\x1b" not in text
        assert "pwned" not in text  # the OSC title payload is dropped, not shown
        assert "[bold red]X[/]" in text or "[bold" in text  # markup shows literally
        assert app.is_running


def test_snapshot_command_writes_an_svg_and_closes_cleanly(
        sim: Simulator, redis_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "dash.svg"
    with caplog.at_level(logging.WARNING):
        code = take_snapshot(make_settings(sim.base_url, redis_url), out, (120, 40),
                             timeout=DEADLINE, clock=frozen_clock)
    assert code == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "hwa_job_status" in svg
    # The HWA client and Redis pool are closed in their own loop: no error on the way out.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_snapshot_command_fails_clearly_without_an_engine(
        redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = Simulator(jobs=10, seed=1, user="demo", password="demo", time_scale=0.0)
    url = dead.start_in_thread("127.0.0.1", 0)
    dead.stop()  # nothing listens on that port any more
    out = tmp_path / "dash.svg"
    code = take_snapshot(make_settings(url, redis_url), out, (120, 40), timeout=DEADLINE)
    assert code != 0
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "engine unreachable" in err


def test_watchdog_sees_a_hung_up_terminal() -> None:
    master, slave = pty.openpty()
    try:
        assert terminal_alive(slave)
        os.close(master)
        master = -1
        assert not terminal_alive(slave)  # dropped SSH: the other end is gone
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
    with open(os.devnull) as devnull:
        assert not terminal_alive(devnull.fileno())


def test_dropped_ssh_session_ends_the_dashboard(tmp_path: Path) -> None:
    """stdin hung up (no SIGHUP): the app must exit instead of spinning on EOF."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color",
           "RESYNC_LOGGING__FILE": str(tmp_path / "app.log")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resync_tui", "demo", "--jobs", "100", "--no-faults"],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path,
        start_new_session=True)
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + DEADLINE
        while b"100 of 100" not in seen and time.monotonic() < deadline:
            ready_fds, _, _ = select.select([master], [], [], 0.5)
            if ready_fds:
                seen = (seen + os.read(master, 65536))[-100_000:]
        assert b"100 of 100" in seen, "the dashboard never showed its data"
        os.close(master)
        master = -1
        assert proc.wait(timeout=DEADLINE) == 0
        assert "terminal gone" in (tmp_path / "app.log").read_text(encoding="utf-8")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if master >= 0:
            os.close(master)


async def test_a_crashed_embedded_redis_restart_shows_in_its_pane(sim: Simulator) -> None:
    """kill -9: the supervisor brings Redis back in ~1 s; the pane must say it happened."""
    with EmbeddedRedis() as server:
        server.supervise(interval=0.05)
        app = make_app(sim.base_url, server.url)
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            assert "restarted at" not in screen_text(app)
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)
            await asyncio.to_thread(_wait_for_restart, server)
            assert server.restarts == 1, "the supervisor did not restart redis-server"
            await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
            await pilot.pause()
            text = screen_text(app)
            assert re.search(r"restarted at 06:(29:[0-5]\d|30:00) \(crashed\)", text), text
            assert "● UP" in text


def _wait_for_restart(server: EmbeddedRedis) -> None:
    deadline = time.monotonic() + DEADLINE
    while not (server.restarts == 1 and server.running) and time.monotonic() < deadline:
        time.sleep(0.05)


def _engine_requests(sim: Simulator) -> int:
    return sum(sim.stats()["requests"].values())


async def test_a_rejected_password_is_not_hammered_and_r_tries_it_exactly_once(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, password="wrong")
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.wait_for_data(), DEADLINE)
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "CREDENTIALS REJECTED"
        assert f"for user demo at {sim.base_url}" in overall.reason
        assert "wrong" not in screen_text(app)  # never the password
        before = _engine_requests(sim)
        for _ in range(5):  # five rounds of every feed: none reaches the engine
            await asyncio.wait_for(app.poll_now("engine", "jobs", "workstations"), DEADLINE)
        assert _engine_requests(sim) == before
        # The operator fixes the engine side (the password "wrong" is now the right one)
        # and presses r: exactly one call goes through as a probe, then calls flow again.
        sim.set_credentials(password="wrong")
        app.set_paused(True)  # only r polls now
        await pilot.press("r")

        async def refreshed() -> None:
            while app.dashboard.header.overall.label == "CREDENTIALS REJECTED":
                await pilot.pause(0.05)

        await asyncio.wait_for(refreshed(), DEADLINE)
        assert _engine_requests(sim) > before
        assert app.dashboard.header.overall.label in ("OK", "STALE")
        assert app.runtime.client.credentials_rejected is None


async def test_unreadable_records_are_counted_and_the_good_ones_shown(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        total = app.view.total
        sim.set_faults(Faults(bad_records=2))
        for _ in range(3):  # repeated polls: never an engine failure, never a breaker
            await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "⚠ 2 job records unreadable, not shown" in text
        assert app.view.total >= total - 2  # the good ones are all there
        # Not an engine failure (no breaker opens), but the view lacks two jobs, which
        # may be failed ones: the header must not say OK (the wall's band neither).
        overall = app.dashboard.header.overall
        assert overall.label == "DEGRADED"
        assert "2 job records unreadable, not shown" in overall.reason
        assert "2 workstation records unreadable, not shown" in overall.reason
        assert "✔ OK" not in text
        assert app.runtime.hwa_job_status.snapshot().state.value == "closed"
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("jobs", "workstations"), DEADLINE)
        await pilot.pause()
        assert "unreadable" not in screen_text(app)
        assert app.dashboard.header.overall.label == "OK"


async def test_a_long_reason_in_a_narrow_pane_is_cut_with_an_ellipsis_never_mid_sentence(
        sim: Simulator, redis_url: str) -> None:
    """At 120x40 the Workstations pane is ~46 columns: the credentials-rejected reason
    wraps to five lines in its three-line stale strip. It read "…/twsd/api/v2: not", the
    last word a wrong message; the cut now ends in "…"."""
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        sim.set_credentials(password="changed-on-the-engine")
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        pane = app.dashboard.workstations
        strip = pane.query_one("#ws-stale")
        rows = [line.rstrip() for line in screen_text(app).splitlines()]
        top = strip.region.y
        shown = [row[strip.region.x:strip.region.right].strip()
                 for row in rows[top:top + strip.region.height]]
        assert strip.region.height == 3
        assert shown[0].startswith("⚠ STALE, data from")
        assert shown[-1].endswith("…"), shown
        assert "tried again" not in " ".join(shown)  # the rest is cut, and says so
