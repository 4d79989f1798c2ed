"""``resync-tui poller``: a real process, a real simulator and Redis; SIGTERM, kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.shared import Share
from resync_tui.feeds.streams import StreamsFeed, StreamsState
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.share.channel import Follower, SnapshotMissing
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Holder, Role
from tests.ui.dashboard_support import make_settings, sim

__all__ = ["sim"]


def environment(sim: Simulator, redis_url: str, home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "RESYNC_CONFIG": "", "HOME": str(home),
            "XDG_STATE_HOME": str(home / "state"), "RESYNC_HWA__URL": sim.base_url,
            "RESYNC_HWA__USER": "demo", "RESYNC_HWA__PASSWORD": "demo",
            "RESYNC_REDIS__URL": redis_url, "RESYNC_SHARE__LEASE_TTL": "1", **extra}


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    yield client
    await client.aclose()


@pytest.fixture
def poller(sim: Simulator, redis_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "resync_tui", "poller"],
                            env=environment(sim, redis_url, tmp_path), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


async def snapshot_of(r: aioredis.Redis, keys: ShareKeys) -> list[JobRow]:
    follower = Follower(r, keys, "jobs", JobRow)
    for _ in range(300):
        try:
            return (await follower.load()).rows
        except SnapshotMissing:
            await asyncio.sleep(0.1)
    raise AssertionError("the poller published no plan")


def test_bad_settings_end_it_at_once_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "RESYNC_CONFIG": "", "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-m", "resync_tui", "poller"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "resync-tui: poller: the poller publishes through Redis: set [redis] url to a Redis "
        "every dashboard reaches (not 'embedded')"]


async def test_it_leads_publishes_the_plan_and_exits_0_on_sigterm_giving_the_lease_up(
        sim: Simulator, r: aioredis.Redis, poller: subprocess.Popen[str]) -> None:
    keys = ShareKeys.for_engine(sim.base_url)
    rows = await snapshot_of(r, keys)
    assert len(rows) == 200
    holder = Holder.parse(await r.get(keys.lease))
    assert holder is not None and holder.where.endswith(f":{poller.pid}")
    poller.send_signal(signal.SIGTERM)
    assert poller.wait(timeout=5) == 0
    _out, err = poller.communicate(timeout=5)
    assert await r.get(keys.lease) is None  # given up: a standby leads at once
    assert "poller stopped" in err


async def test_a_dashboard_takes_over_when_the_poller_is_killed(
        sim: Simulator, redis_url: str, r: aioredis.Redis,
        poller: subprocess.Popen[str]) -> None:
    keys = ShareKeys.for_engine(sim.base_url)
    await snapshot_of(r, keys)
    settings = make_settings(sim.base_url, redis_url)
    rt = build_runtime(settings)
    try:
        share = Share(rt)
        assert await share.election.step() is Role.FOLLOWER
        poller.kill()  # kill -9: no lease given up
        poller.wait(timeout=5)
        for _ in range(100):  # lease ttl 1 s: taken well within a few rounds
            if await share.election.step() is Role.LEADER:
                break
            await asyncio.sleep(0.1)
        assert share.election.role is Role.LEADER
    finally:
        await rt.aclose()


async def test_a_dashboard_following_the_poller_shows_the_job_streams(
        sim: Simulator, redis_url: str, r: aioredis.Redis,
        poller: subprocess.Popen[str]) -> None:
    """The streams pane of a screen that follows the poller has the engine's streams
    (the poller publishes them like the jobs), not 'waiting for the leader' for ever."""
    await snapshot_of(r, ShareKeys.for_engine(sim.base_url))
    rt = build_runtime(make_settings(sim.base_url, redis_url))
    try:
        engine_streams = len((await asyncio.wait_for(rt.client.job_streams(), 10)).streams)
        assert engine_streams > 0
        share = Share(rt)
        assert await share.election.step() is Role.FOLLOWER
        view = JobsView(clock=rt.clock)
        jobs = share.wrap(JobsFeed(rt, view), 3600)
        streams = share.wrap(StreamsFeed(rt, view, 3600), 3600)
        await asyncio.wait_for(jobs.poll(), 10)
        state: StreamsState | None = None
        for _ in range(150):  # the poller's first stream list comes within a poll or two
            state = await asyncio.wait_for(streams.poll(), 10)
            if state.health.ok and len(state.view):
                break
            await asyncio.sleep(0.1)
        assert state is not None
        assert state.health.ok, state.health.reason
        assert len(state.view) == engine_streams
        assert state.jobs_counted == view.total == 200
    finally:
        await rt.aclose()
