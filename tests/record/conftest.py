"""A recording made the real way: the app against the simulator and a real Redis."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.record.recorder import DEFAULT_MAX_BYTES, Recorder
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.ui.app import ResyncApp
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_settings

STEP = 5.0
"""Simulated seconds between two polls of the recording."""
STEPS = 12
"""Polls after the first one: 60 simulated seconds."""

NOWHERE_HWA = "http://127.0.0.1:9/twsd"
"""The discard port: nothing listens there; a replay that called the engine would fail."""
NOWHERE_REDIS = "unix:///nonexistent/resync-replay-test.sock"


@dataclass
class Moment:
    """What the recording dashboard held at one engine time."""

    engine: float
    jobs: frozenset[JobRow]
    counts: dict[str, int]
    states: dict[str, Any] = field(default_factory=dict)


@dataclass
class Recorded:
    path: Path
    moments: list[Moment]


def counts_of(rows: frozenset[JobRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def without_polls(state: Any) -> Any:
    """A state with its poll counter zeroed (a replay counts its own polls)."""
    health = getattr(state, "health", None)
    if health is None or not isinstance(state, msgspec.Struct):
        return state
    return msgspec.structs.replace(state, health=msgspec.structs.replace(health, polls=0))


async def record_minute(sim: Simulator, redis_url: str, path: Path, *,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Moment], Recorder]:
    """Run the dashboard with ``--record`` over 60 simulated seconds; what it held after
    each poll, and the recorder."""
    settings = make_settings(sim.base_url, redis_url)
    clock = SteppedClock()
    runtime = build_runtime(settings, clock=clock)
    recorder = Recorder.for_runtime(runtime, path, flush_seconds=0.0, max_bytes=max_bytes)
    recorder.open()
    app = ResyncApp(runtime, settings, recorder=recorder)
    moments: list[Moment] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.wait_for_data(), DEADLINE)
        for step in range(STEPS + 1):
            if step:
                clock.advance(STEP)
                sim.tick(STEP)
                # The plan moves as an incident's would: a job fails each step, one goes.
                plan = sim.plan
                plan.set_status(plan.jobs[step * 7], "ABEND")
                if step == STEPS // 2:
                    plan.delete_job(plan.jobs[1].id)
                # The job list first: the Workstations feed counts each one's jobs from
                # it, and polled together they raced (one poll behind under load).
                await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
                await asyncio.wait_for(
                    app.poll_now(*(name for name in app.runners if name != "jobs")), DEADLINE)
            await pilot.pause()
            rows = frozenset(app.view.all_rows())
            moments.append(Moment(clock().timestamp(), rows, counts_of(rows), {
                name: without_polls(runner.last) for name, runner in app.runners.items()
                if name not in ("jobs", "streams")}))
    return moments, recorder


def make_recording(redis_server: EmbeddedRedis, path: Path) -> Recorded:
    """One minute recorded against a fresh 300-job simulator (its clock moved only by
    ``tick``) and the worker's real Redis (emptied afterwards)."""
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    redis_server.start()
    try:
        moments, recorder = asyncio.run(record_minute(simulator, redis_server.url, path))
    finally:
        simulator.stop()
        redis.Redis.from_url(redis_server.url).flushall()
    assert recorder.bytes_written > 0 and not recorder.stopped
    return Recorded(path, moments)


@pytest.fixture(scope="module")
def recorded(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory,
             ) -> Recorded:
    """Made once per module, read by each test."""
    return make_recording(redis_server, tmp_path_factory.mktemp("record") / "minute.rec")
