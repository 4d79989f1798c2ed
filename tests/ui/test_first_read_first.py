"""The operator waits for the job list: its first read of the plan has the loop and the
engine to itself; the other panes start polling once it is shown (issue 13), or after a
short head start when the engine is slow to answer, never waiting for it for good."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from resync_tui.gcpolicy import hold_collections, release_collections
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import ChangeSet, JobsView
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.widgets.jobs_pane import JobsPane
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


def _recording(app: ResyncApp) -> list[str]:
    """The names of the feeds, in the order their states reached the dashboard."""
    shown: list[str] = []
    publish = app._publish

    def recorded(name: str, state: Any) -> None:
        shown.append(name)
        publish(name, state)

    app._publish = recorded  # type: ignore[method-assign]
    return shown


async def test_the_job_list_is_the_first_thing_read_and_shown(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    app.first_read_head_start = DEADLINE  # a loaded machine's slow read is still first
    shown = _recording(app)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert shown[0] == "jobs"  # before breakers and cache, which need no engine at all
        assert set(shown) >= {"engine", "breakers", "cache", "redis", "workstations",
                              "streams", "critical"}  # and then every pane, as before
        assert "200 of 200 jobs" in screen_text(app)


@pytest.fixture
def silent_engine() -> Iterator[str]:
    """An engine that accepts connections and never answers (a hung first read)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_a_hung_first_read_holds_the_other_panes_only_for_the_head_start(
        silent_engine: str, redis_url: str) -> None:
    app = make_app(silent_engine, redis_url)
    app.first_read_head_start = 0.2
    shown = _recording(app)
    async with app.run_test(size=(160, 48)):
        await asyncio.wait_for(app.wait_for_data(("breakers", "cache", "redis")), DEADLINE)
        assert app.runners["jobs"].results == 0  # still reading: the others did not wait
        assert "jobs" not in shown
        assert "CONNECTING" in screen_text(app)  # and nothing looks healthy meanwhile


