"""The Critical pane: jobs with ``critical`` or a deadline, those past due first, then by slack.

A pane of its own rather than a view of the jobs pane: its columns are not the job
table's (the due time, whether it must start or end by it, and the slack that ticks on
the engine's clock), and an operator asks "which critical jobs will be late" beside the
job list, not instead of its filter. Slack is measured by the feed on the engine's
clock; names from the engine go through ``safe_text``.

Public API: ``CriticalPane(*, id=None, classes=None)`` with the reactive ``state`` (a
``feeds.critical.CriticalState``); it shows as many jobs as fit and says how many more.
A cursor (reverse video, so it shows without colour too) moves with ``↑`` ``↓`` ``PgUp``
``PgDn`` ``Home`` ``End`` and stays on its job when a new state comes; ``Enter`` opens
the cursor job's detail by posting the job table's own ``JobsTable.JobSelected`` (the app
opens it as from the table; ``Esc`` there comes back here). ``pane.table`` is the pane
itself: the widget the dashboard focuses when the pane is shown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Final

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.critical import CriticalState
from resync_tui.model.critical import CriticalRow
from resync_tui.model.overall import hms
from resync_tui.model.status import symbol_of
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import Pane
from resync_tui.ui.widgets.jobs_table import JobsTable

__all__ = ["CriticalPane", "format_slack"]

_NAME_MAX: Final = 120


def format_slack(slack: timedelta | None) -> str:
    """``+0h25m`` left, ``-1h05m`` past; ``?`` when no time is known."""
    if slack is None:
        return "?"
    seconds = int(slack.total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{sign}{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _line(entry: CriticalRow) -> Content:
    row = entry.row
    slack = format_slack(entry.slack)
    # Each part ends with its separating space, and a line starts with a mark: leading
    # spaces are not kept. ✖ past due, ⚠ due within 30 minutes, · later.
    if entry.missed:
        head = (f"✖ {slack:>7} ", "$error bold")
    elif entry.slack is not None and entry.slack < timedelta(minutes=30):
        head = (f"⚠ {slack:>7} ", "$warning bold")
    else:
        head = (f"· {slack:>7} ", "")
    due = hms(entry.due) if entry.due is not None else "--:--:--"
    verb = {"end": "end by", "start": "start by"}.get(entry.kind, "critical")
    status = row.status or row.common_status or "?"
    mark = "★" if row.critical else " "
    name = f"{row.stream}.{row.job}" if row.stream else row.job or row.job_id
    where = f" @ {row.workstation}" if row.workstation else ""
    tail = " (ended late)" if entry.done and entry.kind == "end" else (
        " (started late)" if entry.done else "")
    return Content.assemble(
        head, f"{verb:<8} {due} ", (f"{symbol_of(status)} {safe_text(status, 8):<6} ", "bold"),
        f"{mark} {safe_text(name + where, _NAME_MAX)}", (tail, "$text-muted"))


class CriticalPane(Pane):
    state: reactive[CriticalState | None] = reactive(None, repaint=False)

    PANE_TITLE = "Critical jobs and deadlines"

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="critical.cursor_up"),
        Binding("down", "move(1)", "Down", show=False, id="critical.cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="critical.cursor_page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False,
                id="critical.cursor_page_down"),
        Binding("home", "move_to(0)", "First", show=False, id="critical.cursor_home"),
        Binding("end", "move_to(-1)", "Last", show=False, id="critical.cursor_end"),
        Binding("enter", "open", "Open", id="critical.open"),
    ]

    DEFAULT_CSS = """
    CriticalPane { height: 1fr; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cursor = 0
        """Index in ``state.rows`` of the cursor's job."""
        self._cursor_job: str | None = None
        self._top = 0
        self._room = 1

    @property
    def table(self) -> CriticalPane:
        """What the dashboard focuses when this pane is shown: the pane, with its cursor."""
        return self

    @property
    def cursor_entry(self) -> CriticalRow | None:
        """The job under the cursor, None when none is listed."""
        rows = self.state.rows if self.state is not None else ()
        return rows[self.cursor] if 0 <= self.cursor < len(rows) else None

    def _keep_cursor(self, rows: tuple[CriticalRow, ...]) -> None:
        """The cursor stays on its job when a new state reorders the rows (slack moves)."""
        if self._cursor_job is not None:
            at = next((i for i, e in enumerate(rows) if e.row.job_id == self._cursor_job), None)
            if at is not None:
                self.cursor = at
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self._cursor_job = rows[self.cursor].row.job_id if rows else None

    def _move_to(self, index: int) -> None:
        rows = self.state.rows if self.state is not None else ()
        if not rows:
            return
        self.cursor = min(max(index, 0), len(rows) - 1)
        self._cursor_job = rows[self.cursor].row.job_id
        self.show()

    def action_move(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move_to(self.cursor + step * max(self._room - 1, 1))

    def action_move_to(self, index: int) -> None:
        rows = self.state.rows if self.state is not None else ()
        self._move_to(index if index >= 0 else len(rows) - 1)

    def action_open(self) -> None:
        """The cursor job's detail, opened the way the job table opens it."""
        entry = self.cursor_entry
        tables = self.screen.query(JobsTable)
        if entry is not None and tables:
            self.post_message(JobsTable.JobSelected(tables.first(), entry.row.job_id))

    def build(self) -> Content:
        s = self.state
        if s is None or not s.jobs_seen:
            return Content("waiting for the job list…")
        lines = self.stale_lines(s.health)
        if not s.rows:
            lines.append(Content.assemble(("✔ ", "$success"),
                                          "no critical job or deadline at risk"))
            return Content("\n").join(lines)
        self._keep_cursor(s.rows)
        at = f" (engine clock {hms(s.now)})" if s.now is not None else ""
        summary = (f"✖ {s.missed} past due · ", "$error bold") if s.missed else (
            "✔ none past due · ", "$success")
        lines.append(Content.assemble(summary, f"{len(s.rows)} watched, by slack{at}"))
        lines.append(Content.styled(
            f"{'slack':<10}{'due':<18}{'status':<9}★ critical · stream.job @ workstation",
            "$text-muted"))
        # size is the inside of the border: every line of it holds a job but the "more" one
        room = max(self.size.height - len(lines) - 1, 1) if self.size.height else 40
        if len(s.rows) <= room + 1:
            room = len(s.rows)  # the "more" line's place holds the last job instead
        self._room = room
        # The window follows the cursor; it moves only when the cursor leaves it.
        self._top = min(max(self._top, self.cursor - room + 1), self.cursor)
        self._top = max(min(self._top, len(s.rows) - room), 0)
        shown = s.rows[self._top:self._top + room]
        for index, entry in enumerate(shown, self._top):
            line = _line(entry)
            lines.append(line.stylize("reverse") if index == self.cursor else line)
        below = len(s.rows) - self._top - len(shown)
        if below or self._top:
            more = [f"{below} more below" if below else "", f"{self._top} above" if self._top
                    else ""]
            lines.append(Content.styled("… " + " · ".join(m for m in more if m),
                                        "$text-muted"))
        return Content("\n").join(lines)

    def on_resize(self) -> None:
        self.show()
