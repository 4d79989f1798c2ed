"""Ages and lateness are judged on the engine's clock, not this machine's."""

from __future__ import annotations

import asyncio
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
