""""New since you last looked": a job that fails after start gets ``●`` in the table's
gutter and the Jobs tab says ``●N new``, until the operator has seen it (its row on
screen with the terminal focused, opened, its alert acknowledged, ``N``) or it
recovers. What already failed at start is the baseline. Real simulator, real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events
from textual.pilot import Pilot
from textual.widgets import Tab

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.model import Job
from resync_tui.settings import AlertSettings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.alerts import AlertsScreen
from resync_tui.ui.screens.job_detail import JobDetailScreen
from resync_tui.ui.widgets.jobs_table import NEW_SYMBOL, JobsTable
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

SIZE = (100, 30)
"""Below the grid's size: panes are tabs, so the Jobs tab and its label are on screen."""
LOOKS = 1.6
"""Seconds of three looks (``LOOK_SECONDS`` 0.5): long enough to have cleared a seen row."""


def table_of(app: ResyncApp) -> JobsTable:
    return app.dashboard.jobs.table


def jobs_tab(app: ResyncApp) -> str:
    return str(app.dashboard.query_one("#tab-jobs", Tab).label)


def filter_line(app: ResyncApp) -> str:
    return str(app.dashboard.jobs.query_one("#jobs-filter-line").render())


def row_line(app: ResyncApp, job: Job | str) -> str:
    """The screen line of the job's row (its name is unique in the plan)."""
    name = job if isinstance(job, str) else job.name
    lines = [line for line in screen_text(app).splitlines() if f" {name} " in line]
    assert len(lines) == 1, lines
    return lines[0]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for the app to get there, failing (never hanging) past the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < end, f"never happened: {what}"
        await asyncio.sleep(0.05)


def calm_job(sim: Simulator, app: ResyncApp) -> Job:
    """A job ended well, not under the cursor (the cursor follows its job)."""
    cursor = table_of(app).cursor_job_id
    return next(j for j in sim.plan.jobs if j.status == "SUCC" and j.id != cursor)


async def fail_out_of_sight(app: ResyncApp, sim: Simulator, pilot: Pilot[None]) -> Job:
    """The cursor at the end of the list, then a job fails: it goes up among the
    failures at the top of the attention order, off screen."""
    table = table_of(app)
    table.action_cursor_end()
    await pilot.pause()
    job = calm_job(sim, app)
    sim.plan.set_status(job, "ABEND")
    await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
    await asyncio.sleep(0)
    position = table.view.position_of(job.id)
    assert position is not None and position < round(table.scroll_y)
    return job


async def test_a_job_failing_after_start_is_new_until_seen_on_screen_with_focus(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        # The plan's failures at start are the baseline: none is new.
        assert table.view.counts.get("ABEND", 0) > 0
        assert not table.new_jobs
        assert NEW_SYMBOL not in screen_text(app) and "new" not in jobs_tab(app)

        job = await fail_out_of_sight(app, sim, pilot)
        await pilot.pause()
        assert table.new_jobs == {job.id}
        assert "●1 new" in jobs_tab(app)
        assert "● 1 new" in filter_line(app)

        # On screen while the terminal is in another window: still new, and marked.
        app.post_message(events.AppBlur())
        await until(lambda: not app.app_focus, "the app lost focus")
        table.move_cursor(0)
        await pilot.pause()
        assert row_line(app, job).lstrip("│ ").startswith(NEW_SYMBOL)
        await asyncio.sleep(LOOKS)
        assert table.new_jobs == {job.id}

        # The operator comes back: the row is in sight a moment, then it is not new.
        app.post_message(events.AppFocus())
        await until(lambda: not table.new_jobs, "the row seen")
        await pilot.pause()
        assert "new" not in jobs_tab(app) and "new" not in filter_line(app)
        assert NEW_SYMBOL not in row_line(app, job)


async def test_out_of_sight_nothing_is_cleared(sim: Simulator, redis_url: str) -> None:
    """The terminal focused and the table on top are not enough: the row itself must
    have been on screen."""
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        job = await fail_out_of_sight(app, sim, pilot)
        await pilot.pause()
        # Out of sight, focused, for several looks: nothing is cleared.
        await asyncio.sleep(LOOKS)
        assert table.new_jobs == {job.id}


async def test_recovering_clears_the_mark(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        job = await fail_out_of_sight(app, sim, pilot)
        assert table.new_jobs == {job.id}
        sim.plan.set_status(job, "SUCC")  # rerun, ended well
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.pause()
        assert not table.new_jobs
        assert "new" not in jobs_tab(app) and "new" not in filter_line(app)


async def test_acknowledging_the_alert_clears_the_job(sim: Simulator, redis_url: str) -> None:
    rule = AlertSettings(name="failures", on="job_failed")
    settings = make_settings(sim.base_url, redis_url).replace(alerts=(rule,))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        other = next(j for j in sim.plan.jobs if j.status == "SUCC" and j.index > 100)
        job = await fail_out_of_sight(app, sim, pilot)
        sim.plan.set_status(other, "STUCK")  # new too, but no rule alerts on it
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.pause()
        assert table.new_jobs == {job.id, other.id}
        assert "●2 new" in jobs_tab(app)
        await pilot.press("exclamation_mark")
        await until(lambda: isinstance(app.screen, AlertsScreen), "the alerts screen")
        await pilot.press("a")
        await pilot.pause()
        # The failed job's alert is acknowledged: it is no longer new; the stuck one is.
        assert table.new_jobs == {other.id}
        await pilot.press("escape")
        await pilot.pause()
        assert "●1 new" in jobs_tab(app)


async def test_opening_the_job_or_the_key_clears(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        job = await fail_out_of_sight(app, sim, pilot)
        second = calm_job(sim, app)
        sim.plan.set_status(second, "FAIL")
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.pause()
        assert table.new_jobs == {job.id, second.id}
        # Opened (the terminal elsewhere: only the opening can have cleared it).
        app.post_message(events.AppBlur())
        await until(lambda: not app.app_focus, "the app lost focus")
        assert table.select_job(job.id)
        table.action_select_cursor()
        await until(lambda: isinstance(app.screen, JobDetailScreen), "the job's details")
        assert table.new_jobs == {second.id}
        await pilot.press("escape")
        await until(lambda: app.screen is app.dashboard, "back to the dashboard")
        table.action_cursor_end()
        await pilot.pause()
        await pilot.press("N")
        await pilot.pause()
        assert not table.new_jobs
        assert "new" not in jobs_tab(app)


async def test_a_marked_new_row_shows_both_symbols(sim: Simulator, redis_url: str) -> None:
    """Marks are set with actions enabled (``space``); the table keeps them either way."""
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        table = table_of(app)
        job = await fail_out_of_sight(app, sim, pilot)
        app.post_message(events.AppBlur())
        await until(lambda: not app.app_focus, "the app lost focus")
        table.move_cursor(0)
        marked_only = next(r for r in table.view.rows_in(0, 5) if r.job_id != job.id)
        table.mark_jobs([job.id, marked_only.job_id])
        await pilot.pause()
        assert row_line(app, job).lstrip("│ ").startswith("◆●")
        assert row_line(app, marked_only.job).lstrip("│ ").startswith("◆  ")
