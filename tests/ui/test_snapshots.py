"""SVG snapshots of every screen at 80x24 and 200x60, from a deterministic state.

Fixed simulator seed with a stopped plan clock, a frozen wall clock in the
header, hour-long poll intervals (so nothing polls while the picture is taken),
and the feeds' first results awaited instead of slept for. Redis figures that
change from run to run (PING time, uptime, memory) are pinned before the shot.
Regenerate with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look
at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import itertools
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.text import Text
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.widgets import Input, Static

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
from resync_tui.audit.record import Writer
from resync_tui.feeds.audit_health import AuditState, rows_of
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.status import FeedHealth
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.overall import stale_after
from resync_tui.record.format import read_recording
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.replay import ReplayApp
from resync_tui.ui.screens.audit import AuditScreen
from resync_tui.ui.screens.bulk_action import BulkActionScreen, BulkProgressScreen
from resync_tui.ui.screens.confirm_action import ConfirmActionScreen
from resync_tui.ui.screens.job_detail import JobDetailScreen, JobLogView
from resync_tui.ui.widgets.deps_list import DepsList
from tests.record.conftest import Recorded, make_recording
from tests.ui.dashboard_support import (
    DEADLINE,
    FROZEN,
    SteppedClock,
    frozen_clock,
    make_app,
    make_settings,
    ready,
    screen_text,
)

SIZES = [(80, 24), (200, 60)]


@pytest.fixture(scope="module")
def snap_sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


def _pin_audit(app: ResyncApp) -> None:
    """The audit trail's health as a fresh, empty trail reads (its feed may publish the
    same before or after the picture is taken)."""
    app.dashboard.redis.audit = AuditState(
        stream_length=0, has_redis=True, health=FeedHealth(last_success=FROZEN, polls=1))
    app.dashboard.header.audit = ""


def _pin_redis(app: ResyncApp, *, audit: bool = True) -> None:
    """The Redis pane's figures as one fixed reading (and the audit health unless the app
    has none: a replay reads no Redis, so its pane must not show an audit line)."""
    if audit:
        _pin_audit(app)
    state = app.dashboard.redis.state
    assert state is not None and state.up
    app.dashboard.redis.state = msgspec.structs.replace(
        state, ping_ms=0.3, uptime_seconds=3725, clients=3, blocked_clients=0,
        used_memory=1_234_567, fragmentation=1.5, ops_per_sec=4, keyspace_hit_rate=75.0,
        evicted_keys=0)


async def _dashboard(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await ready(app)
    # The audit feed's first (and, at these intervals, only) read lands before the pin.
    await asyncio.wait_for(app.audit_runner.wait_results(1), DEADLINE)
    _pin_redis(app)
    await pilot.pause()


async def _job_detail(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    app.dashboard.jobs.table.focus()
    await pilot.press("enter")
    screen = app.screen
    assert isinstance(screen, JobDetailScreen)

    async def loaded() -> None:
        while "loading" in screen_text(app):
            await pilot.pause(0.02)

    await asyncio.wait_for(loaded(), DEADLINE)
    await pilot.pause()


async def _help(pilot: Pilot[Any]) -> None:
    await _dashboard(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def _streams(pilot: Pilot[Any]) -> None:
    """The Streams pane, its counts made from the loaded job list."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    await asyncio.wait_for(app.poll_now("streams"), DEADLINE)
    await pilot.press("6")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["dashboard", "job_detail", "help", "streams"])
