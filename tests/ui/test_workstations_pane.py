"""The Workstations pane: every workstation, its jobs on Enter, its actions on ``A``.

Pilot over the real simulator (loopback HTTP) and a real redis-server (cache, audit).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList

from resync_tui.audit.stream import AuditStream
from resync_tui.feeds.actions import UNKNOWN_ADVICE
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.workstations import WorkstationRow, WorkstationsState
from resync_tui.hwa.simulator import Faults, Simulator, Workstation
from resync_tui.model.overall import stale_after
from resync_tui.settings import Settings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.confirm_action import WorkstationActionScreen
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane
from tests.ui.dashboard_support import (
    DEADLINE,
    FROZEN,
    SteppedClock,
    frozen_clock,
    make_settings,
    ready,
    screen_text,
    sim,
)

__all__ = ["sim"]


def _settings(simulator: Simulator, redis_url: str, spool: Path, *,
              enabled: bool) -> Settings:
    base = make_settings(simulator.base_url, redis_url)
    return base.replace(
        actions=dataclasses.replace(base.actions, enabled=enabled, require=("description",)),
        audit=dataclasses.replace(base.audit, spool_dir=str(spool)))


def _app(settings: Settings) -> ResyncApp:
    return ResyncApp(build_runtime(settings, clock=frozen_clock), settings)


def _pane(app: ResyncApp) -> WorkstationsPane:
    pane = app.dashboard.workstations
    assert isinstance(pane, WorkstationsPane)
    return pane


def _agent(sim: Simulator) -> Workstation:
    """A linked agent that has jobs in the plan; every workstation linked and running."""
    for ws in sim.plan.workstations:
        ws.linked = ws.running = True
    return next(ws for ws in sim.plan.workstations
                if ws.type == "AGENT" and any(j.workstation is ws for j in sim.plan.jobs))


async def _on(pilot: Pilot[int], name: str) -> WorkstationsPane:
    """The Workstations pane shown (key 5), its cursor on ``name``."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await pilot.press("5")
    await pilot.pause()
    pane = _pane(app)
    table = pane.table
    table.move_cursor(next(i for i, r in enumerate(table.rows) if r.name == name))
    table.focus()
    await pilot.pause()
    return pane


async def _result(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await pilot.pause()
    sending = [w for w in app.workers if w.group == "actions"]
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in sending)), DEADLINE)
    assert app.last_action is not None, "nothing was sent"


def _said(pilot: Pilot[int]) -> str:
    return " ".join(n.message for n in pilot.app._notifications)


async def _audit(redis_url: str) -> list[dict[str, Any]]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        return [r async for _, r in AuditStream(client).entries() if r is not None]
    finally:
        await client.aclose()


async def _send(pilot: Pilot[int], action: str, description: str = "agent patching") -> None:
    screen = pilot.app.screen
    assert isinstance(screen, WorkstationActionScreen)
    options = screen.query_one(OptionList)
    options.highlighted = screen.offered.index(action)
    await pilot.pause()
    screen.query_one("#action-description", Input).value = description
    await pilot.pause()
    send = screen.query_one("#action-send", Button)
    assert not send.disabled, str(screen.query_one("#action-why").render())
    send.press()
    await pilot.pause()


