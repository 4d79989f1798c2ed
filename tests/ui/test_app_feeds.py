"""The feeds behind the panes, without the UI: change checks, reasons, breakers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.settings import BreakerSettings
from tests.ui.dashboard_support import frozen_clock, make_settings, sim

__all__ = ["sim"]


@pytest.fixture
async def runtime(sim: Simulator, redis_url: str) -> AsyncIterator[Runtime]:
    settings = make_settings(sim.base_url, redis_url)
    quick_breaker = BreakerSettings(minimum_calls=2, open_wait_seconds=600.0)
    settings = settings.replace(breakers={**settings.breakers, "hwa_api": quick_breaker,
                                          "hwa_job_status": quick_breaker})
    rt = build_runtime(settings, clock=frozen_clock)
    yield rt
    await rt.aclose()


async def test_unchanged_plan_is_not_read_again(sim: Simulator, runtime: Runtime) -> None:
    feed = JobsFeed(runtime)
    first = await feed.poll()
    assert first.full_read and first.view.total == 200
    second = await feed.poll()
    assert second.health.ok and not second.full_read  # counts equal: no 200-job read
    sim.tick(3 * 3600)
    third = await feed.poll()
    assert third.full_read and third.change


async def test_malformed_answer_names_the_endpoint_and_keeps_the_rows(
        sim: Simulator, runtime: Runtime) -> None:
    feed = JobsFeed(runtime)
    await feed.poll()
    sim.set_faults(Faults(malformed_json_rate=1.0, paths=["/plan/job"]))
    feed.force_full_read()
    state = await feed.poll()
    assert not state.health.ok and state.health.kind == "malformed"
    assert state.health.reason.startswith("malformed response from GET /plan/job")
    assert state.view.total == 200


async def test_open_breaker_keeps_the_cause_and_says_when_it_retries(
        sim: Simulator, runtime: Runtime) -> None:
    feed = EngineFeed(runtime)
    assert (await feed.poll()).health.ok
    sim.set_faults(Faults(error_rate=1.0))
    await feed.poll()  # one failure in two calls: 50%, the breaker opens
    assert runtime.hwa_api.snapshot().state.value == "open"
    state = await feed.poll()  # rejected without calling the engine
    assert state.version == "10.1.0.1"  # last good data kept
    assert "engine error HTTP 5" in state.health.reason
    assert "[circuit hwa_api open, next trial in 600s]" in state.health.reason
    assert runtime.hwa_api.snapshot().not_permitted_calls == 1


async def test_rejected_credentials_do_not_open_the_breaker(
        sim: Simulator, redis_url: str) -> None:
    settings = make_settings(sim.base_url, redis_url, password="nope")
    settings = settings.replace(breakers={
        **settings.breakers, "hwa_api": dataclasses.replace(
            settings.breakers["hwa_api"], minimum_calls=1)})
    rt = build_runtime(settings, clock=frozen_clock)
    try:
        feed = EngineFeed(rt)
        for _ in range(3):
            state = await feed.poll()
            assert state.health.kind == "credentials"
        assert rt.hwa_api.snapshot().state.value == "closed"
    finally:
        await rt.aclose()
