"""The Critical pane against the simulator: jobs with a deadline or critical flag, past due
first then by slack, on the engine's clock (a SteppedClock moves it without sleeping)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from resync_tui.feeds.critical import CriticalState
from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.widgets.critical_pane import CriticalPane, format_slack
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, screen_text, sim

__all__ = ["sim"]


def watched(sim: Simulator) -> dict[str, float]:
    """Job id -> plan-clock deadline of every job the simulator gave one (not done)."""
    return {j.id: j.deadline for j in sim.plan.jobs
            if j.deadline is not None and j.status not in ("SUCC", "CANCL")}


async def test_past_deadline_first_then_by_slack_on_the_engine_clock(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.press("7")
        await pilot.pause()
        pane = app.dashboard.panes["critical"]
        assert isinstance(pane, CriticalPane) and pane.display
        state = pane.state
        assert isinstance(state, CriticalState) and state.now == clock()
        deadlines = watched(sim)
        shown = {e.row.job_id for e in state.rows if e.row.deadline is not None}
        assert set(deadlines) <= shown  # every open deadline of the plan is watched
        slacks = [e.slack for e in state.rows if e.slack is not None]
        assert slacks == sorted(slacks)
        missed = [e for e in state.rows if e.missed]
        assert missed and state.rows[: len(missed)] == tuple(missed)  # past due first
        text = screen_text(app)
        assert f"✖ {len(missed)} past due" in text
        first = state.rows[0]
        assert first.row.job in text and format_slack(first.slack) in text

        # Move the engine's clock past the nearest upcoming deadline: it joins the missed.
        upcoming = next(e for e in state.rows if not e.missed and e.slack is not None)
        assert upcoming.slack is not None
        clock.advance(upcoming.slack.total_seconds() + 60)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.pause()
        after = pane.state
        assert isinstance(after, CriticalState)
        moved = next(e for e in after.rows if e.row.job_id == upcoming.row.job_id)
        assert moved.missed and moved.slack == timedelta(seconds=-60)
        assert after.missed == len(missed) + 1
        assert f"✖ {after.missed} past due" in screen_text(app)


async def test_on_a_failed_job_read_the_critical_view_says_its_data_is_old(
        sim: Simulator, redis_url: str) -> None:
    """It is made from the job list: when that read fails, it must not look fresh."""
    from resync_tui.hwa.simulator import Faults

    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.press("7")
        await pilot.pause()
        assert "STALE" not in screen_text(app)
        sim.set_faults(Faults(outage="reset"))
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.pause()
        pane = app.dashboard.panes["critical"]
        assert isinstance(pane.state, CriticalState) and not pane.state.health.ok
        text = screen_text(app)
        assert "⚠ STALE, data from 06:30:00" in text
        assert app.dashboard.tab_marks()["critical"].startswith("⚠")


async def test_enter_opens_the_cursor_jobs_detail_and_esc_comes_back(
        sim: Simulator, redis_url: str) -> None:
    """At 80x24 the pane is a tab: ``7``, move the cursor, Enter opens that job."""
    from resync_tui.ui.screens.job_detail import JobDetailScreen

    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.press("7")
        await pilot.pause()
        pane = app.dashboard.panes["critical"]
        assert isinstance(pane, CriticalPane) and app.focused is pane
        state = pane.state
        assert isinstance(state, CriticalState) and len(state.rows) > 3
        await pilot.press("down", "down")
        await pilot.pause()
        chosen = state.rows[2].row
        assert pane.cursor_entry is not None and pane.cursor_entry.row == chosen
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobDetailScreen) and screen.job.job_id == chosen.job_id
        assert chosen.job in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard and app.focused is pane
        assert pane.cursor_entry is not None and pane.cursor_entry.row.job_id == chosen.job_id


async def test_the_cursor_stays_on_its_job_and_the_list_scrolls_to_it(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(80, 14)) as pilot:  # fewer lines than watched jobs
        await ready(app)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.press("7")
        await pilot.pause()
        pane = app.dashboard.panes["critical"]
        assert isinstance(pane, CriticalPane)
        state = pane.state
        assert isinstance(state, CriticalState)
        await pilot.press("end")
        await pilot.pause()
        last = state.rows[-1].row
        assert pane.cursor == len(state.rows) - 1
        assert last.job in screen_text(app)  # scrolled down to it
        text = screen_text(app)
        assert " above" in text and state.rows[0].row.job not in text  # the top scrolled off
        # The engine's clock moves: the order may change, the cursor keeps its job.
        clock.advance(3600)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        await pilot.pause()
        entry = pane.cursor_entry
        assert entry is not None and entry.row.job_id == last.job_id
        await pilot.press("home")
        await pilot.pause()
        assert pane.cursor == 0
