"""The Streams pane as an operator uses it: list, sort, filter, Enter to the stream's jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from resync_tui.feeds.streams import count_streams
from resync_tui.hwa.models import JobStreamInPlan, JobStreamRead
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.streams import StreamsView, build_stream_rows, stream_info_from_model
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.widgets.streams_pane import StreamsPane
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


async def _streams_shown(app: ResyncApp) -> StreamsPane:
    """Data in every pane, the stream counts made from the loaded job list."""
    await ready(app)
    await asyncio.wait_for(app.poll_now("streams"), DEADLINE)
    pane = app.dashboard.panes["streams"]
    assert isinstance(pane, StreamsPane)
    return pane


async def test_streams_tab_lists_every_stream_with_its_jobs_counted(
        sim: Simulator, redis_url: str) -> None:
    sim.tick(3 * 3600)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _streams_shown(app)
        await pilot.press("6")
        await pilot.pause()
        assert app.dashboard.active_pane == "streams" and pane.display
        assert not app.dashboard.jobs.display
        assert app.focused is pane.table
        view = pane.table.view
        plan = sim.plan
        assert view.total == len(plan.streams)
        for stream in plan.streams:
            row = view.get(stream.id)
            assert row is not None
            jobs = plan.jobs_of_stream(stream)
            assert row.jobs == len(jobs) == sum(row.counts)
            assert row.count("failed") == sum(1 for j in jobs if j.status in ("ABEND", "FAIL"))
        # Worst first: the first row holds a failed job, and the screen names it.
        first = view.row_at(0)
        assert first.count("failed") >= 1 and first.worst_status in ("ABEND", "FAIL")
        text = screen_text(app)
        assert first.name in text and "Worst job" in text
        assert f"{len(plan.streams)} of {len(plan.streams)} streams" in text


async def test_sort_filter_and_cursor_keys(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await _streams_shown(app)
        await pilot.press("6")
        table = pane.table
        names = sorted(s.name.lower() for s in sim.plan.streams)
        await pilot.press("s")  # attention order -> by stream name
        assert table.view.sort_column == "stream"
        assert table.view.row_at(0).name.lower() == names[0]
        assert table.cursor_row == 0
        await pilot.press("S")
        assert table.view.row_at(0).name.lower() == names[-1]
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("end")
        assert table.cursor_row == len(table.view) - 1
        await pilot.press("o")
        assert table.view.sort_column is None and table.cursor_row == 0
        target = sim.plan.streams[3].name
        await pilot.press("slash", *target.lower(), "enter")
        await pilot.pause()
        assert [r.name for r in table.view.rows_in(0, 99)] == [target]
        assert app.focused is table
        assert f"1 of {len(sim.plan.streams)} streams" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(table.view) == len(sim.plan.streams)


async def test_enter_shows_the_jobs_of_the_stream(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _streams_shown(app)
        await pilot.press("6")
        await pilot.press("down")
        row = pane.table.view.row_at(1)
        await pilot.press("enter")
        await pilot.pause()
        d = app.dashboard
        assert d.active_pane == "jobs" and d.jobs.display and not pane.display
        assert app.focused is d.jobs.table
        jobs = app.view.rows_in(0, len(app.view))
        expected = {j.id for j in sim.plan.jobs_of_stream(sim.plan.stream(row.stream_id))}
        assert {j.job_id for j in jobs} == expected
        assert all(j.stream == row.name for j in jobs)
        assert row.name.lower() in screen_text(app).lower()
        await pilot.press("escape")  # the filter is the jobs pane's own: Esc clears it
        await pilot.pause()
        assert len(app.view) == len(sim.plan.jobs)


async def test_enter_in_the_grid_swaps_the_main_pane(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(200, 60)) as pilot:
        pane = await _streams_shown(app)
        d = app.dashboard
        assert d.jobs.display and not pane.display  # the grid shows jobs by default
        await pilot.press("6")
        await pilot.pause()
        assert pane.display and not d.jobs.display and d.workstations.display
        await pilot.press("enter")
        await pilot.pause()
        assert d.jobs.display and not pane.display
        assert app.view.filter_text == f"stream={pane.table.view.row_at(0).name}"


async def test_a_failed_stream_read_keeps_the_rows_and_says_stale(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _streams_shown(app)
        await pilot.press("6")
        shown = pane.table.view.total
        sim.set_faults(Faults(error_rate=1.0, paths=["/plan/jobstream"]))
        await asyncio.wait_for(app.poll_now("streams"), DEADLINE)
        await pilot.pause()
        assert pane.stale and pane.table.view.total == shown
        text = screen_text(app)
        assert "⚠ STALE, data from" in text
        assert "Streams ⚠" in text  # the tab says it too


async def test_a_big_job_list_is_counted_off_the_loop_with_the_same_result() -> None:
    """Past 5,000 jobs the feed lists and counts in a worker thread: same rows as inline."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    streams = [JobStreamInPlan(id=f"S{i}", name=f"STREAM_{i:04d}") for i in range(700)]
    jobs = JobsView([JobRow(job_id=f"J{i}", stream=f"STREAM_{i % 701:04d}", job=f"JOB_{i}",
                            status=("SUCC", "ABEND", "HOLD", "EXEC")[i % 4])
                     for i in range(7000)], clock=lambda: now)
    view = StreamsView()
    counted = await count_streams(view, JobStreamRead(streams), jobs, now)
    assert counted == 7000
    inline = build_stream_rows([stream_info_from_model(s) for s in streams],
                               jobs.rows_in(0, len(jobs)), now)
    assert sorted(view.rows_in(0, len(view)), key=lambda r: r.stream_id) == sorted(
        inline, key=lambda r: r.stream_id)
