"""Two simulators as two engines: the overview counts each through its own runtime, one
down or refusing the password says so on its row only, and the two never share a cache
entry, a breaker, a metric series or a shared-feed key (real HTTP, real Redis)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.engines import EnginesFeed, EnginesState
from resync_tui.feeds.runtime import EngineRuntimes, build_runtimes
from resync_tui.hwa.simulator import API_BASE, Faults, Simulator
from resync_tui.model.status import count_by_group
from resync_tui.settings import Secret, Settings
from resync_tui.share.keys import ShareKeys
from tests.ui.dashboard_support import DEADLINE, SteppedClock, frozen_clock, make_settings

PROD_JOBS, TEST_JOBS = 120, 70


def start_sim(jobs: int, seed: int) -> Simulator:
    simulator = Simulator(jobs=jobs, seed=seed, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    return simulator


@pytest.fixture
def sim_prod() -> Iterator[Simulator]:
    simulator = start_sim(PROD_JOBS, 1)
    yield simulator
    simulator.stop()


@pytest.fixture
def sim_test() -> Iterator[Simulator]:
    simulator = start_sim(TEST_JOBS, 7)
    yield simulator
    simulator.stop()


def two_engines(prod_url: str, test_url: str, redis_url: str, *, shown: str = "prod",
                test_password: str = "demo", interval: float = 3600.0) -> Settings:
    """Settings as two [engines.NAME] tables give them: prod and test, quick timeouts."""
    base = make_settings(prod_url, redis_url, interval=interval)
    engines = {"prod": base.hwa,
               "test": dataclasses.replace(base.hwa, url=test_url,
                                           password=Secret(test_password))}
    return base.replace(engines=engines, engine=shown, hwa=engines[shown])


def api_counts(sim: Simulator) -> dict[str, int]:
    """The engine's own count by status, read directly (not through our client)."""
    answer = httpx.get(f"{sim.base_url}{API_BASE}/plan/job/count",
                       params={"grouping_filters": "status", "plan_id": "current"},
                       auth=("demo", "demo"), timeout=5.0)
    answer.raise_for_status()
    body = answer.json()
    return {str(k): int(v) for k, v in body["groupedCount"].items()}


@pytest.fixture
async def runtimes(sim_prod: Simulator, sim_test: Simulator,
                   redis_url: str) -> AsyncIterator[EngineRuntimes]:
    built = build_runtimes(two_engines(sim_prod.base_url, sim_test.base_url, redis_url),
                           clock=frozen_clock)
    yield built
    await built.aclose()


async def poll(feed: EnginesFeed) -> EnginesState:
    return await asyncio.wait_for(feed.poll(), DEADLINE)


async def test_overview_shows_both_engines_with_their_own_counts(
        sim_prod: Simulator, sim_test: Simulator, runtimes: EngineRuntimes) -> None:
    feed = EnginesFeed(runtimes, lambda: "prod", slow=30.0, clock=frozen_clock)
    state = await poll(feed)
    prod, test = state.engines
    assert (prod.name, prod.shown, prod.state) == ("prod", True, "OK")
    assert (test.name, test.shown, test.state) == ("test", False, "OK")
    assert prod.total == PROD_JOBS and test.total == TEST_JOBS
    assert dict(prod.groups) == count_by_group(api_counts(sim_prod))
    assert dict(test.groups) == count_by_group(api_counts(sim_test))
    assert prod.url == sim_prod.base_url and test.url == sim_test.base_url
    assert prod.age == 0.0 and test.age == 0.0


async def test_one_engine_down_is_unreachable_on_its_row_only(
        sim_test: Simulator, runtimes: EngineRuntimes) -> None:
    feed = EnginesFeed(runtimes, lambda: "prod", slow=30.0, clock=frozen_clock)
    await poll(feed)
    sim_test.set_faults(Faults(outage="refused"))
    feed.refresh()
    state = await poll(feed)
    prod, test = state.engines
    assert prod.state == "OK" and prod.total == PROD_JOBS
    assert test.state == "UNREACHABLE"
    assert "engine test unreachable" in test.reason
    assert test.total == TEST_JOBS  # the last counts it gave, still said
    assert runtimes.get("prod").hwa_api.snapshot().failed_calls_total == 0
    assert runtimes.get("test").hwa_api.snapshot().failed_calls_total == 1


