"""Details of one job: fields, runs, predecessors/successors and the job log.

Public API:
    ``JobDetailLoader``: a Protocol the app implements over the HWA client (through the
        resilience core); every method is async and may raise - the screen shows the error
        inline ("job log unavailable: engine unreachable") and stays usable.
    ``JobDetailScreen(job: JobRow, loader: JobDetailLoader)``: push it on
        ``JobsTable.JobSelected``. Esc closes; ``l`` opens the job log (fetched on demand,
        also when the Log tab is opened), ``r`` reloads.

Every string from the loader is sanitized (``safe_text``/``safe_lines``) and shown without
markup interpretation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Log,
    Static,
    TabbedContent,
    TabPane,
)

from resync_tui.feeds.jobs_view import JobRow
from resync_tui.ui.text import plain_text, safe_lines, safe_text
from resync_tui.ui.widgets.jobs_table import status_label

__all__ = ["JobDetailLoader", "JobDetailScreen", "describe_error"]


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


class JobDetailScreen(Screen[None]):
    """Everything about one job; data loads in workers, errors are shown in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="job_detail.close"),
        Binding("l", "show_log", "Job log", id="job_detail.log"),
        Binding("r", "reload", "Reload", id="job_detail.reload"),
    ]

    DEFAULT_CSS = """
    JobDetailScreen {
        & #job-detail-title { height: auto; padding: 0 1; background: $panel; text-style: bold; }
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

    def __init__(self, job: JobRow, loader: JobDetailLoader) -> None:
        super().__init__()
        self.job = job
        self.loader = loader
        self._log_requested = False

    def compose(self) -> ComposeResult:
        job = self.job
        title = plain_text(f"{job.stream} › {job.job} @ {job.workstation}   ")
        title.append(status_label(job))
        yield Static(title, id="job-detail-title", markup=False)
        with TabbedContent(id="job-detail-tabs"):
            with TabPane("Details", id="tab-details"), VerticalScroll():
                yield Static("loading…", id="job-detail-fields-status",
                             classes="job-detail-status", markup=False)
                yield DataTable(id="job-detail-fields", show_cursor=False)
            with TabPane("Runs", id="tab-runs"):
                yield Static("loading…", id="job-detail-runs-status",
                             classes="job-detail-status", markup=False)
                yield DataTable(id="job-detail-runs", cursor_type="row")
            with TabPane("Dependencies", id="tab-deps"), VerticalScroll(id="job-detail-deps"):
                yield Static("", id="job-detail-preds", markup=False)
                yield Static("", id="job-detail-succs", markup=False)
            with TabPane("Log", id="tab-log"):
                yield Static("press l to load the job log", id="job-detail-log-status",
                             classes="job-detail-status", markup=False)
                yield Log(id="job-detail-log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    # -- actions -----------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_show_log(self) -> None:
        self.query_one(TabbedContent).active = "tab-log"
        self._start_log()

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
        table.add_columns("Field", "Value")
        table.add_rows(
            (plain_text(label, max_len=40), plain_text(value, max_len=400))
            for label, value in fields.items()
        )
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

    @work(exclusive=True, group="job-detail-deps", exit_on_error=False)
    async def _load_dependencies(self) -> None:
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
        log = self.query_one("#job-detail-log", Log)
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
        status.update(Text(f"job log of run {safe_text(run_id, 40)}: {len(lines)} lines", end=""))

    def _show_error(self, target: Static, what: str, exc: BaseException) -> None:
        target.display = True
        target.add_class("job-detail-error")
        target.update(Text(f"{what} unavailable: {describe_error(exc)}", end=""))
