"""Operator actions from the dashboard: read-only by default, one confirmation modal that
says what will be sent, Escape sends nothing, and the result is said in words.

Real simulator over HTTP and a real Redis; the simulator lists every action request it
received (``sim.actions()``), so "nothing was sent" is checked where it matters.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList

from resync_tui.audit import JobRef
from resync_tui.feeds.actions import UNKNOWN_ADVICE, ActionRequest, ActionResult
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.settings import Settings
from resync_tui.ui.app import ResyncApp, describe_action_result
from resync_tui.ui.keymap import effective_keys
from resync_tui.ui.screens.confirm_action import ConfirmActionScreen
from resync_tui.ui.screens.help import HelpScreen, help_text
from resync_tui.ui.screens.job_detail import JobDetailScreen
from tests.ui.dashboard_support import (
    DEADLINE,
    frozen_clock,
    make_settings,
    ready,
    screen_text,
    shown_on,
    sim,
)

__all__ = ["sim"]


def _settings(simulator: Simulator, redis_url: str, spool: Path, *, enabled: bool,
              require: tuple[str, ...] = ("description",)) -> Settings:
    base = make_settings(simulator.base_url, redis_url)
    return base.replace(
        actions=dataclasses.replace(base.actions, enabled=enabled, require=require),
        audit=dataclasses.replace(base.audit, spool_dir=str(spool)))


def _app(settings: Settings) -> ResyncApp:
    return ResyncApp(build_runtime(settings, clock=frozen_clock), settings)


def _job_with(app: ResyncApp, statuses: set[str]) -> str:
    for row in app.view.rows_in(0, len(app.view)):
        if row.status in statuses:
            return row.job_id
    raise AssertionError(f"no job in {statuses} in the plan")


async def _menu_on(pilot: Pilot[int], job_id: str) -> ConfirmActionScreen:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    table = app.dashboard.jobs.table
    assert table.select_job(job_id)
    table.focus()
    await pilot.press("A")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ConfirmActionScreen)
    return screen


async def _shown(pilot: Pilot[int], words: str) -> None:
    """``words`` are in the notification the operator is shown (Textual is pinned: its
    notification list is stable; the toast itself is drawn on a layer of its own)."""
    await pilot.pause()
    said = " ".join(n.message for n in pilot.app._notifications)
    assert words in said, said


async def _result(pilot: Pilot[int]) -> None:
    """Until the action sent from the modal has its result (bounded by the deadline)."""
    app = pilot.app
    assert isinstance(app, ResyncApp)
    await pilot.pause()
    sending = [w for w in app.workers if w.group == "actions"]
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in sending)), DEADLINE)
    assert app.last_action is not None, "nothing was sent"


async def test_read_only_by_default_the_key_sends_nothing_and_opens_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        app.dashboard.jobs.table.focus()
        await pilot.press("A")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert "Actions" not in screen_text(app)  # not in the footer either
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await _scroll_help_to(pilot, "Operator actions")
        assert "RESYNC_ACTIONS__ENABLED=true" in screen_text(app).replace("\n", "")
    assert sim.actions() == []


async def _scroll_help_to(pilot: Pilot[int], heading: str) -> None:
    """The help's section ``heading`` scrolled into view, as an operator scrolls to it."""
    from textual.widgets._markdown import MarkdownH2

    for block in pilot.app.screen.query(MarkdownH2):
        if heading in str(block._content):
            block.scroll_visible(animate=False, top=True)
            await pilot.pause()
            await pilot.pause()
            return
    raise AssertionError(f"no help section {heading!r}")


async def test_escape_in_the_modal_sends_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        screen = await _menu_on(pilot, _job_with(app, {"ABEND"}))
        screen.query_one("#action-description", Input).value = "about to change my mind"
        await pilot.pause()
        assert not screen.query_one("#action-send", Button).disabled
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        await _shown(pilot, "nothing sent")
    assert sim.actions() == []
    assert app.last_action is None


async def test_a_rerun_sends_one_request_with_its_justification_and_updates_the_row(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        job_id = _job_with(app, {"ABEND"})
        screen = await _menu_on(pilot, job_id)
        assert screen.action == "rerun"  # the first action an ABEND job allows
        text = screen_text(app)
        assert "ABEND" in text and sim.base_url in text
        screen.query_one("#action-category", Input).value = "ops"
        screen.query_one("#action-description", Input).value = "rerun after the fix"
        screen.query_one("#action-ticket", Input).value = "INC-42"
        await pilot.pause()
        await pilot.click("#action-send")
        await _result(pilot)
        await pilot.pause()
        result = app.last_action
        assert result is not None and result.result == "done", result
        sent = sim.actions()
        assert len(sent) == 1
        assert sent[0]["path"].endswith("/action/rerun")
        assert (sent[0]["content_type"] or "").startswith("application/json")
        assert sent[0]["body"] is not None
        assert sent[0]["headers"] == {"Justification-Category": "ops",
                                      "Justification-Description": "rerun after the fix",
                                      "Justification-Ticket-Num": "INC-42"}
        row = app.view.get(job_id)
        assert row is not None and row.status != "ABEND"
        assert result.job is not None and row.status == result.job.status
        await _shown(pilot, "done: rerun")
    assert len(sim.actions()) == 1  # the row came from the re-read, not a second action


async def test_a_missing_required_field_keeps_send_disabled_with_the_reason(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True,
                         require=("description", "ticket")))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        screen = await _menu_on(pilot, _job_with(app, {"ABEND"}))
        send = screen.query_one("#action-send", Button)
        assert send.disabled
        screen.query_one("#action-description", Input).value = "why"
        await pilot.pause()
        assert send.disabled
        assert "required: ticket" in screen_text(app)
        await pilot.click("#action-send")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmActionScreen)
        screen.query_one("#action-ticket", Input).value = "INC-1"
        await pilot.pause()
        assert not send.disabled
        await pilot.press("escape")
    assert sim.actions() == []