async def test_rejected_credentials_are_said_for_that_engine(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    built = build_runtimes(two_engines(sim_prod.base_url, sim_test.base_url, redis_url,
                                       test_password="wrong"), clock=frozen_clock)
    try:
        state = await poll(EnginesFeed(built, lambda: "prod", slow=30.0, clock=frozen_clock))
        assert [e.state for e in state.engines] == ["OK", "CREDENTIALS REJECTED"]
    finally:
        await built.aclose()


def _count_reads(runtimes: EngineRuntimes, name: str) -> float:
    """GET /plan/job/count requests that engine's client made (its own metrics)."""
    registry = runtimes.get(name).metrics.registry
    return sum(sample.value for metric in registry.collect() for sample in metric.samples
               if sample.name == "resync_requests_total"
               and sample.labels.get("endpoint") == "GET /plan/job/count")


async def test_engines_not_shown_are_read_at_the_slower_interval(
        runtimes: EngineRuntimes) -> None:
    now = [1000.0]
    shown = ["prod"]
    feed = EnginesFeed(runtimes, lambda: shown[0], slow=30.0, clock=frozen_clock,
                       monotonic=lambda: now[0])
    await poll(feed)
    now[0] += 10
    await poll(feed)
    assert (_count_reads(runtimes, "prod"), _count_reads(runtimes, "test")) == (2, 1)
    now[0] += 25  # 35 s since test was read: due
    await poll(feed)
    assert (_count_reads(runtimes, "prod"), _count_reads(runtimes, "test")) == (3, 2)
    shown[0] = "test"  # switched: now test is read at every poll, prod slowly
    now[0] += 1
    state = await poll(feed)
    assert (_count_reads(runtimes, "prod"), _count_reads(runtimes, "test")) == (3, 3)
    assert [e.shown for e in state.engines] == [False, True]


async def test_two_engines_on_one_redis_never_share_a_cache_entry(
        runtimes: EngineRuntimes, redis_url: str) -> None:
    for name in runtimes.names:
        runtime = runtimes.get(name)
        await asyncio.wait_for(EngineFeed(runtime).poll(), DEADLINE)
        await asyncio.wait_for(runtime.cache.flush(), DEADLINE)
    redis = Redis.from_url(redis_url)
    try:
        keys = sorted(k.decode() for k in await redis.keys("*engine:info*"))
    finally:
        await redis.aclose()
    assert len(keys) == 2, keys  # one entry per engine, not one both write
    assert any(":prod:" in k for k in keys) and any(":test:" in k for k in keys)


async def test_metrics_of_both_engines_keep_their_names_with_an_engine_label(
        runtimes: EngineRuntimes) -> None:
    await poll(EnginesFeed(runtimes, lambda: "prod", slow=30.0, clock=frozen_clock))
    seen = {(s.labels.get("engine"), s.labels.get("name"))
            for metric in runtimes.metrics_registry.collect() for s in metric.samples
            if s.name == "resync_circuitbreaker_state"}
    assert {("prod", "hwa_api"), ("test", "hwa_api")} <= seen
    requests = {s.labels["engine"] for metric in runtimes.metrics_registry.collect()
                for s in metric.samples if s.name == "resync_requests_total"}
    assert requests == {"prod", "test"}


def test_the_shared_feed_keys_of_two_engines_differ(runtimes: EngineRuntimes) -> None:
    keys = {name: ShareKeys.for_engine(rt.settings.hwa.url, rt.settings.hwa.plan_id)
            for name, rt in runtimes.runtimes.items()}
    assert keys["prod"].lease != keys["test"].lease
    assert keys["prod"].snapshot("jobs") != keys["test"].snapshot("jobs")


def _run(args: list[str], cfg_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    full.update(env, XDG_STATE_HOME=str(cfg_dir / "state"))
    return subprocess.run([sys.executable, "-m", "resync_tui", *args], capture_output=True,
                          text=True, timeout=30, env=full, cwd=cfg_dir)


def test_check_engine_picks_one_of_the_engines(sim_prod: Simulator, sim_test: Simulator,
                                               tmp_path: Path) -> None:
    """``check --engine NAME`` reads that engine (its password variable, its counts)."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text(f'[engines.prod]\nurl = "{sim_prod.base_url}"\nuser = "demo"\n'
                   f'[engines.test]\nurl = "{sim_test.base_url}"\nuser = "demo"\n'
                   f'[audit]\nspool_dir = "{tmp_path / "spool"}"\n')
    env = {"RESYNC_ENGINES__PROD__PASSWORD": "demo", "RESYNC_ENGINES__TEST__PASSWORD": "demo"}

    def jobs_of(line: str) -> int:
        return int(line.split("'jobs'=", 1)[1].split(";", 1)[0])

    for name, jobs in (("prod", PROD_JOBS), ("test", TEST_JOBS)):
        result = _run(["check", "--config", str(cfg), "--engine", name, "--crit-failed",
                       "1000", "--warn-failed", "1000", "--warn-stuck", "1000",
                       "--warn-ws-down", "1000"], tmp_path, env)
        line = result.stdout.splitlines()[0]
        assert result.returncode == 0, result.stdout + result.stderr
        assert jobs_of(line) == jobs
    unknown = _run(["check", "--config", str(cfg), "--engine", "qa"], tmp_path, env)
    assert unknown.returncode == 3
    assert unknown.stdout.splitlines()[:2] == ["RESYNC UNKNOWN - no engine qa",
                                               "known engines: prod, test"]


async def test_an_engine_whose_counts_are_old_is_stale_on_its_own_clock(
        sim_prod: Simulator, sim_test: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    built = build_runtimes(two_engines(sim_prod.base_url, sim_test.base_url, redis_url),
                           clock=clock)
    now = [0.0]
    feed = EnginesFeed(built, lambda: "prod", slow=30.0, clock=clock,
                       monotonic=lambda: now[0])
    try:
        await poll(feed)
        clock.advance(20)  # the engines' clock; test is not due again (monotonic 10 s)
        now[0] += 10
        state = await poll(feed)
        assert [(e.state, e.age) for e in state.engines] == [("OK", 0.0), ("OK", 20.0)]
        clock.advance(50)  # 70 s since test's counts: more than two 30 s intervals
        now[0] += 10
        state = await poll(feed)
        assert [e.state for e in state.engines] == ["OK", "STALE"]
        assert state.engines[1].reason == "counts 70 s old"
    finally:
        await built.aclose()


def test_engine_flag_picks_the_engine_a_command_reads(sim_prod: Simulator, sim_test: Simulator,
                                                      tmp_path: Path) -> None:
    """``resync-tui --engine NAME jobs``: that engine's plan; an unknown NAME: exit 2."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text(f'[engines.prod]\nurl = "{sim_prod.base_url}"\nuser = "demo"\n'
                   f'[engines.test]\nurl = "{sim_test.base_url}"\nuser = "demo"\n'
                   f'[logging]\nfile = "{tmp_path / "log"}"\n')
    env = {"RESYNC_ENGINES__PROD__PASSWORD": "demo", "RESYNC_ENGINES__TEST__PASSWORD": "demo"}
    for flags, jobs in (([], PROD_JOBS), (["--engine", "test"], TEST_JOBS)):
        result = _run(["--config", str(cfg), *flags, "jobs", "--json"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == jobs
    wrong = _run(["--config", str(cfg), "--engine", "qa", "jobs"], tmp_path, env)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip() == "resync-tui: --engine: no engine 'qa'; allowed: prod, test"
