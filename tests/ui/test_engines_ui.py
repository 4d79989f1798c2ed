"""Several engines in the dashboard: the overview (``O``) shows every engine with its own
counts, ``:`` and the palette switch like k9s contexts, and after a switch the screen
holds the new engine's jobs and none of the old one's (two simulators, real Redis)."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import redis.asyncio as aioredis
from textual.pilot import Pilot

from resync_tui.feeds.runtime import build_runtimes
from resync_tui.hwa.simulator import API_BASE, Faults, Simulator
from resync_tui.settings import AlertSettings
from resync_tui.share.keys import ShareKeys
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.engines import EnginesScreen, EngineSwitcher
from tests.feeds.test_engines import (
    PROD_JOBS,
    TEST_JOBS,
    sim_prod,
    sim_test,
    two_engines,
)
from tests.ui.dashboard_support import DEADLINE, frozen_clock, ready, screen_text

__all__ = ["sim_prod", "sim_test"]


def engines_app(prod: Simulator, test: Simulator, redis_url: str) -> ResyncApp:
    settings = two_engines(prod.base_url, test.base_url, redis_url)
    engines = build_runtimes(settings, clock=frozen_clock)
    return ResyncApp(engines.get("prod"), settings, engines=engines)


def api_job_ids(sim: Simulator) -> set[str]:
    """Every job id of the engine's plan, read directly from its API."""
    answer = httpx.get(f"{sim.base_url}{API_BASE}/plan/job",
                       params={"limit": 1000, "offset": 0, "plan_id": "current"},
                       auth=("demo", "demo"), timeout=5.0)
    answer.raise_for_status()
    return {str(job["id"]) for job in answer.json()["results"]}


def shown_job_ids(app: ResyncApp) -> set[str]:
    return {row.job_id for row in app.view.all_rows()}


async def engines_read(app: ResyncApp) -> None:
    await asyncio.wait_for(app.engines_runner.poll_once(), DEADLINE)


async def switched(app: ResyncApp, pilot: Pilot[int]) -> None:
    """Until the switch worker is done and the new engine's feeds answered once."""
    for worker in [w for w in app.workers if w.group == "engine-switch"]:
        await asyncio.wait_for(worker.wait(), DEADLINE)
    await asyncio.wait_for(app.wait_for_data(), DEADLINE)
    await pilot.pause()


