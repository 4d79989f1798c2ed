"""Ages and lateness are judged on the engine's clock, not this machine's."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.app import ResyncApp
from tests.ui.dashboard_support import DEADLINE, make_settings, screen_text

HOUR = 3600.0


@pytest.fixture
def sim_ahead() -> Iterator[Simulator]:
    """A living engine whose clock is an hour ahead of this machine's."""
    simulator = Simulator(jobs=200, seed=1, user="demo", password="demo", time_scale=1.0,
                          clock_offset=HOUR)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


async def test_the_view_clock_is_the_engine_clock_and_the_header_names_the_offset(
        sim_ahead: Simulator, redis_url: str) -> None:
    settings = make_settings(sim_ahead.base_url, redis_url)
    runtime = build_runtime(settings)  # no clock given: the engine's, as in production
    app = ResyncApp(runtime, settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.wait_for_data(["engine", "jobs"]), DEADLINE)
        app.dashboard.update_overall()
        await pilot.pause()
        offset = runtime.client.clock_offset
        assert offset is not None and abs(offset - HOUR) < 5
        here = datetime.now(UTC)
        engine = app.view.now()
        assert abs((engine - here).total_seconds() - HOUR) < 5
        assert "(engine clock +1h00m)" in screen_text(app)
        # A job held past its scheduled time half an hour from now here is already late on
        # the engine: lateness is judged there.
        held = JobRow(job_id="X", job="X", status="HOLD",
                      scheduled=here + timedelta(minutes=30))
        assert app.view.is_late(held)


async def test_a_test_clock_shows_no_offset(redis_url: str) -> None:
    simulator = Simulator(jobs=50, seed=1, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    try:
        settings = make_settings(simulator.base_url, redis_url)
        runtime = build_runtime(settings, clock=lambda: datetime(2026, 11, 25, 6, 30, tzinfo=UTC))
        assert runtime.clock_offset() is None
    finally:
        simulator.stop()


def test_the_engine_clock_never_steps_back(redis_url: str) -> None:
    from resync_tui.feeds.runtime import engine_clock

    class _Client:
        def __init__(self) -> None:
            self.times = [datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC),
                          datetime(2026, 12, 1, 10, 0, 4, tzinfo=UTC),  # a new Date sample
                          datetime(2026, 12, 1, 10, 0, 6, tzinfo=UTC)]

        def engine_now(self) -> datetime:
            return self.times.pop(0)

    clock = engine_clock(_Client())  # type: ignore[arg-type]
    seen = [clock(), clock(), clock()]
    assert seen == sorted(seen)
    assert seen[1] == seen[0]


async def test_on_a_30x_engine_a_pane_answering_on_time_is_not_called_stale(
        redis_url: str) -> None:
    """``resync-tui demo`` runs its engine at 30x: every answer moves the engine clock
    30 s a second, and the Redis pane's data, read a second ago, was 30 s old on it,
    past its 2-poll limit: it said STALE, "no new answer yet", while Redis answered every
    second. A poll interval is worth ``clock_rate`` engine seconds."""
    simulator = Simulator(jobs=50, seed=1, user="demo", password="demo", time_scale=30.0)
    simulator.start_in_thread("127.0.0.1", 0)
    try:
        settings = make_settings(simulator.base_url, redis_url, interval=1.0)
        runtime = build_runtime(settings)  # the engine's clock, as in production
        app = ResyncApp(runtime, settings)
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.wait_for_data(["engine", "jobs", "redis"]), DEADLINE)
            # The rate is known once two stretches of answers show it (~1.2 s): until
            # then a pane can still be called stale.
            async with asyncio.timeout(DEADLINE):
                while runtime.clock_rate() == 1.0:
                    await app.poll_now("engine")
                    await asyncio.sleep(0.3)
            aged: list[bool] = []
            for _ in range(4):  # a second each: Redis and the engine both answer meanwhile
                await asyncio.wait_for(app.poll_now("redis"), DEADLINE)
                await asyncio.sleep(1.0)
                await asyncio.wait_for(app.poll_now("engine"), DEADLINE)
                app.dashboard.update_overall()
                await pilot.pause()
                aged.append(app.dashboard.panes["redis"].aged)
            assert 20 <= runtime.clock_rate() <= 40
            assert aged == [False] * 4, aged
            assert "no new answer yet" not in screen_text(app)
    finally:
        simulator.stop()


