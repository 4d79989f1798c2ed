"""One headless dashboard in its own process, for ``bench_share.py`` (not a test).

It builds the feeds the app shares as ``ResyncApp.on_mount`` builds them: the engine,
jobs, workstations and streams feeds of the pane registry (same constructors, same
intervals: ``hwa.poll_interval`` for engine and jobs, ``ui.workstations_interval`` for
workstations and streams), each wrapped by ``Share.wrap`` and run by a ``FeedRunner``
every ``share.follow_interval``, beside ``Share.run`` (the election), from the real
settings (``load_settings``: the ``RESYNC_*`` environment, as ``resync-tui poller``
reads it). No widgets and no Textual: what is measured is the follower's data path
(snapshot load and decode into its own ``JobsView``, then deltas applied), not drawing.
With ``--alone`` the same feeds run unshared (``[share]`` off): a dashboard polling the
engine itself, the baseline.

Talks to the bench in JSON lines on stdout:

* ``{"event": "ready", ...}`` once its jobs view holds the plan (from the leader's
  snapshot, or its own read when alone), with the seconds since the process started
  and its RSS;
* after a line on stdin (or SIGTERM): ``{"event": "report", ...}``: its data-age
  samples ``[[unix time, age s], ...]`` every ``--sample`` seconds (age: this host's
  clock minus the ``last_success`` of the jobs state it shows, the leader's read when
  following), when it applied each delta and how long after its
  publication, when it read the
  plan from the engine itself and when it sent each HTTP request to the engine, its
  role, RSS and peak RSS (``VmHWM``), and its CPU seconds (``cpu_ready_s`` to the
  first plan, ``cpu_idle_s`` from then to the report, ``deltas_applied``); then it
  exits 0 (a leader gives its lease up as the app does when it quits);
  ``snapshot_loads``: when it loaded the jobs snapshot (the first time, and each reload).

``--profile FILE`` writes a cProfile of the process from its first plan shown to the
report (``python -m pstats FILE``: where an idle follower spends its CPU);
``--tracemalloc N`` reports the N biggest allocation sites held at ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, cast

STARTED = time.time()

from resync_tui.feeds.engine import EngineFeed  # noqa: E402  (STARTED first: import time counts)
from resync_tui.feeds.jobs import JobsFeed, JobsState  # noqa: E402
from resync_tui.feeds.runner import FeedRunner  # noqa: E402
from resync_tui.feeds.runtime import build_runtime  # noqa: E402
from resync_tui.feeds.shared import Share, SharedJobsFeed  # noqa: E402
from resync_tui.feeds.streams import StreamsFeed, StreamsState  # noqa: E402
from resync_tui.feeds.workstations import WorkstationsFeed  # noqa: E402
from resync_tui.model.jobs_view import JobsView  # noqa: E402
from resync_tui.settings import load_settings  # noqa: E402


def memory_mb() -> dict[str, float]:
    """RSS now and its peak since exec (``VmHWM``; ``ru_maxrss`` keeps the parent's)."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out["rss_mb" if name == "VmRSS" else "hwm_mb"] = int(value.split()[0]) / 1024
    return out


def say(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def run(alone: bool, sample: float, profile: str = "", traces: int = 0) -> None:
    settings = load_settings()
    if alone:
        settings = settings.replace(share=dataclasses.replace(settings.share, enabled=False))
    runtime = build_runtime(settings)
    view = JobsView(clock=runtime.clock)
    interval = settings.hwa.poll_interval
    ws_interval = settings.ui.workstations_interval
    feeds: list[tuple[Any, float]] = [
        (EngineFeed(runtime), interval),
        (JobsFeed(runtime, view), interval),
        (WorkstationsFeed(runtime, ws_interval), ws_interval),
        (StreamsFeed(runtime, view, ws_interval), ws_interval),
    ]
    share = Share(runtime) if settings.share.enabled else None
    running = asyncio.Event()
    running.set()
    runners: dict[str, FeedRunner[Any]] = {}
    for feed, every in feeds:
        if share is not None:
            feed, every = share.wrap(feed, every), settings.share.follow_interval
        runners[feed.name] = FeedRunner(feed, every, lambda _state: None, running)

    jobs_feed = runners["jobs"].feed
    inner: JobsFeed = (jobs_feed.inner if isinstance(jobs_feed, SharedJobsFeed)
                       else cast(JobsFeed, jobs_feed))
    poll_times: list[float] = []
    request_times: list[float] = []

    async def count_request(_request: Any) -> None:
        request_times.append(round(time.time(), 3))

    # Every HTTP request this process sends to the engine (the client's httpx client; a
    # bench may reach inside): a follower's count is the proof that it leaves the engine be.
    http = runtime.client._http
    http.event_hooks = {**http.event_hooks,
                        "request": [*http.event_hooks.get("request", []), count_request]}
    real_poll = inner.poll

    async def counted_poll() -> JobsState:
        poll_times.append(round(time.time(), 3))
        return await real_poll()

    inner.poll = counted_poll  # type: ignore[method-assign]
    lags: list[list[float]] = []  # [applied at, seconds since its publication]
    loads: list[float] = []  # when it loaded the jobs snapshot (the first, and reloads)
    if isinstance(jobs_feed, SharedJobsFeed):
        follower = jobs_feed.follower
        real_deltas = follower.deltas

        async def timed_deltas(*, wait: bool = True) -> Any:
            got = await real_deltas(wait=wait)
            now = time.time()
            for delta in got or ():
                published = delta.meta.get("published")
                if isinstance(published, float):
                    lags.append([round(now, 3), round(now - published, 4)])
            return got

        follower.deltas = timed_deltas  # type: ignore[method-assign]
        real_load = follower.load

        async def counted_load() -> Any:
            loads.append(round(time.time(), 3))
            return await real_load()

        follower.load = counted_load  # type: ignore[method-assign]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    threading.Thread(target=lambda: (sys.stdin.readline(), loop.call_soon_threadsafe(stop.set)),
                     daemon=True).start()
    election_stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(), name=f"feed:{n}") for n, r in runners.items()]
    election = (asyncio.create_task(share.run(election_stop)) if share is not None else None)

    ages: list[list[float]] = []
    ready = False
    profiler = cProfile.Profile() if profile else None
    cpu_ready = 0.0
    while not stop.is_set():
        state = runners["jobs"].last
        last = state.health.last_success if isinstance(state, JobsState) else None
        if last is not None and view.total:
            now = time.time()
            ages.append([round(now, 3), round(now - last.timestamp(), 3)])
            if not ready:
                ready = True
                cpu_ready = time.process_time()
                top: list[str] = []
                if traces:
                    snap = tracemalloc.take_snapshot()
                    top = [str(stat) for stat in snap.statistics("lineno")[:traces]]
                    tracemalloc.stop()
                say("ready", seconds=now - STARTED, jobs=view.total, cpu_s=cpu_ready,
                    traces=top, **memory_mb())
                if profiler is not None:
                    profiler.enable()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), sample)

    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu_idle = time.process_time() - cpu_ready if ready else 0.0
    streams = runners["streams"].last
    say("report", cpu_ready_s=cpu_ready, cpu_idle_s=cpu_idle, deltas_applied=len(lags),
        snapshot_loads=loads,
        ages=ages, lags=lags, engine_polls=len(poll_times), poll_times=poll_times,
        request_times=request_times, jobs=view.total,
        role=share.election.role.value if share is not None else "alone",
        streams_ok=isinstance(streams, StreamsState) and streams.health.ok,
        streams=len(streams.view) if isinstance(streams, StreamsState) else 0,
        **memory_mb())
    # Then the app's way out, bounded: a leader gives its lease up (a follower takes over
    # at once), connections closed; an overloaded Redis must not keep the process alive.
    for task in tasks:
        task.cancel()
    election_stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        if election is not None:
            await asyncio.wait([election], timeout=2)
        await asyncio.wait_for(runtime.aclose(), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alone", action="store_true", help="no sharing: poll the engine")
    parser.add_argument("--sample", type=float, default=0.1, help="seconds between age samples")
    parser.add_argument("--profile", default="", help="cProfile from ready to report, here")
    parser.add_argument("--tracemalloc", type=int, default=0,
                        help="report this many biggest allocation sites held at ready")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    if args.tracemalloc:
        tracemalloc.start()
    asyncio.run(run(args.alone, args.sample, args.profile, args.tracemalloc))
    sys.stdout.flush()
    os._exit(0)  # the report is out: no interpreter teardown (threads, sockets) to wait for


if __name__ == "__main__":
    main()
