"""The export modal (``e``): the job list as the operator sees it, to CSV or JSON.

``ExportScreen(count, rows_label, *, now)`` asks the format and the path (default a
timestamped file in the current directory) and dismisses with an ``ExportRequest``
(or ``None`` on Esc). :func:`write_export` writes the rows atomically (a temporary file
in the same directory, then a rename): a reader never sees half a file, and a failed
write leaves no debris. The rows themselves are taken when ``e`` is pressed, so the
file holds the view that was on screen, after filter and sort, every row of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from resync_tui.model.export import csv_lines, json_lines
from resync_tui.model.job_row import JobRow

__all__ = ["ExportFormat", "ExportRequest", "ExportScreen", "default_export_path",
           "write_export"]

ExportFormat = Literal["csv", "json"]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the operator asked for: a format and a file path."""

    format: ExportFormat
    path: Path


def default_export_path(fmt: ExportFormat, now: datetime) -> str:
    """``resync-jobs-20261125-104207.csv``: sorts by time, never overwrites a minute ago's."""
    return f"resync-jobs-{now:%Y%m%d-%H%M%S}.{fmt}"


def write_export(rows: Sequence[JobRow], request: ExportRequest) -> Path:
    """Write ``rows`` to ``request.path`` atomically; returns the absolute path.

    CSV neutralizes cells that a spreadsheet would run as formulas; JSON is one object
    per line. Raises ``OSError`` (the caller says it) if the directory cannot be written.
    """
    target = request.path.expanduser().absolute()
    lines = csv_lines(rows) if request.format == "csv" else json_lines(rows)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        newline = "" if request.format == "csv" else None  # csv writes its own \r\n
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # as open() would: mkstemp makes it 0600
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Format and path for an export of ``count`` jobs; Enter saves, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ExportScreen #export-what { margin-bottom: 1; }
    ExportScreen RadioSet { width: 100%; layout: horizontal; border: none; height: 1;
                            padding: 0; margin-bottom: 1; }
    ExportScreen Input { margin-bottom: 1; }
    ExportScreen #export-buttons { height: 3; align-horizontal: right; }
    ExportScreen Button { margin-left: 1; min-width: 10; }
    """

    def __init__(self, count: int, what: str, *, now: datetime,
                 fmt: ExportFormat = "csv") -> None:
        super().__init__()
        self.count = count
        self.what = what
        self.fmt: ExportFormat = fmt
        self._now = now
        self._default = default_export_path(fmt, now)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export the job list"
            noun = "job" if self.count == 1 else "jobs"
            yield Static(f"{self.count:,} {noun} · {self.what}", id="export-what",
                         markup=False)
            with RadioSet(id="export-format"):
                yield RadioButton("CSV (spreadsheets)", value=self.fmt == "csv",
                                  id="export-csv")
                yield RadioButton("JSON (one object per line)", value=self.fmt == "json",
                                  id="export-json")
            yield Label("File (relative to the current directory):")
            yield Input(self._default, id="export-path")
            with Horizontal(id="export-buttons"):
                yield Button("Save", variant="primary", id="export-save")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        self.fmt = "json" if event.pressed.id == "export-json" else "csv"
        path = self.query_one("#export-path", Input)
        if path.value == self._default:  # the operator's own name is theirs to keep
            self._default = default_export_path(self.fmt, self._now)
            path.value = self._default

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-save")
    def _save(self) -> None:
        value = self.query_one("#export-path", Input).value.strip()
        if not value:
            self.notify("give a file name", severity="warning", markup=False)
            return
        self.dismiss(ExportRequest(self.fmt, Path(value)))

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