def test_screen_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                         redis_url: str, screen: str, size: tuple[int, int]) -> None:
    run_before = {"dashboard": _dashboard, "job_detail": _job_detail, "help": _help,
                  "streams": _streams}[screen]
    app = make_app(snap_sim.base_url, redis_url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _action_menu(pilot: Pilot[Any]) -> None:
    """The action menu on the first failed job, its justification not given yet."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    table = app.dashboard.jobs.table
    failed = next(row for row in app.view.rows_in(0, len(app.view)) if row.status == "ABEND")
    assert table.select_job(failed.job_id)
    table.focus()
    await pilot.press("A")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ConfirmActionScreen)
    # The engine's port is the simulator's, chosen per run: pinned like the Redis figures.
    screen.query_one("#action-engine", Static).update(
        Text("engine  http://127.0.0.1:31116 (as demo)", end=""))
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_action_menu_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                              redis_url: str, tmp_path: Path, size: tuple[int, int]) -> None:
    base = make_settings(snap_sim.base_url, redis_url)
    settings = base.replace(
        actions=dataclasses.replace(base.actions, enabled=True),
        audit=dataclasses.replace(base.audit, spool_dir=str(tmp_path)))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    assert snap_compare(app, terminal_size=size, run_before=_action_menu)


def _marked_for_bulk(app: ResyncApp) -> None:
    """Three jobs waiting for their time and one running job marked (that one is skipped)."""
    rows = app.view.rows_in(0, len(app.view))
    waiting = [r.job_id for r in rows if r.status == "HOLD"][:3]
    running = next(r.job_id for r in rows if r.status == "EXEC")
    app.dashboard.jobs.table.mark_jobs([*waiting, running])
    app.dashboard.jobs.update_jobs(app.view)


async def _bulk_menu(pilot: Pilot[Any]) -> None:
    """The bulk menu on four marked jobs: hold, one of them skipped, justification given."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    _marked_for_bulk(app)
    app.dashboard.jobs.table.focus()
    await pilot.pause()  # the marks drawn before the modal covers the table
    await pilot.press("A")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BulkActionScreen) and screen.action == "hold"
    screen.query_one("#action-engine", Static).update(
        Text("engine  http://127.0.0.1:31116 (as demo)", end=""))
    screen.query_one("#action-description", Input).value = "night freeze"
    await pilot.pause()


