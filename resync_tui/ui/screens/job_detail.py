"""Details of one job: fields, runs, predecessors/successors and the job log.

Public API:
    ``JobDetailLoader``: a Protocol the app implements over the HWA client (through the
        resilience core); every method is async and may raise - the screen shows the error
        inline ("job log unavailable: engine unreachable") and stays usable.
    ``JobDetailScreen(job: JobRow, loader: JobDetailLoader)``: push it on
        ``JobsTable.JobSelected``. Esc closes; ``l`` opens the job log (fetched on demand,
        also when the Log tab is opened), ``r`` reloads. With actions enabled, ``A`` the
        job's action menu, ``J`` its job stream's (hold, release, cancel).
    ``screen.show_job(row)``: the job changed (an action's re-read): title and fields.
    The job log opens scrolled to its end (the newest lines are what an operator reads
    first) with the keyboard on it: Home/End/PgUp/PgDn/arrows at once, ``/`` searches
    (Enter: next match, then ``n``/``N`` next/previous; matches highlighted; Esc closes
    the search).

The title is one line: a long name is cut with an ellipsis, the status always shows;
the full name is in the fields below, wrapped.

Every string from the loader is sanitized (``safe_text``/``safe_lines``) and shown without
markup interpretation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Protocol, runtime_checkable

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Log,
    Static,
    TabbedContent,
    TabPane,
)

from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.screens.confirm_action import ActionsRequested, StreamActionsRequested
from resync_tui.ui.text import plain_text, safe_lines, safe_text
from resync_tui.ui.widgets.deps_list import DependencyLoader, DepsList
from resync_tui.ui.widgets.jobs_table import status_label

__all__ = ["JobDetailLoader", "JobDetailScreen", "JobLogView", "describe_error"]

_FIELD_MAX_LEN = 12_000
"""A field value is shown whole up to this (a 10k-character name), wrapped."""


@runtime_checkable
class JobDetailLoader(Protocol):
    """Where the detail screen gets its data; the app wires it to the HWA client."""

    async def job(self, job_id: str) -> Mapping[str, str]:
        """Field label -> value, in display order."""
        ...

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        """One mapping per run (column label -> value), newest first."""
        ...

    async def predecessors(self, job_id: str) -> list[str]: ...

    async def successors(self, job_id: str) -> list[str]: ...

    async def job_log(self, run_id: str) -> str:
        """The job log as plain text (the API serves text/plain)."""
        ...


def describe_error(exc: BaseException) -> str:
    """A short, safe reason for the operator ("engine unreachable", "HTTP 404"...)."""
    text = str(exc).strip() or type(exc).__name__
    return safe_text(text.splitlines()[0] if text else text, 160)


class _Title(Widget):
    """One line: the name cut with an ellipsis to fit, then the status, always shown."""

    DEFAULT_CSS = "_Title { height: 1; }"

    def __init__(self, name: Text, status: Text, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = name
        self._status = status

    def set_job(self, name: Text, status: Text) -> None:
        self._title = name
        self._status = status
        self.refresh()

    def render(self) -> Text:
        room = max(self.content_size.width - self._status.cell_len, 1)
        name = self._title.copy()
        name.truncate(room, overflow="ellipsis")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append_text(name)
        line.append_text(self._status)
        return line


class JobLogView(Log):
    """The job log with a search: matches highlighted, ``n``/``N`` go from one to the next.

    ``search(text)`` sets what is highlighted (case-insensitive, plain text) and
    ``next_match(+1/-1)`` moves to and centres the next/previous matching line,
    wrapping around.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_match(1)", "Next match", show=False, id="job_log.next_match"),
        Binding("N", "next_match(-1)", "Previous match", show=False,
                id="job_log.previous_match"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"job-log--match", "job-log--current"}
    DEFAULT_CSS = """
    JobLogView > .job-log--match { background: $warning 40%; }
    JobLogView > .job-log--current { background: $accent; color: $text; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(highlight=False, auto_scroll=False, id=id)
        self.pattern = ""
        self.matches: list[int] = []
        """Line numbers with a match, in order."""
        self.current: int | None = None
        """Index in ``matches`` of the match shown, None before one is chosen."""
        self._regex: re.Pattern[str] | None = None
        self._match_set: set[int] = set()

    def search(self, text: str) -> None:
        self.pattern = text
        self._regex = re.compile(re.escape(text), re.IGNORECASE) if text else None
        regex = self._regex
        self.matches = ([y for y, line in enumerate(self.lines) if regex.search(line)]
                        if regex is not None else [])
        self._match_set = set(self.matches)
        self.current = None
        self._redraw()

    def next_match(self, step: int) -> int | None:
        """Go to the next (+1) or previous (-1) match; the line number, None if none."""
        if not self.matches:
            return None
        if self.current is None:
            top = round(self.scroll_y)
            after = [i for i, y in enumerate(self.matches) if y >= top]
            before = [i for i, y in enumerate(self.matches) if y < top]
            if step > 0:
                self.current = after[0] if after else 0
            else:
                self.current = before[-1] if before else len(self.matches) - 1
        else:
            self.current = (self.current + step) % len(self.matches)
        line = self.matches[self.current]
        self.scroll_to(y=max(0, line - self.scrollable_content_region.height // 2),
                       animate=False)
        self._redraw()
        return line

    def action_next_match(self, step: int) -> None:
        if self.pattern:
            self.next_match(step)
            screen = self.screen
            if isinstance(screen, JobDetailScreen):
                screen.show_search_position()

    def clear_search(self) -> None:
        self.search("")

    def _redraw(self) -> None:
        self._render_line_cache.clear()
        self.refresh()

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        regex = self._regex
        if regex is None or y not in self._match_set:
            return super()._render_line_strip(y, rich_style)
        line = self._process_line(self._lines[y])
        text = Text(line, no_wrap=True)
        text.stylize(rich_style)
        current = self.current is not None and self.matches[self.current] == y
        style = self.get_component_rich_style(
            "job-log--current" if current else "job-log--match")
        for match in regex.finditer(line):
            text.stylize(style, match.start(), match.end())
        return Strip(text.render(self.app.console), text.cell_len)


class JobDetailScreen(Screen[None]):
    """Everything about one job; data loads in workers, errors are shown in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="job_detail.close"),
        Binding("l", "show_log", "Job log", id="job_detail.log"),
        Binding("slash", "search", "Search", key_display="/", id="job_detail.search"),
        Binding("r", "reload", "Reload", id="job_detail.reload"),
        Binding("A", "job_actions", "Actions", id="job_detail.actions"),
        Binding("J", "stream_actions", "Stream actions", show=False,
                id="job_detail.stream_actions"),
        Binding("w", "why_waiting", "Why waiting", id="job_detail.why_waiting"),
    ]

    DEFAULT_CSS = """
    JobDetailScreen {
        & #job-detail-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        & #job-detail-search { display: none; height: 1; border: none; padding: 0 1; }
        & #job-detail-search.-open { display: block; }
        & .job-detail-error { color: $error; padding: 0 1; height: auto; }
        & .job-detail-status { color: $text-muted; padding: 0 1; height: auto; }
        & #job-detail-fields { height: auto; }
        & #job-detail-runs { height: 1fr; }
        & #job-detail-log { height: 1fr; }
        & #job-detail-deps Static { height: auto; padding: 0 1; }
        /* The tabs fill the screen below the title, so a long log scrolls inside its
           pane and the title stays on screen (the screen itself never scrolls). */
        & #job-detail-tabs { height: 1fr; }
        & #job-detail-tabs > ContentSwitcher { height: 1fr; }
        & #job-detail-tabs TabPane { height: 1fr; }
    }
    """

    def __init__(self, job: JobRow, loader: JobDetailLoader, *, actions: bool = False) -> None:
        """``actions``: whether ``A`` opens the action menu (False: read-only, not bound)."""
        super().__init__()
        self.job = job
        self.actions = actions
        self.loader = loader
        self._log_requested = False
        self._log_summary = ""

    def compose(self) -> ComposeResult:
        yield _Title(*self._title_parts(self.job), id="job-detail-title")
        with TabbedContent(id="job-detail-tabs"):
            with TabPane("Details", id="tab-details"), VerticalScroll():
                yield Static("loading…", id="job-detail-fields-status",
                             classes="job-detail-status", markup=False)
                yield DataTable(id="job-detail-fields", show_cursor=False)
            with TabPane("Runs", id="tab-runs"):
                yield Static("loading…", id="job-detail-runs-status",
                             classes="job-detail-status", markup=False)
                yield DataTable(id="job-detail-runs", cursor_type="row")
            if isinstance(self.loader, DependencyLoader):
                with TabPane("Dependencies", id="tab-deps"):
                    yield DepsList(id="job-detail-depslist")
            else:
                with TabPane("Dependencies", id="tab-deps"), \
                        VerticalScroll(id="job-detail-deps"):
                    yield Static("", id="job-detail-preds", markup=False)
                    yield Static("", id="job-detail-succs", markup=False)
            with TabPane("Log", id="tab-log"):
                yield Static("press l to load the job log", id="job-detail-log-status",
                             classes="job-detail-status", markup=False)
                yield JobLogView(id="job-detail-log")
                yield Input(placeholder="search the log; Enter: next match, Esc: close",
                            id="job-detail-search")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only (actions disabled): the action key neither fires nor shows."""
        if action in ("job_actions", "stream_actions"):
            return self.actions
        if action == "why_waiting":
            return isinstance(self.loader, DependencyLoader)
        return True

    def action_job_actions(self) -> None:
        self.post_message(ActionsRequested(self.job.job_id))

    def action_stream_actions(self) -> None:
        self.post_message(StreamActionsRequested(self.job.job_id))

    def show_job(self, job: JobRow) -> None:
        """The job as it is now (after an action): the title's status, then the fields and
        runs read again (an action's status shown beside the old one would be a lie)."""
        if job.job_id != self.job.job_id or job == self.job:
            return
        self.job = job
        self.query_one("#job-detail-title", _Title).set_job(*self._title_parts(job))
        self._load_fields()
        self._load_runs()

    @staticmethod
    def _title_parts(job: JobRow) -> tuple[Text, Text]:
        name = plain_text(f"{job.stream} › {job.job} @ {job.workstation}", max_len=1024)
        return name, Text.assemble("   ", status_label(job))

    def action_close(self) -> None:
        """Esc closes the log search first, then the screen."""
        search = self.query_one("#job-detail-search", Input)
        log = self.query_one(JobLogView)
        if search.has_class("-open") or log.pattern:
            search.remove_class("-open")
            log.clear_search()
            self._log_status_line()
            log.focus()
            return
        self.dismiss(None)

    def action_show_log(self) -> None:
        self.query_one(TabbedContent).active = "tab-log"
        self._start_log()
        self.query_one(JobLogView).focus()

    def action_search(self) -> None:
        self.action_show_log()
        search = self.query_one("#job-detail-search", Input)
        search.add_class("-open")
        search.focus()

    @on(Input.Changed, "#job-detail-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_one(JobLogView).search(event.value)
        self.show_search_position()

    @on(Input.Submitted, "#job-detail-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        log = self.query_one(JobLogView)
        if log.pattern != event.value:
            log.search(event.value)
        log.next_match(+1)
        self.show_search_position()
        log.focus()  # n/N from here on

    def show_search_position(self) -> None:
        """The status line says where the search is: ``match 2 of 5 (line 40)``."""
        log = self.query_one(JobLogView)
        if not log.pattern:
            self._log_status_line()
            return
        status = self.query_one("#job-detail-log-status", Static)
        status.remove_class("job-detail-error")
        status.display = True
        if not log.matches:
            status.update(Text(f"no match for {log.pattern!r}", end=""))
        elif log.current is None:
            status.update(Text(f"{len(log.matches)} matches: Enter goes to the first", end=""))
        else:
            line = log.matches[log.current] + 1
            status.update(Text(f"match {log.current + 1} of {len(log.matches)} (line {line})"
                               "  n/N: next/previous, Esc: close", end=""))

    def _log_status_line(self) -> None:
        if self._log_summary:
            self.query_one("#job-detail-log-status", Static).update(
                Text(self._log_summary, end=""))

    def action_reload(self) -> None:
        self._load_fields()
        self._load_runs()
        self._load_dependencies()
        if self._log_requested:
            self._log_requested = False
            self._start_log()

    @on(TabbedContent.TabActivated)
    def _tab_opened(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-log":
            self._start_log()
            self.query_one(JobLogView).focus()

    # -- workers -----------------------------------------------------------------------

    def _start_log(self) -> None:
        if not self._log_requested:
            self._log_requested = True
            self._load_log()

    @work(exclusive=True, group="job-detail-fields", exit_on_error=False)
    async def _load_fields(self) -> None:
        status = self.query_one("#job-detail-fields-status", Static)
        table = self.query_one("#job-detail-fields", DataTable)
        try:
            fields = await self.loader.job(self.job.job_id)
        except Exception as exc:  # any failure is shown, never crashes the screen
            self._show_error(status, "job details", exc)
            return
        table.clear(columns=True)
        labels = [plain_text(label, max_len=40) for label in fields]
        values = [Text(safe_text(value, _FIELD_MAX_LEN), end="") for value in fields.values()]
        label_width = max((label.cell_len for label in labels), default=5)
        # A long value (a 10k-character name) is shown whole, wrapped in its column.
        room = max(20, self.size.width - label_width - 8)
        table.add_column("Field")
        table.add_column("Value", width=min(room, max((v.cell_len for v in values), default=5)))
        for label, value in zip(labels, values, strict=True):
            table.add_row(label, value, height=None if value.cell_len > room else 1)
        status.display = False

    @work(exclusive=True, group="job-detail-runs", exit_on_error=False)
    async def _load_runs(self) -> None:
        status = self.query_one("#job-detail-runs-status", Static)
        table = self.query_one("#job-detail-runs", DataTable)
        try:
            runs = await self.loader.runs(self.job.job_id)
        except Exception as exc:
            self._show_error(status, "runs", exc)
            return
        table.clear(columns=True)
        labels: list[str] = []
        for run in runs:
            labels.extend(label for label in run if label not in labels)
        table.add_columns(*(plain_text(label, max_len=40) for label in labels))
        table.add_rows(
            [plain_text(run.get(label, ""), max_len=200) for label in labels] for run in runs
        )
        status.update(Text(f"{len(runs)} run(s)", end=""))
        status.display = not runs

    def action_why_waiting(self) -> None:
        """``w``: the Dependencies tab, and the walk to the root causes of the wait."""
        self.query_one(TabbedContent).active = "tab-deps"
        self.query_one(DepsList).show_walking()
        self._walk()

    @work(exclusive=True, group="job-detail-why", exit_on_error=False)
    async def _walk(self) -> None:
        loader, deps = self.loader, self.query_one(DepsList)
        if not isinstance(loader, DependencyLoader):
            return
        try:
            deps.show_report(await loader.why_waiting(self.job.job_id))
        except Exception as exc:
            deps.show_error(f"why is this waiting: unavailable: {describe_error(exc)}")

    @on(DepsList.Open)
    def _open_neighbour(self, event: DepsList.Open) -> None:
        if isinstance(self.loader, DependencyLoader):
            self.app.push_screen(JobDetailScreen(self.loader.row_for(event.node), self.loader,
                                                 actions=self.actions))

    @work(exclusive=True, group="job-detail-deps", exit_on_error=False)
    async def _load_dependencies(self) -> None:
        loader = self.loader
        if isinstance(loader, DependencyLoader):
            deps = self.query_one(DepsList)
            try:
                deps.show_neighbours(await loader.dependencies(self.job.job_id))
            except Exception as exc:
                deps.show_error(f"dependencies unavailable: {describe_error(exc)}")
            return
        for which, target_id in (("predecessors", "#job-detail-preds"),
                                 ("successors", "#job-detail-succs")):
            target = self.query_one(target_id, Static)
            target.remove_class("job-detail-error")
            target.update(Text(f"{which}: loading…", end=""))
            try:
                if which == "predecessors":
                    names = await self.loader.predecessors(self.job.job_id)
                else:
                    names = await self.loader.successors(self.job.job_id)
            except Exception as exc:
                self._show_error(target, which, exc)
                continue
            text = Text(f"{which.capitalize()} ({len(names)})", style="bold", end="")
            for name in names:
                text.append("\n  ")
                text.append(safe_text(name))
            if not names:
                text.append("\n  none")
            target.update(text)

    @work(exclusive=True, group="job-detail-log", exit_on_error=False)
    async def _load_log(self) -> None:
        status = self.query_one("#job-detail-log-status", Static)
        log = self.query_one(JobLogView)
        run_id = self.job.run_id
        if not run_id:
            status.update(Text("job log unavailable: the job has not run", end=""))
            return
        status.remove_class("job-detail-error")
        status.display = True
        status.update(Text("loading the job log…", end=""))
        try:
            content = await self.loader.job_log(run_id)
        except Exception as exc:
            self._show_error(status, "job log", exc)
            self._log_requested = False  # let `l` try again
            return
        log.clear()
        lines = safe_lines(content)
        log.write_lines(lines, scroll_end=False)
        log.search(log.pattern)
        # The newest lines are what the operator reads first: open at the end (once the
        # log has its size, as it may have been laid out just now).
        log.call_after_refresh(log.scroll_end, animate=False, immediate=True)
        self._log_summary = f"job log of run {safe_text(run_id, 40)}: {len(lines)} lines"
        status.update(Text(self._log_summary, end=""))

    def _show_error(self, target: Static, what: str, exc: BaseException) -> None:
        target.display = True
        target.add_class("job-detail-error")
        target.update(Text(f"{what} unavailable: {describe_error(exc)}", end=""))
