"""One poll for the whole NOC: engine load, Redis load, follower lag, failover, first plan.

The real path: ``resync-tui sim`` in its own process, a real redis-server, and
dashboards as the app builds them (``build_runtime`` + ``Share.wrap`` around the
engine, jobs and workstations feeds, each run by a ``FeedRunner``) — without the
widgets (headless followers; one asyncio loop holds them all, so a follower's lag
here includes waiting for the others: an upper bound).

* ``alone_requests_per_poll``: engine requests per poll interval of ONE dashboard
  without sharing (the baseline, same run).
* ``k{K}_requests_per_poll``, ``k{K}_ratio``: with a leader and K followers; the
  ratio to the baseline (target ≤ 1.05 at K = 50). ``..._per_leader_poll`` and
  ``k{K}_ratio_per_poll`` divide by the plan polls actually made (a window holds only a
  few 200k polls: per interval, one poll more or less moves the ratio by 25%);
  ``k{K}_follower_plan_polls`` counts plan reads the followers made themselves (0).
* ``k{K}_redis_cmds_per_s``, ``k{K}_redis_kb_per_s``: Redis commands and bytes in+out.
* ``k{K}_lag_p50_ms`` / ``_p99_ms``: from the leader's publication of a delta to a
  follower applying it (target: the follower's data no older than the leader's + 1 s).
* ``failover_lease_s``, ``failover_first_read_s``: a ``resync-tui poller`` leading is
  ``kill -9``'d; seconds until a follower holds the lease, and until it has read the
  plan from the engine itself (target ≤ ttl + one poll interval).
* ``first_plan_{redis,engine}_s`` and ``_rss_mb``: a fresh process's first full plan
  (``--first-jobs`` jobs) from the leader's snapshot in Redis, against reading it from
  the engine; each in its own process, peak RSS from ``ru_maxrss``.

Usage: ``.venv/bin/python bench/bench_share.py [--jobs 5000] [--first-jobs 200000]
[--seconds 20] [--interval 2] [--ks 1,10,50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runner import FeedRunner
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.shared import Share, SharedJobsFeed
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.model.jobs_view import JobsView
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Secret, Settings
from resync_tui.share.lease import Role

REPO = Path(__file__).resolve().parents[1]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@contextmanager
def simulator(jobs: int, time_scale: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "resync_tui", "sim", "--port", "0", "--jobs", str(jobs),
         "--time-scale", str(time_scale)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"simulator did not start: {line!r}")
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(10)


def settings_for(url: str, redis_url: str, interval: float, **share: Any) -> Settings:
    base = Settings()
    import dataclasses

    return base.replace(
        hwa=dataclasses.replace(base.hwa, url=url, user="demo", password=Secret("demo"),
                                poll_interval=interval),
        redis=dataclasses.replace(base.redis, url=redis_url, socket_timeout=2.0),
        ui=dataclasses.replace(base.ui, workstations_interval=interval),
        share=dataclasses.replace(base.share, enabled=True, **share))


def engine_requests(url: str) -> int:
    stats = httpx.get(f"{url}/_sim/stats", timeout=30).json()
    return sum(n for path, n in stats["requests"].items() if "/_sim" not in path)


async def redis_totals(r: aioredis.Redis) -> tuple[int, int]:
    info = await r.info("stats")
    return (int(info["total_commands_processed"]),
            int(info["total_net_input_bytes"]) + int(info["total_net_output_bytes"]))


class Dashboard:
    """The feeds of one dashboard, headless, as the app builds them."""

    def __init__(self, settings: Settings, *, shared: bool) -> None:
        self.runtime: Runtime = build_runtime(settings)
        self.share = Share(self.runtime) if shared else None
        self.running = asyncio.Event()
        self.running.set()
        interval = settings.hwa.poll_interval
        feeds: list[Any] = [JobsFeed(self.runtime, JobsView(clock=self.runtime.clock)),
                            EngineFeed(self.runtime), WorkstationsFeed(self.runtime, interval)]
        every = interval
        if self.share is not None:
            feeds = [self.share.wrap(feed, interval) for feed in feeds]
            every = settings.share.follow_interval
        self.lags: list[float] = []
        self.runners = [FeedRunner(feed, every, lambda _s: None, self.running)
                        for feed in feeds]
        self.tasks: list[asyncio.Task[None]] = []
        self.stop = asyncio.Event()
        jobs = self.runners[0].feed
        if isinstance(jobs, SharedJobsFeed):
            self._instrument(jobs)
        self.engine_polls = 0
        """Reads of the plan this dashboard made itself (the wrapped JobsFeed's polls)."""
        inner = jobs.inner if isinstance(jobs, SharedJobsFeed) else jobs
        real_poll = inner.poll

        async def counted_poll() -> Any:
            self.engine_polls += 1
            return await real_poll()

        inner.poll = counted_poll  # type: ignore[method-assign]

    def _instrument(self, feed: SharedJobsFeed) -> None:
        """Record each applied delta's lag after its publication (the real path, timed)."""
        real = feed.follower.deltas

        async def deltas() -> Any:
            got = await real()
            now = time.time()
            for delta in got or ():
                published = delta.meta.get("published")
                if isinstance(published, float):
                    self.lags.append(now - published)
            return got

        feed.follower.deltas = deltas  # type: ignore[method-assign]

    def start(self) -> None:
        if self.share is not None:
            self.tasks.append(asyncio.create_task(self.share.run(self.stop)))
        self.tasks += [asyncio.create_task(runner.run()) for runner in self.runners]

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks[1 if self.share else 0:]:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.runtime.aclose()


async def run_for(dashboards: list[Dashboard], seconds: float) -> None:
    for d in dashboards:
        d.start()
    await asyncio.sleep(seconds)


async def sweep(url: str, redis_url: str, ks: list[int], seconds: float,
                interval: float) -> dict[str, float]:
    out: dict[str, float] = {}
    r = aioredis.Redis.from_url(redis_url, socket_timeout=5)
    alone = Dashboard(settings_for(url, redis_url, interval), shared=False)
    before = engine_requests(url)
    await run_for([alone], seconds)
    await alone.close()
    alone_requests = engine_requests(url) - before
    baseline = alone_requests / (seconds / interval)
    out["alone_requests_per_poll"] = baseline
    per_read = alone_requests / max(alone.engine_polls, 1)
    out["alone_requests_per_plan_poll"] = per_read
    for k in ks:
        await r.flushall()
        settings = settings_for(url, redis_url, interval)
        leader = Dashboard(settings, shared=True)
        assert leader.share is not None and await leader.share.election.step() is Role.LEADER
        followers = [Dashboard(settings, shared=True) for _ in range(k)]
        before = engine_requests(url)
        cmds, nbytes = await redis_totals(r)
        await run_for([leader, *followers], seconds)
        after_cmds, after_bytes = await redis_totals(r)
        total = engine_requests(url) - before
        requests = total / (seconds / interval)
        # Per plan poll of the leader: independent of how many polls fit in the window
        # (at 200k a poll takes seconds); the followers' own plan polls counted apart.
        out[f"k{k}_requests_per_leader_poll"] = total / max(leader.engine_polls, 1)
        out[f"k{k}_ratio_per_poll"] = out[f"k{k}_requests_per_leader_poll"] / per_read
        out[f"k{k}_follower_plan_polls"] = sum(f.engine_polls for f in followers)
        lags = [lag for f in followers for lag in f.lags]
        for d in (leader, *followers):
            await d.close()
        out[f"k{k}_requests_per_poll"] = requests
        out[f"k{k}_ratio"] = requests / baseline if baseline else float("nan")
        out[f"k{k}_redis_cmds_per_s"] = (after_cmds - cmds) / seconds
        out[f"k{k}_redis_kb_per_s"] = (after_bytes - nbytes) / seconds / 1024
        out[f"k{k}_lag_p50_ms"] = pct(lags, 50) * 1000
        out[f"k{k}_lag_p99_ms"] = pct(lags, 99) * 1000
        out[f"k{k}_deltas_seen"] = len(lags)
    await r.aclose()
    return out


async def failover(url: str, redis_url: str, interval: float,
                   ttl: float) -> dict[str, float]:
    env = {**os.environ, "RESYNC_CONFIG": "", "RESYNC_HWA__URL": url,
           "RESYNC_HWA__USER": "demo", "RESYNC_HWA__PASSWORD": "demo",
           "RESYNC_REDIS__URL": redis_url, "RESYNC_SHARE__LEASE_TTL": str(ttl),
           "RESYNC_HWA__POLL_INTERVAL": str(interval)}
    with tempfile.TemporaryDirectory() as home:
        env.update(HOME=home, XDG_STATE_HOME=home)
        poller = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "resync_tui", "poller", env=env,
            stderr=subprocess.DEVNULL, cwd=REPO)
        settings = settings_for(url, redis_url, interval, lease_ttl=ttl)
        follower = Dashboard(settings, shared=True)
        try:
            assert follower.share is not None
            lease = follower.share.lease
            for _ in range(600):  # the poller leads (and publishes) before the follower joins
                holder = await lease.holder()
                if holder is not None and holder.where.endswith(f":{poller.pid}"):
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the poller never took the lease")
            assert await follower.share.election.step() is Role.FOLLOWER
            follower.start()
            await asyncio.sleep(2 * interval)
            os.kill(poller.pid, signal.SIGKILL)
            killed = time.monotonic()
            await asyncio.wait_for(poller.wait(), 10)
            jobs = follower.runners[0]
            took: dict[str, float] = {}
            while time.monotonic() - killed < 10 * (ttl + interval):
                await asyncio.sleep(0.02)
                if "lease" not in took and follower.share.election.role is Role.LEADER:
                    took["lease"] = time.monotonic() - killed
                    reads = jobs.results
                if ("lease" in took and jobs.results > reads
                        and getattr(jobs.last, "full_read", False)):
                    took["read"] = time.monotonic() - killed
                    return took
            return {"lease": float("nan"), "read": float("nan"), **took}
        finally:
            if poller.returncode is None:
                poller.kill()
            await follower.close()


