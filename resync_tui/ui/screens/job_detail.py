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

import asyncio
import bisect
import contextlib
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar, Final, Protocol, runtime_checkable

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Label,
    Log,
    Static,
    TabbedContent,
    TabPane,
)

from resync_tui.feeds.detail import FINISHED_STATUSES as _ENDED
from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.screens.confirm_action import ActionsRequested, StreamActionsRequested
from resync_tui.ui.text import plain_text, safe_lines, safe_text
from resync_tui.ui.widgets.deps_list import DependencyLoader, DepsList
from resync_tui.ui.widgets.jobs_table import status_label

__all__ = ["ERROR_GUTTER", "LOG_MAX_LINES", "JobDetailLoader", "JobDetailScreen", "JobLogView",
           "LogFollowLoader", "SaveLogScreen", "describe_error", "looks_like_error",
           "save_log"]

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


@runtime_checkable
class LogFollowLoader(Protocol):
    """A loader that can follow a running job's log (the app's, over the engine)."""

    async def job_log_tail(self, job_id: str, run_id: str, from_line: int) -> tuple[str, bool]:
        """The log from line ``from_line`` on (1-based), read live, and whether the run
        had ended before it was read (nothing more will come)."""
        ...


def describe_error(exc: BaseException) -> str:
    """A short, safe reason for the operator ("engine unreachable", "HTTP 404"...)."""
    text = str(exc).strip() or type(exc).__name__
    return safe_text(text.splitlines()[0] if text else text, 160)


def _now() -> str:
    return datetime.now().astimezone().strftime("%H:%M:%S")


_UNSAFE_IN_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")


def _file_part(text: str) -> str:
    """A name or id as a piece of a file name: no path separators, nothing a shell minds."""
    return _UNSAFE_IN_NAME.sub("_", text).strip("._")[:80] or "job"