async def test_the_pane_lists_every_workstation_linked_ones_too_trouble_first(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    down = _agent(sim)
    down.linked = False
    app = _app(_settings(sim, redis_url, tmp_path, enabled=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        pane = await _on(pilot, down.name)
        names = [r.name for r in pane.table.rows]
        assert sorted(names) == sorted(ws.name for ws in sim.plan.workstations)
        assert names[0] == down.name  # the one in trouble first
        assert app.dashboard.tab_marks()["workstations"] == "✖1"  # the tab mark is kept
        text = screen_text(app)
        assert f"✖ {down.name}" in text and "✖ unlinked" in text
        assert "✔ linked" in text  # the healthy ones are listed, not only counted
        linked = next(ws for ws in sim.plan.workstations
                      if ws.type == "AGENT" and ws is not down)
        assert linked.name in text
        assert "✖ 1 of" in text and "not linked/running" in text
        await pilot.press("slash", *linked.name.lower())  # the filter, as you type
        await pilot.pause()
        assert [r.name for r in pane.table.rows] == [linked.name]
        assert f"“{linked.name.lower()}”: 1 shown" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(pane.table.rows) == len(sim.plan.workstations)
        await pilot.press("s")  # by name: the one in trouble takes its place among them
        await pilot.pause()
        assert [r.name for r in pane.table.rows] == sorted(names, key=str.lower)


async def test_enter_shows_the_workstations_jobs_through_the_ws_term(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    ws = _agent(sim)
    expected = {j.id for j in sim.plan.jobs if j.workstation is ws}
    app = _app(_settings(sim, redis_url, tmp_path, enabled=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        pane = await _on(pilot, ws.name)
        row = pane.table.cursor_workstation
        assert row is not None and row.job_total == len(expected)  # its jobs, counted
        await pilot.press("enter")
        await pilot.pause()
        assert app.dashboard.active_pane == "jobs"
        assert app.view.filter_text == f"ws={ws.name}"
        assert {r.job_id for r in app.view.rows_in(0, len(app.view))} == expected
        jobs_input = app.dashboard.jobs.query_one("#jobs-filter-input", Input)
        assert jobs_input.value == f"ws={ws.name}"  # shown and editable, Esc clears it


async def test_an_unlink_with_justification_is_audited_and_the_pane_shows_it_unlinked(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    ws = _agent(sim)
    app = _app(_settings(sim, redis_url, tmp_path / "spool", enabled=True))
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        pane = await _on(pilot, ws.name)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkstationActionScreen)
        menu = screen_text(app)
        assert ws.name in menu and "its jobs stop being launched" in menu  # dangerous
        assert "already linked" in menu  # link: disabled, with the reason
        await _send(pilot, "unlink")
        await _result(pilot)
        await pilot.pause()
        assert app.screen is app.dashboard
        assert f"done: unlink workstation {ws.name}" in _said(pilot)
        row = next(r for r in pane.table.rows if r.name == ws.name)
        assert row.linked == "unlinked"  # the poll right after the action shows it
        assert f"✖ {ws.name}" in screen_text(app)
    assert not ws.linked
    [sent] = sim.actions()
    assert sent["path"].endswith(f"/plan/workstation/{ws.id}/action/unlink")
    records = await _audit(redis_url)
    assert [(r["kind"], r["action"], r["job_id"]) for r in records] == [
        ("intent", "workstation-unlink", ws.id), ("outcome", "workstation-unlink", ws.id)]
    assert records[0]["justification"]["description"] == "agent patching"
    assert records[1]["outcome"]["result"] == "done"


async def test_fence_asks_its_value_and_sends_it(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    ws = _agent(sim)
    app = _app(_settings(sim, redis_url, tmp_path / "spool", enabled=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        pane = await _on(pilot, ws.name)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkstationActionScreen)
        screen.query_one(OptionList).highlighted = screen.offered.index("update-fence")
        screen.query_one("#action-description", Input).value = "hold the small jobs"
        await pilot.pause()
        assert screen.query_one("#action-send", Button).disabled  # no value yet
        screen.query_one("#action-priority", Input).value = "35"
        await pilot.pause()
        assert "fence=35" in screen_text(app)
        screen.query_one("#action-send", Button).press()
        await _result(pilot)
        await pilot.pause()
        assert next(r for r in pane.table.rows if r.name == ws.name).fence == 35
    assert ws.fence == 35
    [sent] = sim.actions()
    assert sent["query"] == {"priority": "35"}


async def test_read_only_the_key_opens_nothing_and_sends_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    ws = _agent(sim)
    app = _app(_settings(sim, redis_url, tmp_path / "spool", enabled=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await _on(pilot, ws.name)
        await pilot.press("A")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert "Actions" not in screen_text(app)  # not offered in the footer either
    assert sim.actions() == [] and ws.linked
    assert await _audit(redis_url) == []


async def test_an_unanswered_unlink_is_unknown_and_sent_once(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    ws = _agent(sim)
    settings = _settings(sim, redis_url, tmp_path / "spool", enabled=True)
    settings = settings.replace(hwa=dataclasses.replace(settings.hwa, read_timeout=1.0,
                                                        call_deadline=3.0))
    app = _app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        await _on(pilot, ws.name)
        await pilot.press("A")
        await pilot.pause()
        sim.set_faults(Faults(action_timeout=True))
        await _send(pilot, "unlink")
        await _result(pilot)
        assert app.last_action is not None and app.last_action.result == "unknown"
        assert UNKNOWN_ADVICE in _said(pilot)
    assert len(sim.actions()) == 1  # not retried
    records = await _audit(redis_url)
    assert [r["kind"] for r in records] == ["intent", "outcome"]
    assert records[1]["outcome"]["result"] == "unknown"


class _Host(App[None]):
    def __init__(self, pane: WorkstationsPane) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield self.pane


async def test_a_state_from_an_older_writer_shows_its_problems_not_an_empty_table() -> None:
    """A recording (or a shared-feed leader) from before the full list carries only the
    workstations in trouble: the pane lists those rather than nothing."""
    down = WorkstationRow("FTA_OLD_01", "FTA", ("INSTALLED",), "not linked or running")
    pane = WorkstationsPane(id="workstations")
    async with _Host(pane).run_test(size=(100, 12)) as pilot:
        pane.state = WorkstationsState(total=5, problems=(down,), health=FeedHealth(
            last_success=FROZEN, polls=1))
        await pilot.pause()
        assert [r.name for r in pane.table.rows] == ["FTA_OLD_01"]
        assert "✖ 1 of 5 not linked/running · 4 ok" in pane.text()


async def test_a_stale_pane_shows_no_green_check_on_any_row(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    _agent(sim)
    app = _app(_settings(sim, redis_url, tmp_path, enabled=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.press("5")
        await pilot.pause()
        assert "✔ linked" in screen_text(app)
        sim.set_faults(Faults(outage="refused"))
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "⚠ STALE, data from 06:30:00" in text
        assert "✔" not in text  # old data: the rows say "linked", without a green check
        assert "were linked and running at 06:30:00" in text


async def test_job_counts_from_an_old_job_list_say_so_beside_a_fresh_workstation_list(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    # Seen in tmux with slow bodies: the header and the Jobs pane said STALE while the
    # Workstations pane showed its job columns, counted from that old list, as current.
    clock = SteppedClock()
    settings = _settings(sim, redis_url, tmp_path, enabled=False)
    app = ResyncApp(build_runtime(settings, clock=clock), settings)
    async with app.run_test(size=(160, 24)) as pilot:
        await ready(app)
        await pilot.press("5")
        await pilot.pause()
        pane = _pane(app)
        assert "job counts" not in pane.text()
        # "reset", not "refused": a refused outage closes the port for every path (the
        # engine and workstation reads then answered only over a connection kept alive,
        # and a loaded CI run found none: ENGINE UNREACHABLE, rightly).
        sim.set_faults(Faults(outage="reset", paths=["/plan/job"]))
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        clock.advance(stale_after(app.runners["jobs"].interval) + 1)
        await asyncio.wait_for(app.poll_now("engine", "workstations"), DEADLINE)
        app.dashboard.update_overall()
        await pilot.pause()
        assert app.dashboard.header.overall.label == "STALE"
        assert not pane.stale  # its own list is fresh: no stale line, its check stays
        text = screen_text(app)
        assert "⚠ job counts from 06:30:00 (job list old)" in text
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        app.dashboard.update_overall()
        await pilot.pause()
        assert "job counts" not in screen_text(app)
