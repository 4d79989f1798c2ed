"""A virtual table of jobs: draws only the visible rows of a ``JobsView``.

Built on the Line API (``ScrollView`` + ``render_line``) like Textual's ``Log``: the table
holds no copy of the plan, it reads rows from the ``JobsView`` index when a line is drawn,
so a 200k-job plan costs what 40 visible rows cost. An update never rebuilds anything:
``refresh_data()`` keeps the cursor on the same job, then repaints only the lines whose row
object changed (rows are immutable, so an identity check is enough), and of those lines
only the cells that differ from what was painted (a ticking Dur figure is a cell or two)
- few dirty cells, few bytes over SSH.

Public API:
    ``JobsTable(view: JobsView | None = None, *, name=None, id=None, classes=None)``
    ``table.view`` (get/set), ``table.refresh_data(change: ChangeSet | None = None)``
    ``table.cursor_row`` (int), ``table.cursor_job_id`` (str | None),
    ``table.move_cursor(index)``, ``table.select_job(job_id) -> bool``
    Marks (a set of job ids, kept across refreshes; a job that leaves the plan is
    unmarked): ``table.marks`` (read-only set), ``table.toggle_mark() -> bool`` (the
    cursor's job; the cursor moves down), ``table.mark_jobs(ids) -> int`` (newly marked),
    ``table.clear_marks() -> int``, ``table.unmark(ids)``.
    New since you last looked (``model/new_since.py``: a job entering the failed or
    stuck group, or passing its deadline, after start): ``table.new_jobs`` (read-only
    set), ``table.looked_at(ids) -> int`` (no longer new; how many were),
    ``table.clear_new() -> int``. A new row is looked at when it stays on screen, the
    table's screen on top and the terminal focused, for two looks in a row (0.5 s apart:
    a glimpse while scrolling past does not count), or when it is opened (Enter).
    Messages (each with ``control``, the table): ``JobsTable.JobSelected`` (``job_id``;
    Enter, double click), ``JobsTable.JobHighlighted`` (``job_id``; the cursor moved to
    another job), ``JobsTable.SortChanged`` (``column``, ``descending``),
    ``JobsTable.NewChanged`` (``count``: the new set changed).

Bindings: up/down/pageup/pagedown/home/end move the cursor; Enter opens the job;
``n`` next failure; ``s`` next sort column; ``S`` reverse the sort; ``o`` back to the
attention order. A click on a row selects it, on the header sorts by that column.
While any job is marked or new, a gutter at the left shows ``◆`` on marked rows and
``●`` on new ones (glyphs, so they read without colour too; both bold under NO_COLOR).
With marks and new jobs at once it has a cell for each, ``◆`` then ``●``, so a row that
is both shows both; with neither the gutter is gone.

Colours come from component classes (``jobs-table--failed`` uses ``$error``,
``--warning`` ``$warning``, ``--success`` ``$success``...), and the status is always a
symbol plus its name, never colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from contextlib import contextmanager
from datetime import datetime
from typing import ClassVar, Final

import msgspec
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from resync_tui.model.jobs_view import (
    ChangeSet,
    JobRow,
    JobsView,
    SortColumn,
)
from resync_tui.model.new_since import NewSince
from resync_tui.model.status import (
    FAILED_STATUSES,
    KNOWN_STATUSES,
    RUNNING_STATUSES,
    group,
    severity_of,
    symbol_of,
)
from resync_tui.ui.format import format_duration
from resync_tui.ui.text import ELLIPSIS, safe_text
from resync_tui.ui.widgets._pane import changed_span
from resync_tui.ui.widgets._table_style import table_component_classes, table_css

__all__ = ["JobsTable", "short_substatus", "status_label"]

LATE_SYMBOL: Final = "⚠"
MARK_SYMBOL: Final = "◆"
"""Drawn in the gutter of a marked row."""
NEW_SYMBOL: Final = "●"
"""Drawn in the gutter of a row new since the operator last looked."""
LOOK_SECONDS: Final = 0.5
"""How often the table checks which new rows are in sight (two checks in a row: seen)."""

_SEVERITY_COMPONENT: Final[dict[str, str]] = {
    "failed": "jobs-table--failed",
    "warning": "jobs-table--warning",
    "running": "jobs-table--running",
    "success": "jobs-table--success",
}
"""Component class (theme colour) of each severity of ``resync_tui.model.status``."""
_FINISHED_OR_FAILED: Final = (
    group("failed").statuses | group("done").statuses | group("cancelled").statuses
    | frozenset({"INTRPT"})
)
"""Statuses whose return code means something (the job ran to an end)."""


def _strip_cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """One (character, style) per cell; a wide character's second cell is ""."""
    cells: list[tuple[str, Style | None]] = []
    for segment in strip:
        style = segment.style
        for char in segment.text:
            cells.append((char, style))
            cells.extend(("", style) for _ in range(cell_len(char) - 1))
    return cells