_SAVE_CONTROLS: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def save_log(lines: Sequence[str], path: Path) -> Path:
    """Write ``lines`` (what the log shows) to ``path`` atomically; the absolute path.

    Control characters are stripped (a saved log is read with ``cat`` and ``less`` too),
    one line per line. A temporary file in the same directory, then a rename: a reader
    never sees half a file and a failed write leaves nothing behind. The file is only the
    owner's (0600): a job log may hold what others should not read. Raises ``OSError``.
    """
    target = path.expanduser().absolute()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(_SAVE_CONTROLS.sub("", line) + "\n" for line in lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


class SaveLogScreen(ModalScreen[Path | None]):
    """Where to save the job log: the path, given as a default; Enter saves, Esc does not."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    SaveLogScreen { align: center middle; }
    SaveLogScreen > Vertical {
        width: 76; max-width: 100%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, default: str, count: int) -> None:
        super().__init__()
        self.default = default
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save the job log"
            yield Label(f"{self.count:,} lines, as shown (control characters stripped), to "
                        "the file (relative to the current directory):", markup=False)
            yield Input(self.default, id="save-log-path")
            yield Label("Enter saves · Esc cancels", markup=False)

    def on_mount(self) -> None:
        self.query_one("#save-log-path", Input).focus()

    @on(Input.Submitted, "#save-log-path")
    def _save(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.notify("give a file name", severity="warning", markup=False)
            return
        self.dismiss(Path(value))

    def action_cancel(self) -> None:
        self.dismiss(None)


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


_ERROR_LINE: Final = re.compile(
    r"""
      \b(?:ERROR|FATAL|SEVERE|ABEND\w*)\b               # the usual words, in capitals
    | \bAW[A-Z]{4}\d{3,4}E\b                           # an HWA/TWS message of severity E
    | Traceback\ \(most\ recent\ call\ last\)          # Python
    | Exception\b                                      # Java and friends
    | \b(?:[A-Z]\w*)?Error:                             # Python's ValueError: ...
    | (?i:\b(?:exit|return)[\ _-]?(?:status|code|value)?\s*[:=]?\s*-?0*[1-9])  # rc != 0
    | (?i:\brc\s*[:=]\s*-?0*[1-9])
    """,
    re.VERBOSE,
)
ERROR_GUTTER: Final = "✖ "
"""Marks an error line in a gutter: the mark is there without colour (NO_COLOR) too."""
_PLAIN_GUTTER: Final = "  "
LOG_MAX_LINES: Final = 20_000
"""Lines a job log keeps on screen; older ones are dropped (and the status line says so)."""


def looks_like_error(line: str) -> bool:
    """Whether a log line reads like an error: ERROR, FATAL, ABEND, an ``AW....nnnE``
    message, a stack trace, an exception (``...Exception``, ``...Error:``), an exit or
    return code other than 0."""
    return _ERROR_LINE.search(line) is not None


class JobLogView(Log):
    """The job log: error lines marked, a search, wrap on demand, new lines appended.

    ``search(text)`` sets what is highlighted (case-insensitive, plain text) and
    ``next_match(+1/-1)`` moves to and centres the next/previous matching line,
    wrapping around; ``next_error(+1/-1)`` does the same for the lines that look like
    errors (``errors``: their line numbers), which carry ``✖`` in the gutter and the
    error colour. ``set_lines``/``append_lines`` keep at most ``max_lines`` lines
    (``dropped`` counts those let go) and the view at the bottom if it was there.
    ``wrap`` folds long lines at the pane's width (toggled by ``W``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_match(1)", "Next match", show=False, id="job_log.next_match"),
        Binding("N", "next_match(-1)", "Previous match", show=False,
                id="job_log.previous_match"),
        Binding("e", "next_error(1)", "Next error", id="job_log.next_error"),
        Binding("E", "next_error(-1)", "Previous error", show=False,
                id="job_log.previous_error"),
        Binding("f", "toggle_follow", "Follow", id="job_log.follow"),
        Binding("W", "toggle_wrap", "Wrap", id="job_log.wrap"),
        Binding("s", "save", "Save", id="job_log.save"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"job-log--match", "job-log--current",
                                             "job-log--error"}
    DEFAULT_CSS = """
    JobLogView > .job-log--match { background: $warning 40%; }
    JobLogView > .job-log--current { background: $accent; color: $text; text-style: bold; }
    JobLogView > .job-log--error { color: $text-error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, max_lines: int = LOG_MAX_LINES) -> None:
        super().__init__(highlight=False, auto_scroll=False, max_lines=max_lines, id=id)
        self.pattern = ""
        self.matches: list[int] = []
        """Line numbers with a match, in order."""
        self.current: int | None = None
        """Index in ``matches`` of the match shown, None before one is chosen."""
        self.errors: list[int] = []
        """Line numbers of the lines that look like errors, in order."""
        self.current_error: int | None = None
        self.dropped = 0
        """Older lines let go to keep at most ``max_lines``."""
        self.wrap = False
        self._regex: re.Pattern[str] | None = None
        self._match_set: set[int] = set()
        self._error_set: set[int] = set()
        self._cells: list[int] = []
        """Cells of each line as drawn (gutter included)."""
        self._row_starts: list[int] | None = None
        """Wrapped: the first screen row of each line, then the row count (lazily)."""
        self._at_end = True
        """The view was at the bottom when it last moved: it stays there as lines come
        and as the terminal is resized (a smaller window must not leave it mid-log)."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = new_value >= self.max_scroll_y

    @property
    def at_end(self) -> bool:
        """Whether the newest line is on screen, or was when the view last moved."""
        return self._at_end or self.is_vertical_scroll_end

    # -- content -----------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Every line, a blank last one too (Log counts that one as a line being written)."""
        return len(self._lines)

    @classmethod
    def _process_line(cls, line: str) -> str:
        gutter = ERROR_GUTTER if looks_like_error(line) else _PLAIN_GUTTER
        return gutter + super()._process_line(line)

    def set_lines(self, lines: Sequence[str]) -> None:
        """The whole log (a first read or a reload): what was shown is replaced."""
        self.clear()
        self.dropped = 0
        self._cells = []
        self.errors, self._error_set = [], set()
        self.current_error = None
        self.append_lines(lines)

    def append_lines(self, lines: Sequence[str], *, replace_last: bool = False) -> int:
        """New lines at the end (``replace_last``: the first of them completes the last
        line shown); the view follows them if it was at the bottom. Returns the number of
        older lines dropped to stay within ``max_lines``."""
        at_end = self.at_end or not self._lines
        if replace_last and self._lines and lines:
            self._lines.pop()
            self._cells.pop()
            last = len(self._lines)
            if last in self._error_set:
                self._error_set.discard(last)
                self.errors.pop()
        start = len(self._lines)
        self._lines.extend(lines)
        cells = [cell_len(self._process_line(line)) for line in lines]
        self._cells.extend(cells)
        new_errors = [start + i for i, line in enumerate(lines) if looks_like_error(line)]
        self.errors.extend(new_errors)
        self._error_set.update(new_errors)
        removed = max(0, len(self._lines) - (self.max_lines or len(self._lines)))
        if removed:
            del self._lines[:removed]
            del self._cells[:removed]
            self.errors = [y - removed for y in self.errors if y >= removed]
            self._error_set = set(self.errors)
            self.current_error = None
            self.dropped += removed
        self._width = max(self._width, max(cells, default=0))
        self._render_line_cache.clear()
        self._row_starts = None
        self._refind(removed)
        self._sync_size()
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()
        return removed

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text without the gutter (the mouse selects what is drawn, and
        the gutter's two cells are drawn before each line)."""
        gutter = len(_PLAIN_GUTTER)
        drawn = "\n".join((ERROR_GUTTER if y in self._error_set else _PLAIN_GUTTER) + line
                           for y, line in enumerate(self._lines))
        picked = selection.extract(drawn).split("\n")
        first_x = selection.start.x if selection.start is not None else 0
        lines = [picked[0][max(0, gutter - first_x):], *(line[gutter:] for line in picked[1:])]
        return "\n".join(lines), "\n"

    def _refind(self, removed: int) -> None:
        """The search's matches after lines came or went (the match shown stays chosen)."""
        regex = self._regex
        if regex is None:
            return
        line = self.matches[self.current] - removed if self.current is not None else None
        self.matches = [y for y, text in enumerate(self._lines) if regex.search(text)]
        self._match_set = set(self.matches)
        self.current = (self.matches.index(line)
                        if line is not None and line in self._match_set else None)

    def _update_maximum_width(self, updates: int, size: int) -> None:
        """Log measures lines in a thread and sets the size; keep the wrapped one."""
        super()._update_maximum_width(updates, size)
        self._sync_size()

    def _sync_size(self) -> None:
        if self.wrap:
            self.virtual_size = Size(self._wrap_width(), self._starts()[-1])
        else:
            self.virtual_size = Size(self._width, len(self._lines))

    # -- wrap --------------------------------------------------------------------------

    def _wrap_width(self) -> int:
        return max(self.scrollable_content_region.width, 10)

    def _starts(self) -> list[int]:
        if self._row_starts is None:
            width = self._wrap_width()
            starts = [0]
            for cells in self._cells:
                starts.append(starts[-1] + max(1, -(-cells // width)))
            self._row_starts = starts
        return self._row_starts

    def row_of(self, line: int) -> int:
        """The screen row (from the top of the log) where ``line`` starts."""
        if not self.wrap:
            return line
        starts = self._starts()
        return starts[min(max(line, 0), len(starts) - 1)]

    def line_at(self, row: int) -> int:
        """The line drawn on screen row ``row`` (from the top of the log)."""
        if not self.wrap:
            return row
        return max(bisect.bisect_right(self._starts(), row) - 1, 0)

    def toggle_wrap(self) -> None:
        """Fold long lines at the pane's width, or not; the line at the top stays there."""
        at_end = self.at_end
        top = self.line_at(round(self.scroll_y))
        self.wrap = not self.wrap
        self._row_starts = None
        self._render_line_cache.clear()
        self._sync_size()
        if at_end:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_to(x=0, y=self.row_of(top), animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        at_end = self.at_end
        if self.wrap:
            top = self.line_at(round(self.scroll_y))
            self._row_starts = None
            self._sync_size()
            self.scroll_to(y=self.row_of(top), animate=False, immediate=True)
        if at_end:
            self._at_end = True
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        if not self.wrap:
            return super().render_line(y)
        row = round(self.scroll_y) + y
        width = self.size.width
        starts = self._starts()
        if row >= starts[-1]:
            return Strip.blank(width, self.rich_style)
        line = self.line_at(row)
        part = row - starts[line]
        room = self._wrap_width()
        strip = self._render_line_strip(line, self.rich_style)
        return (strip.crop_extend(part * room, (part + 1) * room, self.rich_style)
                .extend_cell_length(width, self.rich_style)
                .apply_offsets(part * room, line))

    # -- search and errors -------------------------------------------------------------

    def search(self, text: str) -> None:
        self.pattern = text
        self._regex = re.compile(re.escape(text), re.IGNORECASE) if text else None
        regex = self._regex
        self.matches = ([y for y, line in enumerate(self.lines) if regex.search(line)]
                        if regex is not None else [])
        self._match_set = set(self.matches)
        self.current = None
        self._redraw()

    def _go(self, lines: list[int], current: int | None, step: int) -> int | None:
        """The index in ``lines`` of the next/previous one from ``current`` (or from the
        top of the view when none is chosen yet), scrolled to the middle."""
        if not lines:
            return None
        if current is None:
            top = self.line_at(round(self.scroll_y))
            after = [i for i, y in enumerate(lines) if y >= top]
            before = [i for i, y in enumerate(lines) if y < top]
            if step > 0:
                current = after[0] if after else 0
            else:
                current = before[-1] if before else len(lines) - 1
        else:
            current = (current + step) % len(lines)
        row = self.row_of(lines[current])
        self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2),
                       animate=False, immediate=True)
        self._redraw()
        return current

    def next_match(self, step: int) -> int | None:
        """Go to the next (+1) or previous (-1) match; the line number, None if none."""
        self.current = self._go(self.matches, self.current, step)
        return self.matches[self.current] if self.current is not None else None

    def next_error(self, step: int) -> int | None:
        """Go to the next (+1) or previous (-1) error line; the line number, None if none."""
        self.current_error = self._go(self.errors, self.current_error, step)
        return self.errors[self.current_error] if self.current_error is not None else None

    def action_next_match(self, step: int) -> None:
        if self.pattern:
            self.next_match(step)
            screen = self.screen
            if isinstance(screen, JobDetailScreen):
                screen.show_search_position()

    def action_next_error(self, step: int) -> None:
        self.next_error(step)
        screen = self.screen
        if isinstance(screen, JobDetailScreen):
            screen.show_error_position()

    def action_toggle_wrap(self) -> None:
        self.toggle_wrap()
        screen = self.screen
        if isinstance(screen, JobDetailScreen):
            screen.say_log(f"wrap {'on' if self.wrap else 'off'}: W toggles it")

    def action_toggle_follow(self) -> None:
        screen = self.screen
        if isinstance(screen, JobDetailScreen):
            screen.toggle_follow()

    def action_save(self) -> None:
        screen = self.screen
        if isinstance(screen, JobDetailScreen):
            screen.ask_save()

    def clear_search(self) -> None:
        self.search("")

    def _redraw(self) -> None:
        self._render_line_cache.clear()
        self.refresh()

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        regex = self._regex
        matched = regex is not None and y in self._match_set
        error = y in self._error_set
        if not (matched or error) or self.text_selection is not None:
            return super()._render_line_strip(y, rich_style)
        line = self._process_line(self._lines[y])
        text = Text(line, no_wrap=True)
        text.stylize(rich_style)
        if error:
            text.stylize(self.get_component_rich_style("job-log--error"))
        if matched and regex is not None:
            current = self.current is not None and self.matches[self.current] == y
            style = self.get_component_rich_style(
                "job-log--current" if current else "job-log--match")
            for match in regex.finditer(line, len(_PLAIN_GUTTER)):
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
        self._log_run = ""
        self._log_read = 0
        """Complete lines read from the engine (the next read starts after them)."""
        self._log_partial = False
        """The last line shown had no newline yet: the next read completes it."""
        self._follow_timer: Timer | None = None
        self._follow_lock = asyncio.Lock()
        self._follow_note = ""

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
        """The log's summary: lines, errors, what was dropped, whether it is followed."""
        if not self._log_summary:
            return
        log = self.query_one(JobLogView)
        parts = [self._log_summary, f"{log.line_count:,} lines"]
        if log.errors:
            parts.append(f"{len(log.errors):,} error line{'s' if len(log.errors) != 1 else ''}"
                         " ✖ (e/E)")
        if log.dropped:
            parts.append(f"{log.dropped:,} older lines dropped (the last "
                         f"{log.max_lines or log.line_count:,} kept)")
        if self._follow_note:
            parts.append(self._follow_note)
        status = self.query_one("#job-detail-log-status", Static)
        status.display = True
        status.set_class(self._follow_note.startswith("follow: the last read failed"),
                         "job-detail-error")
        status.update(Text(" · ".join(parts), end=""))

    def say_log(self, text: str) -> None:
        """A one-off word on the log's status line (wrap toggled, file saved)."""
        status = self.query_one("#job-detail-log-status", Static)
        status.display = True
        status.remove_class("job-detail-error")
        status.update(Text(text, end=""))

    def show_error_position(self) -> None:
        """``error line 2 of 5 (line 40)``, or that there is none."""
        log = self.query_one(JobLogView)
        if not self._log_summary:
            return  # the log is not there yet: its loading line stays
        if log.current_error is None:
            self.say_log("no line looks like an error (ERROR, FATAL, ABEND, AWK…E, "
                         "exit code ≠ 0, Traceback, …Exception, …Error:)")
            return
        line = log.errors[log.current_error] + 1
        self.say_log(f"error line {log.current_error + 1} of {len(log.errors)} (line {line})"
                     "  e/E: next/previous")

    # -- following a running job's log ---------------------------------------------------

    @property
    def following(self) -> bool:
        return self._follow_timer is not None

    def toggle_follow(self) -> None:
        """``f``: re-read the log from its last line every ``follow_seconds`` (or stop)."""
        if self._follow_timer is not None:
            self._stop_follow("follow off (f follows again)")
            return
        if not self._log_summary:
            self.say_log("the log is not loaded yet: nothing to follow")
            return
        if not isinstance(self.loader, LogFollowLoader):
            self.say_log("following a log needs a live engine")
            return
        self._follow_timer = self.set_interval(self.follow_seconds, self._follow_tick)
        self._follow_note = f"following: new lines every {self.follow_seconds:g} s (f stops)"
        self._log_status_line()
        self._follow_tick()

    follow_seconds: ClassVar[float] = 3.0
    """How often a followed log is read again."""

    def _stop_follow(self, note: str) -> None:
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        self._follow_note = note
        self._log_status_line()

    def _follow_tick(self) -> None:
        if not self._follow_lock.locked():
            self.run_worker(self.follow_once(), group="job-detail-follow",
                            exit_on_error=False)

    async def follow_once(self) -> bool:
        """One read of the followed log from its last line: new lines appended, the view
        at the bottom unless the operator scrolled up. False if nothing was read (not
        following, or the read failed: said on the status line, the log kept)."""
        loader = self.loader
        if self._follow_timer is None or not isinstance(loader, LogFollowLoader):
            return False
        async with self._follow_lock:
            try:
                text, ended = await loader.job_log_tail(self.job.job_id, self._log_run,
                                                        self._log_read + 1)
            except Exception as exc:  # shown; what was read stays on screen
                if self.following:
                    self._follow_note = (
                        f"follow: the last read failed at {_now()} ({describe_error(exc)});"
                        f" the lines shown are from before, trying again every "
                        f"{self.follow_seconds:g} s")
                    self._log_status_line()
                return False
            if not self.following:
                return False  # stopped while the read was on its way
            self._append_log(text)
            if ended:
                self._stop_follow("follow stopped: the run has ended, this is the whole log")
            else:
                log = self.query_one(JobLogView)
                where = "" if log.is_vertical_scroll_end else " (scrolled up: End follows)"
                self._follow_note = (f"following: read at {_now()}, every "
                                     f"{self.follow_seconds:g} s{where} (f stops)")
                self._log_status_line()
            return True

    def _append_log(self, text: str) -> None:
        if not text:
            return
        self.query_one(JobLogView).append_lines(safe_lines(text),
                                                replace_last=self._log_partial)
        self._log_read += text.count("\n")
        self._log_partial = not text.endswith("\n")

    # -- saving ------------------------------------------------------------------------

    def default_log_path(self) -> str:
        """``JOBNAME-RUNID.log`` in the current directory (unsafe characters as ``_``)."""
        run = self._log_run or self.job.run_id or "run"
        return f"{_file_part(self.job.job)}-{_file_part(run)}.log"

    def ask_save(self) -> None:
        """``s``: where to save the log (the path asked, the default given)."""
        if not self._log_summary:
            self.say_log("the log is not loaded yet: nothing to save")
            return
        lines = list(self.query_one(JobLogView).lines)  # what is shown now
        self.app.push_screen(SaveLogScreen(self.default_log_path(), len(lines)),
                             partial(self._save_chosen, lines))

    def _save_chosen(self, lines: list[str], path: Path | None) -> None:
        if path is not None:
            self._save(lines, path)

    @work(group="job-detail-save", exit_on_error=False)
    async def _save(self, lines: list[str], path: Path) -> None:
        try:
            target = await asyncio.to_thread(save_log, lines, path)
        except OSError as exc:
            reason = exc.strerror or describe_error(exc)
            self.say_log(f"log not saved to {safe_text(str(path), 200)}: {reason}")
            self.query_one("#job-detail-log-status", Static).add_class("job-detail-error")
            return
        self.say_log(f"saved {len(lines):,} lines to {safe_text(str(target), 300)}")

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
        if self._follow_timer is not None:
            self._stop_follow("")
        log.set_lines(safe_lines(content))
        self._log_run = run_id
        self._log_read = content.count("\n")
        self._log_partial = bool(content) and not content.endswith("\n")
        log.search(log.pattern)
        # The newest lines are what the operator reads first: open at the end (once the
        # log has its size, as it may have been laid out just now).
        log.call_after_refresh(log.scroll_end, animate=False, immediate=True)
        self._log_summary = f"job log of run {safe_text(run_id, 40)}"
        running = self.job.status not in _ENDED
        self._follow_note = "f follows it" if running else ""
        self._log_status_line()

    def _show_error(self, target: Static, what: str, exc: BaseException) -> None:
        target.display = True
        target.add_class("job-detail-error")
        target.update(Text(f"{what} unavailable: {describe_error(exc)}", end=""))
