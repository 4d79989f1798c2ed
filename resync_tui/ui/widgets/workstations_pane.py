"""The Workstations pane: every workstation of the plan, those in trouble first.

It replaces the strip that listed only the workstations not linked and running, and
keeps what the strip said: its first lines are the stale line (``⚠ STALE, data from …``
with the cause, or ``⚠ NO DATA``) and the summary (``✔ all 12 workstations linked and
running``; ``✖ 2 of 12 not linked/running · 10 ok``; stale: ``all 12 workstations were
linked and running at 06:30:00``, never a green check on old data). Below is a table
with one line per workstation: name, type, link state, what is wrong, fence, limit, its
jobs in the plan by status group (counted by the feed from the job list the dashboard
holds), host and ``activeStates`` as the engine gave them. Every engine string reaches
the screen through ``safe_text`` (the feed sanitizes the rows; the table cuts them).

A few hundred workstations at most: the table keeps its sorted, filtered list itself and
draws only the visible lines (``render_line``), like the other tables.

Public API:
    ``WorkstationsPane(*, id=None, classes=None)``; reactive ``state`` (a
    ``WorkstationsState``); ``pane.table``; ``pane.set_aged(aged)``, ``aged``, ``stale``
    (the dashboard judges age); ``pane.text()``, what it says, as plain text.
    ``WorkstationSelected(name)``: Enter on a workstation (the app shows its jobs through
    the ``ws=NAME`` term). ``WorkstationActionsRequested(row)``: ``A`` on a workstation,
    only with actions enabled (the app opens the confirmation and sends).

Bindings: up/down/pageup/pagedown/home/end move the cursor, Enter opens its jobs,
``s``/``S``/``o`` next sort column / reverse / back to trouble first, ``/`` filter as you
type (name, type, host, states, problem; every word must match), Esc clears it, ``A``
the workstation actions (read-only: not bound).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar, Final, Literal

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Input, Static

from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.workstations import WorkstationRow, WorkstationsState
from resync_tui.model.overall import hms
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import CappedText
from resync_tui.ui.widgets._table_style import table_component_classes, table_css
from resync_tui.ui.widgets._virtual_table import (
    SEP,
    Column,
    CursorTable,
    FilterPane,
    Placed,
    figure,
    fit,
    layout_columns,
)

__all__ = ["WorkstationActionsRequested", "WorkstationSelected", "WorkstationsPane",
           "WorkstationsTable", "sorted_rows"]

WsSortColumn = Literal["name", "type", "link", "fence", "limit", "failed", "jobs", "host"]
_SORT_CYCLE: Final[tuple[WsSortColumn | None, ...]] = (
    None, "name", "type", "link", "failed", "jobs", "fence", "limit", "host")


class WorkstationSelected(Message):
    """Enter on a workstation: show its jobs (the app filters the jobs pane)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class WorkstationActionsRequested(Message):
    """``A`` on a workstation: the app opens the action menu on it."""

    def __init__(self, row: WorkstationRow) -> None:
        super().__init__()
        self.row = row


_Col = Column  # short; the tuple's annotation gives the sort type

_COLUMNS: Final[tuple[Column[WsSortColumn], ...]] = (
    _Col("name", "  Workstation", 16, 0, "name"),
    _Col("type", "Type", 7, 3, "type"),
    _Col("link", "Link", 10, 0, "link"),
    _Col("problem", "Problem", 12, 6, None),
    _Col("fence", "Fence", 5, 4, "fence", right=True),
    _Col("limit", "Limit", 5, 4, "limit", right=True),
    _Col("failed", "✖Fail", 5, 0, "failed", right=True),
    _Col("stuck", "⚠Stk", 4, 2, None, right=True),
    _Col("running", "▶Run", 4, 1, None, right=True),
    _Col("waiting", "⋯Wait", 5, 2, None, right=True),
    _Col("jobs", "Jobs", 5, 1, "jobs", right=True),
    _Col("host", "Host", 14, 5, "host"),
    _Col("states", "Active states", 16, 7, None),
)
_GROWS: Final = {"name": 2, "host": 2, "states": 3}
_MAX: Final = {"name": 26, "host": 36, "states": 80}


def _layout(width: int) -> list[Placed[WsSortColumn]]:
    """(column, x, width) fitted to ``width``: the least useful columns go first."""
    return layout_columns(_COLUMNS, width, _GROWS, _MAX)


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _haystack(row: WorkstationRow) -> str:
    return "\x00".join((row.name, row.type, row.host, " ".join(row.states),
                        row.problem, row.linked)).lower()