_Runs = list[tuple[int, Style | None]]
_ONE_CELL: Final = frozenset(
    ch for ch in (*map(chr, range(0x20, 0x7F)), ELLIPSIS, LATE_SYMBOL, MARK_SYMBOL, NEW_SYMBOL,
                  *(symbol_of(status) for status in (*KNOWN_STATUSES, "")))
    if cell_len(ch) == 1)
"""Characters one cell wide that rows are made of: printable ASCII and the table's symbols."""
_one_cell_only = _ONE_CELL.issuperset


def _style_runs(strip: Strip) -> tuple[str, _Runs] | None:
    """The strip's text and its style runs (cell where each run ends, its style), when
    each character is one cell (``_ONE_CELL``: every row but an exotic name); None
    otherwise."""
    parts: list[str] = []
    runs: _Runs = []
    end = 0
    for segment in strip:
        text = segment.text
        if not text:
            continue
        if not _one_cell_only(text):
            return None
        parts.append(text)
        end += len(text)
        runs.append((end, segment.style))
    return "".join(parts), runs


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix of ``a`` and ``b`` (at most ``limit``): a bisection of
    C-level slice comparisons, not a Python loop over each character."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _same_style_for(a: _Runs, b: _Runs, limit: int) -> int:
    """Cells from the start (at most ``limit``) over which both runs give equal styles."""
    i = j = x = 0
    while x < limit:
        end_a, style_a = a[i]
        end_b, style_b = b[j]
        if style_a != style_b:
            return x
        x = min(end_a, end_b)
        i += end_a == x
        j += end_b == x
    return limit


def _reversed_runs(runs: _Runs, length: int) -> _Runs:
    """The same runs read from the right end."""
    out: _Runs = []
    for k in range(len(runs) - 1, -1, -1):
        start = runs[k - 1][0] if k else 0
        out.append((length - start, runs[k][1]))
    return out


def _changed_cells(before: Strip, after: Strip) -> tuple[int, int] | None:
    """``changed_span`` of the two strips' cells, in a few C calls a line for rows of
    one-cell characters (~140 us a line cell by cell: 5 ms when 40 lines move)."""
    old, new = _style_runs(before), _style_runs(after)
    if old is None or new is None:
        return changed_span(_strip_cells(before), _strip_cells(after))
    (text_a, runs_a), (text_b, runs_b) = old, new
    length_a, length_b = len(text_a), len(text_b)
    common = min(length_a, length_b)
    first = _common_prefix(text_a, text_b, common)
    first = _same_style_for(runs_a, runs_b, first)
    if length_a != length_b:
        return first, max(length_a, length_b)
    if first == common:
        return None
    tail = _common_prefix(text_a[::-1], text_b[::-1], common - first)
    tail = _same_style_for(_reversed_runs(runs_a, length_a), _reversed_runs(runs_b, length_b),
                           tail)
    return first, common - tail


def status_label(row: JobRow, late: bool = False) -> str:
    """Symbol and name of a status, e.g. ``✖ ABEND``; ``⚠ EXEC`` for a late job."""
    status = row.status or row.common_status or "UNKNOWN"
    symbol = LATE_SYMBOL if late else symbol_of(status)
    return f"{symbol} {safe_text(status, 12)}"


def _running(row: JobRow) -> bool:
    """Running with a known start and no end: its elapsed time ticks on the engine's clock."""
    return row.status in RUNNING_STATUSES and row.started is not None and row.ended is None


def _duration(row: JobRow, now: datetime | None = None) -> float | None:
    """The last run's duration; for a running job, the time since it started (``now`` is
    the engine's clock: this machine's would be off by the clocks' offset)."""
    if now is not None and _running(row) and row.started is not None:
        try:
            return max((now - row.started).total_seconds(), 0.0)
        except TypeError:  # a naive start time: show nothing rather than crash
            return None
    if row.duration is not None:
        return row.duration
    if row.started is not None and row.ended is not None:
        try:
            return (row.ended - row.started).total_seconds()
        except TypeError:  # one naive, one aware: show nothing rather than crash
            return None
    return None


