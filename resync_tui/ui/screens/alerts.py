"""The alerts screen: what fired, when, where it went; acknowledged with a key.

Rows are the :class:`~resync_tui.feeds.alerts.FiredAlert` list the app's alert
center keeps, newest first. ``●`` marks what arrived since the operator last
acknowledged; ``a`` acknowledges everything shown. Every text from the engine (job,
stream and workstation names in the summaries) goes through ``safe_text``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from resync_tui.feeds.alerts import FiredAlert
from resync_tui.sanitize import safe_text

__all__ = ["AlertsScreen"]

_KIND_LABELS = {"job_failed": "job failed", "critical_late": "critical late",
                "workstation_down": "workstation down",
                "engine_unreachable": "engine unreachable", "breaker_open": "breaker open",
                "audit_spool": "audit spool"}


class AlertsScreen(ModalScreen[None]):
    """Every alert the rules fired this session, newest first."""

    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen > Vertical {
        width: 96%; height: 90%; border: round $warning; background: $surface;
        border-title-color: $warning;
    }
    AlertsScreen #alerts-empty { padding: 1 2; }
    AlertsScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="alerts.close"),
        Binding("a", "acknowledge", "Acknowledge all", id="alerts.acknowledge"),
    ]

    def __init__(self, fired: Callable[[], Sequence[FiredAlert]], *,
                 acknowledge: Callable[[], None],
                 to_local: Callable[[float], datetime]) -> None:
        super().__init__()
        self._fired = fired
        self._acknowledge = acknowledge
        self._to_local = to_local

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Alerts · a acknowledges · Esc closes"
            yield Static("", id="alerts-empty")
            yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(" ", "Time", "Rule", "What", "Subject", "Went to")
        self.refresh_rows()
        table.focus()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        fired = list(self._fired())
        empty = self.query_one("#alerts-empty", Static)
        empty.update("" if fired else "No alert has fired since the dashboard started.")
        empty.display = not fired
        for alert in reversed(fired):
            event = alert.event
            table.add_row(
                " " if alert.seen else "●",
                f"{self._to_local(event.at):%H:%M:%S}",
                safe_text(event.rule, 40),
                _KIND_LABELS.get(event.kind, event.kind),
                safe_text(event.summary, 120),
                safe_text(", ".join(alert.went) or "-", 60))

    def action_acknowledge(self) -> None:
        self._acknowledge()
        self.refresh_rows()

    def action_close(self) -> None:
        self.dismiss(None)
