"""The feeds behind the panes, without the UI: change checks, reasons, breakers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.settings import BreakerSettings, Secret
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
    # The frozen clock reads 06:30:00: the trial is due 600 s later, said as a time (a
    # countdown in a reason stays on screen, frozen, until the next poll).
    assert "[circuit hwa_api open, next trial at 06:40:00]" in state.health.reason
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
        for _ in range(3):  # the engine's 401, then two calls refused without the network
            state = await feed.poll()
            assert state.health.kind == "credentials"
            # It does try again by itself, seldom: the pane must not say "until r" alone.
            assert state.health.reason.endswith(
                ": check user and password (tried again every 5 min, or now with r)"
            ), state.health.reason
        assert rt.hwa_api.snapshot().state.value == "closed"
    finally:
        await rt.aclose()


# ---- the truth about what the engine sent ---------------------------------------------


def _runtime_with(sim: Simulator, redis_url: str, **hwa: object) -> Runtime:
    settings = make_settings(sim.base_url, redis_url)
    quick_breaker = BreakerSettings(minimum_calls=2, open_wait_seconds=600.0)
    settings = settings.replace(
        hwa=dataclasses.replace(settings.hwa, **hwa),  # type: ignore[arg-type]
        breakers={**settings.breakers, "hwa_api": quick_breaker,
                  "hwa_job_status": quick_breaker})
    return build_runtime(settings, clock=frozen_clock)


async def test_a_bad_record_is_published_not_an_engine_failure(
        sim: Simulator, runtime: Runtime) -> None:
    feed = JobsFeed(runtime)
    sim.set_faults(Faults(bad_records=1))
    for _ in range(5):
        feed.force_full_read()
        state = await feed.poll()
        assert state.health.ok, state.health.reason
    assert state.view.total == 199
    (bad,) = state.unreadable
    assert bad.job_id == sim.plan.jobs[0].id and "schedTime" in bad.reason
    assert runtime.hwa_job_status.snapshot().state.value == "closed"
    sim.set_faults(Faults())
    feed.force_full_read()
    healed = await feed.poll()
    assert healed.unreadable == () and healed.view.total == 200


async def test_a_bad_workstation_record_is_published(sim: Simulator, runtime: Runtime) -> None:
    sim.set_faults(Faults(bad_records=1))
    state = await WorkstationsFeed(runtime, interval=3600.0).poll()
    assert state.health.ok and state.total == len(sim.plan.workstations) - 1
    (bad,) = state.unreadable
    assert bad.job_id == sim.plan.workstations[0].id and "timeStarted" in bad.reason


async def test_a_job_skipped_by_a_shifted_page_is_not_reported_removed(
        sim: Simulator, redis_url: str) -> None:
    rt = _runtime_with(sim, redis_url, page_size=50, parallel_pages=1)
    try:
        feed = JobsFeed(rt)
        assert (await feed.poll()).view.total == 200
        shifted, skipped, gone = (sim.plan.jobs[i].id for i in (0, 50, 120))
        sim.plan.delete_job(gone)  # really removed from the plan before the read
        sim.set_faults(Faults(delete_after_first_page=1))  # and one between pages 1 and 2
        feed.force_full_read()
        state = await feed.poll()
        sim.set_faults(Faults())
        assert state.health.ok
        assert state.view.get(skipped) is not None  # only skipped by the shift: kept
        assert state.view.get(gone) is None  # missing, and GET /plan/job/{id} said 404
        assert state.view.get(shifted) is not None  # read on page 1, deleted after it
        feed.force_full_read()
        again = await feed.poll()  # a complete read: what is missing now is gone
        assert again.view.get(skipped) is not None and again.view.get(shifted) is None
        assert again.view.total == 198
    finally:
        await rt.aclose()


async def test_wrong_password_reaches_the_engine_once_for_all_feeds(
        sim: Simulator, redis_url: str) -> None:
    rt = _runtime_with(sim, redis_url, password=Secret("wrong"))
    try:
        feeds = [EngineFeed(rt), JobsFeed(rt), WorkstationsFeed(rt, interval=3600.0)]
        for _ in range(5):
            for feed in feeds:
                state = await feed.poll()
                assert state.health.kind == "credentials"
        assert sum(sim.stats()["requests"].values()) == 1
        sim.set_credentials(password="wrong")
        rt.client.retry_credentials()
        assert (await feeds[0].poll()).health.ok
        assert (await feeds[1].poll()).health.ok
    finally:
        await rt.aclose()
