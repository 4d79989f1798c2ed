"""The job-status pane: counts per status, filters, the virtual jobs table, a stale marker.

Public API for the app (stable):
    ``JobsPane(view: JobsView | None = None, *, name=None, id=None, classes=None)``
    ``jobs_pane.update_jobs(view: JobsView, change: ChangeSet | None = None)``: call from
        the event loop after the feed applied new data to ``view`` (pass the same
        ``JobsView`` each time: it holds the sort and the pane's filters).
    ``jobs_pane.set_stale(reason: str | None, since: datetime | None = None)``: show or
        clear "stale since 10:42:07 — engine unreachable" (reactives ``stale_reason``,
        ``stale_since``).
    ``jobs_pane.table`` (the ``JobsTable``), ``jobs_pane.view``.
    ``jobs_pane.new_count`` (jobs new since the operator last looked: the Jobs tab and
        the filter line say ``N new``), ``jobs_pane.acknowledge_jobs(ids) -> int`` (the
        alerts screen's ``a``: those jobs are no longer new).
    Messages: the table's ``JobsTable.JobSelected(job_id)`` bubbles up through the pane.

Bindings (shown in the footer): ``/`` filter (words and terms of ``model/query.py``;
Enter back to the table, Esc clears and hides; a bad term is said in the filter line and
filters nothing), ``f`` cycle the status filter, ``a`` attention only / all, ``e`` export
the view (every row, after filter and sort) to CSV or JSON, ``c`` copy the cursor job's id
to the clipboard; plus the table's Enter, ``n``, ``s``, ``S``.
``jobs_pane.apply_view(query, sort)`` puts a saved view's query in the filter line and
its sort on the table (the palette's "View: NAME"). ``A`` posts ``ActionsRequested`` for
the cursor's job, or ``BulkActionsRequested`` for the marked jobs when there are marks,
only when ``actions_enabled`` (read-only otherwise: the key is not bound). Marks, also
only with actions enabled: ``space`` marks/unmarks the cursor's job (the cursor moves
down), ``*`` marks every job of the current filter, ``U`` clears every mark; the filter
line says ``N marked``. ``N`` clears every "new since you last looked" mark (``●``;
always bound). Only ``/``, Enter, ``n`` and ``A`` are in the footer (an 80-column footer
must keep ``q Quit``); the help screen lists the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import ChangeSet, JobsView, SortColumn
from resync_tui.model.status import ALL_GROUPS
from resync_tui.ui.action_requests import ActionsRequested, BulkActionsRequested
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import CappedText
from resync_tui.ui.widgets.jobs_table import JobsTable
from resync_tui.ui.widgets.status_counts import StatusCounts

if TYPE_CHECKING:
    from resync_tui.ui.screens.export import ExportRequest

__all__ = ["STATUS_PRESETS", "JobsPane"]

_log = logging.getLogger(__name__)

STATUS_PRESETS: Final[tuple[str | None, ...]] = (None, *ALL_GROUPS)
"""Status groups cycled by ``f`` (``None`` = all), from ``resync_tui.model.status``."""
_ACTION_KEYS: Final = frozenset({"job_actions", "toggle_mark", "mark_all", "clear_marks"})
"""Bound only with ``[actions] enabled = true`` (marks are for acting on many jobs)."""


class JobsPane(Vertical):
    """Counts, filter line, jobs table and stale marker, stacked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_filter", "Filter", id="jobs.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="jobs.clear_filter"),
        Binding("f", "cycle_status_filter", "Status", show=False, id="jobs.status_filter"),
        Binding("a", "toggle_attention", "Attention", show=False,
                id="jobs.attention_filter"),
        Binding("A", "job_actions", "Actions", id="jobs.actions"),
        Binding("e", "export", "Export", show=False, id="jobs.export"),
        Binding("c", "copy_id", "Copy id", show=False, id="jobs.copy_id"),
        Binding("l", "show_log", "Job log", show=False, id="jobs.log"),
        Binding("space", "toggle_mark", "Mark", show=False, id="jobs.mark"),
        Binding("asterisk", "mark_all", "Mark all", key_display="*", show=False,
                id="jobs.mark_all"),
        Binding("U", "clear_marks", "Clear marks", show=False, id="jobs.clear_marks"),
        Binding("N", "clear_new", "Clear new marks", show=False, id="jobs.clear_new"),
    ]

    DEFAULT_CSS = """
    JobsPane {
        height: 1fr;
        & > #jobs-filter-input {
            display: none;
            height: 1;
            border: none;
            padding: 0 1;
            &.-open { display: block; }
        }
        & > #jobs-filter-line {
            height: 1; padding: 0 1; color: $text-muted;
            text-wrap: nowrap; text-overflow: ellipsis;
            &.-error { color: $text-error; text-style: bold; }
        }
        & > #jobs-unreadable {
            display: none;
            height: 1;
            padding: 0 1;
            color: $text-warning;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            &.-shown { display: block; }
        }
        & > #jobs-stale {
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

    # repaint=False: the watchers update the marker line; a repaint of the pane itself
    # would redraw every visible row of the table (each poll moves ``stale_since``).
    stale_reason: reactive[str | None] = reactive(None, repaint=False)
    """Why the data is old (e.g. "engine unreachable"); None when it is fresh."""
    stale_since: reactive[datetime | None] = reactive(None, repaint=False)
    """When the job list shown was read (the last good data)."""

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
        self._preset = 0
        self._filter_line = ""
        self._unreadable_line = ""
        self._stale_line = ""
        self.has_data = view is not None and view.total > 0
        """False until a job list was read: the counts then say "unknown", not zero."""
        self.table = JobsTable(self._view, id="jobs-table")
        self.actions_enabled = False
        """Whether ``A`` opens the action menu; False (read-only): the key is not bound."""
        self.counts = StatusCounts(id="jobs-counts")
        self.last_export: Path | None = None
        """Where the last export was written (for tests and the operator's notice)."""

    @property
    def view(self) -> JobsView:
        return self._view

    @property
    def new_count(self) -> int:
        """Jobs new since the operator last looked (``●`` in the table)."""
        return len(self.table.new_jobs)

    def acknowledge_jobs(self, job_ids: Iterable[str]) -> int:
        """The operator acknowledged these jobs' alerts: no longer new; how many were."""
        count = self.table.looked_at(job_ids)
        self._update_filter_line()
        return count

    def compose(self) -> ComposeResult:
        yield self.counts
        yield Input(placeholder="filter: words, status=ABEND,FAIL ws=FTA_@ rc>0 "
                                "group=failed !status=SUCC", id="jobs-filter-input")
        yield Static("", id="jobs-filter-line", markup=False)
        yield self.table
        yield Static("", id="jobs-unreadable", markup=False)
        yield CappedText(id="jobs-stale")

    def on_mount(self) -> None:
        self.update_jobs(self._view)
        self._update_stale()

    # -- public API --------------------------------------------------------------------

    def update_jobs(self, view: JobsView, change: ChangeSet | None = None) -> None:
        """Show new data; cheap when the visible rows and the counts did not change."""
        partial = self._view.partial_of
        if view is not self._view:
            self._adopt(view)
            change = None
        self.table.refresh_data(change)
        if self.has_data or view.partial_of:
            self.counts.set_counts(view.counts)
        else:
            self.counts.set_unknown()
        self._update_filter_line()
        if partial != view.partial_of:
            self._update_stale()

    def show_preview(self, view: JobsView) -> bool:
        """Show a ``JobsView.preview`` (the most urgent rows of a big first read, and its
        counts) until ``update_jobs`` brings the whole view. Refused (False) once a plan
        is shown, or while a sort or filter is set: the preview's rows would not be the
        first ones of that order."""
        current = self._view
        if (self.has_data or current.total or current.sort_column is not None
                or current.filter_text or current.group_filter is not None
                or current.attention_only or not view.partial_of):
            return False
        self.update_jobs(view)
        return True

    @property
    def previewing(self) -> bool:
        """True while the table shows a preview, not the whole plan."""
        return bool(self._view.partial_of)

    def set_stale(self, reason: str | None, since: datetime | None = None, *,
                  has_data: bool = True) -> None:
        """Mark the data stale (reason shown to the operator) or fresh (``None``); ``since``
        is when the data shown was read; ``has_data`` False: no job list was ever read
        (the marker says NO DATA)."""
        changed = has_data != self.has_data
        self.has_data = has_data
        if changed and has_data:
            self.counts.set_counts(self._view.counts)
        elif changed:
            self.counts.set_unknown()
        self.stale_since = since
        self.stale_reason = reason

    def set_unreadable(self, count: int, sample: str = "") -> None:
        """Say that ``count`` job records of the last read could not be decoded (the good
        ones are shown): one bad record never hides the others, and never hides itself."""
        for line in self.query("#jobs-unreadable").results(Static):
            if count:
                noun = "record" if count == 1 else "records"
                text = f"⚠ {count:,} job {noun} unreadable, not shown"
                if sample:
                    text += f": {safe_text(sample, 160)}"
                if text != self._unreadable_line:
                    line.update(Text(text, end=""))
                    self._unreadable_line = text
            line.set_class(bool(count), "-shown")

    # -- reactives ---------------------------------------------------------------------

    def watch_stale_reason(self) -> None:
        self._update_stale()

    def watch_stale_since(self) -> None:
        self._update_stale()

    def _update_stale(self) -> None:
        markers = self.query("#jobs-stale").results(CappedText)
        marker = next(markers, None)
        if marker is None:  # not composed yet: on_mount calls again
            return
        reason = self.stale_reason
        partial = self._view.partial_of
        if partial and not self.has_data:
            text = (f"⏳ RANKING {partial:,} jobs — the {self._view.total:,} most urgent "
                    "shown, the rest in a moment")
            if text != self._stale_line:
                marker.update(Content(text))
                self._stale_line = text
            marker.add_class("-stale")
            return
        if reason is None:
            marker.remove_class("-stale")
            return
        since = self.stale_since
        when = f" — data from {since.strftime('%H:%M:%S')}" if since is not None else ""
        label = "⚠ STALE" if self.has_data else "⚠ NO DATA"
        text = f"{label}{when if self.has_data else ''} — {safe_text(reason, 200)}"
        if text != self._stale_line:  # the same words again repaint nothing
            marker.update(Content(text))
            self._stale_line = text
        marker.add_class("-stale")

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is ours only while there is a filter to clear; otherwise it goes up."""
        if action == "clear_filter":
            for filter_input in self.query("#jobs-filter-input").results(Input):
                return filter_input.has_class("-open") or bool(filter_input.value)
            return False
        if action in _ACTION_KEYS:  # read-only: the keys neither fire nor show
            return self.actions_enabled
        return True

    def action_job_actions(self) -> None:
        """The action menu on the marked jobs, else on the cursor's job (the app opens it
        and does the sending)."""
        marks = self.table.marks
        if marks:
            # In the view's order (what the operator sees); marked jobs filtered out last.
            shown = [r.job_id for r in self._view.rows_in(0, len(self._view))
                     if r.job_id in marks]
            in_view = set(shown)
            rest = sorted(i for i in marks if i not in in_view)
            self.post_message(BulkActionsRequested((*shown, *rest)))
            return
        job_id = self.table.cursor_job_id
        if job_id is not None:
            self.post_message(ActionsRequested(job_id))

    def _refused_while_previewing(self, what: str) -> bool:
        """What acts on every row of the view waits for the whole plan (a preview holds
        only its top): said, and True, while previewing."""
        if not self._view.partial_of:
            return False
        self.notify(f"cannot {what} yet: the plan is still being ranked "
                    f"({self._view.total:,} of {self._view.partial_of:,} jobs shown)",
                    severity="warning", timeout=4)
        return True

    def action_toggle_mark(self) -> None:
        self.table.toggle_mark()
        self._update_filter_line()

    def action_mark_all(self) -> None:
        """Mark every job the current filter shows, and say how many."""
        if self._refused_while_previewing("mark every job"):
            return
        view = self._view
        added = self.table.mark_jobs(r.job_id for r in view.rows_in(0, len(view)))
        self._update_filter_line()
        self.notify(f"marked {added:,} more job{'s' if added != 1 else ''} of the current "
                    f"filter ({len(view):,} shown); {len(self.table.marks):,} marked in all",
                    timeout=4)

    def action_clear_new(self) -> None:
        """Every job counts as looked at: the ``●`` marks and the ``N new`` go."""
        count = self.table.clear_new()
        self._update_filter_line()
        self.notify(f"{count:,} new mark{'s' if count != 1 else ''} cleared", timeout=3)

    def action_clear_marks(self) -> None:
        count = self.table.clear_marks()
        self._update_filter_line()
        self.notify(f"{count:,} mark{'s' if count != 1 else ''} cleared", timeout=3)

    def action_open_filter(self) -> None:
        filter_input = self.query_one("#jobs-filter-input", Input)
        filter_input.add_class("-open")
        filter_input.focus()

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#jobs-filter-input", Input)
        filter_input.value = ""  # posts Input.Changed, which clears the view's filter
        self._apply_text_filter("")
        filter_input.remove_class("-open")
        self.table.focus()

    def apply_view(self, query: str, sort: tuple[SortColumn | None, bool]) -> None:
        """A saved view: its query in the filter line (shown, so it can be edited or
        cleared with Esc) and its sort on the table."""
        filter_input = self.query_one("#jobs-filter-input", Input)
        filter_input.value = query
        filter_input.set_class(bool(query), "-open")
        self._apply_text_filter(query)
        if self._view.set_sort(*sort):
            self._filters_changed()
        self.table.focus()

    def action_copy_id(self) -> None:
        """The cursor job's id to the clipboard (OSC 52 through Textual): for ``act``,
        a ticket or a chat."""
        job_id = self.table.cursor_job_id
        if job_id is None:
            return
        self.app.copy_to_clipboard(job_id)
        self.app.clear_notifications()
        self.app.notify(f"copied job id {safe_text(job_id, 120)}", timeout=3, markup=False)

    class LogRequested(Message):
        """The operator asked for a job's log straight from the table (``l``)."""

        def __init__(self, job_id: str) -> None:
            super().__init__()
            self.job_id = job_id

    def action_show_log(self) -> None:
        """The cursor job's log: its details opened on the Log tab."""
        job_id = self.table.cursor_job_id
        if job_id is not None:
            self.table.looked_at([job_id])  # opened: seen
            self.post_message(self.LogRequested(job_id))

    def action_export(self) -> None:
        """Every row of the view as it stands (filter and sort), taken now; the modal
        asks where and how, a worker thread writes. (The modal is imported on the key:
        the first frame does not need it.)"""
        from resync_tui.ui.screens.export import ExportScreen

        if self._refused_while_previewing("export"):
            return
        rows = self._view.rows_in(0, len(self._view))
        screen = ExportScreen(len(rows), self._filter_line or "all jobs",
                              now=self._view.now().astimezone())
        self.app.push_screen(screen, partial(self._export_chosen, rows))

    def _export_chosen(self, rows: list[JobRow], request: ExportRequest | None) -> None:
        if request is not None:
            self.run_worker(self._export(rows, request), group="export",
                            name="export", exit_on_error=False)

    async def _export(self, rows: list[JobRow], request: ExportRequest) -> None:
        from resync_tui.ui.screens.export import write_export

        app = self.app
        try:
            path = await asyncio.to_thread(write_export, rows, request)
        except OSError as exc:
            _log.warning("export to %s failed: %s", request.path, exc)
            app.notify(f"export failed: {safe_text(str(request.path), 200)}: "
                       f"{safe_text(exc.strerror or str(exc), 200)}",
                       severity="error", timeout=8, markup=False)
            return
        noun = "job" if len(rows) == 1 else "jobs"
        self.last_export = path
        app.clear_notifications()
        app.notify(f"exported {len(rows):,} {noun} ({request.format.upper()}) to "
                   f"{safe_text(str(path), 300)}", timeout=8, markup=False)

    def show_group(self, name: str | None) -> None:
        """Show one status group (``None`` = all), as ``f`` would after some presses."""
        self._preset = STATUS_PRESETS.index(name)
        if self._view.set_group_filter(name):
            self._filters_changed()
        else:
            self._update_filter_line()

    def action_cycle_status_filter(self) -> None:
        self._preset = (self._preset + 1) % len(STATUS_PRESETS)
        if self._view.set_group_filter(STATUS_PRESETS[self._preset]):
            self._filters_changed()
        else:
            self._update_filter_line()

    def action_toggle_attention(self) -> None:
        if self._view.set_attention_filter(not self._view.attention_only):
            self._filters_changed()

    # -- events ------------------------------------------------------------------------

    @on(JobsTable.NewChanged)
    def _new_changed(self, event: JobsTable.NewChanged) -> None:
        self._update_filter_line()  # the event goes on up: the dashboard's tab says it too

    @on(Input.Changed, "#jobs-filter-input")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply_text_filter(event.value)

    @on(Input.Submitted, "#jobs-filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.remove_class("-open")
        self.table.focus()

    # -- internals ---------------------------------------------------------------------

    def _adopt(self, view: JobsView) -> None:
        """Carry the pane's filters over to a new view object."""
        old = self._view
        view.set_filter(old.filter_text)
        view.set_group_filter(old.group_filter)
        view.set_attention_filter(old.attention_only)
        view.set_sort(old.sort_column, old.descending)
        self._view = view
        self.table.view = view

    def _apply_text_filter(self, text: str) -> None:
        if self._view.set_filter(text):
            self._filters_changed()

    def _filters_changed(self) -> None:
        # A new filter is a new list: start reading it at its top, as a fresh search does
        # (left where it was, the cursor hid the matches above the first visible row).
        self.table.refresh_data()
        self.table.move_cursor(0)
        self._update_filter_line()

    def _update_filter_line(self) -> None:
        view = self._view
        error = view.query_error
        parts: list[str] = []
        if error is not None:
            # Said first, so 80 columns show it; the jobs are all shown meanwhile.
            parts.append(f"⚠ {safe_text(error, 120)} (filter ignored)")
        if view.attention_only:
            parts.append("attention only")
        parts.append(f"status: {view.group_filter or 'all'}")
        if view.filter_text and error is None:
            parts.append(f"text: “{safe_text(view.filter_text, 40)}”")
        if view.partial_of:
            shown = f"{len(view):,} of the " if len(view) != view.total else ""
            parts.append(f"{shown}{view.total:,} most urgent of {view.partial_of:,} jobs")
        else:
            parts.append(f"{len(view):,} of {view.total:,} jobs")
        if self.table.marks:
            parts.append(f"{len(self.table.marks):,} marked")
        if self.table.new_jobs:
            parts.append(f"● {len(self.table.new_jobs):,} new")
        line = " · ".join(parts)
        if line != self._filter_line:
            for widget in self.query("#jobs-filter-line").results(Static):
                widget.update(Text(line, end=""))
                widget.set_class(error is not None, "-error")
                self._filter_line = line