async def test_a_redis_client_built_on_first_use_is_built_before_the_panes_read_redis(
        sim: Simulator, redis_url: str) -> None:
    """The dashboard's Redis client is built after the first read (redis-py imported
    then), but before any pane sends a command: built inside a command's timeout, the
    import would count against it. The Redis pane is healthy, never down, on a healthy
    server."""
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.resilience.redis_pool import LazyRedis
    from tests.ui.dashboard_support import frozen_clock, make_settings

    settings = make_settings(sim.base_url, redis_url)
    runtime = build_runtime(settings, clock=frozen_clock, lazy_redis=True)
    lazy = runtime.redis
    assert isinstance(lazy, LazyRedis) and not lazy.built
    app = ResyncApp(runtime, settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert lazy.built
        redis_state = app.runners["redis"].last
        assert redis_state is not None and redis_state.health.ok
        assert "200 of 200 jobs" in screen_text(app)


async def test_the_first_plan_is_out_of_the_collectors_reach_before_it_is_drawn(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first read's containers (the view's sorted blocks of every job) are frozen before the
    job list first draws them: drawn first, the dashboard's first update paid for the
    full collection they made due (at 200k jobs, 65 ms of its 130 ms without a frame)."""
    frozen_when_drawn: list[bool] = []
    update_jobs = JobsPane.update_jobs

    def drawing(pane: JobsPane, view: JobsView, change: ChangeSet | None = None) -> None:
        if view.total and not frozen_when_drawn:
            scanned = {id(obj) for obj in gc.get_objects()}  # the frozen are not listed
            frozen_when_drawn.append(id(view._order._blocks) not in scanned)
        update_jobs(pane, view, change)

    monkeypatch.setattr(JobsPane, "update_jobs", drawing)
    app = make_app(sim.base_url, redis_url)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            await pilot.pause()
            assert "200 of 200 jobs" in screen_text(app)
    finally:
        gc.unfreeze()
    assert frozen_when_drawn == [True]


def _plan_reads(simulator: Simulator) -> int:
    """Reads of the whole plan so far (each starts with the grouped count)."""
    requests = simulator.stats()["requests"]
    return sum(n for key, n in requests.items() if key.endswith("/plan/job/count"))


def test_a_first_read_started_before_the_ui_is_the_one_the_jobs_pane_shows(
        sim: Simulator, redis_url: str) -> None:
    """``demo`` starts the plan's first read before it imports the UI (``FirstRead``), on
    the loop the app then runs on: the app shows that read's jobs (the plan is read once,
    not again) and the other panes start after it, as always."""
    from resync_tui.feeds.runtime import FirstRead
    from tests.ui.dashboard_support import make_settings

    settings = make_settings(sim.base_url, redis_url)
    with FirstRead(settings) as first:
        assert first.run(first.while_running(lambda: "imported")) == "imported"
        app = ResyncApp(first.runtime, settings, engines=first.engines, first_read=first)
        app.first_read_head_start = DEADLINE  # a loaded machine's slow read is still first
        shown = _recording(app)

        async def look() -> str:
            async with app.run_test(size=(160, 48)) as pilot:
                await ready(app)
                await pilot.pause()
                return screen_text(app)

        text = first.run(look())
    assert "200 of 200 jobs" in text
    assert app.view is first.view and shown[0] == "jobs"
    assert _plan_reads(sim) == 1


def test_a_first_read_no_app_took_over_is_stopped_and_its_runtime_closed(
        sim: Simulator, redis_url: str) -> None:
    """The UI failed to start (an import error, a bad --record file): the read started
    for it is cancelled and its HWA client closed when the demo leaves, not left behind."""
    from resync_tui.feeds.runtime import FirstRead
    from tests.ui.dashboard_support import make_settings

    with FirstRead(make_settings(sim.base_url, redis_url)) as first:
        first.run(first.while_running(lambda: None))
        loop = first.loop
        read = next(t for t in asyncio.all_tasks(loop) if t.get_name() == "jobs:first-read")
    assert read.cancelled() or read.done()
    assert first.runtime._closed and loop.is_closed()


async def test_a_dashboard_started_with_the_collector_held_turns_it_back_on_once_drawn(
        sim: Simulator, redis_url: str) -> None:
    """The command line holds the collector off for the start (nothing to collect but what
    the process keeps); left off, every cycle the dashboard later drops would be kept for
    as long as it runs (days on a NOC screen)."""
    app = make_app(sim.base_url, redis_url)
    hold_collections()
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            await pilot.pause()
            assert "200 of 200 jobs" in screen_text(app)
            assert gc.isenabled()
    finally:
        release_collections()
        gc.enable()
        gc.unfreeze()


@pytest.mark.parametrize("told", [True, False])
def test_demo_on_its_30x_engine_is_not_stale_between_two_polls_on_time(
        told: bool, redis_url: str) -> None:
    """``demo`` runs its engine at 30x and polls the job list every 10 s: its first
    screen said "data 4m 36s old ⚠ STALE, no new job list from the engine" some 10 s in,
    the rate not measured yet (answers 10 s apart). Told the rate, it follows it from the
    first answer. (``told=False`` shows what the rate measured alone gives: the same
    screen STALE, so the told case's OK is the hint's doing.)"""
    from resync_tui.feeds.runtime import FirstRead
    from tests.ui.dashboard_support import make_settings

    engine = Simulator(jobs=200, seed=1, user="demo", password="demo", time_scale=30.0)
    engine.start_in_thread("127.0.0.1", 0)
    try:
        settings = make_settings(engine.base_url, redis_url, interval=10.0)
        with FirstRead(settings, clock_rate=30.0 if told else 1.0) as first:
            first.run(first.while_running(lambda: None))
            app = ResyncApp(first.runtime, settings, engines=first.engines, first_read=first)

            async def look() -> tuple[str, float]:
                async with app.run_test(size=(200, 48)) as pilot:
                    await asyncio.wait_for(app.wait_for_data(["jobs"]), DEADLINE)
                    await asyncio.sleep(4.0)  # 2 engine minutes: under 2 polls of 5 min
                    for _ in range(6):  # answers in a burst, as a poll's (< 0.6 s)
                        await first.runtime.client.job_counts()
                    app.dashboard.update_overall()
                    await pilot.pause()
                    return screen_text(app), first.runtime.clock_rate()

            text, rate = first.run(look())
        header = text.splitlines()[0]
        if told:
            assert "✔ OK" in header and "STALE" not in header, header
            assert "runs ×30" in header, header
        else:
            assert rate == 1.0 and "STALE" in header, header
    finally:
        engine.stop()