def _sort_key(column: WsSortColumn | None) -> Callable[[WorkstationRow], tuple[object, ...]]:
    """Ties broken by name; missing numbers sort last."""
    def num(value: int | None) -> tuple[int, int]:
        return (1, 0) if value is None else (0, value)

    keys: dict[WsSortColumn | None, Callable[[WorkstationRow], tuple[object, ...]]] = {
        None: lambda r: (not r.problem, -r.count("failed"), r.name.lower()),
        "name": lambda r: (r.name.lower(),),
        "type": lambda r: (r.type.lower(), r.name.lower()),
        "link": lambda r: (r.linked != "unlinked", r.linked, r.name.lower()),
        "fence": lambda r: (*num(r.fence), r.name.lower()),
        "limit": lambda r: (*num(r.limit), r.name.lower()),
        "failed": lambda r: (r.count("failed"), r.name.lower()),
        "jobs": lambda r: (r.job_total, r.name.lower()),
        "host": lambda r: (r.host.lower(), r.name.lower()),
    }
    return keys[column]


def sorted_rows(rows: Iterable[WorkstationRow], filter_text: str = "",
                column: WsSortColumn | None = None,
                descending: bool = False) -> list[WorkstationRow]:
    """The rows the table shows: filtered (every word a substring), then sorted.

    ``column=None`` is the attention order: those in trouble first, then those with
    the most failed jobs, then by name.
    """
    words = filter_text.lower().split()
    shown = [r for r in rows if all(w in _haystack(r) for w in words)] if words else list(rows)
    shown.sort(key=_sort_key(column), reverse=descending)
    return shown


_TONES: Final = ("failed", "warning", "success")
"""How WorkstationsTable tones its cells (``_table_style.TONES``)."""


