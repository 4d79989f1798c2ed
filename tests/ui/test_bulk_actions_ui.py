"""Marks, bulk actions and job stream actions from the dashboard, against the real
simulator over HTTP and a real Redis; ``sim.actions()`` lists what the engine received,
so "sent exactly N" and "nothing was sent" are checked where the engine sees them."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.settings import Settings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.keymap import effective_keys
from resync_tui.ui.screens.bulk_action import (
    BulkActionScreen,
    BulkProgressScreen,
    CountConfirmScreen,
)
from resync_tui.ui.screens.confirm_action import ConfirmActionScreen, StreamActionScreen
from resync_tui.ui.screens.help import help_text
from resync_tui.ui.screens.job_detail import JobDetailScreen
from resync_tui.ui.widgets.jobs_table import MARK_SYMBOL
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

HEADERS = {"Justification-Category": "ops", "Justification-Description": "night freeze",
           "Justification-Ticket-Num": "CHG-7"}


def _settings(simulator: Simulator, redis_url: str, spool: Path, *, enabled: bool = True,
              max_bulk: int = 500, **hwa: float) -> Settings:
    base = make_settings(simulator.base_url, redis_url)
    return base.replace(
        hwa=dataclasses.replace(base.hwa, **hwa),
        actions=dataclasses.replace(base.actions, enabled=enabled, max_bulk=max_bulk),
        audit=dataclasses.replace(base.audit, spool_dir=str(spool)))


def _app(settings: Settings) -> ResyncApp:
    return ResyncApp(build_runtime(settings, clock=frozen_clock), settings)


def _holdable(app: ResyncApp, n: int) -> list[str]:
    """``n`` jobs waiting (HOLD for their time), none held by an operator: holdable."""
    ids = [r.job_id for r in app.view.rows_in(0, len(app.view))
           if r.status == "HOLD" and r.substatus != "HOLD_PRIORITY_ZERO"]
    assert len(ids) >= n
    return ids[:n]


def _with(app: ResyncApp, status: str) -> str:
    return next(r.job_id for r in app.view.rows_in(0, len(app.view)) if r.status == status)


async def _mark(pilot: Pilot[int], job_ids: list[str]) -> None:
    app = pilot.app
    assert isinstance(app, ResyncApp)
    table = app.dashboard.jobs.table
    table.focus()
    for job_id in job_ids:
        assert table.select_job(job_id)
        await pilot.press("space")
    await pilot.pause()


async def _bulk_menu(pilot: Pilot[int], action: str = "hold") -> BulkActionScreen:
    await pilot.press("A")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BulkActionScreen)
    options = screen.query_one(OptionList)
    options.highlighted = options.get_option_index(action)
    await pilot.pause()
    assert screen.action == action
    for name, value in (("category", "ops"), ("description", "night freeze"),
                        ("ticket", "CHG-7")):
        screen.query_one(f"#action-{name}", Input).value = value
    await pilot.pause()
    return screen


async def _finished(pilot: Pilot[int]) -> BulkProgressScreen:
    """Until the bulk run has ended (bounded by the deadline)."""
    app = pilot.app
    await pilot.pause()
    workers = [w for w in app.workers if w.group == "actions"]
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), DEADLINE)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BulkProgressScreen) and screen.finished
    return screen


def _paths(simulator: Simulator) -> list[str]:
    return [a["path"].rsplit("/plan/", 1)[1] for a in simulator.actions()]


async def test_space_marks_and_moves_down_star_marks_the_filter_u_clears(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        table = app.dashboard.jobs.table
        table.focus()
        table.move_cursor(0)
        first = table.cursor_job_id
        assert MARK_SYMBOL not in screen_text(app)
        await pilot.press("space")
        await pilot.pause()
        assert table.marks == {first} and table.cursor_row == 1  # the cursor moved down
        text = screen_text(app)
        assert "1 marked" in text and MARK_SYMBOL in text
        await pilot.press("up", "space")  # unmarks the same job
        await pilot.pause()
        assert table.marks == set() and "marked" not in screen_text(app)
        await pilot.press("f")  # status group: failed
        await pilot.pause()
        failed = len(app.view)
        assert 0 < failed < app.view.total
        await pilot.press("asterisk")
        await pilot.pause()
        assert len(table.marks) == failed
        said = " ".join(n.message for n in app._notifications)
        assert f"marked {failed} more jobs of the current filter" in said
        await pilot.press("f")  # another filter: the marks stay
        await pilot.pause()
        assert len(table.marks) == failed and f"{failed} marked" in screen_text(app)
        await pilot.press("U")
        await pilot.pause()
        assert table.marks == set() and MARK_SYMBOL not in screen_text(app)
    assert sim.actions() == []


async def test_read_only_space_marks_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, enabled=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        app.dashboard.jobs.table.focus()
        await pilot.press("space", "asterisk")
        await pilot.pause()
        assert app.dashboard.jobs.table.marks == set()


async def test_a_marked_job_that_leaves_the_plan_is_unmarked(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        gone, stays = _holdable(app, 2)
        await _mark(pilot, [gone, stays])
        sim.plan.delete_job(gone)
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.pause()
        assert app.view.get(gone) is None
        assert app.dashboard.jobs.table.marks == {stays}
        assert "1 marked" in screen_text(app)


async def test_the_footer_keeps_quit_at_80_columns_with_actions_enabled(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        app.dashboard.jobs.table.focus()
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "A Actions" in footer and "q Quit" in footer, footer


async def test_a_bulk_hold_of_three_marked_jobs_sends_three_requests_and_says_each(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        ids = _holdable(app, 3)
        await _mark(pilot, ids)
        screen = await _bulk_menu(pilot)
        text = " ".join(screen_text(app).split())
        assert "will send: hold to 3 jobs" in text and sim.base_url in text
        await pilot.click("#action-send")
        progress = await _finished(pilot)
        assert sorted(_paths(sim)) == sorted(f"job/{i}/action/hold" for i in ids)
        assert all(a["headers"] == HEADERS for a in sim.actions())
        assert [line.split()[0] for line in progress.lines] == ["done"] * 3
        assert all("status now HOLD" in line for line in progress.lines)
        assert "3 of 3 · 3 done" in " ".join(screen_text(app).split())
        for job_id in ids:  # each row from its re-read: held by the operator now
            row = app.view.get(job_id)
            assert row is not None and row.substatus == "HOLD_PRIORITY_ZERO"
        assert app.dashboard.jobs.table.marks == set()  # done jobs are unmarked
        assert screen is not app.screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
    assert len(sim.actions()) == 3


async def test_a_job_whose_status_does_not_allow_it_is_listed_skipped_and_not_sent(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app)
        ids = _holdable(app, 2)
        running = _with(app, "EXEC")
        await _mark(pilot, [*ids, running])
        await _bulk_menu(pilot)
        text = " ".join(screen_text(app).split())
        assert "will send: hold to 2 jobs, one after the other (1 skipped, not sent)" in text
        assert "not sent: only waiting jobs not held yet" in text
        await pilot.click("#action-send")
        progress = await _finished(pilot)
        assert sorted(_paths(sim)) == sorted(f"job/{i}/action/hold" for i in ids)
        assert progress.lines[-1].startswith("skipped") and "only waiting" in progress.lines[-1]
        assert app.dashboard.jobs.table.marks == {running}


async def test_escape_in_the_bulk_menu_sends_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        await _mark(pilot, _holdable(app, 3))
        await _bulk_menu(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert len(app.dashboard.jobs.table.marks) == 3
    assert sim.actions() == [] and app.last_bulk is None


async def test_above_max_bulk_the_count_is_typed_and_escape_there_sends_nothing(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, max_bulk=2))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        ids = _holdable(app, 3)
        await _mark(pilot, ids)
        await _bulk_menu(pilot)
        assert "above actions.max_bulk (2)" in " ".join(screen_text(app).split())
        await pilot.click("#action-send")
        await pilot.pause()
        assert isinstance(app.screen, CountConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BulkActionScreen)
        assert sim.actions() == []
        assert "count not confirmed: nothing sent" in screen_text(app)
        await pilot.click("#action-send")
        await pilot.pause()
        assert isinstance(app.screen, CountConfirmScreen)
        await pilot.press("2", "enter")  # not the count: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, CountConfirmScreen) and sim.actions() == []
        app.screen.query_one(Input).value = ""
        await pilot.press("3", "enter")
        await _finished(pilot)
    assert len(sim.actions()) == 3


async def test_stop_mid_way_sends_no_more_and_keeps_what_was_sent(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        ids = _holdable(app, 8)
        await _mark(pilot, ids)
        await _bulk_menu(pilot)
        sim.set_faults(Faults(latency=0.3))  # each job takes a while: time to press Esc
        await pilot.click("#action-send")
        await pilot.pause()
        progress = app.screen
        assert isinstance(progress, BulkProgressScreen)
        async with asyncio.timeout(DEADLINE):
            while not progress.lines:
                await pilot.pause(0.05)
        await pilot.press("escape")  # stop sending
        await _finished(pilot)
        run = app.last_bulk
        assert run is not None and run.cancelled
        sent = len(sim.actions())
        assert sent == len(run.results) < len(ids)
        assert any("cancelled by the operator" in line for line in progress.lines)
        assert f"{len(ids) - sent} not sent" in " ".join(progress.lines)
        assert len(app.dashboard.jobs.table.marks) == len(ids) - sent
    assert len(sim.actions()) == sent


async def test_a_timeout_on_one_job_is_unknown_and_the_rest_are_sent(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path, read_timeout=1.0, call_deadline=3.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        ids = _holdable(app, 3)
        await _mark(pilot, ids)
        await _bulk_menu(pilot)
        sim.set_faults(Faults(action_timeout=True, paths=[f"/plan/job/{ids[1]}/action/"]))
        await pilot.click("#action-send")
        progress = await _finished(pilot)
        outcomes = {line.split()[0] for line in progress.lines if ids[1] not in line}
        assert [line.split()[0] for line in progress.lines].count("unknown") == 1
        assert "outcome unknown — check the job before trying again" in " ".join(progress.lines)
        assert outcomes == {"done", "unknown"}
        assert len(sim.actions()) == 3  # never retried
        assert app.dashboard.jobs.table.marks == {ids[1]}  # the unknown one stays marked


async def test_a_stream_hold_from_the_job_detail_holds_the_stream(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        job_id = _holdable(app, 1)[0]
        stream = sim.plan.job(job_id).stream
        assert not stream.held
        table = app.dashboard.jobs.table
        assert table.select_job(job_id)
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("J")
        async with asyncio.timeout(DEADLINE):
            while not isinstance(app.screen, StreamActionScreen):
                await pilot.pause(0.05)
        screen = app.screen
        assert screen.action == "hold" and stream.id in screen_text(app)
        screen.query_one("#action-description", Input).value = "freeze the stream"
        await pilot.pause()
        await pilot.click("#action-send")
        await pilot.pause()
        workers = [w for w in app.workers if w.group == "actions"]
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), DEADLINE)
        await pilot.pause()
        assert sim.plan.stream(stream.id).held
        [sent] = sim.actions()
        assert sent["path"].endswith(f"/plan/jobstream/{stream.id}/action/hold")
        assert app.last_action is not None and app.last_action.result == "done"
        assert isinstance(app.screen, JobDetailScreen)
        # The job was held with its stream: the title says so (HOLD before too, so the
        # row's substatus is what changed).
        row = app.view.get(job_id)
        assert row is not None and row.substatus == "HOLD_PRIORITY_ZERO"
        assert app.screen.job == row


async def test_after_an_action_from_the_job_detail_its_title_shows_the_new_status(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        job_id = _with(app, "EXEC")
        table = app.dashboard.jobs.table
        assert table.select_job(job_id)
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        title = screen_text(app).splitlines()[0]
        assert "EXEC" in title
        await pilot.press("A")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, ConfirmActionScreen)
        menu.query_one(OptionList).highlighted = menu.offered.index("kill")
        menu.query_one("#action-description", Input).value = "runaway"
        await pilot.pause()
        assert not menu.query_one("#action-send", Button).disabled
        await pilot.click("#action-send")
        await pilot.pause()
        workers = [w for w in app.workers if w.group == "actions"]
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), DEADLINE)
        await pilot.pause()
        assert app.last_action is not None and app.last_action.result == "done"
        assert isinstance(app.screen, JobDetailScreen)
        title = screen_text(app).splitlines()[0]
        assert "ABEND" in title and "EXEC" not in title, title


def test_the_help_names_the_mark_bulk_and_stream_keys_as_mapped() -> None:
    keys = effective_keys({"jobs.mark": "m", "job_detail.stream_actions": "ctrl+j"})
    text = help_text(keys, actions=True)
    assert "`m` marks / unmarks the cursor's job" in text
    assert "`*` marks every job of the current filter" in text
    assert "`U` clears the marks" in text and "`ctrl+j` in job details: hold" in text
    assert "`Esc` stops sending" in text
    assert "marks" not in help_text(keys, actions=False)


async def test_what_the_operator_types_in_the_bulk_justification_is_on_screen(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    """As in the one-job menu: a focused field took its line for a border, hiding what
    was typed."""
    app = _app(_settings(sim, redis_url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await _mark(pilot, _holdable(app, 2))
        screen = await _bulk_menu(pilot)
        screen.query_one("#action-description", Input).focus()
        await pilot.press(*"freezeforpatch")
        await pilot.pause()
        # On the field's own cells (the "will send" summary says it too).
        assert "freezeforpatch" in shown_on(app, screen.query_one("#action-description", Input))
        await pilot.press("escape")
    assert sim.actions() == []
