"""The audit trail in the TUI: the audit screen (L), the trail's health in the Redis pane
and the header, and the drain worker that empties the spool once Redis is back.

Real simulator over HTTP, a real redis-server (stopped and started again for the
outage), the app's own ActionService writing the records.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.widgets import Input

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
from resync_tui.audit.record import Writer
from resync_tui.feeds.actions import ActionRequest
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Settings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.audit import AuditScreen
from tests.ui.dashboard_support import (
    DEADLINE,
    frozen_clock,
    make_settings,
    ready,
    screen_text,
    sim,
)

__all__ = ["sim"]

HOSTILE = "\x1b[2J\x1b]0;owned\x07[bold red]markup[/] \x1b[31mred"


def _settings(simulator: Simulator, redis_url: str, spool: Path) -> Settings:
    base = make_settings(simulator.base_url, redis_url)
    return base.replace(
        actions=dataclasses.replace(base.actions, enabled=True),
        audit=dataclasses.replace(base.audit, spool_dir=str(spool)))


def _app(settings: Settings) -> ResyncApp:
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    app.audit_drain_interval = 0.2  # the worker drains by itself; tests never sleep on it
    return app


def _jobs(app: ResyncApp, count: int) -> list[str]:
    rows = [row for row in app.view.rows_in(0, len(app.view)) if row.status == "HOLD"]
    assert len(rows) >= count, "the plan has too few held jobs"
    return [row.job_id for row in rows[:count]]


async def _release(app: ResyncApp, job_id: str, why: str) -> None:
    assert app.actions is not None
    result = await asyncio.wait_for(app.actions.perform(
        ActionRequest(job_id, "hold", Justification("change", why, "CHG-7"))), DEADLINE)
    assert result.sent, result


async def _open_audit(app: ResyncApp, press: Callable[[str], Awaitable[None]]) -> AuditScreen:
    await press("L")
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    await asyncio.wait_for(screen.runner.poll_once(), DEADLINE)
    await press("")  # let it draw
    return screen


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Until ``condition`` holds (the drain worker runs on its own), bounded."""
    async def wait() -> None:
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), DEADLINE)


async def test_audit_screen_lists_actions_newest_first_filters_and_follows(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path / "spool"))
    async with app.run_test(size=(200, 60)) as pilot:
        async def press(key: str) -> None:
            if key:
                await pilot.press(key)
            await pilot.pause()

        await ready(app)
        first, second, third, fourth = _jobs(app, 4)
        await _release(app, first, "night batch unblocked")
        await _release(app, second, "vendor file arrived")
        screen = await _open_audit(app, press)
        rows = screen.visible_rows()
        assert len(rows) == 2
        names = [row.job for row in (app.view.get(second), app.view.get(first))
                 if row is not None]
        assert len(names) == 2
        text = screen_text(app)
        assert text.index("vendor file arrived") < text.index("night batch unblocked")
        assert all(name in text for name in names)
        assert "✔ done" in text and "hold" in text and "CHG-7" in text
        assert rows[0][0] == "" and "Redis DOWN" not in text  # in Redis: not spooled

        # "/" filters as you type: only the rows with that text stay.
        await press("slash")
        for key in "vendor":
            await pilot.press(key)
        await press("enter")
        text = screen_text(app)
        assert "vendor file arrived" in text and "night batch unblocked" not in text
        assert "1 of 2 actions" in text

        # Esc in the filter clears it; the rows are back.
        await press("slash")
        await press("escape")
        assert screen.query_one("#audit-filter", Input).value == ""
        assert len(screen.visible_rows()) == 2

        # Following: a new action shows at the next read, at the top.
        await _release(app, third, "third one")
        await asyncio.wait_for(screen.runner.poll_once(), DEADLINE)
        await press("")
        assert "third one" in screen.visible_rows()[0][-1]
        # f stops following: the next action is counted, not shown, until f again.
        await press("f")
        await _release(app, fourth, "fourth one")
        await asyncio.wait_for(screen.runner.poll_once(), DEADLINE)
        await press("")
        text = screen_text(app)
        assert "fourth one" not in text and "1 new (f follows)" in text
        await press("f")
        assert "fourth one" in screen_text(app)

        await press("escape")
        assert not isinstance(app.screen, AuditScreen)


