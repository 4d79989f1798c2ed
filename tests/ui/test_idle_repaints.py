"""An idle dashboard writes (almost) nothing: what did not change is not repainted.

Over SSH every repainted cell costs bytes. These tests count what each widget marks for
repaint (``refresh`` calls and their regions, via counting subclasses or a wrapper on the
instance): an unchanged poll repaints nothing, a clock tick repaints only the clock's
cells, a side pane where one figure changed repaints that line, not its box.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from resync_tui.feeds.breakers import BreakerRow, BreakersState
from resync_tui.feeds.status import FeedHealth
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.overall import Overall
from resync_tui.ui.widgets.breaker_panel import BreakerPanel
from resync_tui.ui.widgets.header import DashboardHeader
from resync_tui.ui.widgets.jobs_table import JobsTable
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, sim

__all__ = ["sim"]

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class _Refreshes:
    """Records every ``refresh`` of a widget: None for the whole widget, else its regions."""

    def __init__(self, widget: Widget) -> None:
        self.calls: list[tuple[Region, ...] | None] = []
        original = widget.refresh

        def refresh(*regions: Region, **kwargs: Any) -> Any:
            self.calls.append(regions if regions else None)
            return original(*regions, **kwargs)

        widget.refresh = refresh  # type: ignore[method-assign]

    @property
    def whole(self) -> int:
        """Full repaints (the whole box or line set sent again)."""
        return sum(1 for call in self.calls if call is None)

    @property
    def regions(self) -> list[Region]:
        return [region for call in self.calls if call for region in call]

    def clear(self) -> None:
        self.calls.clear()


# -- side panes ------------------------------------------------------------------------


def _row(calls: int, history: tuple[float, ...]) -> BreakerRow:
    return BreakerRow(name="hwa_api", state="closed", failure_rate=0.0,
                      calls_in_window=calls, failed_in_window=0, not_permitted=0,
                      seconds_until_trial=None, last_transition="", history=history)


def _breakers(calls: int = 12, history: tuple[float, ...] = (0.0,) * 8) -> BreakersState:
    return BreakersState(rows=(_row(calls, history),),
                         health=FeedHealth(ok=True, last_success=NOW, polls=3))


class _PaneHost(App[None]):
    def compose(self) -> ComposeResult:
        yield BreakerPanel(id="breakers")


async def test_a_breaker_sample_that_shows_the_same_repaints_nothing() -> None:
    app = _PaneHost()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(BreakerPanel)
        pane.state = _breakers()
        await pilot.pause()
        seen = _Refreshes(pane)
        redraws = pane.redraws
        # A new sample object every second, same figures: it must cost nothing on screen
        # (before, the subtitle was set again each time, which repaints the whole box).
        for polls in range(4, 8):
            pane.state = BreakersState(rows=(_row(12, (0.0,) * 8),),
                                       health=FeedHealth(ok=True, last_success=NOW,
                                                         polls=polls))
        await pilot.pause()
        assert seen.calls == []
        assert pane.redraws == redraws


async def test_one_changed_figure_repaints_its_line_not_the_box() -> None:
    app = _PaneHost()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(BreakerPanel)
        pane.state = _breakers(calls=12)
        await pilot.pause()
        before = str(pane.render()).splitlines()
        seen = _Refreshes(pane)
        pane.state = _breakers(calls=13)
        await pilot.pause()
        after = str(pane.render()).splitlines()
        changed = [y for y, (old, new) in enumerate(zip(before, after, strict=True))
                   if old != new]
        assert changed == [0] and "13 calls" in after[0]
        assert seen.whole == 0
        regions = seen.regions
        assert {region.y for region in regions} == {0}
        # Only the figure's cells: "12" -> "13" differ in one cell.
        assert sum(region.width for region in regions) <= 2


async def test_a_stale_pane_that_stays_stale_does_not_repaint_its_box() -> None:
    app = _PaneHost()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(BreakerPanel)
        failed = FeedHealth(ok=False, kind="error", reason="sampling failed: boom",
                            since=NOW, last_success=NOW, polls=4)
        pane.state = BreakersState(rows=(_row(12, (0.0,) * 8),), health=failed)
        await pilot.pause()
        assert pane.border_subtitle == "STALE"
        seen = _Refreshes(pane)
        again = FeedHealth(ok=False, kind="error", reason="sampling failed: boom",
                           since=NOW, last_success=NOW, polls=5)
        pane.state = BreakersState(rows=(_row(12, (0.0,) * 8),), health=again)
        await pilot.pause()
        assert pane.border_subtitle == "STALE"
        assert seen.calls == []


# -- header ----------------------------------------------------------------------------


class _HeaderHost(App[None]):
    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.clock, id="header")


def _clock_cells(header: DashboardHeader, when: datetime) -> range:
    text = str(header.render())
    start = text.index(f"{when:%H:%M:%S}")
    return range(start, start + 8)


async def test_one_tick_repaints_only_the_clock() -> None:
    clock = SteppedClock(NOW)
    app = _HeaderHost(clock)
    async with app.run_test(size=(100, 3)) as pilot:
        header = app.query_one(DashboardHeader)
        header.now = NOW
        header.interval = 30.0
        await pilot.pause()
        seen = _Refreshes(header)
        header.now = NOW + timedelta(seconds=1)  # 12:00:00 -> 12:00:01
        await pilot.pause()
        assert seen.whole == 0
        cells = _clock_cells(header, NOW + timedelta(seconds=1))
        [region] = seen.regions
        assert region.y == 0 and region.height == 1
        assert cells.start <= region.x and region.right <= cells.stop
        assert region.width == 1  # only the seconds digit changed
        assert "12:00:01" in str(header.render())


async def test_header_values_that_read_the_same_repaint_nothing() -> None:
    app = _HeaderHost(lambda: NOW)
    async with app.run_test(size=(100, 3)) as pilot:
        header = app.query_one(DashboardHeader)
        header.now = NOW
        header.overall = Overall("OK")
        await pilot.pause()
        seen = _Refreshes(header)
        header.overall = Overall("OK")  # equal: a reactive that did not change
        header.clock_offset = 0.0  # not shown below 5 s: same text
        header.clock_offset = 1.0
        await pilot.pause()
        assert seen.calls == []


# -- jobs table ------------------------------------------------------------------------


def _jobs(count: int = 60) -> list[JobRow]:
    rows = []
    for i in range(count):
        status = "EXEC" if i % 4 == 0 else "SUCC"
        rows.append(JobRow(
            job_id=f"id{i:04d}", stream=f"STREAM{i // 10:03d}", job=f"JOB{i:04d}",
            workstation=f"WS{i % 3}", folder="/PROD/", status=status, return_code=0,
            started=datetime(2026, 11, 25, 11, 30, tzinfo=UTC),
            ended=None if status == "EXEC" else datetime(2026, 11, 25, 11, 32, tzinfo=UTC),
            duration=None if status == "EXEC" else 120.0))
    return rows


class _TableHost(App[None]):
    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.jobs = JobsView(clock=clock)
        self.jobs.apply(_jobs())

    def compose(self) -> ComposeResult:
        yield JobsTable(self.jobs)


async def test_a_duration_tick_repaints_only_the_dur_cells_of_running_rows() -> None:
    clock = SteppedClock(NOW)
    app = _TableHost(clock)
    async with app.run_test(size=(140, 14)) as pilot:
        table = app.query_one(JobsTable)
        table.refresh_data()
        await pilot.pause()
        header = table.render_line(0).text
        dur = header.index("Dur")
        seen = _Refreshes(table)
        table._tick_running()  # nothing moved: nothing repainted
        assert seen.calls == []
        clock.advance(1)
        table._tick_running()  # what the one-second timer calls
        await pilot.pause()
        running = [y + 1 for y, row in enumerate(app.jobs.rows_in(0, table.page_height))
                   if row.status == "EXEC"]
        regions = seen.regions
        assert seen.whole == 0
        assert sorted(region.y for region in regions) == running
        for region in regions:
            assert region.x >= dur and region.width <= 2  # "30:00" -> "30:01"
        assert "30:01" in table.render_line(running[0]).text


async def test_a_tick_repaints_nothing_when_the_dur_column_is_not_shown() -> None:
    clock = SteppedClock(NOW)
    app = _TableHost(clock)
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(JobsTable)
        table.refresh_data()
        await pilot.pause()
        assert "Dur" not in table.render_line(0).text
        seen = _Refreshes(table)
        clock.advance(5)
        table._tick_running()
        await pilot.pause()
        assert seen.calls == []


# -- the whole dashboard ---------------------------------------------------------------


async def test_an_unchanged_jobs_poll_repaints_nothing(sim: Simulator, redis_url: str) -> None:
    """Each poll moves "data from" (the reading's time), nothing a row shows: the table and
    the jobs pane must not be repainted (it used to redraw every visible row, ~15 KB)."""
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        clock.advance(1)  # the next reading is newer: "data from" moves
        jobs = app.dashboard.jobs
        pane, table = _Refreshes(jobs), _Refreshes(jobs.table)
        polls = app.dashboard._jobs_state.health.polls if app.dashboard._jobs_state else 0
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.pause()
        state = app.dashboard._jobs_state
        assert state is not None and state.health.polls > polls and state.health.ok
        assert jobs.stale_since == clock.now
        assert pane.calls == []
        assert table.calls == []
