"""The job detail's Dependencies tab: neighbours you can move to and open, and why it waits.

Public API:
    ``DependencyLoader``: the loader methods the tab uses (``feeds.deps.DepsDetailLoader``).
    ``DepsList(*, id=None)``: ``show_neighbours(Neighbours)``, ``show_report(report)``,
    ``show_walking()``, ``show_error(text)``; ``DepsList.Open(node)`` is posted on Enter
    on a row (the screen answers by opening that job's detail).

The widget renders what the screen gives it and never fetches. Every name comes from
the engine and goes through ``safe_text``; nothing is parsed as markup.
"""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from resync_tui.feeds.deps import Neighbours
from resync_tui.model.jobs_view import JobRow
from resync_tui.model.rootcause import Cause, DepNode, RootCauseReport
from resync_tui.model.status import symbol_of
from resync_tui.ui.text import safe_text

__all__ = ["DependencyLoader", "DepsList"]

_NAME_MAX: Final = 200
_KIND_WORDS: Final = {
    "failed": "✖ failed", "held": "⏸ held", "cancelled": "⊘ cancelled",
    "unlinked": "⚠ unlinked", "prompt": "? waiting on", "running": "▶ running",
    "waiting": "⋯ waiting", "unknown": "? unknown",
}


@runtime_checkable
class DependencyLoader(Protocol):
    """What the Dependencies tab needs beyond ``JobDetailLoader`` (``feeds.deps``)."""

    async def dependencies(self, job_id: str) -> Neighbours: ...

    async def why_waiting(self, job_id: str) -> RootCauseReport: ...

    def row_for(self, node: DepNode) -> JobRow:
        """The job to open: the live view's row, else one built from the node."""
        ...


def _status(node: DepNode) -> str:
    if node.status is None:
        return "? unknown"
    shown = "HELD" if node.common_status == "HELD" else node.status
    return f"{symbol_of(node.status)} {safe_text(shown, 12)}"


def _cause_text(cause: Cause) -> Text:
    text = Text(end="")
    text.append(f"{_KIND_WORDS.get(cause.kind, cause.kind):<12} ", style="bold")
    text.append(safe_text(cause.node.label, _NAME_MAX))
    text.append(f"  ({safe_text(cause.reason, 80)})")
    if len(cause.chain) > 1:
        # Spaces go in unstyled parts: a styled part's leading spaces are not kept.
        text.append("\n      ")
        text.append("via ", style="dim")
        text.append(" ← ".join(safe_text(n.name or n.id, 60) for n in cause.chain[:-1]),
                    style="dim")
    return text


class DepsList(Vertical):
    """Predecessors and successors as rows (↑/↓, Enter opens); after a walk, the root
    causes that are jobs too (an operator chasing an ABEND opens it from here), each
    with its chain below."""

    DEFAULT_CSS = """
    DepsList { height: 1fr; }
    DepsList > #deps-table { height: auto; max-height: 60%; }
    DepsList > .deps-note { height: auto; padding: 0 1; color: $text-muted; }
    DepsList > .deps-error { color: $error; }
    DepsList > #deps-why { height: auto; padding: 0 1; }
    """

    class Open(Message):
        """Enter on a neighbour: open its detail."""

        def __init__(self, node: DepNode) -> None:
            super().__init__()
            self.node = node

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.nodes: list[DepNode] = []
        """The rows in table order (predecessors, successors, then root causes)."""
        self.report: RootCauseReport | None = None
        self._found: Neighbours | None = None

    def compose(self) -> ComposeResult:
        yield Static("dependencies: loading…", id="deps-status", classes="deps-note",
                     markup=False)
        yield DataTable(id="deps-table", cursor_type="row", zebra_stripes=False)
        yield Static("w: why is this waiting (follows unsatisfied predecessors to their "
                     "root causes)", id="deps-why", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "Status", "Job")

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#deps-table", DataTable)

    def show_neighbours(self, found: Neighbours) -> None:
        self._found = found
        self._fill_table()
        status = self.query_one("#deps-status", Static)
        parts = [f"{len(found.predecessors)} predecessor(s), "
                 f"{len(found.successors)} successor(s); Enter opens one"]
        parts += [safe_text(error, 160) for error in found.errors]
        status.set_class(bool(found.errors), "deps-error")
        status.update(Text("\n".join(parts), end=""))

    def _cause_rows(self) -> list[Cause]:
        """Root causes that are jobs (a prompt or a resource has no detail to open)."""
        if self.report is None:
            return []
        return [c for c in self.report.causes if c.node.type.upper() == "JOB"]

    def _fill_table(self) -> None:
        table = self.table
        cursor = table.cursor_row
        table.clear()
        found = self._found
        preds = list(found.predecessors) if found is not None else []
        succs = list(found.successors) if found is not None else []
        causes = self._cause_rows()
        self.nodes = [*preds, *succs, *(c.node for c in causes)]
        for side, nodes in (("◀ pred", preds), ("▶ succ", succs)):
            for node in nodes:
                table.add_row(side, _status(node), Text(safe_text(node.label, _NAME_MAX),
                                                        end=""))
        for cause in causes:
            table.add_row(Text("✖ cause", style="bold"), _status(cause.node),
                          Text(safe_text(cause.node.label, _NAME_MAX), end=""))
        if self.nodes:
            table.move_cursor(row=min(max(cursor, 0), len(self.nodes) - 1))

    def show_error(self, text: str) -> None:
        status = self.query_one("#deps-status", Static)
        status.add_class("deps-error")
        status.update(Text(safe_text(text, 200), end=""))

    def show_walking(self) -> None:
        self.query_one("#deps-why", Static).update(
            Text("why is this waiting: following the predecessors…", end=""))

    def show_report(self, report: RootCauseReport) -> None:
        """The walk's answer: the causes in words with their chains, and the causes that
        are jobs as rows after the neighbours, the cursor on the first (Enter opens it)."""
        self.report = report
        self._fill_table()
        causes = self._cause_rows()
        if causes:
            table = self.table
            table.move_cursor(row=len(self.nodes) - len(causes))
            table.focus()
        text = Text("Why is this waiting", style="bold", end="")
        text.append("  ")
        text.append(f"({report.reads} read(s), depth {report.depth_reached})", style="dim")
        if not report.causes:
            text.append("\n  nothing holds it back: no unsatisfied predecessor")
        for cause in report.causes:
            text.append("\n  ")
            text.append_text(_cause_text(cause))
        for error in report.errors:
            text.append("\n  ⚠ unreadable: ")
            text.append(safe_text(error, 160))
        if report.bound_note:
            text.append("\n  ")
            text.append(f"⚠ {report.bound_note}", style="bold")
        self.query_one("#deps-why", Static).update(text)

    @on(DataTable.RowSelected, "#deps-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = event.cursor_row
        if 0 <= row < len(self.nodes):
            self.post_message(self.Open(self.nodes[row]))
