"""What the small virtual tables (streams, workstations) share: columns fitted to the
width, cells cut to it, and a cursor with paging, sorting and the mouse.

:class:`FilterPane` is the pane around such a table: its ``/`` filter line, opened,
typed into, kept or cleared.

A table here is a ``ScrollView`` whose first line is its header and whose rows are drawn
by the subclass's ``render_line``; it holds no widget per row. The subclass says how
many rows it shows (:meth:`CursorTable.row_count`), which row the cursor follows across
reads (:meth:`CursorTable.remember`), how it sorts (:meth:`CursorTable.sort_state`,
:meth:`CursorTable.apply_sort`) and what Enter does (``action_select_cursor``). The job
table has its own, richer machinery (marks, line caches per row, 200k rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from rich.cells import cell_len, set_cell_size
from textual import events
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widgets import Input

from resync_tui.ui.text import ELLIPSIS

__all__ = ["SEP", "Column", "CursorTable", "FilterPane", "figure", "fit", "layout_columns"]

S = TypeVar("S")

SEP = " "
"""Between two columns."""


class Column(msgspec.Struct, Generic[S], frozen=True):
    """One column: its name (the cell to draw), header title and minimum width."""

    name: str
    title: str
    width: int
    drop: int
    """Dropped first (highest) when the table is narrow; 0 = always kept."""
    sort: S | None
    """What a click on its title sorts by (None: not sortable)."""
    right: bool = False


Placed = tuple[Column[S], int, int]
"""A column, its x and its width."""


def layout_columns(columns: Sequence[Column[S]], width: int, grows: Mapping[str, int],
                   maxes: Mapping[str, int]) -> list[Placed[S]]:
    """The columns that fit ``width`` with their x and width: the least useful go first,
    then the spare width is shared by weight among ``grows`` (up to ``maxes``)."""
    cols = list(columns)

    def needed() -> int:
        return sum(c.width for c in cols) + len(SEP) * (len(cols) - 1)

    while needed() > width and any(c.drop for c in cols):
        cols.remove(max(cols, key=lambda c: c.drop))
    widths = {c.name: c.width for c in cols}
    spare = width - needed()
    growable = [c for c in cols if c.name in grows]
    while spare > 0 and growable:
        for col in list(growable):
            grow = min(grows[col.name], spare, maxes[col.name] - widths[col.name])
            widths[col.name] += grow
            spare -= grow
            if widths[col.name] >= maxes[col.name]:
                growable.remove(col)
    placed: list[Placed[S]] = []
    x = 0
    for col in cols:
        placed.append((col, x, widths[col.name]))
        x += widths[col.name] + len(SEP)
    return placed


def fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, marking a cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + ELLIPSIS if width else ""
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def figure(value: int) -> str:
    """A count, ``·`` for none (a column of zeros reads as empty, not as noise)."""
    return f"{value:,}" if value else "·"


class CursorTable(ScrollView, Generic[S]):
    """A cursor over ``row_count()`` rows below a header line: moved by keys, pages and
    the mouse, kept in sight, kept on its row across reads by the subclass."""

    SORT_CYCLE: ClassVar[tuple[object, ...]] = (None,)
    """The orders ``s`` steps through (None: the table's attention order)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cursor = 0
        self._columns: list[Placed[S]] = []

    # -- what a subclass provides -----------------------------------------------------

    def row_count(self) -> int:
        raise NotImplementedError

    def remember(self, index: int | None) -> None:
        """The row at ``index`` (None: no rows) is the cursor's: follow it across reads."""

    def sort_state(self) -> tuple[S | None, bool]:
        """The sort column (None: attention order) and whether it is descending."""
        raise NotImplementedError

    def apply_sort(self, column: S | None, descending: bool) -> None:
        raise NotImplementedError

    def repaint_cursor(self) -> None:
        """After the cursor moved: what must be drawn again (all by default)."""
        self.refresh()

    def action_select_cursor(self) -> None:
        """Enter (or a double click) on the cursor's row."""

    # -- cursor ------------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def page_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def move_cursor(self, index: int) -> None:
        self._place(index)
        self.repaint_cursor()

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
        self.move_cursor(self.row_count() - 1)

    # -- sort --------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        current, _ = self.sort_state()
        cycle = self.SORT_CYCLE
        position = cycle.index(current) if current in cycle else 0
        self.apply_sort(cycle[(position + 1) % len(cycle)], False)  # type: ignore[arg-type]

    def action_reverse_sort(self) -> None:
        column, descending = self.sort_state()
        self.apply_sort(column, not descending)

    def action_attention_order(self) -> None:
        self.apply_sort(None, False)

    # -- events ------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._sync_virtual_size()
        self._place(self._cursor)
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:  # a title: sort by it (again: reversed)
            for col, x, width in self._columns:
                if col.sort is not None and x <= offset.x < x + width + len(SEP):
                    current, descending = self.sort_state()
                    same = current == col.sort
                    self.apply_sort(col.sort, not descending if same else False)
                    break
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < self.row_count():
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select_cursor()

    # -- placing -----------------------------------------------------------------------

    def _sync_virtual_size(self) -> None:
        size = Size(self.scrollable_content_region.width, self.row_count() + 1)
        if self.virtual_size != size:
            self.virtual_size = size

    def _place(self, index: int) -> None:
        """The cursor on ``index`` (clamped), scrolled into sight."""
        size = self.row_count()
        index = max(0, min(index, size - 1)) if size else 0
        self._cursor = index
        self.remember(index if size else None)
        if size and self.is_mounted:
            top = round(self.scroll_y)
            page = self.page_height
            if index < top:
                self.scroll_to(y=index, animate=False, immediate=True)
            elif index >= top + page:
                self.scroll_to(y=index - page + 1, animate=False, immediate=True)


class FilterPane(Vertical):
    """A pane over a :class:`CursorTable` with a ``/`` filter line: ``open_filter``
    shows and focuses it, typing filters (``apply_filter``), Enter keeps the filter and
    gives the keys back to the table, Esc (``clear_filter``) clears it; Esc is the pane's
    only while there is a filter to clear, otherwise it goes up."""

    FILTER_INPUT: ClassVar[str] = ""
    """The id of the pane's filter ``Input``."""

    table: CursorTable[Any]

    def apply_filter(self, text: str) -> None:
        """Filter the table by ``text`` and redraw what says so."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            for filter_input in self.query(f"#{self.FILTER_INPUT}").results(Input):
                return filter_input.has_class("-open") or bool(filter_input.value)
            return False
        return True

    def action_open_filter(self) -> None:
        filter_input = self.query_one(f"#{self.FILTER_INPUT}", Input)
        filter_input.add_class("-open")
        filter_input.focus()

    def action_clear_filter(self) -> None:
        filter_input = self.query_one(f"#{self.FILTER_INPUT}", Input)
        filter_input.value = ""
        self.apply_filter("")
        filter_input.remove_class("-open")
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == self.FILTER_INPUT:
            event.stop()
            self.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == self.FILTER_INPUT:
            event.stop()
            if not event.value:
                event.input.remove_class("-open")
            self.table.focus()