def first_plan_child(mode: str, url: str, redis_url: str) -> None:
    """In a fresh process: the first full plan, from Redis or from the engine."""
    async def main() -> float:
        settings = settings_for(url, redis_url, 3600)
        runtime = build_runtime(settings)
        view = JobsView(clock=runtime.clock)
        started = time.perf_counter()
        if mode == "engine":
            state = await JobsFeed(runtime, view).poll()
            assert state.health.ok, state.health.reason
        else:
            share = Share(runtime, owner="bench:1:x")
            assert await share.election.step() is Role.FOLLOWER
            feed = share.wrap(JobsFeed(runtime, view), 3600)
            state = await feed.poll()
            assert state.health.ok, state.health.reason
        took = time.perf_counter() - started
        total = view.total
        await runtime.aclose()
        assert total > 0
        return took

    took = asyncio.run(main())
    print(json.dumps({"seconds": took, "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS since its exec (``VmHWM``): ``ru_maxrss`` would include the
    parent's peak from before the exec (Linux keeps it across execve)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def first_plan(url: str, redis_url: str) -> dict[str, float]:
    settings = settings_for(url, redis_url, 3600)
    leader = Dashboard(settings, shared=True)
    assert leader.share is not None and await leader.share.election.step() is Role.LEADER
    # It keeps its lease (renewed) while the children read: they must find it leading.
    leader.tasks.append(asyncio.create_task(leader.share.run(leader.stop)))
    await leader.runners[0].poll_once()  # the leader reads and publishes the snapshot
    out: dict[str, float] = {}
    try:
        for mode in ("engine", "redis"):
            best: dict[str, float] | None = None
            for _ in range(2):
                child = await asyncio.to_thread(
                    subprocess.run, [sys.executable, __file__, "--child", mode, url, redis_url],
                    capture_output=True, text=True, cwd=REPO, timeout=600)
                if child.returncode != 0:
                    raise SystemExit(child.stderr[-2000:])
                got = json.loads(child.stdout.strip().splitlines()[-1])
                if best is None or got["seconds"] < best["seconds"]:
                    best = got
            assert best is not None
            out[f"first_plan_{mode}_s"] = best["seconds"]
            out[f"first_plan_{mode}_rss_mb"] = best["rss_mb"]
    finally:
        await leader.close()
    out["first_plan_speedup"] = out["first_plan_engine_s"] / out["first_plan_redis_s"]
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        first_plan_child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--first-jobs", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--ttl", type=float, default=3.0)
    parser.add_argument("--ks", default="1,10,50")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",") if k]
    figures: dict[str, float] = {"jobs": args.jobs, "interval_s": args.interval,
                                 "lease_ttl_s": args.ttl}
    with EmbeddedRedis() as redis_server:
        if ks:  # --ks "" measures only the first plan
            with simulator(args.jobs, time_scale=60.0) as url:
                figures.update(asyncio.run(sweep(url, redis_server.url, ks, args.seconds,
                                                 args.interval)))
                took = asyncio.run(failover(url, redis_server.url, args.interval, args.ttl))
                figures["failover_lease_s"] = took["lease"]
                figures["failover_first_read_s"] = took["read"]
                figures["failover_target_s"] = args.ttl + args.interval
        if args.first_jobs:
            with simulator(args.first_jobs, time_scale=0.0) as url:
                figures["first_jobs"] = args.first_jobs
                figures.update(asyncio.run(first_plan(url, redis_server.url)))
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
