"""The dashboard in a shared feed: leader, follower of a poller, own poll when Redis is down.

Real simulator over HTTP and a real redis-server; the other dashboard (or the poller)
is a second runtime in the test, sharing through the same Redis.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.shared import Share
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobsView
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Settings
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Role
from resync_tui.ui.app import ResyncApp
from tests.ui.dashboard_support import DEADLINE, frozen_clock, make_settings, screen_text, sim

__all__ = ["sim"]


def shared_settings(sim: Simulator, redis_url: str) -> Settings:
    settings = make_settings(sim.base_url, redis_url)
    return settings.replace(share=dataclasses.replace(settings.share, enabled=True,
                                                      follow_interval=0.2))


def engine_calls(sim: Simulator, path: str = "") -> int:
    return sum(n for name, n in sim.stats()["requests"].items()
               if not name.startswith("GET /_sim") and path in name)


async def until(check: object, what: str) -> None:
    """Bounded wait for a condition the app reaches by itself (a test never hangs)."""
    for _ in range(int(DEADLINE / 0.05)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


@pytest.fixture
async def poller(sim: Simulator, redis_url: str) -> AsyncIterator[Share]:
    """Another process's leader (as `resync-tui poller` would be), already publishing."""
    settings = shared_settings(sim, redis_url)
    rt = build_runtime(settings, clock=frozen_clock)
    share = Share(rt, owner="noc-poller:4242:abcd")
    assert await share.election.step() is Role.LEADER
    view = JobsView(clock=frozen_clock)  # as the poller's: its streams count its jobs
    for name, feed in (("jobs", JobsFeed(rt, view)),):
        wrapped = share.wrap(feed, 0.0)
        assert wrapped.name == name
        await wrapped.poll()
    from resync_tui.feeds.engine import EngineFeed
    from resync_tui.feeds.streams import StreamsFeed
    from resync_tui.feeds.workstations import WorkstationsFeed
    for feed in (EngineFeed(rt), WorkstationsFeed(rt, 60.0),
                 StreamsFeed(rt, view, 60.0)):
        await share.wrap(feed, 0.0).poll()
    yield share
    await share.lease.release()
    await rt.aclose()


async def test_alone_on_its_redis_the_dashboard_leads_and_publishes(
        sim: Simulator, redis_url: str) -> None:
    settings = shared_settings(sim, redis_url)
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(lambda: app.share is not None and app.share.election.role is Role.LEADER,
                    "leader")
        await asyncio.wait_for(app.wait_for_data(("jobs",)), DEADLINE)
        await pilot.pause()
        assert "shared · leader" in screen_text(app)
        r = aioredis.Redis.from_url(redis_url, socket_timeout=2)
        try:
            keys = ShareKeys.for_engine(sim.base_url)
            snap = await r.hgetall(keys.snapshot("jobs"))
            assert int(snap[b"rows"]) == app.view.total == 200
        finally:
            await r.aclose()


async def test_a_follower_shows_the_pollers_jobs_without_calling_the_engine(
        sim: Simulator, redis_url: str, poller: Share) -> None:
    settings = shared_settings(sim, redis_url)
    calls = engine_calls(sim)
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await asyncio.wait_for(
            app.wait_for_data(("jobs", "engine", "workstations", "streams")), DEADLINE)
        await pilot.pause()
        assert app.view.total == 200
        def counted() -> int:
            streams = app.runners["streams"].last
            if streams is None or streams.view.total != len(sim.plan.streams):
                return 0
            return sum(row.jobs for row in streams.view.rows_in(0, streams.view.total))

        await until(lambda: counted() == 200, "the streams counted from the shared jobs")
        text = screen_text(app)
        assert "shared · follower of noc-poller:4242" in text
        assert engine_calls(sim) == calls, sim.stats()["requests"]  # all through Redis


async def test_the_follower_takes_over_when_the_poller_goes_and_polls_alone_without_redis(
        sim: Simulator, redis_url: str, redis_server: EmbeddedRedis, poller: Share) -> None:
    settings = shared_settings(sim, redis_url)
    settings = settings.replace(share=dataclasses.replace(settings.share, lease_ttl=1.0))
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await asyncio.wait_for(app.wait_for_data(("jobs",)), DEADLINE)
            await poller.lease.release()  # the poller stops (its lease gone)
            await until(lambda: app.share is not None
                        and app.share.election.role is Role.LEADER, "takeover")
            calls = engine_calls(sim, "/plan/job")
            sim.tick(3 * 3600)
            await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
            assert engine_calls(sim, "/plan/job") > calls  # it reads the engine itself now
            redis_server.stop()
            await until(lambda: app.share is not None
                        and app.share.election.role is Role.ALONE, "own poll")
            await pilot.pause()
            assert "own poll (Redis down)" in screen_text(app)
    finally:
        redis_server.start()