async def _bulk_results(pilot: Pilot[Any]) -> None:
    """The result list once the bulk hold of ``_bulk_menu`` has run."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _bulk_menu(pilot)
    await pilot.click("#action-send")
    await pilot.pause()
    workers = [w for w in app.workers if w.group == "actions"]
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), DEADLINE)
    screen = app.screen
    assert isinstance(screen, BulkProgressScreen) and screen.finished
    screen.query_one(Vertical).border_title = "hold on 3 jobs · http://127.0.0.1:31116 (as demo)"
    app.clear_notifications()
    await pilot.pause()


@pytest.fixture
def bulk_sim() -> Iterator[Simulator]:
    """The snapshot plan, private: a bulk action changes it for the tests that follow."""
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["menu", "results"])
def test_bulk_action_snapshot(snap_compare: Callable[..., bool], bulk_sim: Simulator,
                              redis_url: str, tmp_path: Path, screen: str,
                              size: tuple[int, int]) -> None:
    base = make_settings(bulk_sim.base_url, redis_url)
    settings = base.replace(
        actions=dataclasses.replace(base.actions, enabled=True),
        audit=dataclasses.replace(base.audit, spool_dir=str(tmp_path)))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    run_before = _bulk_menu if screen == "menu" else _bulk_results
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _audit_trail(spool: Path, pilot: Pilot[Any]) -> None:
    """The audit screen over a trail of fixed records (times, writer, latencies): done,
    refused with the engine's message, unknown, one with no outcome yet (streamed), and one
    still only in the spool (drawn from a fixed read: the app's drain would take it)."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    start = FROZEN.timestamp() - 600
    moments = itertools.count(start, 60)
    log = AuditLog(spool, app.runtime.redis, hwa_user="demo", engine="http://engine",
                   clock=lambda: next(moments))
    log.writer = Writer(host="jump-1", pid=4242, start_ns=1, os_user="alice")
    why = Justification("incident", "rerun after the disk was cleaned", "INC-4711")
    for job, action, outcome, latency in (
            (JobRef("WS1;JS1;LOAD", "LOAD_SALES", "NIGHTLY", "AGT_LIN_01"), "rerun",
             Outcome.done(200), 0.184),
            (JobRef("WS1;JS1;COPY", "COPY_CLAIMS_05", "ARCHIVE_003", "AGT_LIN_07"), "release",
             Outcome.refused(400, "job COPY_CLAIMS_05 is not held"), 0.042),
            (JobRef("WS2;JS2;KILL", "EXTRACT_GL", "FINANCE_EOD", "AGT_WIN_02"), "kill",
             Outcome.unknown("outcome unknown — check the job before trying again"), 30.0)):
        rid = await log.intent(action, job, justification=why)
        await log.outcome(rid, outcome, latency=latency)
    await log.intent("hold", JobRef("WS3;JS3;SEND", "SEND_FILES", "EDI_OUT", "AGT_LIN_03"),
                     justification=Justification("change", "hold for the vendor window", ""))
    await pilot.press("L")
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    screen.runner.interval = 3600.0  # nothing reads again while the picture is taken
    screen.runner.kick(refresh=False)
    await asyncio.wait_for(screen.runner.poll_once(), DEADLINE)
    read = screen.latest
    assert read is not None and len(read.rows) == 4
    spooled = dict(log.writer.make({
        "kind": "intent", "intent": None, "hwa_user": "demo", "engine": "http://engine",
        "job_id": "WS1;JS9;PAY", "job_name": "PAYROLL", "job_stream": "HR_WEEKLY",
        "workstation": "AGT_LIN_01", "action": "update-priority",
        "parameters": {"priority": 101}, "justification": Justification(
            "incident", "payroll must finish first", "INC-4712").as_dict(),
        "outcome": None, "latency": None}, clock_seconds=start + 1200), id="spooled-1")
    screen.show_state(msgspec.structs.replace(
        read, spool_records=1, stream_length=7,
        rows=(*rows_of((), [spooled]), *read.rows)))
    screen.table.move_cursor(row=0)
    for _ in range(3):  # the table measures its new rows when idle
        await pilot.pause(0.05)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_audit_screen_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                               redis_url: str, tmp_path: Path, size: tuple[int, int]) -> None:
    base = make_settings(snap_sim.base_url, redis_url)
    settings = base.replace(audit=dataclasses.replace(base.audit, spool_dir=str(tmp_path)))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    assert snap_compare(app, terminal_size=size,
                        run_before=partial(_audit_trail, tmp_path / "writer"))


