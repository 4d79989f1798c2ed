"""The dashboard: header, jobs pane and the side panes, laid out for the terminal's size.

Wide terminals (at least 120x30) show a grid: jobs on the left, breakers, cache,
Redis and workstations stacked on the right. Smaller ones (80x24) show one pane
at a time behind tabs; the layout switches on resize without rebuilding widgets.
Wall mode (for a NOC, read across a room) shows the batch's state as a band and large
figures, the newest failures beside the side panes, and rotates the side panes by itself
when they do not all fit (``resync_tui/ui/widgets/wall.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, ClassVar, Final, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Tab, Tabs

from resync_tui.feeds.breakers import BreakersState
from resync_tui.feeds.critical import CriticalState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.redis_health import RedisHealth
from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.hwa.models import UnreadableRecord
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.overall import (
    BatchState,
    Overall,
    batch_state,
    overall_status,
    stale_after,
)
from resync_tui.model.wall import WallTracker, wall_counts
from resync_tui.ui.keymap import effective_keys, key_label
from resync_tui.ui.panes import PANES as PANE_ENTRIES
from resync_tui.ui.panes import entry
from resync_tui.ui.tab_texts import TabText, fit_tab_texts
from resync_tui.ui.widgets._pane import Pane
from resync_tui.ui.widgets.breaker_panel import BreakerPanel
from resync_tui.ui.widgets.cache_panel import CachePanel
from resync_tui.ui.widgets.header import DashboardHeader
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.jobs_table import JobsTable
from resync_tui.ui.widgets.redis_panel import RedisPanel
from resync_tui.ui.widgets.wall import WallFailures, WallFigures, WallState, untrusted
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane

__all__ = ["PANES", "WALL_WIDE_MIN_SIZE", "WIDE_MIN_SIZE", "DashboardScreen", "WallFailures",
           "WallFigures", "WallState"]

PANES: Final[tuple[tuple[str, str], ...]] = tuple((e.id, e.label) for e in PANE_ENTRIES)
"""(pane id, tab label) in tab order, from the pane registry (``resync_tui/ui/panes.py``)."""

WIDE_MIN_SIZE: Final = (120, 30)
"""Smallest terminal that gets the grid; anything smaller gets tabs."""
WALL_WIDE_MIN_SIZE: Final = (160, 45)
"""Wall mode: smallest terminal that shows every side pane at once beside the newest
failures (the band and the figures take room); smaller walls rotate the side panes."""
WALL_TALL_MIN_HEIGHT: Final = 55
"""Wall mode: from this many rows the figures are twice as tall (and every side pane
still fits beside the newest failures)."""
WALL_FAILURES_SHOWN: Final = 64
"""The newest failures the wall asks for (it shows as many as fit)."""


W = TypeVar("W", bound=Widget)


def _pane(panes: dict[str, Widget], name: str, kind: type[W]) -> W:
    widget = panes[name]
    if not isinstance(widget, kind):
        raise TypeError(f"pane {name!r} is a {type(widget).__name__}, not a {kind.__name__}")
    return widget


class DashboardScreen(Screen[None]):
    """Owns the pane widgets; the app's feeds publish into it."""

    AUTO_FOCUS = "#jobs-table"  # the keyboard belongs to the job table from the start
    BINDINGS: ClassVar[list[BindingType]] = [
        # One key per registered pane, in tab order: 1 jobs, 2 breakers, ...
        Binding(str(number), f"show_pane('{e.id}')", e.label, show=False,
                id=f"dashboard.pane_{e.id}")
        for number, e in enumerate(PANE_ENTRIES, 1)
    ]

    wide: reactive[bool] = reactive(True, init=False)
    """Grid (True) or tabs (False)."""
    active_pane: reactive[str] = reactive("jobs", init=False)
    """The pane shown in tab mode."""

    def __init__(self, clock: Callable[[], datetime], view: JobsView, *,
                 wall: bool = False,
                 clock_offset: Callable[[], float | None] = lambda: None,
                 clock_rate: Callable[[], float] = lambda: 1.0) -> None:
        super().__init__(id="dashboard")
        self.wall = wall
        self._clock = clock
        self._clock_offset = clock_offset
        self._clock_rate = clock_rate
        """Engine seconds per second here: poll intervals (this machine's seconds) are
        turned into the engine's, on whose clock data ages are judged."""
        self.workstations_interval = 0.0
        """Seconds between workstation polls (set by the app): their data's age limit."""
        self.redis_interval = 0.0
        self.streams_interval = 0.0
        self.header = DashboardHeader(clock, id="header")
        self.panes: dict[str, Widget] = {
            e.id: e.widget(view) for e in PANE_ENTRIES if e.widget is not None}
        """Every registered pane's widget, by pane id."""
        self.states: dict[str, object] = {}
        """The last state each feed published, by feed name."""
        # Typed handles on the panes the dashboard itself reads (figures, the wall):
        self.jobs = _pane(self.panes, "jobs", JobsPane)
        self.breakers = _pane(self.panes, "breakers", BreakerPanel)
        self.cache = _pane(self.panes, "cache", CachePanel)
        self.redis = _pane(self.panes, "redis", RedisPanel)
        self.workstations = _pane(self.panes, "workstations", WorkstationsPane)
        self.figures = WallFigures(id="wall-figures")
        self.wall_state = WallState(id="wall-state")
        self.failures = WallFailures(id="wall-failures")
        self._wall_tracker = WallTracker() if wall else None
        """Failed and late-prone critical jobs, kept from each change (wall mode only)."""
        self._workstations_down: int | None = None
        self._failures_changed = False
        self._engine: EngineState | None = None
        self._jobs_state: JobsState | None = None
        self._ws_state: WorkstationsState | None = None
        self._breakers_state: BreakersState | None = None
        """The breakers feed's last state (its pane may be held back from the first
        frame: ``mount_deferred``); the overall judgement reads it."""
        self._tabs: dict[str, Tab] = {pane: Tab(label, id=f"tab-{pane}")
                                      for pane, label in PANES}
        """Each pane's tab, held: its mark is set on every feed result, and a query by id
        walks every widget of the screen."""
        self.pane_tabs: Tabs | None = None
        self._keys_for: tuple[tuple[str, str], ...] | None = None
        self._keys: dict[str, str] = {}
        """The tab bar, once mounted: only when the panes do not fit the grid (a terminal
        wide enough from the start never mounts its dozen widgets)."""
        self._aged: dict[str, bool] = {}
        """Per pane whose data ages (``_age_side_panes``): older than a few intervals."""
        self._deferred: dict[str, Widget] = {}
        """Panes the first layout hides, not mounted yet (``compose``): they are mounted
        after the first frame with data, or when first shown, whichever comes first."""

    def compose(self) -> ComposeResult:
        self._initial_classes(*self.app.size)
        yield self.header
        if self._tabs_shown():
            yield self._tab_bar()
        if self.wall:  # else never shown: not mounted at all (a fifth of the screen's
            # widgets, each styled and laid out on the way to the first frame)
            yield self.wall_state
            yield self.figures
        # The panes hidden at first (a main pane but jobs, the side panes in tabs) are
        # mounted later: each is a dozen styled widgets on the way to the first frame.
        shown = self._shown_panes(self.wide, self.active_pane)
        self._deferred = {e.id: self.panes[e.id] for e in PANE_ENTRIES if e.id not in shown}
        with Horizontal(id="panes"):
            for e in PANE_ENTRIES:
                if not e.side and e.id in shown:
                    yield self.panes[e.id]
            if self.wall:
                yield self.failures
            with Vertical(id="side"):
                for e in PANE_ENTRIES:
                    if e.side and e.id in shown:
                        yield self.panes[e.id]
        if not self.wall:  # a wall takes no input: key hints would only take room
            yield Footer()

    def on_mount(self) -> None:
        self.jobs.border_title = "Jobs"
        if self.wall:
            self.add_class("-wall")
            self.figures.display = True
            self.wall_state.display = True
            self.failures.display = True
            # The newest failures stand in for the main panes: what rotates is the side.
            self.active_pane = next(e.id for e in PANE_ENTRIES if e.side)
            self._show_wall(self.header.overall)
        # Data gets old between polls too (a poll hanging on a slow body has not failed
        # yet): the overall state is judged again every second, and redrawn only if it
        # changed.
        self.set_interval(1.0, self.update_overall, name="freshness")
        self._layout_for(self.size.width, self.size.height)
        self._apply_layout()

    # -- layout ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._layout_for(self.size.width, self.size.height)
        self._mark_tabs()  # the names a tab bar of this width has room for

    def _tabs_shown(self) -> bool:
        return not self.wide and not self.wall  # a wall hides them: nobody picks a tab

    def _tab_bar(self) -> Tabs:
        """The tab bar (built when first shown), on the pane shown now, each tab with its
        mark of the moment (``_mark_tabs`` leaves the tabs alone until then)."""
        self._mark_tabs(force=True)
        tabs = self.pane_tabs = Tabs(*self._tabs.values(), id="pane-tabs",
                                     active=f"tab-{self.active_pane}")
        tabs.can_focus = False  # keys 1-5 and clicks pick a tab; the keyboard stays on jobs
        return tabs

    def _initial_classes(self, width: int, height: int) -> None:
        """The layout's classes for the terminal's size, set before the widgets are
        mounted: each class set on the screen later restyles every widget in it (~15 ms
        each at start, on the way to the first frame). ``on_mount`` lays out as before
        and finds them set."""
        min_width, min_height = WALL_WIDE_MIN_SIZE if self.wall else WIDE_MIN_SIZE
        wide = width >= min_width and height >= min_height
        self.set_reactive(DashboardScreen.wide, wide)
        self.set_class(wide, "-wide", update=False)
        self.set_class(not wide, "-tabs", update=False)
        self.set_class(self.wall, "-wall", update=False)
        self.set_class(self.wall and width < WIDE_MIN_SIZE[0], "-narrow", update=False)
        self.figures.set_class(self.wall and height >= WALL_TALL_MIN_HEIGHT, "-tall",
                               update=False)

    def _layout_for(self, width: int, height: int) -> None:
        min_width, min_height = WALL_WIDE_MIN_SIZE if self.wall else WIDE_MIN_SIZE
        self.wide = width >= min_width and height >= min_height
        # A tall wall has the rows for figures twice as tall (read from further away).
        self.figures.set_class(self.wall and height >= WALL_TALL_MIN_HEIGHT, "-tall")
        # Below the grid's width the side panes give the newest failures half the room.
        self.set_class(self.wall and width < WIDE_MIN_SIZE[0], "-narrow")

    def watch_wide(self) -> None:
        self._apply_layout()

    def watch_active_pane(self) -> None:
        tabs = self.pane_tabs
        tab_id = f"tab-{self.active_pane}"
        if tabs is not None and not tabs.is_mounted:
            # Mounting: it activates this tab then (Textual is pinned exactly).
            tabs._first_active = tab_id
        elif tabs is not None and tabs.active != tab_id:
            tabs.active = tab_id
        self._apply_layout()

    def _shown_panes(self, wide: bool, active: str) -> set[str]:
        """The panes the layout shows for this size and pane (``_apply_layout``'s rule)."""
        if self.wall:
            sides = [e.id for e in PANE_ENTRIES if e.side]
            first = active if active in sides else sides[0]
            return {e.id for e in PANE_ENTRIES if e.side and (wide or e.id == first)}
        mains = [e.id for e in PANE_ENTRIES if not e.side]
        main = active if active in mains else ("jobs" if wide else "")
        return {e.id for e in PANE_ENTRIES
                if (e.id == main if not e.side else wide or e.id == active)}

    def mount_deferred(self, only: set[str] | None = None) -> None:
        """Mount the panes held back from the first frame (``only``: those of them), each
        in its place, then give each the last state its feed published meanwhile."""
        names = [name for name in self._deferred if only is None or name in only]
        if not names or not self.is_attached:
            return
        by_id = {e.id: e for e in PANE_ENTRIES}
        for name in names:
            widget = self._deferred.pop(name)
            e = by_id[name]
            siblings = [x.id for x in PANE_ENTRIES if x.side == e.side]
            later = [self.panes[x] for x in siblings[siblings.index(name) + 1:]
                     if x not in self._deferred and self.panes[x].parent is not None]
            parent = self.query_one("#side" if e.side else "#panes")
            if later:
                parent.mount(widget, before=later[0])
            elif e.side:
                parent.mount(widget)
            else:
                parent.mount(widget, before=self.failures if self.wall else "#side")
        self.call_after_refresh(self._replay_states, names)

    def _replay_states(self, names: list[str]) -> None:
        """What the feeds said of panes that were not mounted yet."""
        for name in names:
            if name in self.states:
                self.show(name, self.states[name])

    def _mounted(self, pane: str) -> bool:
        """Not held back (``mount_deferred``): its state can be set."""
        return pane not in self._deferred

    def _apply_layout(self) -> None:
        wide = self.wide
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-tabs")
        tabs_shown = self._tabs_shown()
        if tabs_shown and self.pane_tabs is None:
            self.mount(self._tab_bar(), after=self.header)
        if self.pane_tabs is not None:
            self.pane_tabs.display = tabs_shown
        active = self.active_pane
        if self.wall:
            self._apply_wall_layout(wide, active)
            return
        # One main pane at a time (jobs, or job streams when picked), in the grid beside
        # every side pane, in tabs alone; a side pane's key only matters in tabs.
        mains = [e.id for e in PANE_ENTRIES if not e.side]
        main = active if active in mains else ("jobs" if wide else "")
        shown = self._shown_panes(wide, active)
        mounting = bool(shown & self._deferred.keys())
        self.mount_deferred(shown)
        for e in PANE_ENTRIES:
            self.panes[e.id].display = e.id in shown
        self.query_one("#side").display = wide or not main
        # In tabs a side pane with a table of its own (workstations) takes the keys.
        table = getattr(self.panes.get(main or active), "table", None)
        if (table is not None and not self.wall and self.is_attached
                and not (wide and isinstance(self.focused, Input) and main == "jobs")):
            if mounting:  # once it is in the screen
                self.call_after_refresh(table.focus)
            else:
                table.focus()

    def _apply_wall_layout(self, wide: bool, active: str) -> None:
        """Wall: the newest failures take the main panes' place (nobody scrolls a table
        on a wall); the side panes all at once when they fit, else the active one."""
        shown = self._shown_panes(wide, active)
        self.mount_deferred(shown)
        for e in PANE_ENTRIES:
            self.panes[e.id].display = e.id in shown
        self.query_one("#side").display = True

    def action_show_pane(self, pane: str) -> None:
        self.active_pane = pane
        side_table = getattr(self.panes.get(pane), "table", None)
        if self.wide and not self.wall and side_table is not None and entry(pane).side:
            side_table.focus()  # in the grid too, its key gives it the keyboard

    def rotate(self) -> None:
        """Wall mode: next side pane, when they do not all fit (a wide wall shows them
        all, and a rotation would repaint the screen for nothing)."""
        if self.wide:
            return
        ids = [e.id for e in PANE_ENTRIES if e.side] if self.wall else [p for p, _ in PANES]
        current = ids.index(self.active_pane) if self.active_pane in ids else 0  # shown first
        self.active_pane = ids[(current + 1) % len(ids)]

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        # A wall hides its tabs; their first activation (Jobs, on mount) must not undo
        # the side pane the wall shows.
        if event.tab.id and not self.wall:
            self.active_pane = event.tab.id.removeprefix("tab-")

    # -- data in -----------------------------------------------------------------------

    def show(self, name: str, state: object) -> None:
        """A feed's new state: its ``show_<name>`` if the dashboard reads it itself, else
        straight into its registered pane (so a new pane needs no code here)."""
        self.states[name] = state
        handler = getattr(self, f"show_{name}", None)
        if handler is not None:
            handler(state)
            return
        pane = self.panes.get(name)
        if pane is not None and self._mounted(name):
            setattr(pane, "state", state)  # noqa: B010 (every registered pane renders a state)
        self.update_overall()

    def show_critical(self, state: CriticalState) -> None:
        """The critical view is made from the job list (its feed carries the jobs feed's
        health): it ages with the job data, instead of looking healthy on old data."""
        pane = self.panes["critical"]
        if self._mounted("critical"):
            setattr(pane, "state", state)  # noqa: B010 (a registered pane renders a state)
            if isinstance(pane, Pane):
                pane.set_aged(self._jobs_data_stale())
        self.update_overall()

    def clear_for_engine(self, engine: EngineState) -> None:
        """Another engine is about to be shown (the app cleared the job view): forget what
        every feed said of the last one, so no pane shows its data under the new name,
        and say the new one is loading until its first read."""
        self.states.clear()
        self._jobs_state = None
        self._ws_state = None
        self._breakers_state = None
        self._workstations_down = None
        self._wall_tracker = WallTracker() if self.wall else None
        for name, pane in self.panes.items():
            if name != "jobs" and self._mounted(name):
                setattr(pane, "state", None)  # noqa: B010 (every registered pane has one)
        self.header.last_refresh = None
        self.header.ranking = 0
        self.jobs.set_stale(f"loading {engine.name}", None, has_data=False)
        self.show_engine(engine)

    def show_engine(self, state: EngineState) -> None:
        self._engine = state
        self.header.engine = state
        self.update_overall()

    def show_jobs_preview(self, view: JobsView,
                          unreadable: tuple[UnreadableRecord, ...] = ()
                          ) -> Coroutine[Any, Any, bool] | None:
        """The most urgent rows of a big first read (``JobsView.preview``), shown in the
        jobs table until the whole plan comes with ``show_jobs``; nothing else reads it
        (the header, counts' tab marks, alerts and the wall wait for the whole). The
        read's unreadable records are said at once: the preview's counts lack them.
        Returns the wait for the frame that shows it (the feed's task awaits it before
        the whole build's thread competes with the paint); None if it was not shown."""
        if not self.jobs.show_preview(view):
            return None
        self.header.ranking = view.partial_of
        self._show_unreadable(unreadable)
        self.update_overall()  # a failure the last poll said is over: it is answering
        return self.jobs.wait_for_refresh()

    def _show_unreadable(self, bad: tuple[UnreadableRecord, ...]) -> None:
        sample = ""
        if bad:
            first = bad[0]
            sample = f"{first.job_id}: {first.reason}" if first.job_id else first.reason
        self.jobs.set_unreadable(len(bad), sample)

    def show_jobs(self, state: JobsState) -> None:
        self._jobs_state = state
        self.header.ranking = 0  # the whole plan, or the read that failed, is here
        health = state.health
        self._show_jobs_freshness()
        self._show_unreadable(state.unreadable)
        if state.change or not state.health.polls or state.full_read:
            self.jobs.update_jobs(state.view, state.change)
        self.header.last_refresh = health.last_success
        tracker = self._wall_tracker
        if tracker is not None and state.change:
            if tracker.seeded:
                tracker.track(state.view.get, state.change.changed_ids)
            else:
                tracker.rescan(state.view.all_rows())
            self._failures_changed = True
        self.update_overall()

    def _age_side_panes(self, now: datetime) -> None:
        """Side panes whose feed polls the network are stale once their data is old."""
        aging: tuple[tuple[str, float], ...] = (
            ("workstations", self.workstations_interval),
            ("redis", self.redis_interval),
            ("streams", self.streams_interval))
        rate = self._clock_rate()
        for name, interval in aging:
            interval *= rate
            state: Any = self.states.get(name)
            last = state.health.last_success if state is not None else None
            aged = (last is not None and interval > 0
                    and (now - last).total_seconds() > stale_after(interval))
            self._aged[name] = aged  # its tab says it, mounted or not
            if self._mounted(name):
                pane: Any = self.panes[name]
                pane.set_aged(aged)
        # Made from the job list: as old as it, whichever cause won the header's label
        # (no critical state comes while the job poll hangs).
        jobs_old = self._aged["critical"] = self._jobs_data_stale()
        critical = self.panes.get("critical")
        if isinstance(critical, Pane) and self._mounted("critical"):
            critical.set_aged(self._aged["critical"])
        if self._mounted("workstations"):  # its job columns are counted from the job list
            self.workstations.set_jobs_old(jobs_old, self.header.overall.data_from)

    def _jobs_data_stale(self) -> bool:
        """The job list shown is old: STALE, or old behind another label (a read failing
        while the job poll still hangs on a slow body says ENGINE UNREACHABLE)."""
        overall = self.header.overall
        return overall.label == "STALE" or overall.data_old

    def _show_jobs_freshness(self) -> None:
        """The jobs pane's stale marker: the last poll failed, or the data is old anyway."""
        state = self._jobs_state
        if state is None:
            return
        health = state.health
        reason: str | None = None if health.ok else health.reason
        if reason is None and self._jobs_data_stale():
            reason = ("refresh paused" if self.header.paused
                      else "waiting for the engine: no new job list")
        self.jobs.set_stale(reason, health.last_success, has_data=health.has_data)
        self.jobs.set_class(reason is not None, "-stale")

    def show_breakers(self, state: BreakersState) -> None:
        self._breakers_state = state
        if self._mounted("breakers"):
            self.breakers.state = state
        self.update_overall()

    def show_workstations(self, state: WorkstationsState) -> None:
        self._ws_state = state
        if self._mounted("workstations"):
            self.workstations.state = state
        if state.health.has_data:
            self._workstations_down = self.figures.workstations_down = len(state.problems)
        self.update_overall()

    def _batch(self) -> BatchState:
        jobs = self._jobs_state
        counts = jobs.view.counts if jobs is not None and jobs.health.has_data else None
        return batch_state(counts, self._workstations_down or 0)

    def _show_wall(self, overall: Overall) -> None:
        """The band, the figures and the newest failures, from what the feeds said last."""
        self.wall_state.show(self._batch(), overall)
        tracker = self._wall_tracker
        jobs = self._jobs_state
        counts = jobs.view.counts if jobs is not None and jobs.health.has_data else None
        late = None
        if tracker is not None and counts is not None and jobs is not None:
            late = tracker.late_critical(jobs.view.now())
        figures = wall_counts(counts, late, self._workstations_down)
        stale = untrusted(overall)
        self.figures.show(figures, stale=stale, ws_stale=self.workstations.aged,
                          data_from=overall.data_from)
        if tracker is not None and (self._failures_changed
                                    or stale != self.failures.has_class("-stale")):
            self._failures_changed = False
            self.failures.show(tracker.newest_failures(WALL_FAILURES_SHOWN), figures.failed,
                               stale=stale)

    def update_overall(self) -> None:
        """Judge the overall state again (every second, and on every feed result)."""
        header = self.header
        now = self._clock()
        header.now = now.replace(microsecond=0)
        offset = self._clock_offset()
        header.clock_offset = None if offset is None else float(round(offset))
        header.clock_rate = self._clock_rate()
        overall = overall_status(
            self._engine.health if self._engine else None,
            self._jobs_state.health if self._jobs_state else None,
            self._ws_state.health if self._ws_state else None,
            self._breakers_state,
            redis if isinstance(redis := self.states.get("redis"), RedisHealth) else None,
            now=now,
            interval=header.interval * self._clock_rate(),
            paused=header.paused,
            unreadable_jobs=len(self._jobs_state.unreadable) if self._jobs_state else 0,
            unreadable_workstations=len(self._ws_state.unreadable) if self._ws_state else 0,
            reading_jobs=header.ranking > 0,
        )
        header.overall = overall
        self._show_jobs_freshness()
        self._age_side_panes(now)
        if self.wall:
            self._show_wall(overall)
        self._mark_tabs()

    def tab_marks(self) -> dict[str, str]:
        """What each tab adds to its label: a small terminal shows one pane at a time,
        so a problem in a hidden pane must show on its tab (symbol and figure, not colour).
        Each registered pane says its own (``PaneEntry.mark``)."""
        marks: dict[str, str] = {}
        for e in PANE_ENTRIES:
            state = self.states.get(e.id)
            if state is None:
                marks[e.id] = ""
                continue
            stale = (self._jobs_data_stale() if e.id == "jobs"
                     else self._aged.get(e.id, False))
            marks[e.id] = e.mark(state, stale)
        if self.jobs.new_count:  # seen from any pane: failures the operator has not seen
            marks["jobs"] = f"{marks.get('jobs', '')} ●{self.jobs.new_count:,} new".lstrip()
        return marks

    @on(JobsTable.NewChanged)
    def _new_jobs_changed(self) -> None:
        self._mark_tabs()

    def _mark_tabs(self, *, force: bool = False) -> None:
        """Each tab's label with its mark, set when it changed, and only once the tab bar
        exists (``force``: as it is built). A tab posts itself a message per new label;
        never mounted (a terminal wide enough for the grid), it never reads them: ~1 KB
        kept per mark change, for as long as the dashboard ran."""
        if not self.is_mounted or (self.pane_tabs is None and not force):
            return
        marks = self.tab_marks()
        keys = self._pane_keys()
        texts = fit_tab_texts([TabText(e.label, e.short or e.label, keys.get(e.id, ""),
                                       marks[e.id]) for e in PANE_ENTRIES],
                              self.app.size.width)  # the bar spans the screen
        for (pane, _label), text in zip(PANES, texts, strict=True):
            tab = self._tabs[pane]
            if tab.label_text != text:
                tab.label = text

    def _pane_keys(self) -> dict[str, str]:
        """Each pane's key as ``[keymap]`` left it (a narrow tab bar names a calm pane
        by its key alone); empty for a pane whose key was moved to several or none."""
        keymap = getattr(self.app, "keymap", {})
        cache_key = tuple(sorted(keymap.items()))
        if self._keys_for != cache_key:
            bound = effective_keys(keymap)
            self._keys_for = cache_key
            self._keys = {e.id: key_label(found[0])
                          for e in PANE_ENTRIES
                          if len(found := bound.get(f"dashboard.pane_{e.id}", ())) == 1}
        return self._keys

    def pane_widget(self, pane: str) -> Widget:
        return self.query_one(f"#{pane}")