async def test_overview_shows_both_engines_with_their_own_counts(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    app = engines_app(sim_prod, sim_test, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await engines_read(app)
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, EnginesScreen)
        lines = screen_text(app).splitlines()
        prod = next(line for line in lines if sim_prod.base_url in line)
        test = next(line for line in lines if sim_test.base_url in line)
        assert " prod " in prod and "✔ OK" in prod and f" {PROD_JOBS} " in prod
        assert " test " in test and "✔ OK" in test and f" {TEST_JOBS} " in test
        assert "▶" in prod and "▶" not in test  # the engine shown


async def test_one_engine_down_is_unreachable_in_the_overview_only_for_it(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    app = engines_app(sim_prod, sim_test, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        sim_test.set_faults(Faults(outage="refused"))
        await pilot.press("O")
        await engines_read(app)
        await pilot.pause()
        lines = screen_text(app).splitlines()
        prod = next(line for line in lines if sim_prod.base_url in line)
        test = next(line for line in lines if " test " in line and "UNREACHABLE" in line)
        assert "✔ OK" in prod and "✖ UNREACHABLE" in test
        assert "engine test unreachable" in test
        assert sum("UNREACHABLE" in line for line in lines) == 1
        assert "ENGINE UNREACHABLE" not in lines[0]  # the shown engine, prod, is fine


async def test_switching_shows_the_second_engines_jobs_and_none_of_the_first(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    app = engines_app(sim_prod, sim_test, redis_url)
    prod_ids, test_ids = api_job_ids(sim_prod), api_job_ids(sim_test)
    assert prod_ids and test_ids and not prod_ids & test_ids
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        assert shown_job_ids(app) == prod_ids
        assert " prod " in screen_text(app).splitlines()[0]
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, EngineSwitcher)
        await pilot.press("t", "e", "enter")
        await switched(app, pilot)
        assert app.engine == "test"
        assert shown_job_ids(app) == test_ids  # and so none of prod's
        header = screen_text(app).splitlines()[0]
        assert " test " in header and " prod " not in header
        # The panes read the new engine: its breakers, its client.
        assert app.runtime is app.engines.get("test")
        assert app.runtime.hwa_api.snapshot().successful_calls_total > 0


async def test_a_switch_to_an_engine_that_does_not_answer_shows_none_of_the_old_jobs(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    """The view is cleared before the new engine's first read: an engine that never
    answers shows no data under its name, not the last engine's jobs."""
    app = engines_app(sim_prod, sim_test, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        some_prod_job = app.view.row_at(0).job
        sim_test.set_faults(Faults(outage="refused"))
        app.set_paused(True)  # the new engine's first read waits: the moment in between
        await app.switch_engine("test")
        await pilot.pause()
        between = screen_text(app)
        assert "loading test" in between and some_prod_job not in between
        assert " test " in between.splitlines()[0] and " prod " not in between.splitlines()[0]
        assert app.view.total == 0
        app.set_paused(False)
        await asyncio.wait_for(app.wait_for_data(), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        assert app.view.total == 0 and shown_job_ids(app) == set()
        assert some_prod_job not in text
        header = text.splitlines()[0]
        assert " test " in header and "ENGINE UNREACHABLE" in header


async def test_the_palette_offers_each_engine_and_the_overview(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    app = engines_app(sim_prod, sim_test, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Engine: prod", "Engine: test", "Engines overview"} <= set(commands)
        commands["Engine: test"].callback()
        await switched(app, pilot)
        assert app.engine == "test" and shown_job_ids(app) == api_job_ids(sim_test)
        # Enter on a row of the overview switches back.
        await pilot.press("O")
        await engines_read(app)
        await pilot.pause()
        assert isinstance(app.screen, EnginesScreen)
        await pilot.press("home", "enter")  # the first row: prod
        await switched(app, pilot)
        assert app.engine == "prod" and shown_job_ids(app) == api_job_ids(sim_prod)


async def test_a_switch_does_not_alert_on_the_new_engines_old_failures(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    """The alert rules watch the engine shown; its failures from before the switch are a
    baseline, like at start-up, not a burst of "job failed" alerts."""
    settings = two_engines(sim_prod.base_url, sim_test.base_url, redis_url)
    settings = settings.replace(alerts=(AlertSettings(name="failures", on="job_failed",
                                                      bell=True),))
    engines = build_runtimes(settings, clock=frozen_clock)
    app = ResyncApp(engines.get("prod"), settings, engines=engines)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        assert app.alerts is not None and not app.alerts.fired  # prod's: the baseline
        assert app.view.counts.get("ABEND", 0) > 0
        await app.switch_engine("test")
        await switched(app, pilot)
        assert app.engine == "test" and app.view.counts.get("ABEND", 0) > 0
        assert list(app.alerts.fired) == []
        # A job failing on the shown engine after the switch does alert.
        job = next(j for j in sim_test.plan.jobs if j.status not in ("ABEND", "FAIL"))
        sim_test.plan.set_status(job, "ABEND")
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        assert [a.event.rule for a in app.alerts.fired] == ["failures"]


async def test_a_switch_moves_the_shared_feed_to_the_new_engines_keys(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    """Two engines on one Redis: the dashboard leads prod's shared feed, and after the
    switch gives prod's lease up (another dashboard of prod takes over at once) and
    joins test's, under test's own keys."""
    settings = two_engines(sim_prod.base_url, sim_test.base_url, redis_url)
    settings = settings.replace(share=dataclasses.replace(settings.share, enabled=True,
                                                          follow_interval=0.2))
    engines = build_runtimes(settings, clock=frozen_clock)
    app = ResyncApp(engines.get("prod"), settings, engines=engines)
    prod_keys = ShareKeys.for_engine(sim_prod.base_url, "current")
    test_keys = ShareKeys.for_engine(sim_test.base_url, "current")
    redis = aioredis.Redis.from_url(redis_url)

    async def until_lease(keys: ShareKeys, held: bool) -> None:
        for _ in range(int(DEADLINE / 0.05)):
            if (await redis.get(keys.lease) is not None) == held:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"lease {keys.lease} never {'held' if held else 'free'}")

    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(app)
            assert app.share is not None and app.share.keys == prod_keys
            await until_lease(prod_keys, held=True)
            await app.switch_engine("test")
            await switched(app, pilot)
            assert app.share is not None and app.share.keys == test_keys
            await until_lease(prod_keys, held=False)
            await until_lease(test_keys, held=True)
            assert shown_job_ids(app) == api_job_ids(sim_test)
    finally:
        await redis.aclose()