class WorkstationsTable(CursorTable[WsSortColumn], can_focus=True):
    """The workstations of the current filter and order, one line each, a header line."""

    SORT_CYCLE: ClassVar[tuple[object, ...]] = _SORT_CYCLE

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="workstations.cursor_up"),
        Binding("down", "cursor_down", "Down", show=False, id="workstations.cursor_down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False,
                id="workstations.cursor_page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False,
                id="workstations.cursor_page_down"),
        Binding("home", "cursor_home", "First", show=False, id="workstations.cursor_home"),
        Binding("end", "cursor_end", "Last", show=False, id="workstations.cursor_end"),
        Binding("enter", "select_cursor", "Its jobs", id="workstations.open"),
        Binding("s", "cycle_sort", "Sort", show=False, id="workstations.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="workstations.reverse_sort"),
        Binding("o", "attention_order", "Trouble first", show=False,
                id="workstations.attention"),
        Binding("A", "workstation_actions", "Actions", id="workstations.actions"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = table_component_classes("workstations-table", _TONES)

    DEFAULT_CSS = table_css("WorkstationsTable", "workstations-table", _TONES)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: tuple[WorkstationRow, ...] = ()
        self._rows: list[WorkstationRow] = []
        self._cursor_name: str | None = None
        self._columns = _layout(80)
        self._layout_width = -1
        self.filter_text = ""
        self.sort_column: WsSortColumn | None = None
        self.descending = False
        self.actions_enabled: Callable[[], bool] = lambda: False
        """Whether ``A`` is bound (the pane asks the app: read-only by default)."""
        self._stale = False
        self._jobs_stale = False

    # -- public API --------------------------------------------------------------------

    @property
    def rows(self) -> list[WorkstationRow]:
        """The rows shown, in order (after filter and sort)."""
        return self._rows

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def cursor_workstation(self) -> WorkstationRow | None:
        return self._rows[self._cursor] if self._rows else None

    def set_rows(self, rows: tuple[WorkstationRow, ...]) -> None:
        """A new read; the cursor stays on its workstation. A read that shows the same
        rows repaints nothing (over SSH every cell written costs bytes)."""
        if rows == self._all:
            return
        self._all = rows
        self._resort()

    def set_stale(self, stale: bool) -> None:
        """Old data: a linked workstation reads "linked", muted, never a green check."""
        if stale != self._stale:
            self._stale = stale
            self.refresh()

    def set_jobs_stale(self, stale: bool) -> None:
        """The job list the job columns are counted from is old: its figures muted."""
        if stale != self._jobs_stale:
            self._jobs_stale = stale
            self.refresh()

    def set_filter(self, text: str) -> bool:
        if text == self.filter_text:
            return False
        self.filter_text = text
        self._resort()
        self.move_cursor(0)
        return True

    def _resort(self) -> None:
        self._rows = sorted_rows(self._all, self.filter_text, self.sort_column, self.descending)
        index = next((i for i, r in enumerate(self._rows) if r.name == self._cursor_name),
                     self._cursor)
        self._sync_virtual_size()
        self._place(index)
        self.refresh()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "workstation_actions":  # read-only: neither fires nor shows
            return self.actions_enabled()
        return True

    def action_select_cursor(self) -> None:
        row = self.cursor_workstation
        if row is not None:
            self.post_message(WorkstationSelected(row.name))

    def action_workstation_actions(self) -> None:
        row = self.cursor_workstation
        if row is not None and self.actions_enabled():
            self.post_message(WorkstationActionsRequested(row))

    def row_count(self) -> int:
        return len(self._rows)

    def remember(self, index: int | None) -> None:
        self._cursor_name = self._rows[index].name if index is not None else None

    def sort_state(self) -> tuple[WsSortColumn | None, bool]:
        return self.sort_column, self.descending

    def apply_sort(self, column: WsSortColumn | None, descending: bool) -> None:
        if (column, descending) != (self.sort_column, self.descending):
            self.sort_column, self.descending = column, descending
            self._resort()
            self.move_cursor(0)  # a new order is read from its top

    # -- events ------------------------------------------------------------------------

    # -- rendering ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            self._columns = _layout(width)
            self._layout_width = width
        if y == 0:
            return self._render_header(width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return self._render_row(self._rows[index], index == self._cursor, width)

    def _render_header(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("workstations-table--header")
        parts = []
        for col, _x, col_width in self._columns:
            title = col.title
            if col.sort is not None and self.sort_column == col.sort:
                title = f"{title}{'▼' if self.descending else '▲'}"
            parts.append(fit(title, col_width, col.right))
        return Strip([Segment(fit(SEP.join(parts), width), style)], width)

    def _render_row(self, row: WorkstationRow, is_cursor: bool, width: int) -> Strip:
        base = self.rich_style
        if is_cursor and not self.screen.has_class("-wall"):  # nobody drives a wall
            base = base + self.get_component_rich_style("workstations-table--cursor")
        segments: list[Segment] = []
        used = 0
        for col, _x, col_width in self._columns:
            if used:
                segments.append(Segment(SEP, base))
                used += len(SEP)
            text, style = self._cell(row, col.name, base)
            segments.append(Segment(fit(text, col_width, col.right), style))
            used += col_width
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments, max(width, used)).simplify()

    def _styled(self, component: str, base: Style) -> Style:
        return base + self.get_component_rich_style(f"workstations-table--{component}",
                                                    partial=True)

    def _cell(self, row: WorkstationRow, name: str, base: Style) -> tuple[str, Style]:
        if name == "name":  # a symbol, not only a colour (NO_COLOR, monochrome terminals)
            if row.problem:
                return f"✖ {safe_text(row.name, 64)}", self._styled("failed", base)
            return f"  {safe_text(row.name, 64)}", base
        if name == "type":
            return safe_text(row.type, 12), base
        if name == "link":
            if row.linked == "linked":
                if self._stale:
                    return "  linked", base + Style(dim=True)
                return "✔ linked", self._styled("success", base)
            if row.linked == "unlinked":
                return "✖ unlinked", self._styled("failed", base)
            return "· pool", base
        if name == "problem":
            return row.problem, self._styled("failed", base) if row.problem else base
        if name == "fence":
            return _number(row.fence), base
        if name == "limit":
            return _number(row.limit), base
        if name in ("failed", "stuck", "running", "waiting"):
            value = row.count(name)  # type: ignore[arg-type]
            style = base
            if value and name in ("failed", "stuck"):
                style = self._styled("failed" if name == "failed" else "warning", base)
            return figure(value), style + Style(dim=True) if self._jobs_stale else style
        if name == "jobs":
            return (f"{row.job_total:,}" if row.jobs else "",
                    base + Style(dim=True) if self._jobs_stale else base)
        if name == "host":
            return safe_text(row.host, 64), base
        return safe_text(",".join(row.states) or "no active state", 200), base

class WorkstationsPane(FilterPane):
    """Stale line, summary, filter, and the table of every workstation, stacked."""

    FILTER_INPUT: ClassVar[str] = "ws-filter-input"
    table: WorkstationsTable

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_filter", "Filter", id="workstations.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False,
                id="workstations.clear_filter"),
    ]

    DEFAULT_CSS = """
    WorkstationsPane {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $warning;
        &.-stale { border: round $warning; }
        &:focus-within { border: round $accent; }
        & > #ws-stale {
            display: none;
            height: auto;
            max-height: 3;
            padding: 0 1;
            &.-stale { display: block; }
        }
        & > #ws-summary { height: auto; max-height: 2; padding: 0 1; }  /* wraps, never cut */
        & > #ws-filter-input {
            display: none;
            height: 1;
            border: none;
            padding: 0 1;
            &.-open { display: block; }
        }
    }
    """

    state: reactive[WorkstationsState | None] = reactive(None, repaint=False, init=False)
    """The workstations feed's last state (the dashboard sets it from the registry)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.table = WorkstationsTable(id="ws-table")
        self.table.actions_enabled = self._actions_enabled
        self._aged = False
        self._jobs_from: datetime | None = None
        self._jobs_old = False
        self._stale_text: Content | None = None
        self._summary_text = Content("waiting for the engine…")

    def compose(self) -> ComposeResult:
        yield CappedText(self._stale_text or Content(""), id="ws-stale",
                         classes="-stale" if self._stale_text is not None else "")
        yield Static(self._summary_text, id="ws-summary", markup=False)
        yield Input(placeholder="filter name / type / host / states", id="ws-filter-input")
        yield self.table

    def on_mount(self) -> None:
        self.border_title = "Workstations"
        self._show()

    def _actions_enabled(self) -> bool:
        """Actions exist only when the app has an action service (``[actions] enabled``)."""
        return getattr(self.app, "actions", None) is not None

    # -- state -------------------------------------------------------------------------

    def watch_state(self) -> None:
        self._show()

    @property
    def aged(self) -> bool:
        """The last poll was good but its answer is old (the next one hangs)."""
        return self._aged

    def set_aged(self, aged: bool) -> None:
        """Judged by the dashboard each second, like every side pane."""
        if aged != self._aged:
            self._aged = aged
            self._show()

    def set_jobs_old(self, old: bool, read_at: datetime | None) -> None:
        """The job list its job columns are counted from is old (the header says STALE,
        or its data is old behind another label), read at ``read_at``: the summary says
        from when, the figures are muted. Judged by the dashboard each second."""
        if (old, read_at) != (self._jobs_old, self._jobs_from):
            self._jobs_old, self._jobs_from = old, read_at
            self.table.set_jobs_stale(old)
            self._show()

    @property
    def stale(self) -> bool:
        """What is shown is not a fresh reading (failed poll, or aged)."""
        state = self.state
        return self._aged or (state is not None and not state.health.ok)

    def text(self) -> str:
        """What the pane says above its table, then the rows shown (plain text)."""
        lines = [] if self._stale_text is None else [self._stale_text.plain]
        lines.append(self._summary_text.plain)
        lines += [f"{r.name} {r.linked} {r.problem}".rstrip() for r in self.table.rows]
        return "\n".join(lines)

    def _show(self) -> None:
        state = self.state
        if state is not None:
            # A state from an older writer (a recording, a leader not upgraded yet) has
            # only the problems: those are shown rather than an empty table.
            self.table.set_rows(state.rows or state.problems)
        health = state.health if state is not None else FeedHealth()
        stale = state is not None and (self._aged or not health.ok)
        self.set_class(stale, "-stale")
        self.table.set_stale(stale)
        subtitle = ("STALE" if health.has_data else "NO DATA") if stale else ""
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
        stale_text = self._stale_line(health) if stale else None
        summary_text = self._summary(state, stale)
        # compose() starts from these texts: only a change is drawn.
        if stale_text != self._stale_text:
            self._stale_text = stale_text
            for marker in self.query("#ws-stale").results(CappedText):
                marker.set_class(stale_text is not None, "-stale")
                marker.update(stale_text or Content(""))
        if summary_text != self._summary_text:
            self._summary_text = summary_text
            for summary in self.query("#ws-summary").results(Static):
                summary.update(summary_text)

    @staticmethod
    def _stale_line(health: FeedHealth) -> Content:
        reason = health.reason if not health.ok else "no new answer yet"
        last = health.last_success
        head = f"⚠ STALE, data from {hms(last)}" if last is not None else "⚠ NO DATA"
        return Content.assemble((head, "$warning bold"), f" — {safe_text(reason, 200)}")

    def _summary(self, state: WorkstationsState | None, stale: bool) -> Content:
        """The strip's words: a green check only on fresh data."""
        if state is None:
            return Content("waiting for the engine…")
        if not state.health.has_data and not state.total:
            return Content("no data")
        down = len(state.problems)
        if not down and stale:
            at = state.health.last_success
            when = f" at {at:%H:%M:%S}" if at is not None else ""
            head = Content.styled(
                f"all {state.total} workstations were linked and running{when}",
                "$text-muted")
        elif not down:
            head = Content.assemble(("✔ ", "$success"),
                                    f"all {state.total} workstations linked and running")
        else:
            head = Content.assemble(
                (f"✖ {down} of {state.total} not linked/running", "$error bold"),
                f" · {state.healthy} ok")
        tail = ""
        table = self.table
        if table.filter_text:
            tail += f" · “{safe_text(table.filter_text, 40)}”: {len(table.rows)} shown"
        if state.unreadable:
            tail += f" · ⚠ {len(state.unreadable)} records unreadable"
        if self._jobs_old and any(row.jobs for row in state.rows):
            when = f" from {hms(self._jobs_from)}" if self._jobs_from is not None else ""
            tail += f" · ⚠ job counts{when} (job list old)"
        return Content.assemble(head, tail) if tail else head

    # -- filter ------------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        if self.table.set_filter(text):
            self._show()
