"""The Streams pane: every job stream of the plan, its jobs by status group, the worst job.

``StreamsTable`` is virtual like ``JobsTable`` (``ScrollView`` + ``render_line``): it holds
no copy of the streams, it reads the visible rows from the ``StreamsView`` when a line is
drawn, so 20,000 streams cost what 40 visible rows cost; lines are cached per row object
(rows are immutable) and a new read repaints only the lines whose row changed.

Public API:
    ``StreamsPane(*, id=None, classes=None)``; reactive ``state`` (a ``StreamsState``);
    ``pane.table`` (the ``StreamsTable``); ``pane.set_aged(aged)`` (the dashboard judges age).
    ``StreamSelected(stream_id, stream_name)``: Enter (or a double click) on a stream; the
    app answers by showing the jobs pane filtered to that stream.

Bindings: up/down/pageup/pagedown/home/end move the cursor, Enter opens the stream's jobs,
``s``/``S``/``o`` next sort column / reverse / back to the attention order (worst job
first), ``/`` filter as you type (name, folder, workstation, worst job), Esc clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Final

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Input, Static

from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsState
from resync_tui.model.overall import hms
from resync_tui.model.status import severity_of, symbol_of
from resync_tui.model.streams import StreamRow, StreamSortColumn, StreamsView
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

__all__ = ["StreamSelected", "StreamsPane", "StreamsTable"]

CARRIED_SYMBOL: Final = "↻"
"""Marks a stream carried forward from a previous plan day."""

_SEVERITY_COMPONENT: Final[dict[str, str]] = {
    "failed": "streams-table--failed",
    "warning": "streams-table--warning",
    "running": "streams-table--running",
    "success": "streams-table--success",
}


class StreamSelected(Message):
    """Enter on a stream: show its jobs (the app switches to the jobs pane, filtered)."""

    def __init__(self, stream_id: str, stream_name: str) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.stream_name = stream_name


_Col = Column  # short; the tuple's annotation gives the sort type

_COLUMNS: Final[tuple[Column[StreamSortColumn], ...]] = (
    _Col("stream", "Stream", 18, 0, "stream"),
    _Col("status", "Status", 9, 0, "status"),
    _Col("jobs", "Jobs", 5, 0, "jobs", right=True),
    _Col("failed", "✖Fail", 5, 0, "failed", right=True),
    _Col("stuck", "⚠Stk", 4, 2, None, right=True),
    _Col("running", "▶Run", 4, 1, None, right=True),
    _Col("waiting", "⋯Wait", 5, 1, None, right=True),
    _Col("done", "✔Done", 5, 2, None, right=True),
    _Col("worst", "Worst job", 14, 0, "worst"),
    _Col("started", "Start", 8, 4, "started"),
    _Col("ended", "End", 8, 5, "ended"),
    _Col("workstation", "Workstation", 14, 3, "workstation"),
    _Col("folder", "Folder", 14, 6, "folder"),
)
_GROWS: Final = {"stream": 2, "worst": 3, "folder": 1}
"""Columns that take the spare width (by weight): the names get cut first otherwise."""
_MAX: Final = {"stream": 40, "worst": 42, "folder": 40}
_SORT_CYCLE: Final[tuple[StreamSortColumn | None, ...]] = (
    None, "stream", "status", "jobs", "failed", "worst", "started", "ended", "workstation")


def _layout(width: int) -> list[Placed[StreamSortColumn]]:
    """(column, x, width) fitted to ``width``: the least useful columns go first."""
    return layout_columns(_COLUMNS, width, _GROWS, _MAX)


def _clock(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value is not None else ""


_TONES: Final = ("failed", "warning", "running", "success")
"""How StreamsTable tones its cells (``_table_style.TONES``)."""


class StreamsTable(CursorTable[StreamSortColumn], can_focus=True):
    """The streams of the current view, one line each, with a fixed header line."""

    SORT_CYCLE: ClassVar[tuple[object, ...]] = _SORT_CYCLE

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="streams.cursor_up"),
        Binding("down", "cursor_down", "Down", show=False, id="streams.cursor_down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False,
                id="streams.cursor_page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False,
                id="streams.cursor_page_down"),
        Binding("home", "cursor_home", "First", show=False, id="streams.cursor_home"),
        Binding("end", "cursor_end", "Last", show=False, id="streams.cursor_end"),
        Binding("enter", "select_cursor", "Its jobs", id="streams.open"),
        Binding("s", "cycle_sort", "Sort", show=False, id="streams.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="streams.reverse_sort"),
        Binding("o", "attention_order", "Attention order", show=False,
                id="streams.attention"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = table_component_classes("streams-table", _TONES)

    DEFAULT_CSS = table_css("StreamsTable", "streams-table", _TONES)

    def __init__(self, view: StreamsView | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view = view if view is not None else StreamsView()
        self._cursor_id: str | None = None
        self._columns = _layout(80)
        self._layout_width = -1
        self._lines: dict[str, tuple[StreamRow, bool, Strip]] = {}
        self._header: Strip | None = None
        self._shown: tuple[int, int, list[StreamRow]] = (-1, -1, [])

    # -- public API --------------------------------------------------------------------

    @property
    def view(self) -> StreamsView:
        return self._view

    @view.setter
    def view(self, view: StreamsView) -> None:
        if view is not self._view:
            self._view = view
            self._lines.clear()
            self._header = None
            self._shown = (-1, -1, [])
        self.refresh_data()

    @property
    def cursor_stream_id(self) -> str | None:
        """The stream under the cursor; the cursor follows it across reads."""
        return self._cursor_id

    def refresh_data(self) -> None:
        """Call after the view changed (data, filter or sort): repaints changed lines only."""
        view = self._view
        self._sync_virtual_size()
        position = view.position_of(self._cursor_id) if self._cursor_id else None
        if position is None:
            position = self._cursor
        size = len(view)
        self._place(min(position, size - 1) if size else 0)
        self._repaint_changed()

    # -- actions -----------------------------------------------------------------------

    def action_select_cursor(self) -> None:
        view = self._view
        if len(view) and 0 <= self._cursor < len(view):
            row = view.row_at(self._cursor)
            self.post_message(StreamSelected(row.stream_id, row.name))

    def row_count(self) -> int:
        return len(self._view)

    def remember(self, index: int | None) -> None:
        self._cursor_id = self._view.row_at(index).stream_id if index is not None else None

    def sort_state(self) -> tuple[StreamSortColumn | None, bool]:
        return self._view.sort_column, self._view.descending

    def repaint_cursor(self) -> None:
        self._repaint_changed()

    def apply_sort(self, column: StreamSortColumn | None, descending: bool) -> None:
        if self._view.set_sort(column, descending):
            self._header = None
            self.refresh(Region(0, 0, self.size.width, 1))
            self.refresh_data()
            self.move_cursor(0)  # a new order is read from its top

    # -- events ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._header = None

    def on_focus(self, event: events.Focus) -> None:
        self._lines.clear()
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._lines.clear()
        self.refresh()

    # -- rendering ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            self._columns = _layout(width)
            self._layout_width = width
            self._lines.clear()
            self._header = None
        if y == 0:
            return self._render_header(width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._view):
            return Strip.blank(width, self.rich_style)
        return self._render_row(self._view.row_at(index), index == self._cursor, width)

    def _render_header(self, width: int) -> Strip:
        if self._header is None:
            style = self.rich_style + self.get_component_rich_style("streams-table--header")
            view = self._view
            parts = []
            for col, _x, col_width in self._columns:
                title = col.title
                if col.sort is not None and view.sort_column == col.sort:
                    title = f"{title}{'▼' if view.descending else '▲'}"
                parts.append(fit(title, col_width, col.right))
            self._header = Strip([Segment(fit(SEP.join(parts), width), style)], width)
        return self._header

    def _render_row(self, row: StreamRow, is_cursor: bool, width: int) -> Strip:
        cached = self._lines.get(row.stream_id)
        if cached is not None and cached[0] is row and cached[1] == is_cursor:
            return cached[2]
        base = self.rich_style
        if is_cursor:
            base = base + self.get_component_rich_style("streams-table--cursor")
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
        strip = Strip(segments, max(width, used)).simplify()
        if len(self._lines) > 4096:
            self._lines.clear()
        self._lines[row.stream_id] = (row, is_cursor, strip)
        return strip

    def _severity_style(self, status: str, base: Style) -> Style:
        component = _SEVERITY_COMPONENT.get(severity_of(status))
        if component is None:
            return base
        return base + self.get_component_rich_style(component, partial=True)

    def _cell(self, row: StreamRow, name: str, base: Style) -> tuple[str, Style]:
        info = row.info
        if name == "stream":
            mark = f"{CARRIED_SYMBOL} " if info.carried_forward else ""
            return mark + safe_text(info.name, 64), base
        if name == "status":
            status = info.status or "UNKNOWN"
            return (f"{symbol_of(status)} {safe_text(status, 10)}",
                    self._severity_style(status, base))
        if name == "jobs":
            return f"{row.jobs:,}", base
        if name in ("failed", "stuck", "running", "waiting", "done"):
            value = row.count(name)  # type: ignore[arg-type]
            style = base
            if value and name in ("failed", "stuck"):
                style = self._severity_style("ABEND" if name == "failed" else "STUCK", base)
            return figure(value), style
        if name == "worst":
            if not row.worst_job:
                return "", base
            return (f"{symbol_of(row.worst_status)} {safe_text(row.worst_job, 64)}",
                    self._severity_style(row.worst_status, base))
        if name == "started":
            return _clock(info.started), base
        if name == "ended":
            return _clock(info.ended), base
        if name == "workstation":
            return safe_text(info.workstation, 32), base
        return safe_text(info.folder, 64), base

    # -- cursor and repaint ------------------------------------------------------------

    def _repaint_changed(self) -> None:
        top = round(self.scroll_y)
        rows = self._view.rows_in(top, top + self.page_height)
        shown_top, shown_cursor, shown_rows = self._shown
        self._shown = (top, self._cursor, rows)
        if shown_top != top:
            self.refresh()
            return
        for offset in range(max(len(rows), len(shown_rows))):
            new = rows[offset] if offset < len(rows) else None
            old = shown_rows[offset] if offset < len(shown_rows) else None
            index = top + offset
            if new is not old or (index in (self._cursor, shown_cursor)
                                  and self._cursor != shown_cursor):
                self.refresh_line(offset + 1)


class StreamsPane(FilterPane):
    """Filter line, the streams table, and the stale marker, stacked."""

    FILTER_INPUT: ClassVar[str] = "streams-filter-input"
    table: StreamsTable

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_filter", "Filter", id="streams.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False,
                id="streams.clear_filter"),
    ]

    DEFAULT_CSS = """
    StreamsPane {
        height: 1fr;
        width: 1fr;
        border: round $primary 50%;
        border-title-style: bold;
        &.-stale { border: round $warning; }
        & > #streams-filter-input {
            display: none;
            height: 1;
            border: none;
            padding: 0 1;
            &.-open { display: block; }
        }
        & > #streams-filter-line { height: 1; padding: 0 1; color: $text-muted; }
        & > #streams-stale {
            display: none;
            height: auto;
            max-height: 3;
            padding: 0 1;
            background: $warning-muted;
            color: $text;
            text-style: bold;
            &.-stale { display: block; }
        }
    }
    """

    state: reactive[StreamsState | None] = reactive(None, repaint=False, init=False)
    """The streams feed's last state (the dashboard sets it from the registry)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.table = StreamsTable(id="streams-table")
        self._aged = False
        self._filter_line = ""
        self._stale_line = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter stream / folder / workstation / worst job",
                    id="streams-filter-input")
        yield Static("", id="streams-filter-line", markup=False)
        yield self.table
        yield CappedText(id="streams-stale")

    def on_mount(self) -> None:
        self.border_title = "Job streams"
        self._show()

    # -- state -------------------------------------------------------------------------

    def watch_state(self) -> None:
        self._show()

    @property
    def aged(self) -> bool:
        """The last poll was good but its answer is old (the next one hangs)."""
        return self._aged

    def set_aged(self, aged: bool) -> None:
        if aged != self._aged:
            self._aged = aged
            self._update_stale()

    @property
    def stale(self) -> bool:
        state = self.state
        return self._aged or (state is not None and not state.health.ok)

    def _show(self) -> None:
        state = self.state
        if state is not None:
            filter_text = self.table.view.filter_text
            sort = (self.table.view.sort_column, self.table.view.descending)
            if state.view is not self.table.view:  # carry the pane's filter and order over
                state.view.set_filter(filter_text)
                state.view.set_sort(*sort)
                self.table.view = state.view
            else:
                self.table.refresh_data()
        self._update_filter_line()
        self._update_stale()

    def _update_stale(self) -> None:
        marker = next(self.query("#streams-stale").results(CappedText), None)
        if marker is None:
            return
        state = self.state
        health = state.health if state is not None else FeedHealth()
        stale = self._aged or not health.ok
        self.set_class(stale, "-stale")
        if not stale:
            marker.remove_class("-stale")
            return
        reason = health.reason if not health.ok else "no new answer yet"
        last = health.last_success
        head = f"⚠ STALE, data from {hms(last)}" if last is not None else "⚠ NO DATA"
        text = f"{head} — {safe_text(reason, 200)}"
        if text != self._stale_line:
            marker.update(Content(text))
            self._stale_line = text
        marker.add_class("-stale")

    def _update_filter_line(self) -> None:
        view = self.table.view
        state = self.state
        parts: list[str] = []
        if view.filter_text:
            parts.append(f"text: “{safe_text(view.filter_text, 40)}”")
        parts.append(f"{len(view):,} of {view.total:,} streams")
        if state is not None and state.health.has_data:
            parts.append(f"counts from {state.jobs_counted:,} jobs")
            if state.unreadable:
                parts.append(f"⚠ {len(state.unreadable):,} stream records unreadable")
        elif state is None or not state.health.polls:
            parts.append("waiting for the engine")
        line = " · ".join(parts)
        if line != self._filter_line:
            for widget in self.query("#streams-filter-line").results(Static):
                widget.update(Text(line, end=""))
                self._filter_line = line

    # -- filter ------------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        if self.table.view.set_filter(text):
            self.table.refresh_data()
            self.table.move_cursor(0)
            self._update_filter_line()
