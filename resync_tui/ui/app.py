"""The Textual app: wires the feeds to the dashboard, owns bindings, screens and shutdown.

Each pane has its own feed running in its own worker. A worker polls, publishes
the result into the dashboard's reactive attributes, then sleeps for its
interval: the next poll is scheduled only when the previous one has finished,
so a slow engine slows the polling down instead of piling polls up (and no
exclusive worker gets cancelled forever). A feed never raises: a failure shows
in its pane and the app keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeGuard, TypeVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker

from resync_tui.feeds.actions import (
    UNKNOWN_ADVICE,
    ActionRequest,
    ActionResult,
    ActionService,
    BulkRun,
    build_audit_log,
)
from resync_tui.feeds.audit_health import RECENT as AUDIT_RECENT
from resync_tui.feeds.audit_health import AuditFeed, AuditState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.engines import EnginesFeed, EnginesState
from resync_tui.feeds.jobs import JobsFeed, JobsState
from resync_tui.feeds.runner import FeedRunner
from resync_tui.feeds.runtime import EngineRuntimes, FirstRead, Runtime, build_runtimes
from resync_tui.feeds.status import Feed, FeedHealth
from resync_tui.gcpolicy import freeze_long_lived, release_collections
from resync_tui.hwa.models import JobInPlan
from resync_tui.model.job_row import job_row_from_model
from resync_tui.model.jobs_view import JobsView
from resync_tui.resilience.redis_pool import build_now
from resync_tui.resilience.tasks import raise_if_cancelling
from resync_tui.sanitize import safe_text
from resync_tui.settings import Settings
from resync_tui.ui.action_requests import (
    ActionsRequested,
    BulkActionsRequested,
    StreamActionsRequested,
    StreamRef,
    action_label,
)
from resync_tui.ui.desktop_notify import desktop_notification
from resync_tui.ui.keymap import effective_keys
from resync_tui.ui.panes import REGISTRY, FeedContext, PaneEntry
from resync_tui.ui.screens.dashboard import DashboardScreen
from resync_tui.ui.themes import to_theme
from resync_tui.ui.watchdog import stdin_alive
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.jobs_table import JobsTable
from resync_tui.ui.widgets.streams_pane import StreamSelected
from resync_tui.ui.workstation_actions import WorkstationHandlers

if TYPE_CHECKING:  # screens opened on a key: imported then, not before the first frame
    from resync_tui.alerts import AlertEvent  # [[alerts]] only (rules, webhooks)
    from resync_tui.feeds.alerts import AlertCenter
    from resync_tui.feeds.deps import DepsDetailLoader  # the job detail (Enter) only
    from resync_tui.feeds.shared import (  # [share] only: it imports redis-py
        Share,
        SharedJobsFeed,
        SharedStateFeed,
    )
    from resync_tui.record.recorder import Recorder  # --record only (zstandard)
    from resync_tui.share.lease import Role
    from resync_tui.ui.screens.bulk_action import BulkChoice, BulkProgressScreen

__all__ = ["JOB_INTERVALS", "ResyncApp", "describe_action_result", "run_dashboard"]

_log = logging.getLogger(__name__)

S = TypeVar("S")

JOB_INTERVALS: Final = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)
"""Steps of ``+`` / ``-`` for the job poll interval, in seconds."""

FIRST_READ_HEAD_START: Final = 1.0
"""Seconds the first read of the plan may run before the other feeds start polling."""

AUDIT_DRAIN_INTERVAL: Final = 5.0
"""Seconds between drains of the audit spool while Redis seems fine."""

FEED_NAMES: Final = tuple(entry.id for entry in REGISTRY)
"""Every feed the app runs, from the pane registry (``resync_tui/ui/panes.py``)."""


def _is_shared(feed: object) -> TypeGuard[SharedJobsFeed | SharedStateFeed[Any]]:
    """A feed of the shared feed (there is one only with [share]; its module, which
    imports redis-py, is imported then, not before the first frame)."""
    from resync_tui.feeds.shared import SharedJobsFeed, SharedStateFeed

    return isinstance(feed, SharedJobsFeed | SharedStateFeed)


def _health(state: Any) -> FeedHealth | None:
    health = getattr(state, "health", None)
    return health if isinstance(health, FeedHealth) else None


class ResyncApp(WorkstationHandlers, App[int]):
    """The dashboard. ``runtime`` is closed by the app when it exits."""

    CSS_PATH = "styles/app.tcss"  # shipped inside the package, beside this module
    TITLE = "resync-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("p", "toggle_pause", "Pause", id="app.pause"),
        Binding("r", "refresh_now", "Refresh", id="app.refresh"),
        Binding("plus", "slower", "Slower", key_display="+", show=False, id="app.slower"),
        Binding("minus", "faster", "Faster", key_display="-", show=False, id="app.faster"),
        Binding("t", "toggle_theme", "Theme", show=False, id="app.theme"),
        Binding("exclamation_mark", "alerts", "Alerts", key_display="!", show=False,
                id="app.alerts"),
        Binding("L", "audit_trail", "Audit", key_display="L", show=False, id="app.audit"),
        Binding("colon", "switch_engine", "Engine", key_display=":", show=False,
                id="app.engine"),
        Binding("O", "engines_overview", "Engines", key_display="O", show=False,
                id="app.engines"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    first_read_head_start: float = FIRST_READ_HEAD_START

    def __init__(self, runtime: Runtime, settings: Settings, *, wall: bool = False,
                 clock: Callable[[], datetime] | None = None, watchdog: bool = False,
                 private_redis: bool = False, recorder: Recorder | None = None,
                 engines: EngineRuntimes | None = None,
                 first_read: FirstRead | None = None) -> None:
        """``private_redis``: ``redis.url`` is this process's embedded Redis, so audit
        records stay in the spool (that Redis, and what it holds, goes when we exit).
        ``recorder``: an open recording every published state is appended to.
        ``engines``: every engine's runtime (``runtime`` is the one shown first); the app
        closes them all. None: ``runtime`` is the only engine. ``first_read``: the jobs
        feed's first poll, started before the UI was imported (``runtime``'s only)."""
        super().__init__()
        self.recorder = recorder
        self.runtime = runtime
        self.engines = engines if engines is not None else EngineRuntimes.single(runtime)
        self.settings = settings
        self.wall = wall
        # The shown engine's clock: with several engines, whichever one is shown now.
        self.clock = clock or (self._shown_clock if len(self.engines) > 1 else runtime.clock)
        self._watchdog = watchdog
        self._feeds_running = asyncio.Event()
        self._feeds_running.set()
        if first_read is not None and (first_read.runtime is not runtime
                                       or len(self.engines) > 1):
            first_read = None  # another engine's, or a view on another clock: not used
        self._first_read = first_read
        self.view = first_read.view if first_read is not None else JobsView(clock=self.clock)
        self.dashboard = DashboardScreen(self.clock, self.view, wall=wall,
                                         clock_offset=lambda: self.runtime.clock_offset(),
                                         clock_rate=lambda: self.runtime.clock_rate())
        self._loader: DepsDetailLoader | None = None
        self.audit_log = build_audit_log(settings, None if private_redis else runtime.redis)
        """The one audit log: the action service writes it, the drain worker empties its
        spool into Redis, the audit health and screen read it."""
        self.actions: ActionService | None = None
        """Operator actions; None when read-only (``[actions] enabled = false``)."""
        if settings.actions.enabled:
            self.actions = ActionService(runtime, self.audit_log)  # it exports the metrics
        else:
            runtime.metrics.track_audit(self.audit_log)
        self.dashboard.jobs.actions_enabled = self.actions is not None
        self.last_action: ActionResult | None = None
        """What came of the last action sent from the dashboard."""
        self.last_bulk: BulkRun | None = None
        """The last bulk run started from the dashboard (its results, why it stopped)."""
        self.runners: dict[str, FeedRunner[Any]] = {}
        self._private_redis = private_redis
        self.alerts: AlertCenter | None = None
        """The ``[[alerts]]`` rules at work; None when there are none."""
        self._settled = False
        """Whether what the first read built was frozen out of the collector's reach."""
        self._first_shown = asyncio.Event()
        """Set once the jobs feed's first state has been drawn (or could not be)."""
        self.share: Share | None = None
        """This process's part in the shared feed; None when not shared."""
        self._share_stop = asyncio.Event()
        self._closing = False
        self.keymap: dict[str, str] = {}
        self.set_keymap(settings.keymap)
        for name, user_theme in settings.themes.items():  # checked when settings loaded
            self.register_theme(to_theme(name, user_theme))
        self.theme = settings.ui.theme
        self._themes = self._theme_pair(settings.ui.theme, settings.ui.alternate_theme)

    # -- set-up ------------------------------------------------------------------------

    @property
    def loader(self) -> DepsDetailLoader:
        """What the job detail reads (the job, its runs, log and dependency chain) from
        the shown engine: built on first use (its modules load when Enter is pressed,
        not before the first frame)."""
        if self._loader is None:
            from resync_tui.feeds.deps import DepsDetailLoader

            self._loader = DepsDetailLoader(self.runtime, jobs=self.view.get,
                                            unlinked=self._workstation_problems)
        return self._loader

    def _theme_pair(self, configured: str, alternate: str = "") -> tuple[str, str]:
        """The two themes ``t`` switches between: ``ui.theme`` and ``ui.alternate_theme``,
        else the built-in of the other brightness."""
        if alternate:
            return configured, alternate
        theme = self.get_theme(configured)
        dark = theme.dark if theme is not None else True
        return (configured, "textual-light") if dark else (configured, "textual-dark")

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
        """Textual's, remembering the keymap: the help screen writes the live keys."""
        self.keymap = dict(keymap)
        super().set_keymap(self.keymap)

    def update_keymap(self, keymap: Mapping[str, str]) -> None:
        self.keymap = {**self.keymap, **keymap}
        super().update_keymap(keymap)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """Settings refuse a clashing keymap, so this is a bug: say which key lost."""
        _log.warning("keymap: %s lost its key in %s",
                     ", ".join(sorted(b.id or b.action for b in clashed_bindings)),
                     type(node).__name__)

    def get_default_screen(self) -> Screen[Any]:
        return self.dashboard

    def on_mount(self) -> None:
        ui = self.settings.ui
        d = self.dashboard
        # The command line held the collector off for the start (``hold_collections``):
        # back on once the first frame is drawn.
        self.call_after_refresh(release_collections)
        self._start_alerts()
        self._start_engine_feeds()
        self._start_engines_watch()
        if self.wall and ui.wall_rotate_seconds > 0:
            self.set_interval(ui.wall_rotate_seconds, d.rotate)
        if self._watchdog and not self.is_web:
            # In a browser (textual-serve) stdin is the web driver's pipe, not a
            # terminal: the driver ends the app when the page goes.
            self._start_watchdog()
        self._start_audit()

    def _start_engine_feeds(self) -> None:
        """The shown engine's feeds (every registry entry), each in its own worker."""
        d = self.dashboard
        context = FeedContext(self.runtime, self.settings, self.view, self.clock,
                              jobs_health=self._jobs_health)
        share = self._start_share()
        shared: tuple[str, ...] = ()
        if share is not None:
            from resync_tui.feeds.shared import SHARED_FEEDS

            shared = SHARED_FEEDS
        for entry in REGISTRY:  # one feed per entry, each in its own worker
            feed, interval = self._feed_for(entry, context)
            polled = getattr(feed, "inner", feed)  # the first read's feed wraps the feed
            if isinstance(polled, JobsFeed):
                # The top of a big first read, drawn while the rest is ranked: the jobs
                # table only (never a state: counts, alerts and the wall wait for all).
                polled.on_preview = d.show_jobs_preview
            if share is not None and entry.id in shared:
                # The runner reads the leader's changes often; the engine is polled at
                # the entry's interval, and only by the leader.
                feed = share.wrap(feed, interval)
                interval = self.settings.share.follow_interval
            runner: FeedRunner[Any] = FeedRunner(
                feed, interval, self._publisher_for(entry.id), self._feeds_running)
            self.runners[entry.id] = runner
            self.run_worker(self._run_feed(runner), name=f"feed:{entry.id}", group="feeds",
                            exit_on_error=False)
        d.header.interval = self.job_interval
        # Staleness is judged on how often the engine is read, not on how often a shared
        # feed's follower looks at Redis.
        d.workstations_interval = self._engine_interval("workstations")
        d.redis_interval = self.runners["redis"].interval
        d.streams_interval = self._engine_interval("streams")

    async def _run_feed(self, runner: FeedRunner[Any]) -> None:
        """The jobs feed polls at once; the others after its first result is shown (at
        most ``first_read_head_start`` seconds later): their answers, decoding and panes
        would otherwise take the loop (and the engine) from the first read of the plan,
        which is what the operator waits for. Their panes say "connecting…" meanwhile."""
        if runner is not self.runners.get("jobs"):
            await self._first_read_head_start()
        await runner.run()

    async def _first_read_head_start(self) -> None:
        """Until the jobs feed's first result (at most ``first_read_head_start`` seconds).
        Whatever uses Redis waits for it: the Redis client is built, and redis-py
        imported, on its first use, which then comes after the first frame with data."""
        jobs = self.runners.get("jobs")
        if jobs is not None and (jobs.results == 0 or not self._first_shown.is_set()):
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 the latter drops a
            # cancellation landing as the first result arrives, and the feed it guards
            # would then start on an app that is quitting (it never finished quitting).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.first_read_head_start):
                    await jobs.wait_results(1)
                    # And until the screen has drawn it: what comes next (redis-py's
                    # import, the other feeds' answers) would hold that frame back.
                    await self._first_shown.wait()
        for runtime in self.engines.runtimes.values():
            # Now, between commands: built inside a command's timeout, the import would
            # count against it (a Redis pane saying "timeout" for a healthy server).
            build_now(runtime.redis)
        # And the metrics' registry (prometheus_client's import), not before the frame.
        self.engines.materialize_metrics()

    async def _after_first_read(self, work: Callable[[], Awaitable[Any]]) -> None:
        await self._first_read_head_start()
        raise_if_cancelling()  # quitting meanwhile: do not start
        await work()

    def _feed_for(self, entry: PaneEntry, context: FeedContext) -> tuple[Feed[Any], float]:
        """A registry entry's feed and its interval (the replay app gives recorded ones)."""
        first = self._first_read
        if entry.id == "jobs" and first is not None and first.runtime is context.runtime:
            self._first_read = None  # once: another engine's feeds are its own
            return first.feed(), entry.interval(self.settings)
        return entry.feed(context), entry.interval(self.settings)

    def _publisher_for(self, name: str) -> Callable[[Any], None]:
        """Where a runner publishes: the dashboard, and the recording when there is one
        (the states the screen shows, never a second poll)."""
        show = partial(self._publish, name)  # drawn, then given to the alert rules
        recorder = self.recorder
        if recorder is None:
            return show

        def publish(state: Any) -> None:
            recorder.observe(name, state)
            show(state)

        return publish

    def _jobs_health(self) -> FeedHealth | None:
        runner = self.runners.get("jobs")
        return _health(runner.last) if runner is not None else None

    def _start_share(self) -> Share | None:
        """Join the engine's shared feed when ``[share] enabled`` (not with a private
        embedded Redis, which no other dashboard can reach)."""
        if not self.settings.share.enabled:
            return None
        if self._private_redis:
            _log.warning("share: disabled, the embedded Redis is private to this process; "
                         "set [redis] url to a Redis every dashboard reaches")
            return None
        from resync_tui.feeds.shared import Share

        self.share = Share(self.runtime)
        header = self.dashboard.header
        header.share = self.share.describe()

        def changed(role: Role) -> None:
            if self.share is not None:
                header.share = self.share.describe()

        self.run_worker(self.share.run(self._share_stop, changed), name="share:election",
                        group="share", exit_on_error=False)
        return self.share

    def _publish(self, name: str, state: Any) -> None:
        """A feed's new state: drawn, then given to the alert rules (the same data)."""
        if name == "jobs" and not self._settled and isinstance(state, JobsState) \
                and state.view.total:
            # What the first read built (the view's blocks and dict) lives as long as the
            # process: out of the collector's reach, full collections stop rescanning
            # ~750k container items on the loop (``resync_tui.gcpolicy``). Before it is
            # drawn, or the dashboard's first update pays for that full collection (at
            # 200k, 65 ms of its 130), and without the young collection (35 ms more):
            # O(1), so it does not delay the first frame either.
            self._settled = True
            freeze_long_lived(collect=False)
        self.dashboard.show(name, state)
        if name == "jobs" and not self._first_shown.is_set():
            # Once the screen has drawn it, the panes it hides are mounted and the feeds
            # held back for it start.
            self.dashboard.call_after_refresh(self.dashboard.mount_deferred)
            self.dashboard.call_after_refresh(self._first_shown.set)
        if self.alerts is not None:
            try:
                self.alerts.observe(name, state)
            except Exception:  # a rule's bug must not stop the pane being drawn
                _log.exception("alert rules failed on %s", name)

    def _start_alerts(self) -> None:
        """The ``[[alerts]]`` rules, if any: bell, desktop notification, webhook."""
        if not self.settings.alerts:
            return
        from resync_tui.alerts import WebhookSender, rules_from_settings
        from resync_tui.feeds.alerts import AlertCenter

        rules = rules_from_settings(self.settings.alerts)
        sender = None
        if any(rule.webhook for rule in rules):
            sender = WebhookSender(self.runtime.breakers.get("webhook"), self.runtime.retry,
                                   registry=self.runtime.metrics.registry)
            sender.start()

        def sends_webhooks() -> bool:
            # With the shared feed only the leader posts: one NOC, one message per event.
            if self.share is None:
                return True
            from resync_tui.share.lease import Role

            return self.share.election.role is not Role.FOLLOWER

        self.alerts = AlertCenter(rules, sender=sender, ring=self._ring,
                                  notify=self._desktop_notify, sends_webhooks=sends_webhooks)

    def _ring(self, event: AlertEvent) -> None:
        self.bell()

    def _desktop_notify(self, event: AlertEvent) -> None:
        """A toast always; a desktop notification (OSC 9 / 777) only where the terminal is
        known to show one, and not on a wall screen."""
        text = safe_text(event.summary, 200)
        self.notify(text, title=f"alert: {safe_text(event.rule, 40)}", severity="warning")
        sequence = desktop_notification(text, os.environ, wall=self.wall)
        driver = self._driver
        if sequence and driver is not None and not self.is_headless:
            driver.write(sequence)

    def action_alerts(self) -> None:
        """What the alert rules fired, newest first; ``a`` acknowledges."""
        center = self.alerts
        if center is None:
            self.say("no alert rules: add [[alerts]] tables to the settings file", timeout=4)
            return
        from resync_tui.ui.screens.alerts import AlertsScreen

        def acknowledge() -> None:  # the alerted jobs are looked at too: no longer new
            self.dashboard.jobs.acknowledge_jobs(center.mark_seen())

        self.push_screen(AlertsScreen(lambda: list(center.fired),
                                      acknowledge=acknowledge,
                                      to_local=lambda ts: datetime.fromtimestamp(ts).astimezone()))

    @property
    def job_interval(self) -> float:
        """Seconds between reads of the engine's plan (the runner's, or the shared feed's)."""
        return self._engine_interval("jobs")

    def _engine_interval(self, name: str) -> float:
        """Seconds between a feed's reads of the engine: its runner's, or for a shared
        feed the leader's (its runner only looks at Redis, more often)."""
        runner = self.runners[name]
        interval = getattr(runner.feed, "engine_interval", None)
        return float(interval) if isinstance(interval, int | float) else runner.interval

    # -- for tests and the snapshot command -------------------------------------------

    async def wait_for_data(self, names: Iterable[str] = FEED_NAMES, polls: int = 1) -> None:
        """Until every named feed has published ``polls`` results (good or bad)."""
        await asyncio.gather(*(self.runners[n].wait_results(polls) for n in names))

    async def poll_now(self, *names: str) -> None:
        """Poll the named feeds once each (all if none) and wait until shown."""
        targets = [self.runners[n] for n in (names or FEED_NAMES)]
        for runner in targets:
            runner.feed.refresh()
        await asyncio.gather(*(runner.poll_once() for runner in targets))

    def missing_data(self) -> dict[str, str]:
        """Feeds without any good result yet, with the reason."""
        missing: dict[str, str] = {}
        for name, runner in self.runners.items():
            health = _health(runner.last)
            if health is None or not health.has_data:
                missing[name] = health.reason if health is not None and health.reason else (
                    "no answer yet")
        return missing

    @property
    def paused(self) -> bool:
        return not self._feeds_running.is_set()

    # -- actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        from resync_tui.ui.screens.help import HelpScreen  # markdown: not before it is asked

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(effective_keys(self.keymap),
                                        actions=self.actions is not None))

    def say(self, message: str, *, severity: SeverityLevel = "information",
            timeout: float = 3) -> None:
        """One notification at a time: a new one replaces the last (pressing ``-`` seven
        times must not stack seven toasts over the header)."""
        self.clear_notifications()
        self.notify(message, severity=severity, timeout=timeout)

    def action_toggle_pause(self) -> None:
        self.set_paused(not self.paused)
        self.say("refresh paused" if self.paused else "refresh resumed", timeout=2)

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) every feed after the poll it is running."""
        if paused:
            self._feeds_running.clear()
        else:
            self._feeds_running.set()
        self.dashboard.header.paused = paused

    def action_refresh_now(self) -> None:
        """Poll every pane now, and say what will happen (a key that seems to do nothing
        gets pressed again and again)."""
        client = self.runtime.client
        notes: list[str] = []
        probe = client.credentials_rejected is not None
        if probe:
            client.retry_credentials()  # one try with the credentials (password file re-read)
            notes.append("trying the credentials once more")
        for breaker in self.runtime.breakers:
            snap = breaker.snapshot()
            if snap.state.value in ("open", "forced_open"):
                wait = snap.seconds_until_trial
                when = "" if wait is None else f", next trial in {max(0, round(wait))}s"
                notes.append(f"breaker {snap.name} is open: calls are refused{when}")
        paused = self.paused
        notes.insert(0, "refreshing once; polling stays paused (p resumes)" if paused
                     else "refreshing every pane")
        self.run_worker(self._refresh(probe=probe, paused=paused), group="refresh",
                        exit_on_error=False)
        self.say("; ".join(notes), severity="warning" if len(notes) > 1 else "information")

    async def _refresh(self, *, probe: bool, paused: bool) -> None:
        """The engine feed goes first when it carries the one credentials probe: the other
        feeds would otherwise fail fast beside it and keep saying "rejected"."""
        if probe:
            await self.runners["engine"].poll_once()
        others = [name for name in FEED_NAMES if not (probe and name == "engine")]
        if paused:
            await self.poll_now(*others)
            return
        for name in others:
            self.runners[name].feed.refresh()
            self.runners[name].kick(refresh=True)

    def set_job_interval(self, seconds: float) -> None:
        for name in ("jobs", "engine"):
            runner = self.runners[name]
            if self.share is not None and _is_shared(runner.feed):
                runner.feed.engine_interval = seconds
            else:
                runner.interval = seconds
            runner.kick(refresh=False)
        self.dashboard.header.interval = seconds

    def _step_interval(self, direction: int) -> None:
        current = self.job_interval
        if direction > 0:
            bigger = [s for s in JOB_INTERVALS if s > current]
            new = bigger[0] if bigger else JOB_INTERVALS[-1]
        else:
            smaller = [s for s in JOB_INTERVALS if s < current]
            new = smaller[-1] if smaller else JOB_INTERVALS[0]
        self.set_job_interval(new)
        self.say(f"job list every {new:g}s", timeout=2)

    def action_slower(self) -> None:
        self._step_interval(+1)

    def action_faster(self) -> None:
        self._step_interval(-1)

    def action_toggle_theme(self) -> None:
        first, second = self._themes
        self.theme = second if self.theme == first else first

    async def action_quit(self) -> None:
        self.exit(0)

    async def _stop_feeds(self) -> None:
        """Stop polling, then close the HWA client and Redis (once, on unmount)."""
        if self._closing:
            return
        self._closing = True
        self._share_stop.set()  # the leader gives its lease up: a follower takes over at once
        await asyncio.gather(*(_quietly(w) for w in self.workers
                               if w.group == "share" and w.is_running))
        workers = self.workers.cancel_group(self, "feeds")
        await asyncio.gather(*(_quietly(w) for w in workers))
        if self.alerts is not None and self.alerts.sender is not None:
            await self.alerts.sender.aclose()
        if self.recorder is not None:
            self.recorder.close()
        await self.engines.aclose()

    async def on_unmount(self) -> None:
        await self._stop_feeds()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause / resume refresh", "Stop or restart polling the engine",
                            self.action_toggle_pause)
        yield SystemCommand("Refresh now", "Poll every pane at once", self.action_refresh_now)
        yield SystemCommand("Toggle dark / light theme",
                            "Switch between ui.theme and ui.alternate_theme",
                            self.action_toggle_theme)
        yield SystemCommand("Audit trail", "Operator actions recorded, newest first "
                            "(filter, follow; spooled records too)", self.action_audit_trail)
        yield from self._engine_commands()
        for seconds in (2.0, 5.0, 10.0, 30.0, 60.0):
            yield SystemCommand(f"Job poll interval: {seconds:g}s",
                                f"Read the job list every {seconds:g} seconds",
                                partial(self.set_job_interval, seconds))
        yield from self._view_commands()
        yield from self._navigation_commands()

    def _view_commands(self) -> Iterable[SystemCommand]:
        """"View: NAME" for each ``[views.NAME]`` of the settings (checked when loaded)."""
        from resync_tui.model.jobs_view import parse_sort

        for name, view in self.settings.views.items():
            help_text = " ".join(part for part in (
                safe_text(view.query, 80), f"sorted by {safe_text(view.sort, 30)}"
                if view.sort else "") if part) or "every job, attention order"
            yield SystemCommand(f"View: {safe_text(name, 60)}", help_text,
                                partial(self.dashboard.jobs.apply_view, view.query,
                                        parse_sort(view.sort)))

    def _navigation_commands(self) -> Iterable[SystemCommand]:
        """Every pane, filter and job-list action by name: ``fail`` finds the failed
        jobs, ``work`` the workstations pane."""
        from resync_tui.model.status import GROUPS
        from resync_tui.ui.screens.dashboard import PANES

        jobs = self.dashboard.jobs
        for pane, label in PANES:
            yield SystemCommand(f"Show the {label.lower()} pane", f"Go to the {label} pane",
                                partial(self._show_pane, pane))
        for status_group in GROUPS:
            statuses = ", ".join(sorted(status_group.statuses)) or "statuses not known"
            yield SystemCommand(f"Show {status_group.label} jobs ({statuses})",
                                status_group.meaning,
                                partial(jobs.show_group, status_group.name))
        yield SystemCommand("Show all jobs", "Clear the status group filter",
                            partial(jobs.show_group, None))
        yield SystemCommand("Show only jobs needing attention",
                            "Failed, stuck, running late, held past their time",
                            partial(self._attention_only, True))
        yield SystemCommand("Filter the job list", "Words and terms: status=ABEND ws=FTA_@ "
                            "rc>0 group=failed !status=SUCC", jobs.action_open_filter)
        yield SystemCommand("Export the job list", "The view after filter and sort, every "
                            "row, to CSV or JSON", jobs.action_export)
        yield SystemCommand("Copy the job id", "The cursor job's id to the clipboard",
                            jobs.action_copy_id)
        yield SystemCommand("Next failed job", "Move to the next ABEND, FAIL, ERROR or "
                            "ABENP", jobs.table.action_next_failure)
        yield SystemCommand("Attention order", "Sort the job list by what needs attention",
                            jobs.table.action_attention_order)

    def _attention_only(self, on: bool) -> None:
        jobs = self.dashboard.jobs
        if jobs.view.attention_only != on:
            jobs.action_toggle_attention()

    def _show_pane(self, pane: str) -> None:
        self.dashboard.action_show_pane(pane)
        if pane == "jobs":
            self.dashboard.jobs.table.focus()

    def _workstation_problems(self) -> dict[str, str]:
        """Workstation name -> what is wrong ("not linked"), for "why is this waiting"."""
        state = self.dashboard.workstations.state
        return {row.name: row.problem for row in state.problems} if state is not None else {}

    @on(JobsTable.JobSelected)
    def _open_job(self, message: JobsTable.JobSelected) -> None:
        from resync_tui.ui.screens.job_detail import JobDetailScreen

        row = self.view.get(message.job_id)
        if row is not None:
            self.push_screen(JobDetailScreen(row, self.loader,
                                             actions=self.actions is not None))

    @on(JobsPane.LogRequested)
    def _open_log(self, message: JobsPane.LogRequested) -> None:
        """``l`` in the job table: the job's details, on the Log tab (read from the end)."""
        from resync_tui.ui.screens.job_detail import JobDetailScreen

        row = self.view.get(message.job_id)
        if row is None:
            return
        screen = JobDetailScreen(row, self.loader, actions=self.actions is not None)
        self.push_screen(screen)
        screen.call_after_refresh(screen.action_show_log)

    # -- operator actions --------------------------------------------------------------

    @on(StreamSelected)
    def _open_stream(self, message: StreamSelected) -> None:
        """A stream's jobs: the jobs pane filtered by the ``stream=NAME`` term (exactly that
        name: a substring would also show ``X_1000``'s jobs for ``X_100``)."""
        jobs = self.dashboard.jobs
        query = f"stream={message.stream_name}"
        self.view.set_filter(query)
        for filter_input in jobs.query("#jobs-filter-input").results(Input):
            filter_input.value = query  # shown, editable, Esc clears it
        jobs.update_jobs(self.view)
        jobs.table.move_cursor(0)
        self.dashboard.active_pane = "jobs"
        jobs.table.focus()

    @on(ActionsRequested)
    def _open_actions(self, message: ActionsRequested) -> None:
        """The action menu on one job; what it returns is sent once, in a worker."""
        row = self.view.get(message.job_id)
        if self.actions is None or row is None:
            return
        from resync_tui.ui.screens.confirm_action import ConfirmActionScreen

        self.push_screen(ConfirmActionScreen(row, engine=self._engine_label(),
                                             require=self.settings.actions.require),
                         self._confirmed)

    def _engine_label(self) -> str:
        hwa = self.settings.hwa
        return f"{hwa.url} (as {hwa.user})" if hwa.user and not hwa.token else hwa.url

    def _confirmed(self, request: ActionRequest | None) -> None:
        if request is None:
            self.say("action cancelled: nothing sent", timeout=2)
            return
        self.say(f"sending {action_label(request)} …", timeout=10)
        self.run_worker(self._perform(request), group="actions", exit_on_error=False)

    async def _perform(self, request: ActionRequest) -> None:
        """Send it (the service records, sends once and re-reads the job), then say what
        came of it; a done action's row comes from that re-read, not another request."""
        assert self.actions is not None
        result = await self.actions.perform(request)
        self.last_action = result
        if result.result == "done" and result.job is not None:
            self._show_job_row(result.job)
        elif result.result == "done" and request.target == "jobstream":
            await self._reread_detail_job()
        self.say(describe_action_result(result),
                 severity="information" if result.result == "done" else "error",
                 timeout=10)

    def _show_job_row(self, job: JobInPlan) -> None:
        """A re-read job into the table and into an open detail screen of it (whose title
        would otherwise keep the status from before the action)."""
        from resync_tui.ui.screens.job_detail import JobDetailScreen

        row = job_row_from_model(job)
        change = self.view.apply_changes([row])
        self.dashboard.jobs.update_jobs(self.view, change)
        if self.alerts is not None:  # the rules read changes: tell them of this one
            self.alerts.jobs_written(change.changed_ids)
        for screen in self.screen_stack:
            if isinstance(screen, JobDetailScreen) and screen.job.job_id == row.job_id:
                screen.show_job(self.view.get(row.job_id) or row)

    async def _reread_detail_job(self) -> None:
        """After a job stream action: the detail screen's job changed with its stream."""
        from resync_tui.ui.screens.job_detail import JobDetailScreen

        assert self.actions is not None
        for screen in self.screen_stack:
            if isinstance(screen, JobDetailScreen):
                try:
                    self._show_job_row(await self.actions.read_job(screen.job.job_id))
                except Exception as exc:  # the action is done; only the re-read failed
                    _log.warning("job %s not read again after a stream action (%s)",
                                 screen.job.job_id, type(exc).__name__)

    @on(StreamActionsRequested)
    def _open_stream_actions(self, message: StreamActionsRequested) -> None:
        """The job stream menu: the job is read first, for its stream's id (the job list
        does not carry it), in a worker."""
        if self.actions is not None:
            self.run_worker(self._stream_menu(message.job_id), group="actions-menu",
                            exclusive=True, exit_on_error=False)

    async def _stream_menu(self, job_id: str) -> None:
        assert self.actions is not None
        try:
            job = await self.actions.read_job(job_id)
        except Exception as exc:  # any failure is said; nothing is sent
            self.say(f"job stream unknown (the job could not be read: "
                     f"{safe_text(str(exc) or type(exc).__name__, 160)}): nothing sent",
                     severity="error", timeout=8)
            return
        row = self.view.get(job_id) or job_row_from_model(job)
        if not job.job_stream_id:
            self.say("the engine did not say which job stream this job is in: nothing sent",
                     severity="error", timeout=8)
            return
        stream = StreamRef(job.job_stream_id, job.job_stream_name or row.stream,
                           job.job_stream_workstation or "")
        from resync_tui.ui.screens.confirm_action import StreamActionScreen

        self.push_screen(StreamActionScreen(row, stream, engine=self._engine_label(),
                                            require=self.settings.actions.require),
                         self._confirmed)

    @on(BulkActionsRequested)
    def _open_bulk(self, message: BulkActionsRequested) -> None:
        """The bulk menu on the marked jobs (those still in the plan)."""
        from resync_tui.ui.screens.bulk_action import BulkActionScreen

        if self.actions is None:
            return
        rows = [row for row in map(self.view.get, message.job_ids) if row is not None]
        if not rows:
            return
        self.push_screen(BulkActionScreen(rows, engine=self._engine_label(),
                                          require=self.settings.actions.require,
                                          max_bulk=self.settings.actions.max_bulk),
                         self._bulk_confirmed)

    def _bulk_confirmed(self, choice: BulkChoice | None) -> None:
        if choice is None:
            self.say("bulk action cancelled: nothing sent", timeout=2)
            return
        assert self.actions is not None
        try:
            run = self.actions.bulk(choice.requests, confirmed_count=choice.confirmed_count)
        except ValueError as exc:
            self.say(f"not sent: {exc}", severity="error", timeout=8)
            return
        self.last_bulk = run
        from resync_tui.ui.screens.bulk_action import BulkProgressScreen

        label = action_label(choice.requests[0])
        progress = BulkProgressScreen(f"{label} on {run.total:,} jobs · {self._engine_label()}",
                                      run.total, choice.skipped, on_stop=run.cancel)
        self.push_screen(progress)
        self.run_worker(self._perform_bulk(run, progress), group="actions",
                        exit_on_error=False)

    async def _perform_bulk(self, run: BulkRun, progress: BulkProgressScreen) -> None:
        """One job after the other; each result shown as it comes, each done job's row
        from its re-read, and unmarked (what failed or is unknown stays marked)."""
        table = self.dashboard.jobs.table

        def shown(result: ActionResult) -> None:
            self.last_action = result
            progress.add_result(result)
            if result.result == "done" and result.job is not None:
                self._show_job_row(result.job)
                table.unmark([result.request.job_id])

        try:
            await run.run(shown)
        finally:
            if progress.is_attached:  # not when the app is closing under the run
                progress.finish(run.stopped, run.unsent)
                self.dashboard.jobs.update_jobs(self.view)
        done = sum(1 for r in run.results if r.result == "done")
        self.say(f"{action_label(run.requests[0])}: {done:,} of {run.total:,} done"
                 + (f"; {run.stopped}" if run.stopped else ""),
                 severity="information" if done == run.total else "warning", timeout=10)

    # -- several engines ---------------------------------------------------------------

    def _shown_clock(self) -> datetime:
        return self.runtime.clock()

    @property
    def engine(self) -> str:
        """The name of the engine shown (its [engines.NAME], or the host of [hwa])."""
        return self.runtime.engine_name

    def _start_engines_watch(self) -> None:
        """The overview's feed: every engine's counts through its own runtime. It polls
        only with several engines; with one, ``O`` reads it once when opened."""
        ui = self.settings.ui
        feed = EnginesFeed(self.engines, lambda: self.engine, slow=ui.engines_interval,
                           clock=lambda: self.clock())
        self.engines_state: EnginesState | None = None
        self.engines_runner: FeedRunner[EnginesState] = FeedRunner(
            feed, min(self.settings.hwa.poll_interval, ui.engines_interval),
            self._show_engines, self._feeds_running)
        if len(self.engines) > 1:
            self.run_worker(self.engines_runner.run(), name="engines:watch", group="feeds",
                            exit_on_error=False)

    def _show_engines(self, state: EnginesState) -> None:
        from resync_tui.ui.screens.engines import EnginesScreen  # O: not before the first frame

        self.engines_state = state
        for screen in self.screen_stack:
            if isinstance(screen, EnginesScreen):
                screen.show(state)

    def action_engines_overview(self) -> None:
        """Every engine on one screen; Enter switches to the one under the cursor."""
        from resync_tui.ui.screens.engines import EnginesScreen

        if isinstance(self.screen, EnginesScreen):
            return
        self.push_screen(EnginesScreen(self.engines_state), self._engine_picked)
        self.engines_runner.feed.refresh()
        if len(self.engines) > 1:
            self.engines_runner.kick(refresh=True)
        else:
            self.run_worker(self.engines_runner.poll_once(), group="engines-read",
                            exclusive=True, exit_on_error=False)

    def action_switch_engine(self) -> None:
        """``:``: the engine switcher (type part of a name, Enter)."""
        if len(self.engines) < 2:
            self.say(f"one engine only ({safe_text(self.engine, 40)}): add "
                     "[engines.NAME] tables to the settings file to switch", timeout=4)
            return
        from resync_tui.ui.screens.engines import EngineSwitcher

        if not isinstance(self.screen, EngineSwitcher):
            self.push_screen(EngineSwitcher(self.engines.names, lambda: self.engines_state,
                                            self.engine), self._engine_picked)

    def _engine_picked(self, name: str | None) -> None:
        if name is not None and name != self.engine:
            self.run_worker(self.switch_engine(name), group="engine-switch",
                            exclusive=True, exit_on_error=False)

    def _engine_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Engines overview", "Every engine: state, counts by status "
                            "group, failures, data age", self.action_engines_overview)
        if len(self.engines) > 1:
            for name in self.engines.names:
                url = safe_text(self.engines.get(name).settings.hwa.url, 80)
                yield SystemCommand(f"Engine: {safe_text(name, 32)}",
                                    f"Show {url}" + (" (shown now)" if name == self.engine
                                                     else ""),
                                    partial(self._engine_picked, name))

    async def switch_engine(self, name: str) -> None:
        """Show engine ``name``: the shown engine's plan feeds are stopped (its plan
        leaves memory), the view and every pane are cleared before the new engine's first
        read ("loading NAME"), then the feeds start again on the new engine's runtime
        (its client, breakers, cache). The other engines stay watched by their counts."""
        if name == self.engine or name not in self.engines.names:
            return
        if self.recorder is not None:
            self.say("not switching engines while recording (a recording is of one "
                     "engine)", severity="warning", timeout=6)
            return
        names = {f"feed:{n}" for n in FEED_NAMES}
        plan = [w for w in self.workers if w.name in names and w.group == "feeds"]
        for worker in plan:
            worker.cancel()
        if self.share is not None:  # the old engine's lease is given up at once
            self._share_stop.set()
            plan += [w for w in self.workers if w.group == "share"]
        await asyncio.gather(*(_quietly(w) for w in plan))
        self.share, self._share_stop = None, asyncio.Event()
        self.dashboard.header.share = ""
        old = self.runtime
        old.cache.l1.clear()  # its job details and logs: the plan shown is the new one's
        self.runtime = self.engines.get(name)
        if self.settings.engines:
            self.settings = self.settings.for_engine(name)
        self.runners.clear()
        self.dashboard.jobs.update_jobs(self.view, self.view.apply([]))
        self.dashboard.clear_for_engine(EngineState(
            name=safe_text(name, 64), plan_id=safe_text(self.settings.hwa.plan_id, 64)))
        self._loader = None  # the next detail reads the new engine
        if self.actions is not None:
            self.actions = ActionService(self.runtime, self.audit_log)
        if self.alerts is not None:  # the new engine's first states are a baseline: its
            # failures of before the switch are not news (what fired stays listed)
            from resync_tui.alerts import AlertEvaluator

            self.alerts.evaluator = AlertEvaluator(self.alerts.evaluator.rules)
        self._start_engine_feeds()
        self.engines_runner.kick(refresh=False)
        self.say(f"engine {safe_text(name, 40)}: loading …", timeout=3)

    # -- audit trail -------------------------------------------------------------------

    audit_drain_interval: float = AUDIT_DRAIN_INTERVAL
    """Seconds between drains of the audit spool (sooner when Redis answers again)."""

    def _start_audit(self) -> None:
        """The drain worker (when there is a Redis: ``act`` from a shell may have left
        records in the shared spool, so also when actions are off) and the audit health
        feed (Redis pane, header). Both in the ``feeds`` group: stopped, before Redis is
        closed, on quit."""
        self._audit_wake = asyncio.Event()
        if self.audit_log.stream is not None:
            self.run_worker(self._after_first_read(partial(
                self.audit_log.run, self.audit_drain_interval, wake=self._audit_wake)),
                name="audit:drain", group="feeds", exit_on_error=False)
        feed = AuditFeed(self.audit_log, self.runtime.clock, timeout=self._audit_timeout())
        self.audit_runner: FeedRunner[AuditState] = FeedRunner(
            feed, self.settings.redis.poll_interval, self._show_audit, self._feeds_running)
        self.run_worker(self._after_first_read(self.audit_runner.run), name="feed:audit",
                        group="feeds", exit_on_error=False)

    def _audit_timeout(self) -> float:
        return max(self.settings.redis.socket_timeout, 0.1) * 2

    def _show_audit(self, state: AuditState) -> None:
        """Into the Redis pane and the header; records waiting while Redis answers: drain
        now (Redis is back), not at the next tick."""
        self.dashboard.redis.audit = state
        self.dashboard.header.audit = state.problem
        if self.alerts is not None:
            self.alerts.observe("audit", state)
        if state.spool_records and state.has_redis and state.health.ok:
            self._audit_wake.set()

    def action_audit_trail(self) -> None:
        """The audit screen (one at a time)."""
        from resync_tui.ui.screens.audit import AuditScreen

        if isinstance(self.screen, AuditScreen):
            return
        feed = AuditFeed(self.audit_log, self.runtime.clock, timeout=self._audit_timeout(),
                         recent=AUDIT_RECENT)
        self.push_screen(AuditScreen(feed, self._feeds_running,
                                     clock_offset=self.runtime.clock_offset))

    # -- dropped terminal --------------------------------------------------------------

    def _start_watchdog(self) -> None:
        """Leave cleanly when the terminal goes away (dropped SSH: stdin at EOF/hung up).

        Textual's input thread would otherwise spin on EOF at 100% CPU forever.
        """
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(  # fails outside the main thread
                signal.SIGHUP, lambda: self.call_later(self._terminal_gone))
        self.set_interval(1.0, self._check_terminal, name="tty-watchdog")

    def _check_terminal(self) -> None:
        if not stdin_alive():
            self._terminal_gone()

    def _terminal_gone(self) -> None:
        _log.warning("terminal gone (stdin closed or hung up): exiting")
        self.exit(0)


