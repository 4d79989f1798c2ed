"""``l`` in the job table: the cursor job's log at once (its details opened on the Log tab),
read from the simulator over HTTP; on a job with no run, the Log tab says so."""

from __future__ import annotations

import asyncio

from textual.widgets import TabbedContent

from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.screens.job_detail import JobDetailScreen, JobLogView
from tests.ui.dashboard_support import DEADLINE, make_app, ready, sim

__all__ = ["sim"]


async def test_l_opens_the_cursor_jobs_log(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app)
        table = app.dashboard.jobs.table
        job = next(r for r in app.view.rows_in(0, len(app.view))
                   if r.status == "ABEND" and r.run_id)
        assert table.select_job(job.job_id)
        table.focus()
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobDetailScreen) and screen.job.job_id == job.job_id
        log = screen.query_one(JobLogView)
        for _ in range(int(DEADLINE / 0.05)):  # the log arrives from the engine
            await pilot.pause(0.05)
            if log.line_count:
                break
        assert screen.query_one(TabbedContent).active == "tab-log"
        assert log.line_count > 0 and app.focused is log
        await pilot.press("escape")
        await asyncio.wait_for(pilot.pause(), DEADLINE)
        assert app.screen is app.dashboard
