"""``resync-tui replay FILE``: the dashboard as it was, from a recording.

The same app, screens and widgets as live; only the feeds differ: each registry entry
gets the recorded states of its feed (``resync_tui.record.replay``), on a timeline that
is also the app's clock. Nothing is read from an engine or Redis: the settings'
``[hwa]`` and ``[redis]`` are never contacted, actions and the shared feed are off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any, ClassVar, Final

from textual.binding import Binding, BindingType
from textual.worker import Worker

from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.status import Feed
from resync_tui.record.format import Recording
from resync_tui.record.replay import SEEK_SECONDS, Timeline, replay_feed
from resync_tui.settings import Settings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.panes import REGISTRY, FeedContext, PaneEntry
from resync_tui.ui.widgets.timeline import ReplayTimeline, TimelinePosition

__all__ = ["REPLAY_INTERVAL", "ReplayApp", "replay_settings", "replay_snapshot", "run_replay"]

REPLAY_INTERVAL = 0.25
"""Seconds between a replay feed's looks at the timeline."""


NOWHERE_HWA = "http://replay.invalid/twsd"
NOWHERE_REDIS = "unix:///nonexistent/resync-tui-replay.sock"
"""Where a replay's runtime points: nothing answers there, and nothing calls it (the
settings' own ``[hwa]`` and ``[redis]``, ``embedded`` included, are never used)."""


def replay_settings(settings: Settings) -> Settings:
    """The settings a replay runs with: the look and keys of ``settings``; read-only, not
    shared, no alerts, no engine and no Redis."""
    return settings.replace(
        alerts=(),  # what fired then is history: a replay neither rings nor posts
        actions=dataclasses.replace(settings.actions, enabled=False),
        share=dataclasses.replace(settings.share, enabled=False),
        hwa=dataclasses.replace(settings.hwa, url=NOWHERE_HWA),
        redis=dataclasses.replace(settings.redis, url=NOWHERE_REDIS))


DERIVED_FEEDS: Final = frozenset({"critical"})
"""Feeds that read nothing but the jobs view: replayed by running them on the replayed one."""


class _NotRecorded:
    """A feed the recording has nothing of (a pane newer than the file): never publishes."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def poll(self) -> None:
        return None

    def refresh(self) -> None:
        """Nothing to refresh."""


class ReplayApp(ResyncApp):
    """The dashboard fed by a recording, marked REPLAY, with a timeline."""

    def _start_audit(self) -> None:
        """No audit drain nor audit health: a replay has no Redis and sends nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "replay_toggle", "Play/pause", priority=True, id="replay.toggle"),
        Binding("left", "replay_step(-1)", "Step back", show=False, priority=True,
                id="replay.step_back"),
        Binding("right", "replay_step(1)", "Step", show=False, priority=True,
                id="replay.step"),
        Binding("left_square_bracket", "replay_seek(-1)", "-1 min", key_display="[",
                show=False, priority=True, id="replay.back"),
        Binding("right_square_bracket", "replay_seek(1)", "+1 min", key_display="]",
                show=False, priority=True, id="replay.forward"),
        Binding("home", "replay_home", "Start", show=False, priority=True, id="replay.start"),
        Binding("end", "replay_end", "End", show=False, priority=True, id="replay.end"),
    ]

    def __init__(self, recording: Recording, settings: Settings, *, speed: float = 1.0,
                 at: float | None = None, monotonic: Callable[[], float] = time.monotonic,
                 wall: bool = False, watchdog: bool = False) -> None:
        self.recording = recording
        self.timeline = Timeline(recording, speed=speed, at=at, monotonic=monotonic)
        settings = replay_settings(settings)
        runtime = build_runtime(settings, clock=self.timeline.now)
        super().__init__(runtime, settings, wall=wall, clock=self.timeline.now,
                         watchdog=watchdog)
        self.recorded = tuple(e.id for e in REGISTRY if e.id in set(recording.feeds()))
        """The feeds the recording has (the others' panes stay empty)."""
        self.timeline_bar = ReplayTimeline(id="replay-timeline")
        self.moving: Worker[None] | None = None
        """The last key's catching up of the feeds (tests wait on it)."""

    def _feed_for(self, entry: PaneEntry, context: FeedContext) -> tuple[Feed[Any], float]:
        if entry.id in DERIVED_FEEDS:  # made from the replayed job list, as live
            return entry.feed(context), REPLAY_INTERVAL
        feed = replay_feed(entry.id, self.recording, self.timeline, context.view)
        return (feed if feed is not None else _NotRecorded(entry.id)), REPLAY_INTERVAL

    def on_mount(self) -> None:
        """Textual runs ``ResyncApp.on_mount`` after this one (every class's handler is
        called): the rest waits until the dashboard is composed and its feeds built."""
        self.call_after_refresh(self._after_mount)
        self._show_position()
        self.set_interval(REPLAY_INTERVAL, self._show_position, name="replay-timeline")

    def _after_mount(self) -> None:
        self.dashboard.mount(self.timeline_bar, after=self.dashboard.header)
        # The recorded dashboard's job interval (the replay feeds look every 0.25 s):
        # the header says it and staleness is judged on it, as it was.
        recorded_interval = self.recording.meta.get("job_interval")
        if isinstance(recorded_interval, int | float) and recorded_interval > 0:
            self.dashboard.header.interval = float(recorded_interval)

    def _show_position(self) -> None:
        t = self.timeline
        at = t.now()
        self.timeline_bar.position = TimelinePosition(
            self.recording.local(t.start), self.recording.local(t.end), at, t.playing,
            t.speed)
        self.dashboard.header.replay = f"REPLAY {at:%Y-%m-%d}"

    async def replay_now(self) -> None:
        """Every recorded feed at the timeline's position, shown (tests wait on it)."""
        await self.poll_now(*self.recorded)
        self._show_position()
        self.dashboard.update_overall()

    def _moved(self) -> None:
        self._show_position()
        self.moving = self.run_worker(self.replay_now(), group="replay", exit_on_error=False)

    def action_replay_toggle(self) -> None:
        self.timeline.toggle()
        self._moved()

    def action_replay_step(self, direction: int) -> None:
        self.timeline.step(direction)
        self._moved()

    def action_replay_seek(self, direction: int) -> None:
        self.timeline.seek_by(direction * SEEK_SECONDS)
        self._moved()

    def action_replay_home(self) -> None:
        self.timeline.seek(self.timeline.start)
        self._moved()

    def action_replay_end(self) -> None:
        self.timeline.seek(self.timeline.end)
        self._moved()


def run_replay(recording: Recording, settings: Settings, *, speed: float = 1.0,
               at: float | None = None) -> int:
    """Replay in this terminal until the operator quits; the exit code."""
    app = ReplayApp(recording, settings, speed=speed, at=at, watchdog=True)
    result = app.run()
    if app.return_code not in (None, 0):
        return app.return_code
    return int(result or 0)


async def _capture(app: ReplayApp, size: tuple[int, int], deadline: float) -> str:
    async with app.run_test(size=size) as pilot:
        await asyncio.wait_for(app.wait_for_data(app.recorded), deadline)
        await app.replay_now()
        await pilot.pause()
        return app.export_screenshot(title="resync-tui replay")


def replay_snapshot(recording: Recording, settings: Settings, *, at: float | None,
                    size: tuple[int, int], timeout: float = 30.0) -> str:
    """The SVG of the dashboard at one recorded moment (paused there), for a report.
    TimeoutError if the feeds did not show it within ``timeout`` (a bug)."""
    app = ReplayApp(recording, settings, at=at)
    app.timeline.pause()
    return asyncio.run(_capture(app, size, timeout))