async def test_hostile_text_in_a_record_shows_as_plain_text(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    """A record written by anyone who can reach the stream: escape sequences and Rich
    markup in it are shown harmlessly (no escape reaches the terminal, markup literal)."""
    app = _app(_settings(sim, redis_url, tmp_path / "spool"))
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        other = AuditLog(tmp_path / "other-spool", app.runtime.redis)
        rid = await other.intent("kill", JobRef("X", f"JOB{HOSTILE}", "JS", "WS"),
                                 justification=Justification(description=f"why {HOSTILE}"))
        await other.outcome(rid, Outcome.refused(409, f"engine says {HOSTILE}"))

        async def press(key: str) -> None:
            if key:
                await pilot.press(key)
            await pilot.pause()

        screen = await _open_audit(app, press)
        (cells,) = screen.visible_rows()
        assert all("\x1b" not in cell and "\x07" not in cell for cell in cells)
        text = screen_text(app)
        assert "[bold red]markup[/]" in text  # literal: not parsed as markup
        assert "✖ refused HTTP 409: engine says" in text
        assert "\x1b" not in "".join(str(screen.table.get_row_at(0)))


async def test_redis_down_spool_shows_in_pane_header_and_screen_then_drains(
        sim: Simulator, redis_url: str, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Redis killed: the actions' records wait in the spool and every view says so; Redis
    back: the app's drain worker sends them and the figures go back to 0."""
    app = _app(_settings(sim, redis_url, tmp_path / "spool"))
    async with app.run_test(size=(200, 60)) as pilot:
        async def press(key: str) -> None:
            if key:
                await pilot.press(key)
            await pilot.pause()

        await ready(app)
        await asyncio.wait_for(app.audit_runner.poll_once(), DEADLINE)
        await press("")
        assert "audit: 0 in stream · no record yet · spool 0" in screen_text(app)
        (job,) = _jobs(app, 1)
        redis_server.stop()
        await _release(app, job, "during the outage")
        await asyncio.wait_for(app.audit_runner.poll_once(), DEADLINE)
        await press("")
        text = screen_text(app)
        assert "⚠ audit: 2 spooled, not in Redis yet" in text
        assert "audit: 2 spooled" in text.splitlines()[0]  # the header says it too
        assert "drain failing" in text
        assert app.runtime.metrics.registry.get_sample_value(
            "resync_audit_spool_records") == 2

        screen = await _open_audit(app, press)
        text = screen_text(app)
        assert "Redis DOWN" in text and "2 spooled" in text
        (cells,) = screen.visible_rows()
        assert "during the outage" in " ".join(cells) and cells[0] == "spooled"
        await press("escape")

        redis_server.start()

        async def drained() -> bool:
            await app.audit_runner.poll_once()  # sees Redis answer: wakes the drain worker
            return app.audit_log.spool_records == 0 and app.audit_log.last_error == ""

        await _until(drained)
        await asyncio.wait_for(app.audit_runner.poll_once(), DEADLINE)
        await press("")
        text = screen_text(app)
        assert "spooled" not in text and "drain failing" not in text
        assert "audit: 2 in stream · last write" in text and "spool 0" in text
        assert "audit:" not in text.splitlines()[0]
        assert app.runtime.metrics.registry.get_sample_value(
            "resync_audit_spool_records") == 0


async def test_read_only_dashboard_drains_what_act_left_in_the_spool(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    """Actions off: the app still runs the drain worker, so records another process (a
    ``resync-tui act`` with no Redis) left in the shared spool reach the stream."""
    spool = tmp_path / "spool"
    left = AuditLog(spool, None)
    left.writer = Writer(host="jump-2", pid=1, start_ns=1, os_user="bob")
    rid = await left.intent("hold", JobRef("J9", "NIGHTLY", "JS9", "WS9"),
                            justification=Justification(description="from a shell"))
    await left.outcome(rid, Outcome.done(200), latency=0.05)
    base = _settings(sim, redis_url, spool)
    settings = base.replace(actions=dataclasses.replace(base.actions, enabled=False))
    app = _app(settings)
    assert app.actions is None
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)

        async def in_stream() -> bool:
            return int(await app.runtime.redis.xlen(settings.audit.stream)) == 2

        await _until(in_stream)
        await pilot.press("L")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await asyncio.wait_for(screen.runner.poll_once(), DEADLINE)
        await pilot.pause()
        (cells,) = screen.visible_rows()
        assert "bob@jump-2" in cells and "JS9.NIGHTLY @ WS9" in cells
        assert cells[0] == ""  # in Redis now, not spooled