@pytest.mark.parametrize("size", [(200, 60), (120, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_wall_mode_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                            redis_url: str, size: tuple[int, int]) -> None:
    """The NOC wall: band, four large figures, newest failures, side panes (rotating at
    120x30, where they do not all fit)."""
    app = make_app(snap_sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    assert snap_compare(app, terminal_size=size, run_before=_dashboard)


# -- states an operator must tell apart ---------------------------------------------------
# Each starts from the same frozen plan; the state is then made the way it happens (a
# fault, a wrong password, a breaker forced open, the clock moving on), never drawn.


FIXED_PORT = 29716
"""The engine URL is on screen when credentials are rejected: that snapshot's engine
listens on this port, so the picture is the same from run to run. Below the ephemeral
range (32768-60999), so no outgoing connection of another test can hold it."""


def _start_on_fixed_port(simulator: Simulator) -> None:
    """The previous holder of the port may still be closing it: a few tries, bounded."""
    for _ in range(50):
        try:
            simulator.start_in_thread("127.0.0.1", FIXED_PORT)
            return
        except OSError:
            time.sleep(0.1)
    simulator.start_in_thread("127.0.0.1", FIXED_PORT)  # the last try raises what it meets


@pytest.fixture
def state_sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """Like ``snap_sim``, but private: these tests break it (faults, credentials)."""
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    fixed = "credentials" in request.node.name
    with contextlib.ExitStack() as stack:
        if fixed:  # one test at a time on the fixed port, whatever the xdist worker
            lock = stack.enter_context(open(Path(tempfile.gettempdir()) / "resync-snap.lock",
                                            "w"))
            fcntl.flock(lock, fcntl.LOCK_EX)
        if fixed:
            _start_on_fixed_port(simulator)
        else:
            simulator.start_in_thread("127.0.0.1", 0)
        yield simulator
        simulator.stop()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _pin_breakers(app: ResyncApp) -> None:
    """Transition times come from this machine's clock: pinned to the frozen one."""
    state = app.dashboard.breakers.state
    assert state is not None
    rows = tuple(msgspec.structs.replace(row, last_transition=row.last_transition.rsplit(" ", 1)[0]
                                         + " 06:30:00") if row.last_transition else row
                 for row in state.rows)
    app.dashboard.breakers.state = msgspec.structs.replace(state, rows=rows)


async def _cursor_moved(pilot: Pilot[Any]) -> None:
    await _dashboard(pilot)
    await pilot.press("down", "down", "down")
    await pilot.pause()


async def _stale(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp) and isinstance(app.clock, SteppedClock)
    await _dashboard(pilot)
    app.clock.advance(stale_after(app.runners["jobs"].interval) + 1)
    app.dashboard.update_overall()
    await pilot.pause()


async def _after_engine_change(pilot: Pilot[Any]) -> None:
    """The engine changed (test set-up did it): the next engine polls see it."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await asyncio.wait_for(app.poll_now("engine", "jobs", "workstations"), DEADLINE)
    await asyncio.wait_for(app.poll_now("breakers", "cache"), DEADLINE)
    await asyncio.wait_for(app.audit_runner.wait_results(1), DEADLINE)
    _pin_redis(app)
    await pilot.pause()


async def _unreachable(simulator: Simulator, pilot: Pilot[Any]) -> None:
    """Data first, then the outage: the panes keep the last good data, marked stale."""
    await _dashboard(pilot)
    simulator.set_faults(Faults(outage="refused"))
    await _after_engine_change(pilot)


async def _degraded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    app.runtime.breakers.get("hwa_api").force_open()
    await asyncio.wait_for(app.poll_now("breakers"), DEADLINE)
    _pin_breakers(app)
    await pilot.pause()


STATES: list[tuple[str, tuple[int, int]]] = [
    ("cursor_moved", (80, 24)), ("cursor_moved", (200, 60)),
    ("stale", (80, 24)), ("stale", (200, 60)),
    ("engine_unreachable", (80, 24)), ("engine_unreachable", (200, 60)),
    ("credentials_rejected", (80, 24)), ("credentials_rejected", (200, 60)),
    ("degraded", (80, 24)), ("degraded", (200, 60)),
    ("no_data", (80, 24)),
    ("wall", (200, 60)),
    ("wall_stale", (200, 60)), ("wall_stale", (120, 30)),
]


@pytest.mark.parametrize(("state", "size"), STATES,
                         ids=[f"{state}-{w}x{h}" for state, (w, h) in STATES])
def test_state_snapshot(snap_compare: Callable[..., bool], state_sim: Simulator,
                        redis_url: str, state: str, size: tuple[int, int]) -> None:
    url = state_sim.base_url
    options: dict[str, Any] = {}
    run_before: Callable[[Pilot[Any]], Awaitable[None]] = _dashboard
    if state == "cursor_moved":
        run_before = _cursor_moved
    elif state == "stale":
        options["clock"] = SteppedClock()
        run_before = _stale
    elif state == "engine_unreachable":
        run_before = partial(_unreachable, state_sim)
    elif state == "credentials_rejected":
        options["password"] = "not-the-password"
    elif state == "degraded":
        run_before = _degraded
    elif state == "no_data":
        url = f"http://127.0.0.1:{_closed_port()}"  # the engine is down from the start
    elif state == "wall":
        options.update(wall=True, wall_rotate_seconds=0.0)
    elif state == "wall_stale":  # old data on a wall: greyed figures, grey band, STALE
        options.update(wall=True, wall_rotate_seconds=0.0, clock=SteppedClock())
        run_before = _stale
    app = make_app(url, redis_url, **options)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _bad_term(pilot: Pilot[Any]) -> None:
    """The filter line saying what is wrong with a term, every job still shown."""
    await _dashboard(pilot)
    await pilot.press("slash")
    pilot.app.query_one("#jobs-filter-input", Input).cursor_blink = False  # no flicker
    await pilot.press(*"group=failed colour=red")
    await pilot.pause()


async def _export_modal(pilot: Pilot[Any]) -> None:
    """The export modal over a filtered view (file name from the frozen clock)."""
    await _dashboard(pilot)
    await pilot.press("slash", *"group=failed", "enter", "e")
    await pilot.pause()
    pilot.app.screen.query_one("#export-path", Input).cursor_blink = False  # no flicker
    await pilot.pause()


@pytest.mark.parametrize("screen", ["bad_term", "export"])
def test_query_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                        redis_url: str, screen: str) -> None:
    run_before = {"bad_term": _bad_term, "export": _export_modal}[screen]
    app = make_app(snap_sim.base_url, redis_url)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# -- replay ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replay_file(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory,
                ) -> Recorded:
    return make_recording(redis_server, tmp_path_factory.mktemp("replay") / "minute.rec")


async def _replayed(pilot: Pilot[Any]) -> None:
    """Paused in the middle of the recording (the timeline's clock never moves)."""
    app = pilot.app
    assert isinstance(app, ReplayApp)
    await asyncio.wait_for(app.wait_for_data(app.recorded), DEADLINE)
    await pilot.press("space")
    assert app.moving is not None
    await asyncio.wait_for(app.moving.wait(), DEADLINE)
    assert app.dashboard.redis.audit is None, "a replay has no audit trail to show"
    _pin_redis(app, audit=False)
    await pilot.pause()


_WAITING_JOB = "0007000000000032"
"""CHECK_CUSTOMERS_05 of seed 7: HOLD, its chain runs three levels up to COPY_AUDIT_01 (ABEND)."""


async def _dependencies(pilot: Pilot[Any]) -> None:
    """The Dependencies tab of a waiting job, with ``w``'s root causes."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    row = app.view.get(_WAITING_JOB)
    assert row is not None
    screen = JobDetailScreen(row, app.loader)
    app.push_screen(screen)
    await pilot.pause()
    await pilot.press("w")
    deps = screen.query_one(DepsList)

    async def walked() -> None:
        while deps.report is None or not deps.nodes:
            await pilot.pause(0.02)

    await asyncio.wait_for(walked(), DEADLINE)
    deps.table.focus()
    await pilot.pause()


async def _critical(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
    await pilot.press("7")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_replay_snapshot(snap_compare: Callable[..., bool], replay_file: Recorded,
                         size: tuple[int, int]) -> None:
    recording = read_recording(replay_file.path)
    settings = make_settings("http://127.0.0.1:9/twsd", "unix:///nonexistent/replay.sock")
    app = ReplayApp(recording, settings, at=replay_file.moments[6].engine,
                    monotonic=lambda: 1000.0)
    assert snap_compare(app, terminal_size=size, run_before=_replayed)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["dependencies", "critical"])
def test_deps_and_critical_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                                    redis_url: str, screen: str,
                                    size: tuple[int, int]) -> None:
    run_before = {"dependencies": _dependencies, "critical": _critical}[screen]
    app = make_app(snap_sim.base_url, redis_url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture(scope="module")
def second_sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=80, seed=3, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


async def _engines_overview(pilot: Pilot[Any]) -> None:
    """Three engines: prod (shown) and test answer, dr refuses connections."""
    from resync_tui.ui.screens.engines import EnginesScreen

    app = pilot.app
    assert isinstance(app, ResyncApp)
    await asyncio.wait_for(app.engines_runner.wait_results(1), DEADLINE)
    await _dashboard(pilot)  # the breakers pane read after the engines' first counts
    await pilot.press("O")
    await asyncio.wait_for(app.engines_runner.wait_results(2), DEADLINE)
    screen = app.screen
    assert isinstance(screen, EnginesScreen) and screen.state is not None
    # The simulators' ports are chosen per run: pinned like the Redis figures.
    screen.show(msgspec.structs.replace(screen.state, engines=tuple(
        msgspec.structs.replace(e, url=f"https://{e.name}.example:31116")
        for e in screen.state.engines)))
    await pilot.pause()


async def _workstations(pilot: Pilot[Any]) -> None:
    """The Workstations pane (key 5): every workstation, its jobs counted from the job
    list (the pane polled again once the jobs are in)."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
    await pilot.press("5")
    await pilot.pause()


async def _workstation_menu(pilot: Pilot[Any]) -> None:
    """The action menu of the first workstation, its justification not given yet."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _workstations(pilot)
    await pilot.press("A")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ConfirmActionScreen)
    screen.query_one("#action-engine", Static).update(
        Text("engine  http://127.0.0.1:31116 (as demo)", end=""))
    await pilot.pause()


_ABEND_ROOT = "000700000000002E"
"""COPY_AUDIT_01 of seed 7: ABEND, the root cause of ``_WAITING_JOB``'s wait."""


async def _joblog(pilot: Pilot[Any]) -> None:
    """The root cause's log: opened at its end, the first error line chosen (``e``)."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await _dashboard(pilot)
    row = app.view.get(_ABEND_ROOT)
    assert row is not None and row.status == "ABEND"
    screen = JobDetailScreen(row, app.loader)
    app.push_screen(screen)
    await pilot.pause()
    await pilot.press("l")
    log = screen.query_one(JobLogView)

    async def loaded() -> None:
        while not log.line_count:
            await pilot.pause(0.02)

    await asyncio.wait_for(loaded(), DEADLINE)
    await pilot.pause()
    await pilot.press("e")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_engines_overview_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                                   second_sim: Simulator, redis_url: str,
                                   size: tuple[int, int]) -> None:
    from resync_tui.feeds.runtime import build_runtimes

    base = make_settings(snap_sim.base_url, redis_url)
    engines = {"prod": base.hwa,
               "test": dataclasses.replace(base.hwa, url=second_sim.base_url),
               "dr": dataclasses.replace(base.hwa, url="http://127.0.0.1:9")}
    settings = base.replace(engines=engines, engine="prod", hwa=engines["prod"])
    runtimes = build_runtimes(settings, clock=frozen_clock)
    app = ResyncApp(runtimes.get("prod"), settings, engines=runtimes)
    assert snap_compare(app, terminal_size=size, run_before=_engines_overview)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["pane", "menu"])
def test_workstations_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                               redis_url: str, tmp_path: Path, screen: str,
                               size: tuple[int, int]) -> None:
    base = make_settings(snap_sim.base_url, redis_url)
    settings = base.replace(
        actions=dataclasses.replace(base.actions, enabled=True),
        audit=dataclasses.replace(base.audit, spool_dir=str(tmp_path)))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    run_before = {"pane": _workstations, "menu": _workstation_menu}[screen]
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_joblog_snapshot(snap_compare: Callable[..., bool], snap_sim: Simulator,
                         redis_url: str, size: tuple[int, int]) -> None:
    app = make_app(snap_sim.base_url, redis_url)
    assert snap_compare(app, terminal_size=size, run_before=_joblog)