def describe_action_result(result: ActionResult) -> str:
    """The result in words, as the operator reads it (engine strings made safe)."""
    request = result.request
    what = f"{action_label(request)} " \
           f"{safe_text(request.job.name if request.job else request.job_id, 80)}"
    if result.result == "done":
        now = f": status now {safe_text(result.job.status or '?', 20)}" if result.job else ""
        return f"done: {what}{now}"
    if result.result == "unknown":
        return f"{what}: {UNKNOWN_ADVICE}"
    if result.result == "refused":
        code = f" (HTTP {result.status})" if result.status else ""
        return f"refused{code}: {what}: {safe_text(result.message, 300)}"
    return f"not sent: {what}: {safe_text(result.message, 300)}"


async def _quietly(worker: Worker[Any]) -> None:
    with contextlib.suppress(Exception):
        await worker.wait()


def run_dashboard(settings: Settings, *, wall: bool = False,
                  metrics_port: int | None = None, private_redis: bool = False,
                  record: Path | None = None, record_max_bytes: int | None = None,
                  first_read: FirstRead | None = None) -> int:
    """Run the dashboard in this terminal until the operator quits; the exit code.
    ``record``: append what the feeds publish to this file (``--record``), at most
    ``record_max_bytes`` (None: the recorder's default). ``first_read``: the jobs feed's
    first poll, started already (:class:`FirstRead`, built from these settings); the app
    runs on its event loop and takes its runtimes over."""
    if first_read is not None:
        engines, runtime = first_read.engines, first_read.runtime
    else:
        engines = build_runtimes(settings, lazy_redis=True)  # Redis after the first frame
        runtime = engines.get(engines.names[0] if not settings.engine else settings.engine)
    recorder = None
    if record is not None:
        from resync_tui.record.recorder import DEFAULT_MAX_BYTES, Recorder

        recorder = Recorder.for_runtime(
            runtime, record,
            max_bytes=DEFAULT_MAX_BYTES if record_max_bytes is None else record_max_bytes)
        recorder.open()  # RecordingError: the command line says it before taking the screen
    server = None
    if metrics_port:
        from resync_tui.resilience.metrics import start_metrics_server

        server, _thread = start_metrics_server(metrics_port, engines.metrics_registry,
                                               settings.metrics.host)
    try:
        app = ResyncApp(runtime, settings, wall=wall, watchdog=True,
                        private_redis=private_redis, recorder=recorder, engines=engines,
                        first_read=first_read)
        result = app.run(loop=None if first_read is None else first_read.loop)
    finally:
        if server is not None:
            server.shutdown()
    if app.return_code not in (None, 0):
        return app.return_code
    return int(result or 0)