def _shown_offset(text: str) -> tuple[int, int]:
    """The header's ``(engine clock +2m05s, runs ×30)``: (seconds, pace)."""
    match = re.search(r"\(engine clock ([+-])(?:(\d+)m)?(\d+)s, runs ×(\d+)\)", text)
    assert match is not None, text
    sign, minutes, seconds, pace = match.groups()
    value = int(minutes or 0) * 60 + int(seconds)
    return (value if sign == "+" else -value), int(pace)


async def test_a_fast_engine_clock_is_named_with_its_pace_and_its_offset_now(
        redis_url: str) -> None:
    """At 30x the header said "(engine clock +4m50s)" beside an engine time 7 minutes
    ahead (the median of samples taken as the clock ran), and "data 4m 32s old" beside
    "every 10s" with ✔ OK: engine seconds beside this machine's, unexplained. It names
    the pace, and the offset is where the engine's clock is now."""
    simulator = Simulator(jobs=50, seed=1, user="demo", password="demo", time_scale=30.0)
    simulator.start_in_thread("127.0.0.1", 0)
    try:
        settings = make_settings(simulator.base_url, redis_url, interval=1.0)
        runtime = build_runtime(settings)
        app = ResyncApp(runtime, settings)
        async with app.run_test(size=(200, 48)) as pilot:
            await asyncio.wait_for(app.wait_for_data(["engine", "jobs"]), DEADLINE)
            async with asyncio.timeout(DEADLINE):
                while runtime.clock_rate() == 1.0:
                    await app.poll_now("engine")
                    await asyncio.sleep(0.3)
            for _ in range(6):  # samples over 3 s: their median lags the clock ~45 s
                await asyncio.wait_for(app.poll_now("engine"), DEADLINE)
                await asyncio.sleep(0.5)
            app.dashboard.update_overall()
            # At once: at 30x the offset moves 29 s a second, and a loaded machine's
            # pause before the screen is read would count.
            truth = (app.view.now() - datetime.now(UTC)).total_seconds()
            await pilot.pause()
            text = screen_text(app)
            shown, pace = _shown_offset(text)
            assert pace in (20, 25, 30, 35, 40), text  # measured, and rounded to 5
            assert abs(shown - truth) <= 5, (text, truth)
    finally:
        simulator.stop()


@pytest.mark.parametrize(("rate", "shown"), [(26.1, "×25"), (28.0, "×30"), (31.9, "×30"),
                                             (59.0, "×60"), (2.0, "×2"), (2.6, "×2.5")])
def test_the_pace_is_rounded_so_a_measured_rate_does_not_flicker(rate: float,
                                                                 shown: str) -> None:
    from resync_tui.ui.format import format_rate

    assert format_rate(rate) == shown


@pytest.mark.parametrize(("offset", "rate", "shown"), [(720.0, 30.0, "(×30)"),
                                                       (3600.0, 1.0, "(+1h00m)")])
async def test_at_80_columns_the_engine_clock_is_still_named_in_short(
        offset: float, rate: float, shown: str) -> None:
    """At 80 columns the header dropped the engine clock's note: a demo's "4m 32s old ✔ OK"
    (engine seconds at 30x), or a time an hour off this machine's, said nothing of why."""
    from textual.app import App, ComposeResult

    from resync_tui.feeds.engine import EngineState
    from resync_tui.ui.widgets.header import DashboardHeader

    now = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DashboardHeader(lambda: now, id="header")

    app = Bare()
    async with app.run_test(size=(80, 3)) as pilot:
        header = app.query_one(DashboardHeader)
        header.engine = EngineState(name="prod-engine.example.com", version="10.2.3",
                                    plan_id="current")
        header.interval = 10.0
        header.clock_offset = offset
        header.clock_rate = rate
        header.last_refresh = now - timedelta(minutes=4, seconds=32)
        await pilot.pause()
        line = header.render().plain
        assert "(engine clock" not in line  # the full note does not fit
        assert shown in line and "4m 32s old" in line, line
