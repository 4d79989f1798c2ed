"""``resync-tui poller``: the shared feed's leader, headless, for a host beside the engine.

It runs the shared feeds (engine info, jobs, workstations, job streams: every one of
``SHARED_FEEDS``, else a dashboard's pane of it waits for the leader for ever) with no
screen: while it holds the lease it polls the engine and publishes for every dashboard of the NOC;
while another process holds it, it stands by as a follower (so that it takes over
with the plan in hand). SIGTERM or SIGINT ends it within a few seconds, lease given
up (a standby takes over at once), exit 0. Bad settings end it at once with one
line and exit 2. It logs to stderr, or to ``logging.file`` when the settings name
one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any, Final

from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runner import FeedRunner
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.shared import Share
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsFeed
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.model.jobs_view import JobsView
from resync_tui.settings import Settings

__all__ = ["STOP_SECONDS", "PollerError", "run_poller"]

log = logging.getLogger("resync_tui.poller")

STOP_SECONDS: Final = 4.0
"""At most this long from SIGTERM to exit (systemd's default stop timeout is 90 s;
scripts and the issue ask for 5)."""


class PollerError(Exception):
    """The poller cannot start with these settings (said in one line)."""


def check_poller_settings(settings: Settings) -> None:
    if settings.redis.url == "embedded":
        raise PollerError("the poller publishes through Redis: set [redis] url to a Redis "
                          "every dashboard reaches (not 'embedded')")
    if not settings.hwa.url:
        raise PollerError("no engine: set [hwa] url")


class _HealthLog:
    """Logs a feed's health when it changes (not every poll)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.last: tuple[bool, str] | None = None

    def __call__(self, state: Any) -> None:
        health = getattr(state, "health", None)
        if not isinstance(health, FeedHealth):
            return
        now = (health.ok, health.kind)
        if now != self.last:
            self.last = now
            if health.ok:
                log.info("%s: data OK", self.name)
            else:
                log.warning("%s: %s", self.name, health.reason)


async def run_poller(settings: Settings, *, metrics_port: int | None = None,
                     stop: asyncio.Event | None = None,
                     on_role: Callable[[str], None] | None = None,
                     signals: bool = True) -> int:
    """Poll and publish until ``stop`` is set (or SIGTERM/SIGINT when ``signals``: the
    ``serve`` command handles them itself); 0 on a clean stop."""
    check_poller_settings(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT) if signals else ()
    for sig in handled:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    runtime = build_runtime(settings)
    metrics_server = None
    if metrics_port:
        from resync_tui.resilience.metrics import start_metrics_server

        try:
            metrics_server, _thread = start_metrics_server(
                metrics_port, runtime.metrics.registry, settings.metrics.host)
        except OSError as exc:
            await runtime.aclose()
            raise PollerError(f"--metrics-port {metrics_port}: {exc.strerror}") from exc
    share = Share(runtime)
    running = asyncio.Event()
    running.set()
    view = JobsView(clock=runtime.clock)
    ws_interval = settings.ui.workstations_interval
    feeds: list[tuple[Any, float]] = [  # the app's intervals (ui/panes.py REGISTRY)
        (JobsFeed(runtime, view), settings.hwa.poll_interval),
        (EngineFeed(runtime), settings.hwa.poll_interval),
        (WorkstationsFeed(runtime, ws_interval), ws_interval),
        (StreamsFeed(runtime, view, ws_interval), ws_interval),
    ]
    runners = [FeedRunner(share.wrap(feed, interval), settings.share.follow_interval,
                          _HealthLog(feed.name), running) for feed, interval in feeds]

    def role_changed(_role: object) -> None:
        said = share.describe()
        log.info("shared feed of %s: %s", runtime.engine_name, said)
        if on_role is not None:
            on_role(said)

    election = asyncio.create_task(share.run(stop, role_changed), name="share:election")
    tasks = [asyncio.create_task(runner.run(), name=f"poller:{runner.name}")
             for runner in runners]
    log.info("poller started for %s (lease %ss)", runtime.engine_name,
             settings.share.lease_ttl)
    try:
        await stop.wait()
    finally:
        log.info("poller stopping")
        for task in tasks:
            task.cancel()
        await asyncio.wait([*tasks, election], timeout=STOP_SECONDS - 1)
        election.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runtime.aclose(), 1.0)
        for sig in handled:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        if metrics_server is not None:
            metrics_server.shutdown()
    log.info("poller stopped")
    return 0