async def test_a_refused_action_shows_the_engines_message(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app)
        screen = await _menu_on(pilot, _job_with(app, {"HOLD"}))
        # Allowed by the menu (the status is HOLD); the engine knows nobody held it: it
        # waits for its time, and says so.
        screen.query_one("#action-list", OptionList).highlighted = 1  # release
        await pilot.pause()
        assert screen.action == "release"
        screen.query_one("#action-description", Input).value = "let it go"
        await pilot.pause()
        await pilot.click("#action-send")
        await _result(pilot)
        await pilot.pause()
        result = app.last_action
        assert result is not None and result.result == "refused", result
        assert len(sim.actions()) == 1
        await _shown(pilot, "refused (HTTP 400)")
        await _shown(pilot, "is not held (status HOLD)")


async def test_the_job_detail_screen_opens_the_same_menu_on_its_job(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        job_id = _job_with(app, {"EXEC"})
        assert app.dashboard.jobs.table.select_job(job_id)
        app.dashboard.jobs.table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfirmActionScreen) and screen.job.job_id == job_id
        options = screen.query_one("#action-list", OptionList)
        assert options.get_option("kill").disabled is False  # running: kill is offered
        assert options.get_option("rerun").disabled is True  # not finished
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
    assert sim.actions() == []


def test_the_help_names_the_action_key_when_enabled_and_how_to_enable_it_when_not() -> None:
    keys = effective_keys({"jobs.actions": "ctrl+a"})
    enabled = help_text(keys, actions=True)
    assert "`ctrl+a` on the job list" in enabled and "ENABLED=true" not in enabled
    disabled = help_text(keys, actions=False)
    assert "`[actions] enabled = true`" in disabled
    assert "`RESYNC_ACTIONS__ENABLED=true`" in disabled


async def test_update_priority_asks_the_value_and_sends_it(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        screen = await _menu_on(pilot, _job_with(app, {"HOLD"}))
        screen.query_one("#action-list", OptionList).highlighted = 8
        await pilot.pause()
        assert screen.action == "update-priority"
        screen.query_one("#action-description", Input).value = "urgent"
        await pilot.pause()
        assert screen.query_one("#action-send", Button).disabled  # no priority yet
        screen.query_one("#action-priority", Input).value = "101"
        await pilot.pause()
        assert "priority=101" in " ".join(screen_text(app).split())
        await pilot.click("#action-send")
        await _result(pilot)
        assert app.last_action is not None and app.last_action.result == "done"
    sent = sim.actions()
    assert len(sent) == 1 and "priority" in sent[0]["path"].lower() + str(sent[0]["body"])


def test_an_unanswered_action_is_said_to_be_unknown_not_failed() -> None:
    request = ActionRequest("J1", "kill", job=JobRef("J1", "PAYROLL\x1b[2J"))
    said = describe_action_result(ActionResult(request, "unknown", UNKNOWN_ADVICE))
    assert said.endswith(": outcome unknown — check the job before trying again")
    assert said.startswith("kill PAYROLL") and "\x1b" not in said  # the name made safe


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_what_the_operator_types_in_the_justification_is_on_screen(
        sim: Simulator, redis_url: str, tmp_path: Path, size: tuple[int, int]) -> None:
    """Focused, each justification field took its one line for a border (Textual's Input
    style on focus): what the operator typed did not show, at any size."""
    app = _app(_settings(sim, redis_url, tmp_path, enabled=True))
    async with app.run_test(size=size) as pilot:
        await ready(app)
        screen = await _menu_on(pilot, _job_with(app, {"ABEND"}))
        for field, typed in (("category", "opsteam"), ("description", "rerunafterfix"),
                             ("ticket", "INC4242")):
            screen.query_one(f"#action-{field}", Input).focus()
            await pilot.press(*typed)
            await pilot.pause()
            # On the field's own cells (the "will send" summary says it too).
            assert typed in shown_on(app, screen.query_one(f"#action-{field}", Input)), field
        await pilot.press("escape")
    assert sim.actions() == []