def _clock_time(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value is not None else ""


def _info(row: JobRow) -> str:
    """Return code for finished jobs, otherwise the substatus (why it waits)."""
    if row.return_code is not None and row.status in _FINISHED_OR_FAILED:
        return f"RC {row.return_code}"
    return short_substatus(row.status, row.substatus)


def short_substatus(status: str, substatus: str) -> str:
    """``HOLD_WAITING_FOR_PREDECESSOR`` next to ``HOLD`` reads ``for predecessor``: the
    status column already says HOLD, and the reason is what must fit a narrow column."""
    text = substatus.removeprefix(f"{status}_") if status else substatus
    if text.startswith("WAITING_FOR_"):
        return "for " + text.removeprefix("WAITING_FOR_").replace("_", " ").lower()
    return text


class _ColumnSpec(msgspec.Struct, frozen=True):
    name: SortColumn
    title: str
    min_width: int
    weight: int
    max_width: int
    drop_order: int
    """Columns with a higher value are dropped first when the terminal is narrow."""
    short_title: str = ""
    """Title used when the column is too narrow for ``title``."""
    comfort_width: int = 0
    """Width a kept column (drop_order 0) gets before optional columns are kept."""


# Max widths follow HWA's name limits (job stream 16, job 40, workstation 16 characters):
# wider columns would only add blanks, so the spare width goes where names get cut.
_COLUMNS: Final[tuple[_ColumnSpec, ...]] = (
    _ColumnSpec("stream", "Stream", 10, 3, 16, 0, comfort_width=14),
    _ColumnSpec("job", "Job", 12, 5, 42, 0, comfort_width=20),
    _ColumnSpec("workstation", "Workstation", 8, 3, 18, 3, "WS"),
    _ColumnSpec("folder", "Folder", 16, 2, 40, 6),
    _ColumnSpec("status", "Status", 10, 0, 10, 0),
    _ColumnSpec("info", "Substatus/RC", 8, 2, 24, 1, "Sub/RC"),
    _ColumnSpec("started", "Start", 8, 0, 8, 5),
    _ColumnSpec("duration", "Dur", 7, 0, 7, 4),
)
_OPTIONAL_ORDER: Final = 4
"""Columns with at least this drop order give way to comfortable stream/job widths."""
_SEPARATOR: Final = " "
_SORT_CYCLE: Final[tuple[SortColumn | None, ...]] = (
    None,
    "stream",
    "job",
    "workstation",
    "status",
    "info",
    "started",
    "duration",
)


class _Column(msgspec.Struct, frozen=True):
    spec: _ColumnSpec
    x: int
    width: int


def layout_columns(width: int) -> tuple[_Column, ...]:
    """Fit columns to ``width`` cells: drop the least useful first, then share the rest."""
    specs = list(_COLUMNS)

    def needed(items: list[_ColumnSpec]) -> int:
        return sum(s.min_width for s in items) + len(_SEPARATOR) * (len(items) - 1)

    def comfort(items: list[_ColumnSpec]) -> int:
        return sum(max(0, s.comfort_width - s.min_width) for s in items)

    # Names first: the least useful columns (folder, start) go while the stream and job
    # names would be cut below their comfortable width; the others only when nothing fits.
    for limit, extra in ((_OPTIONAL_ORDER, comfort), (1, lambda _items: 0)):
        while len(specs) > 1 and needed(specs) + extra(specs) > width:
            victim = max(specs, key=lambda s: s.drop_order)
            if victim.drop_order < limit:
                break
            specs.remove(victim)
    widths = {s.name: s.min_width for s in specs}
    spare = width - needed(specs)
    # Share the spare cells by weight, a cell at a time, so rounding never overflows.
    growable = [s for s in specs if s.weight]
    while spare > 0 and growable:
        total_weight = sum(s.weight for s in growable)
        progressed = False
        for spec in growable:
            share = max(1, spare * spec.weight // total_weight)
            grow = min(share, spec.max_width - widths[spec.name], spare)
            if grow > 0:
                widths[spec.name] += grow
                spare -= grow
                progressed = True
        growable = [s for s in growable if widths[s.name] < s.max_width]
        if not progressed:
            break
    # Every column at its maximum (300 columns): the rest stays blank at the right end,
    # so status and RC stay close to the job name the eye starts from.
    columns: list[_Column] = []
    x = 0
    for spec in specs:
        columns.append(_Column(spec, x, widths[spec.name]))
        x += widths[spec.name] + len(_SEPARATOR)
    return tuple(columns)


def _fit(text: str, width: int) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, marking a cut with an ellipsis."""
    if len(text) <= width and text.isascii():
        return text.ljust(width)
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + ELLIPSIS if width else ""
    return set_cell_size(text, width)


_TONES: Final = ("failed", "warning", "running", "success", "marked", "new")
"""How JobsTable tones its cells (``_table_style.TONES``)."""


class JobsTable(ScrollView, can_focus=True):
    """The jobs of the current view, one line each, with a fixed header line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="jobs.cursor_up"),
        Binding("down", "cursor_down", "Down", show=False, id="jobs.cursor_down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="jobs.cursor_page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False,
                id="jobs.cursor_page_down"),
        Binding("home", "cursor_home", "First", show=False, id="jobs.cursor_home"),
        Binding("end", "cursor_end", "Last", show=False, id="jobs.cursor_end"),
        Binding("enter", "select_cursor", "Open", id="jobs.open"),
        # Not in the footer: with actions enabled an 80-column footer would lose `q Quit`
        # (the help screen lists it).
        Binding("n", "next_failure", "Next fail", show=False, id="jobs.next_failure"),
        Binding("s", "cycle_sort", "Sort", show=False, id="jobs.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="jobs.reverse_sort"),
        Binding("o", "attention_order", "Attention order", show=False, id="jobs.attention"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = table_component_classes("jobs-table", _TONES)
    """Header, cursor line, and status cells by severity (themes may recolour them)."""

    DEFAULT_CSS = table_css("JobsTable", "jobs-table", _TONES)

    class _TableMessage(Message):
        """Carries the table that sent it, so ``@on(JobsTable.JobSelected, "#id")`` works."""

        def __init__(self, table: JobsTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> JobsTable:
            return self.table

    class JobSelected(_TableMessage):
        """The operator chose a job (Enter or double click): open its details."""

        def __init__(self, table: JobsTable, job_id: str) -> None:
            super().__init__(table)
            self.job_id = job_id

    class JobHighlighted(_TableMessage):
        """The cursor moved to another job."""

        def __init__(self, table: JobsTable, job_id: str) -> None:
            super().__init__(table)
            self.job_id = job_id

    class NewChanged(_TableMessage):
        """Jobs became new, or stopped being new (``count``: how many are new now)."""

        def __init__(self, table: JobsTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    class SortChanged(_TableMessage):
        """The sort changed (``column`` None = attention order)."""

        def __init__(self, table: JobsTable, column: SortColumn | None,
                     descending: bool) -> None:
            super().__init__(table)
            self.column = column
            self.descending = descending

    def __init__(
        self,
        view: JobsView | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._view = view if view is not None else JobsView()
        self._cursor = 0
        self._cursor_job: str | None = None
        self._columns: tuple[_Column, ...] = layout_columns(80)
        self._layout_width = -1
        self._line_cache: dict[str, tuple[JobRow, bool, bool, str, str, Strip]] = {}
        self._marks: set[str] = set()
        self._new = NewSince()
        self._in_sight: set[str] = set()
        """New rows on screen at the last look (on screen again at the next: seen)."""
        self._gutter = 0
        self._header_strip: Strip | None = None
        self._shown: tuple[int, int, list[JobRow]] = (-1, -1, [])
        """(scroll_y, cursor, rows) as last repainted: the cheap "did it change" check."""
        self._painted: dict[int, Strip] = {}
        """The strip last drawn on each line of the viewport (what the terminal shows)."""
        self._painting = False
        self._pass_style: Style | None = None
        self._pass_width: int | None = None
        """The base style and content width while one pass draws many lines (``_pass``)."""

    # -- public API --------------------------------------------------------------------

    @property
    def view(self) -> JobsView:
        return self._view

    @view.setter
    def view(self, view: JobsView) -> None:
        if view is not self._view:
            self._view = view
            self._line_cache.clear()
            self._header_strip = None
            self._shown = (-1, -1, [])
        self.refresh_data()

    @property
    def cursor_row(self) -> int:
        """Cursor position in the current view."""
        return self._cursor

    @property
    def cursor_job_id(self) -> str | None:
        """Job under the cursor; the cursor follows it across updates."""
        return self._cursor_job

    @property
    def page_height(self) -> int:
        """Data lines that fit (the header takes one)."""
        return max(self.scrollable_content_region.height - 1, 1)

    # -- marks -------------------------------------------------------------------------

    @property
    def marks(self) -> Set[str]:
        """The marked job ids (read-only: change them with the methods below)."""
        return self._marks

    def toggle_mark(self) -> bool:
        """Mark or unmark the cursor's job, then move down (k9s, mc); True if now marked."""
        job_id = self._cursor_job
        if job_id is None:
            return False
        marked = job_id not in self._marks
        if marked:
            self._marks.add(job_id)
        else:
            self._marks.discard(job_id)
        self._marks_changed([job_id])
        self.move_cursor(self._cursor + 1)
        return marked

    def mark_jobs(self, job_ids: Iterable[str]) -> int:
        """Mark these jobs (those in the plan); how many were not marked before."""
        before = len(self._marks)
        get = self._view.get
        self._marks.update(i for i in job_ids if get(i) is not None)
        added = len(self._marks) - before
        if added:
            self._marks_changed(None)
        return added

    def unmark(self, job_ids: Iterable[str]) -> None:
        gone = [i for i in job_ids if i in self._marks]
        if gone:
            self._marks.difference_update(gone)
            self._marks_changed(gone)

    def clear_marks(self) -> int:
        """Unmark every job; how many were marked."""
        count = len(self._marks)
        if count:
            self._marks.clear()
            self._marks_changed(None)
        return count

    def _gutter_width(self) -> int:
        """0 with neither marks nor new jobs; 2 (symbol, space) with one kind; 3 with both
        (a cell each, so a marked new row shows both)."""
        kinds = bool(self._marks) + bool(self._new)
        return kinds + 1 if kinds else 0

    def _gutter_text(self, job_id: str) -> str:
        marked = MARK_SYMBOL if job_id in self._marks else " "
        new = NEW_SYMBOL if job_id in self._new.new else " "
        if self._gutter == 3:
            return f"{marked}{new} "
        if self._marks:
            return f"{marked} "
        return f"{new} " if self._gutter else ""

    def _marks_changed(self, job_ids: Iterable[str] | None) -> None:
        """Repaint what the marks (or the new set) change: the gutter appears, widens or
        goes (all lines), or only the lines of ``job_ids`` (None: every visible line)."""
        gutter = self._gutter_width()
        if gutter != self._gutter:
            self._gutter = gutter
            self._layout_width = -1  # the columns share what the gutter leaves
            self.refresh()
            return
        if job_ids is None:
            self.refresh()
            return
        # The visible rows are looked up in the ids, not each id in the view: a refresh
        # marking 2,000 jobs new cost 2,000 look-ups (~70 ms on the loop) for 40 lines.
        wanted = job_ids if isinstance(job_ids, Set) else set(job_ids)
        if not wanted:
            return
        top = round(self.scroll_y)
        with self._pass():
            for offset, row in enumerate(self._view.rows_in(top, top + self.page_height)):
                if row.job_id in wanted:
                    self.refresh_line(top + offset + 1)

    def _prune_marks(self, change: ChangeSet | None) -> None:
        """A marked job that left the plan is unmarked (filtered out, it stays marked)."""
        if not self._marks:
            return
        get = self._view.get
        candidates = (self._marks if change is None
                      else [i for i in change.removed if i in self._marks])
        gone = [i for i in candidates if get(i) is None]
        if gone:
            self._marks.difference_update(gone)
            self._marks_changed(None)

    # -- new since you last looked ----------------------------------------------------

    @property
    def new_jobs(self) -> Set[str]:
        """Jobs that entered an attention state the operator has not looked at yet."""
        return self._new.new

    def looked_at(self, job_ids: Iterable[str]) -> int:
        """The operator saw these jobs (opened, acknowledged): no longer new; how many were."""
        seen = self._new.looked(job_ids)
        if seen:
            self._new_changed(seen)
        return len(seen)

    def clear_new(self) -> int:
        """No job is new any more (the operator's key); how many were."""
        count = self._new.clear()
        if count:
            self._new_changed(None)
        return count

    def _new_changed(self, job_ids: Iterable[str] | None) -> None:
        self._marks_changed(job_ids)
        self.post_message(self.NewChanged(self, len(self._new)))

    def _looking(self) -> bool:
        """The operator can see this table now: the terminal has focus, its screen is on
        top, and it was drawn in the last update."""
        try:
            return self.app.app_focus and self.screen.is_active and self.is_on_screen
        except (NoScreen, RuntimeError):  # not mounted (yet, or any more), no app
            return False

    def _look(self) -> None:
        """Every ``LOOK_SECONDS``: new rows seen (on screen at two looks in a row) stop
        being new. (Deadlines passing are taken with each poll, in ``refresh_data``, when
        the attention order moves them up too.)"""
        sight: set[str] = set()
        if self._new and self._looking():
            top = round(self.scroll_y)
            new = self._new.new
            sight = {r.job_id for r in self._view.rows_in(top, top + self.page_height)
                     if r.job_id in new}
        seen = self._new.looked(sight & self._in_sight)
        self._in_sight = sight.difference(seen)
        if seen:
            self._new_changed(seen)

    # -- data ----------------------------------------------------------------------------

    def refresh_data(self, change: ChangeSet | None = None) -> None:
        """Call after the view changed (data, filter or sort): cheap when nothing shows."""
        # A preview (the top of a plan still being built) is not the plan: no mark is
        # pruned for a job it lacks, and "new since you looked" takes its baseline from
        # the whole view, not from 200 rows (it would then call every other failure new).
        if not self._view.partial_of:
            self._prune_marks(change)
            if self._new.update(self._view, change):
                self._new_changed(change.changed_ids if change is not None else None)
        if change is not None and not change and self._shown[0] >= 0:
            return
        view = self._view
        size = len(view)
        self._sync_virtual_size()
        position: int | None = None
        if self._cursor_job is not None:
            position = view.position_of(self._cursor_job)
        if position is None:
            # The job left the view: stay at the same place rather than jump to the top.
            position = self._cursor
        self._place_cursor(min(position, size - 1) if size else 0, scroll=True)
        self._repaint_changed()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on a row of the view, scrolling it into sight."""
        self._place_cursor(index, scroll=True)
        self._repaint_changed()

    def select_job(self, job_id: str) -> bool:
        """Move the cursor to a job if it is in the view."""
        position = self._view.position_of(job_id)
        if position is None:
            return False
        self.move_cursor(position)
        return True

    # -- actions -----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        self.move_cursor(self._cursor - self.page_height)

    def action_cursor_page_down(self) -> None:
        self.move_cursor(self._cursor + self.page_height)

    def action_cursor_home(self) -> None:
        self.move_cursor(0)

    def action_cursor_end(self) -> None:
        self.move_cursor(len(self._view) - 1)

    def action_select_cursor(self) -> None:
        if self._cursor_job is not None:
            self.looked_at([self._cursor_job])  # opened: seen
            self.post_message(self.JobSelected(self, self._cursor_job))

    def action_next_failure(self) -> None:
        found = self._view.next_failure(self._cursor)
        if found is None:
            self.notify("No failed job in this view", timeout=3)
        else:
            self.move_cursor(found)

    def action_cycle_sort(self) -> None:
        current = self._view.sort_column
        position = _SORT_CYCLE.index(current) if current in _SORT_CYCLE else 0
        self._sort(_SORT_CYCLE[(position + 1) % len(_SORT_CYCLE)], False)

    def action_reverse_sort(self) -> None:
        self._sort(self._view.sort_column, not self._view.descending)

    def action_attention_order(self) -> None:
        self._sort(None, False)

    def _sort(self, column: SortColumn | None, descending: bool) -> None:
        if self._view.set_sort(column, descending):
            self._header_strip = None
            self.refresh(Region(0, 0, self.size.width, 1))
            self.refresh_data()
            # A new order is read from its top (``o`` left mid-list showed calm rows).
            self.move_cursor(0)
            self.post_message(self.SortChanged(self, column, descending))

    # -- events ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick_running, name="running-durations")
        self.set_interval(LOOK_SECONDS, self._look, name="new-since")

    def on_resize(self, event: events.Resize) -> None:
        self._sync_virtual_size()
        self._place_cursor(self._cursor, scroll=True)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()
        self._header_strip = None

    def on_focus(self, event: events.Focus) -> None:
        # The cursor colour depends on focus.
        self._line_cache.clear()
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._line_cache.clear()
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            x = offset.x - self._gutter
            for column in self._columns:
                if column.x <= x < column.x + column.width + len(_SEPARATOR):
                    name = column.spec.name
                    same = self._view.sort_column == name
                    self._sort(name, not self._view.descending if same else False)
                    break
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._view):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select_cursor()

    # -- rendering ---------------------------------------------------------------------

    def refresh_line(self, y: int) -> None:
        """Repaint line ``y`` (of the virtual table): only its cells that differ from what
        the terminal shows, or all of it when that is not known."""
        line = y - self.scroll_offset.y
        painted = self._painted.get(line)
        if painted is None or self._layout_width != self._content_width():
            super().refresh_line(y)
            return
        new = self._line(line)
        if new.cell_length != painted.cell_length:
            super().refresh_line(y)
            return
        span = _changed_cells(painted, new)
        if span is not None:
            self.refresh(Region(span[0], line, span[1] - span[0], 1))

    def render_lines(self, crop: Region) -> list[Strip]:
        """What the compositor draws: the lines rendered now are what the terminal gets."""
        self._painting = True
        try:
            with self._pass():
                return super().render_lines(crop)
        finally:
            self._painting = False

    def render_line(self, y: int) -> Strip:
        strip = self._line(y)
        if self._painting:
            self._painted[y] = strip
        return strip

    @contextmanager
    def _pass(self) -> Iterator[None]:
        """One pass over many lines (a paint, a repaint of the changed ones): the widget's
        base style and width are read once, not per line (each read of ``rich_style``
        walks the DOM: ~30 us, a third of what rendering a row costs)."""
        if self._pass_style is not None:  # already in one
            yield
            return
        self._pass_style = self.rich_style
        self._pass_width = self.scrollable_content_region.width
        try:
            yield
        finally:
            self._pass_style = self._pass_width = None

    def _base_style(self) -> Style:
        style = self._pass_style
        return style if style is not None else self.rich_style

    def _content_width(self) -> int:
        width = self._pass_width
        return width if width is not None else self.scrollable_content_region.width

    def _line(self, y: int) -> Strip:
        """Line ``y`` of the viewport as it should look now."""
        width = self._content_width()
        if width != self._layout_width:
            self._relayout(width)
        if y == 0:
            return self._render_header(width)
        index = round(self.scroll_y) + y - 1
        view = self._view
        if index >= len(view):
            return Strip.blank(width, self._base_style())
        return self._render_row(view.row_at(index), index == self._cursor, width)

    def _relayout(self, width: int) -> None:
        self._columns = layout_columns(width - self._gutter)
        self._layout_width = width
        self._line_cache.clear()
        self._header_strip = None

    def _render_header(self, width: int) -> Strip:
        if self._header_strip is not None:
            return self._header_strip
        style = self._base_style() + self.get_component_rich_style("jobs-table--header")
        view = self._view
        parts: list[str] = []
        for column in self._columns:
            title = column.spec.title
            if len(title) + 2 > column.width and column.spec.short_title:
                title = column.spec.short_title
            if view.sort_column == column.spec.name:
                title = f"{title} {'▼' if view.descending else '▲'}"
            parts.append(_fit(title, column.width))
        text = " " * self._gutter + _SEPARATOR.join(parts)
        strip = Strip([Segment(_fit(text, width), style)], width)
        self._header_strip = strip
        return strip

    def _render_row(self, row: JobRow, is_cursor: bool, width: int) -> Strip:
        late = row.status not in FAILED_STATUSES and self._view.is_late(row)
        elapsed = self._elapsed(row)
        gutter = self._gutter_text(row.job_id)
        cached = self._line_cache.get(row.job_id)
        if (
            cached is not None
            and cached[0] is row
            and cached[1] == is_cursor
            and cached[2] == late
            and cached[3] == elapsed
            and cached[4] == gutter
        ):
            return cached[5]
        base = self._base_style()
        if is_cursor:
            base = base + self.get_component_rich_style("jobs-table--cursor")
        segments: list[Segment] = []
        used = 0
        if self._gutter:
            # A segment per cell with both kinds; with one, the symbol's style covers its
            # trailing space too (as the bulk marks always drew it).
            for text in (list(gutter) if self._gutter == 3 else [gutter]):
                symbol = text[0]
                component = ("jobs-table--marked" if symbol == MARK_SYMBOL
                             else "jobs-table--new" if symbol == NEW_SYMBOL else None)
                segments.append(Segment(text, base if component is None else
                                        base + self.get_component_rich_style(
                                            component, partial=True)))
            used = self._gutter
        for column in self._columns:
            if used > self._gutter:
                segments.append(Segment(_SEPARATOR, base))
                used += len(_SEPARATOR)
            text, style = self._cell(row, column.spec.name, late, base)
            segments.append(Segment(_fit(text, column.width), style))
            used += column.width
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        # One segment per run of one style: each segment costs its escape sequences.
        strip = Strip(segments, max(width, used)).simplify()
        if len(self._line_cache) > 4096:
            self._line_cache.clear()
        self._line_cache[row.job_id] = (row, is_cursor, late, elapsed, gutter, strip)
        return strip

    def _elapsed(self, row: JobRow) -> str:
        """The Dur text of a running job ("" for others: their duration does not tick)."""
        return format_duration(_duration(row, self._view.now())) if _running(row) else ""

    def _tick_running(self) -> None:
        """Once a second: repaint the visible running rows whose elapsed time changed.

        Rows off screen are not touched, and a row whose text did not change (past an
        hour the figure moves once a minute) is not repainted: few bytes over SSH.
        """
        top, _cursor, rows = self._shown
        if top < 0:
            return
        with self._pass():
            for offset, row in enumerate(rows):
                if not _running(row):
                    continue
                cached = self._line_cache.get(row.job_id)
                if cached is None or cached[3] != self._elapsed(row):
                    self.refresh_line(top + offset + 1)

    def _cell(self, row: JobRow, name: SortColumn, late: bool, base: Style) -> tuple[str, Style]:
        if name == "status":
            component = ("jobs-table--warning" if late
                         else _SEVERITY_COMPONENT.get(severity_of(row.status)))
            style = base
            if component is not None:
                style = base + self.get_component_rich_style(component, partial=True)
            return status_label(row, late), style
        if name == "info":
            return safe_text(_info(row), 64), base
        if name == "started":
            return _clock_time(row.started), base
        if name == "duration":
            if _running(row):
                return self._elapsed(row), base
            return format_duration(_duration(row)), base
        if name == "ended":
            return _clock_time(row.ended), base
        value: str = getattr(row, name)
        return safe_text(value, 64), base

    # -- cursor and repaint ------------------------------------------------------------

    def _sync_virtual_size(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self._view) + 1)
        if self.virtual_size != size:
            self.virtual_size = size

    def _place_cursor(self, index: int, *, scroll: bool) -> None:
        view = self._view
        size = len(view)
        index = max(0, min(index, size - 1)) if size else 0
        previous_job = self._cursor_job
        self._cursor = index
        self._cursor_job = view.row_at(index).job_id if size else None
        if scroll and size:
            top = round(self.scroll_y)
            page = self.page_height
            if index < top:
                self.scroll_to(y=index, animate=False, immediate=True)
            elif index >= top + page:
                self.scroll_to(y=index - page + 1, animate=False, immediate=True)
        if self._cursor_job is not None and self._cursor_job != previous_job:
            self.post_message(self.JobHighlighted(self, self._cursor_job))

    def _repaint_changed(self) -> None:
        """Repaint only the lines whose row or cursor state differs from the last paint."""
        top = round(self.scroll_y)
        rows = self._view.rows_in(top, top + self.page_height)
        shown_top, shown_cursor, shown_rows = self._shown
        self._shown = (top, self._cursor, rows)
        if shown_top != top or not shown_rows:
            # Scrolled, or no rows shown before (a plan's first rows): every line changes,
            # and one whole repaint renders each once instead of diffing each against the
            # blank it replaces (at 200k, ~20 ms of the first update).
            self.refresh()
            return
        refresh_line = self.refresh_line
        with self._pass():
            for offset in range(max(len(rows), len(shown_rows))):
                old = shown_rows[offset] if offset < len(shown_rows) else None
                new = rows[offset] if offset < len(rows) else None
                index = top + offset
                cursor_moved = (index == shown_cursor) != (index == self._cursor)
                if old is not new or cursor_moved:
                    refresh_line(top + offset + 1)
