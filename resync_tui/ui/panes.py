"""The pane registry: every feed the app runs, and the pane (if any) that shows it.

Adding a pane is one entry here (k9s's ``registrar.go`` is the model): the feed it
polls and how often, the widget that renders its state, its tab label and key, and
what its tab says when something is wrong. The app builds the feeds and runners from
this table, the dashboard its layout, tabs, keys and tab marks; neither names a pane.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec
from textual.widget import Widget

from resync_tui.feeds.breakers import BreakersFeed
from resync_tui.feeds.cache_stats import CacheFeed
from resync_tui.feeds.critical import CriticalFeed, CriticalState
from resync_tui.feeds.engine import EngineFeed
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.redis_health import RedisFeed
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import Feed, FeedHealth
from resync_tui.feeds.streams import StreamsFeed
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.model import tabs
from resync_tui.model.jobs_view import JobsView
from resync_tui.settings import Settings
from resync_tui.ui.widgets.breaker_panel import BreakerPanel
from resync_tui.ui.widgets.cache_panel import CachePanel
from resync_tui.ui.widgets.critical_pane import CriticalPane
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.redis_panel import RedisPanel
from resync_tui.ui.widgets.streams_pane import StreamsPane
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane

__all__ = ["PANES", "REGISTRY", "FeedContext", "PaneEntry", "entry"]


class FeedContext(msgspec.Struct, frozen=True):
    """What a feed or a pane may be built from."""

    runtime: Runtime
    settings: Settings
    view: JobsView
    clock: Callable[[], datetime]
    jobs_health: Callable[[], FeedHealth | None] = lambda: None
    """The jobs feed's last health (what a view made from the job list is as fresh as)."""


def _no_mark(state: Any, stale: bool) -> str:
    return ""


class PaneEntry(msgspec.Struct, frozen=True):
    """One feed, and where its state is shown."""

    id: str
    """The feed's name, and its pane's widget id."""
    feed: Callable[[FeedContext], Feed[Any]]
    interval: Callable[[Settings], float]
    """Seconds between polls (the next starts when the last one ended)."""
    label: str = ""
    """Tab label; empty for a feed without a pane of its own (the engine feeds the header)."""
    short: str = ""
    """The label on a tab bar too narrow for the full ones (``ui/tab_texts.py``); empty:
    the label itself."""
    widget: Callable[[JobsView], Widget] | None = None
    """Builds the pane (given the jobs view every pane may read); its id is ``id``."""
    side: bool = True
    """Stacked on the right in the grid (False: the main pane, on the left)."""
    mark: Callable[[Any, bool], str] = _no_mark
    """What the tab adds to its label for a state (and whether the pane is stale)."""


def _critical_mark(state: CriticalState, stale: bool) -> str:
    """``✖2``: jobs past their deadline or critical start; ``⚠`` first when the job list
    it is made from is old or its last read failed."""
    missed = f"✖{state.missed:,}" if state.missed else ""
    return f"⚠{missed}" if stale or not state.health.ok else missed


def _redis_feed(ctx: FeedContext) -> Feed[Any]:
    rt = ctx.runtime
    return RedisFeed(rt.redis, rt.redis_breaker, ctx.clock,
                     timeout=max(rt.settings.redis.socket_timeout, 0.1) * 2)


REGISTRY: Final[tuple[PaneEntry, ...]] = (
    PaneEntry(
        "engine", lambda ctx: EngineFeed(ctx.runtime), lambda s: s.hwa.poll_interval),
    PaneEntry(
        "jobs", lambda ctx: JobsFeed(ctx.runtime, ctx.view), lambda s: s.hwa.poll_interval,
        label="Jobs", widget=lambda view: JobsPane(view, id="jobs", classes="pane"),
        side=False, mark=lambda state, stale: tabs.jobs_mark(state, stale=stale)),
    PaneEntry(
        "breakers", lambda ctx: BreakersFeed(ctx.runtime.breakers, ctx.clock),
        lambda s: s.ui.breakers_interval, label="Breakers", short="Brk",
        widget=lambda view: BreakerPanel(id="breakers", classes="pane"),
        mark=lambda state, stale: tabs.breakers_mark(state)),
    PaneEntry(
        "cache", lambda ctx: CacheFeed.of(ctx.runtime.cache, ctx.clock),
        lambda s: s.ui.cache_interval, label="Cache",
        widget=lambda view: CachePanel(id="cache", classes="pane"),
        mark=lambda state, stale: tabs.cache_mark(state, stale=stale)),
    PaneEntry(
        "redis", _redis_feed, lambda s: s.redis.poll_interval, label="Redis",
        widget=lambda view: RedisPanel(id="redis", classes="pane"),
        mark=lambda state, stale: tabs.redis_mark(state, stale=stale)),
    PaneEntry(
        "workstations",
        lambda ctx: WorkstationsFeed(ctx.runtime, ctx.settings.ui.workstations_interval,
                                     jobs=ctx.view),
        lambda s: s.ui.workstations_interval, label="Workstations", short="WS",
        widget=lambda view: WorkstationsPane(id="workstations", classes="pane"),
        mark=lambda state, stale: tabs.workstations_mark(state, stale=stale)),
    PaneEntry(
        "streams",
        lambda ctx: StreamsFeed(ctx.runtime, ctx.view, ctx.settings.ui.workstations_interval),
        lambda s: s.ui.workstations_interval, label="Streams", short="Strm",
        widget=lambda view: StreamsPane(id="streams", classes="pane"), side=False,
        mark=lambda state, stale: tabs.streams_mark(state, stale=stale)),
    PaneEntry(
        "critical", lambda ctx: CriticalFeed(ctx.view, ctx.clock, jobs_health=ctx.jobs_health),
        lambda s: min(s.hwa.poll_interval, 2.0), label="Critical", short="Crit",
        widget=lambda view: CriticalPane(id="critical", classes="pane"), side=False,
        mark=_critical_mark),
)
"""In tab order; the keys ``1``… follow it."""

PANES: Final[tuple[PaneEntry, ...]] = tuple(e for e in REGISTRY if e.label)
"""The entries that have a pane, in tab order."""


def entry(name: str) -> PaneEntry:
    """The registry entry of a feed (``KeyError`` for an unknown name)."""
    for candidate in REGISTRY:
        if candidate.id == name:
            return candidate
    raise KeyError(name)
