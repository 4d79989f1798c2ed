"""The audit screen: the latest operator actions, newest first, with filter and follow.

One row per action attempt (its intent and, once recorded, its outcome): time in UTC
(and on the engine's clock when that differs), who and from where, the action, the
job, what came of it, why, and how long the engine took. Rows still only in the local
spool (not in Redis yet) say so. With Redis down the spool and the stream's last
reading are shown, and the status line says Redis is down. Every string comes from
Redis or the spool and is made safe (``safe_text``) before it is drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar, Final

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import ColumnKey

from resync_tui.feeds.audit_health import AuditRow, AuditState
from resync_tui.feeds.runner import FeedRunner
from resync_tui.feeds.status import Feed
from resync_tui.model.overall import hms
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets.header import CLOCK_OFFSET_SHOWN

__all__ = ["FOLLOW_INTERVAL", "AuditScreen", "outcome_text", "row_cells"]

FOLLOW_INTERVAL: Final = 2.0
"""Seconds between reads of the trail while the screen is open."""

_COLUMN_CAP: Final = 50
"""Widest a column gets (the engine's message, a justification): the rest is cut."""

_OUTCOME_MARKS: Final = {"done": "✔", "refused": "✖", "unknown": "?", "pending": "…"}


def outcome_text(row: AuditRow) -> str:
    """done / refused HTTP 409: message / unknown: message / pending (no outcome yet)."""
    mark = _OUTCOME_MARKS.get(row.result, "?")
    if row.result == "refused":
        code = f" HTTP {row.status}" if row.status else ""
        return f"{mark} refused{code}: {row.message}" if row.message else f"{mark} refused{code}"
    if row.result == "unknown":
        if row.message.startswith("outcome unknown"):
            return f"{mark} {row.message}"
        return f"{mark} unknown: {row.message}" if row.message else f"{mark} unknown"
    if row.result == "pending":
        return f"{mark} no outcome yet"
    return f"{mark} {row.result}"


def _job(row: AuditRow) -> str:
    name = ".".join(part for part in (row.job_stream, row.job_name) if part)
    if not name:
        return row.job_id
    return f"{name} @ {row.workstation}" if row.workstation else name


def _why(row: AuditRow) -> str:
    extra = ", ".join(part for part in (row.category, row.ticket) if part)
    return f"{row.description} ({extra})" if extra else row.description


def _latency(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def row_cells(row: AuditRow, engine_offset: float | None = None) -> list[str]:
    """The row's cells as plain, safe text (what is shown and what the filter reads)."""
    when = f"{row.time:%m-%d %H:%M:%S}Z" if row.time is not None else "?"
    cells = ["spooled" if row.spooled else "", when]
    if engine_offset is not None:
        cells.append(f"{row.time + timedelta(seconds=engine_offset):%H:%M:%S}"
                     if row.time is not None else "?")
    action = f"{row.action} {row.parameters}" if row.parameters else row.action
    cells += [f"{row.os_user}@{row.host}", action, _job(row), outcome_text(row),
              _latency(row.latency), _why(row)]
    return [safe_text(cell, 200) for cell in cells]


class AuditScreen(Screen[None]):
    """Reads the trail through ``feed`` every :data:`FOLLOW_INTERVAL` while open (its own
    worker, cancelled when the screen closes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="audit.close"),
        Binding("slash", "filter", "Filter", key_display="/", id="audit.filter"),
        Binding("f", "toggle_follow", "Follow", id="audit.follow"),
    ]

    DEFAULT_CSS = """
    AuditScreen { layout: vertical; }
    AuditScreen #audit-status { height: auto; padding: 0 1; background: $panel; }
    AuditScreen #audit-status.-down { color: $text-warning; text-style: bold; }
    AuditScreen #audit-filter { display: none; height: 3; }
    AuditScreen #audit-filter.-shown { display: block; }
    AuditScreen #audit-table { height: 1fr; }
    """

    def __init__(self, feed: Feed[AuditState], running: asyncio.Event, *,
                 clock_offset: Callable[[], float | None] = lambda: None,
                 interval: float = FOLLOW_INTERVAL) -> None:
        super().__init__(id="audit")
        self.runner: FeedRunner[AuditState] = FeedRunner(feed, interval, self.show_state,
                                                         running)
        """The screen's reads (tests call ``runner.poll_once()`` to read now)."""
        self._clock_offset = clock_offset
        self.follow = True
        """New records appear as they are read (``f`` toggles)."""
        self.state: AuditState | None = None
        """What the table shows (kept while follow is off)."""
        self.latest: AuditState | None = None
        """The last read, shown or not."""
        self.filter_text = ""
        self._offset: float | None = None
        self._columns: list[tuple[ColumnKey, str]] = []
        self.status = Static("reading the audit trail…", id="audit-status")
        self.table: DataTable[Text] = DataTable(id="audit-table", cursor_type="row",
                                                zebra_stripes=True)

    def compose(self) -> ComposeResult:
        yield self.status
        yield Input(placeholder="filter: any text of a row (Enter keeps it, Esc clears it)",
                    id="audit-filter")
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        # Columns once: the engine's clock has its own column when it is off this one's.
        self._offset = self._engine_offset()
        labels = ["", "time (UTC)", *(["engine"] if self._offset is not None else []),
                  "user@host", "action", "job", "outcome", "latency", "justification"]
        self._columns = list(zip(self.table.add_columns(*labels), labels, strict=True))
        self.run_worker(self.runner.run(), name="feed:audit-screen", group="audit-screen",
                        exit_on_error=False)
        self.table.focus()
        self._render_status()

    # -- data in -----------------------------------------------------------------------

    def show_state(self, state: AuditState) -> None:
        """A new read: into the table when following, else only counted in the status."""
        self.latest = state
        if self.follow or self.state is None:
            self.state = state
            self._fill()
        self._render_status()

    def _engine_offset(self) -> float | None:
        offset = self._clock_offset()
        return offset if offset is not None and abs(offset) >= CLOCK_OFFSET_SHOWN else None

    def visible_rows(self) -> list[list[str]]:
        """The rows the table shows now (filtered), as their cells' text."""
        state = self.state
        if state is None:
            return []
        offset = self._offset
        needle = self.filter_text.casefold()
        rows = [row_cells(row, offset) for row in state.rows]
        return [cells for cells in rows if not needle
                or any(needle in cell.casefold() for cell in cells)]

    def _fill(self) -> None:
        table = self.table
        keep = None
        if table.row_count and table.cursor_row >= 0:
            try:
                keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            except Exception:  # the cursor was on no row: nothing to keep
                keep = None
        table.clear()
        offset = self._offset
        state = self.state
        if state is None:
            return
        needle = self.filter_text.casefold()
        shown: list[list[str]] = []
        for row in state.rows:
            cells = row_cells(row, offset)
            if needle and not any(needle in cell.casefold() for cell in cells):
                continue
            styled = [Text(cell, end="") for cell in cells]  # plain text: no markup parsed
            if row.result in ("refused", "unknown"):
                styled[-3].stylize("bold")  # the outcome
            if row.spooled:
                styled[0].stylize("bold reverse")
            table.add_row(*styled, key=row.id)
            shown.append(cells)
        self._size_columns(shown)
        if keep is not None:  # filtered out now: the cursor stays at the top
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(keep))

    def _size_columns(self, rows: list[list[str]]) -> None:
        """Each column as wide as its widest cell (long texts capped): set here, not left
        to the table, which measures only once idle (a new row could show cut)."""
        table = self.table
        for index, (key, label) in enumerate(self._columns):
            widest = max((cell_len(cells[index]) for cells in rows), default=0)
            column = table.columns[key]
            column.auto_width = False
            column.width = min(max(widest, cell_len(label)), _COLUMN_CAP)
        table._require_update_dimensions = True  # Textual is pinned: the virtual width
        table.refresh()

    def _render_status(self) -> None:
        state, latest = self.state, self.latest
        parts: list[str] = ["Audit trail, newest first"]
        down = False
        if latest is None:
            parts.append("reading…")
        else:
            if not latest.has_redis:
                parts.append("no shared Redis: the spool only")
            elif not latest.health.ok:
                down = True
                read = latest.health.last_success
                parts.append("Redis DOWN: the spool, and the stream as read at "
                             f"{hms(read)}" if read is not None
                             else "Redis DOWN: the spool only")
            if latest.stream_length is not None:
                parts.append(f"{latest.stream_length:,} records in Redis")
            if latest.spool_records:
                parts.append(f"{latest.spool_records:,} spooled")
        if state is not None:
            shown = len(self.visible_rows())
            parts.append(f"{shown:,} of {len(state.rows):,} actions"
                         if self.filter_text else f"{len(state.rows):,} action"
                         + ("" if len(state.rows) == 1 else "s"))
        if self.filter_text:
            parts.append(f"filter {safe_text(self.filter_text, 40)!r}")
        if self.follow:
            parts.append("following (f stops)")
        else:
            new = ({r.id for r in latest.rows} - {r.id for r in state.rows}
                   if latest is not None and state is not None else set())
            parts.append(f"paused, {len(new):,} new (f follows)" if new
                         else "paused (f follows)")
        text = " · ".join(parts)
        if down and latest is not None and latest.health.reason:
            text += "\n" + safe_text(latest.health.reason, 200)
        self.status.update(Text(text, end=""))
        self.status.set_class(down, "-down")

    # -- keys ----------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow and self.latest is not None:
            self.state = self.latest
            self._fill()
        self._render_status()

    def action_filter(self) -> None:
        field = self.query_one("#audit-filter", Input)
        field.add_class("-shown")
        field.focus()

    def action_close(self) -> None:
        field = self.query_one("#audit-filter", Input)
        if field.has_focus:  # Esc in the filter clears it; Esc on the table closes
            field.value = ""
            field.remove_class("-shown")
            self.table.focus()
            return
        self.dismiss(None)

    @on(Input.Changed, "#audit-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._fill()
        self._render_status()

    @on(Input.Submitted, "#audit-filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-shown")
        self.table.focus()

