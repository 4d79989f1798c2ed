"""What an operator hit in QA: 80-column footer and counts, wide columns, NO DATA, cache."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import Log

from resync_tui.feeds.detail import RuntimeDetailLoader
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.status import FAILED_STATUSES
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.ui.screens.job_detail import JobDetailScreen
from resync_tui.ui.widgets.jobs_table import layout_columns, short_substatus
from resync_tui.ui.widgets.status_counts import StatusCounts
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


def _lines(text: str) -> list[str]:
    return text.splitlines()


async def test_80x24_footer_keeps_help_pause_and_quit(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.pause()
        footer = _lines(screen_text(app))[-1]
        for hint in ("? Help", "p Pause", "q Quit", "/ Filter", "Open"):
            assert hint in footer, footer


async def test_80x24_counts_stay_on_one_line_and_show_every_failure(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.pause()
        counts = app.dashboard.jobs.counts
        assert counts.size.height == 1
        line = str(counts.render())
        assert len(line) <= counts.content_region.width
        for status in FAILED_STATUSES:
            if app.view.counts.get(status, 0):
                assert f"{status} {app.view.counts[status]:,}" in line, line


async def test_counts_narrow_never_drop_failures() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusCounts()

    app = Host()
    async with app.run_test(size=(44, 5)) as pilot:
        widget = app.query_one(StatusCounts)
        widget.set_counts({"ABEND": 1_234, "FAIL": 56, "ERROR": 7, "STUCK": 3, "EXEC": 900,
                           "READY": 12_000, "HOLD": 150_000, "SUCC": 180_112})
        await pilot.pause()
        line = str(widget.render())
        assert len(line) <= 42
        for figure in ("ABEND 1,234", "FAIL 56", "ERROR 7"):
            assert figure in line, line
        widget.set_counts({"SUCC": 10})  # no failures at all: one explicit zero stays
        await pilot.pause()
        assert "ABEND 0" in str(widget.render())


async def test_80x24_header_still_says_paused(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.press("p")
        await pilot.pause()
        header = _lines(screen_text(app))[0]
        assert "PAUSED" in header and "OK" in header, header


def test_wide_tables_give_spare_width_to_job_and_stream_names() -> None:
    for width in (128, 168, 298):
        widths = {column.spec.name: column.width for column in layout_columns(width)}
        assert widths["job"] >= 30 and widths["stream"] >= 16  # HWA stream names: 16
        assert sum(widths.values()) + len(widths) - 1 <= width
    # 80 columns: the start time gives way so that names are readable; RC stays.
    narrow = {column.spec.name: column.width for column in layout_columns(78)}
    assert "started" not in narrow and "info" in narrow and narrow["job"] >= 18


async def test_engine_down_at_start_says_no_data_not_zero_failures(
        sim: Simulator, redis_url: str) -> None:
    sim.set_faults(Faults(outage="refused"))
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.wait_for_data(["engine", "jobs"]), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "job counts unknown" in text
        assert "ABEND 0" not in text
        assert "⚠ NO DATA" in text
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("engine", "jobs"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert "job counts unknown" not in text and "ABEND" in text
        assert app.dashboard.jobs.stale_reason is None  # the marker is gone


async def test_cache_pane_says_what_it_serves_and_counts_lookups(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        text = screen_text(app)
        assert "lookups hit" in text
        assert "Job status is never cached" in text  # one line says what is never cached


async def test_a_finished_job_log_is_served_by_the_cache_when_the_engine_is_down(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)
        finished = next(row for row in (app.view.row_at(i) for i in range(len(app.view)))
                        if row.status in FAILED_STATUSES and row.run_id)
        loader = RuntimeDetailLoader(app.runtime)
        await asyncio.wait_for(loader.job(finished.job_id), DEADLINE)
        assert finished.run_id is not None
        first = await asyncio.wait_for(loader.job_log(finished.run_id), DEADLINE)
        assert first
        sim.set_faults(Faults(outage="refused"))
        again = await asyncio.wait_for(loader.job_log(finished.run_id), DEADLINE)
        assert again == first


async def test_job_detail_title_stays_on_screen_with_a_long_log(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        row = app.view.row_at(0)
        await pilot.press("enter")
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("l")

        async def loaded() -> None:
            while app.screen.query_one("#job-detail-log", Log).line_count == 0:
                await pilot.pause(0.05)

        await asyncio.wait_for(loaded(), DEADLINE)
        await pilot.pause()
        first_line = _lines(screen_text(app))[0]
        assert row.job in first_line and row.stream in first_line, first_line


async def test_80x24_tabs_flag_problems_in_the_panes_not_shown(
        sim: Simulator, redis_server: EmbeddedRedis, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.pause()
        failed = sum(app.view.counts.get(s, 0) for s in FAILED_STATUSES)
        tabs = _lines(screen_text(app))[1]
        assert f"Jobs ✖{failed}" in tabs and "Redis ✖" not in tabs, tabs
        redis_server.stop()
        try:
            await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
            await pilot.pause()
            tabs = _lines(screen_text(app))[1]
            assert "Redis ✖" in tabs, tabs  # seen without opening the Redis tab
        finally:
            redis_server.start()
        await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
        await pilot.pause()
        assert "Redis ✖" not in _lines(screen_text(app))[1]


def test_substatus_says_why_a_job_waits_in_few_characters() -> None:
    assert short_substatus("HOLD", "HOLD_WAITING_FOR_PREDECESSOR") == "for predecessor"
    assert short_substatus("READY", "READY_WAITING_FOR_AGENT") == "for agent"
    assert short_substatus("EXEC", "EXEC_STARTED") == "STARTED"
    assert short_substatus("", "SOMETHING_ELSE") == "SOMETHING_ELSE"
