"""The Critical pane: jobs with ``critical`` or a deadline, those past due first, then by slack.

A pane of its own rather than a view of the jobs pane: its columns are not the job
table's (the due time, whether it must start or end by it, and the slack that ticks on
the engine's clock), and an operator asks "which critical jobs will be late" beside the
job list, not instead of its filter. Slack is measured by the feed on the engine's
clock; names from the engine go through ``safe_text``.

Public API: ``CriticalPane(*, id=None, classes=None)`` with the reactive ``state`` (a
``feeds.critical.CriticalState``); it shows as many jobs as fit and says how many more.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.critical import CriticalState
from resync_tui.model.critical import CriticalRow
from resync_tui.model.overall import hms
from resync_tui.model.status import symbol_of
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import Pane

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

    DEFAULT_CSS = """
    CriticalPane { height: 1fr; width: 1fr; }
    """

    def build(self) -> Content:
        s = self.state
        if s is None or not s.jobs_seen:
            return Content("waiting for the job list…")
        lines = self.stale_lines(s.health)
        if not s.rows:
            lines.append(Content.assemble(("✔ ", "$success"),
                                          "no critical job or deadline at risk"))
            return Content("\n").join(lines)
        at = f" (engine clock {hms(s.now)})" if s.now is not None else ""
        summary = (f"✖ {s.missed} past due · ", "$error bold") if s.missed else (
            "✔ none past due · ", "$success")
        lines.append(Content.assemble(summary, f"{len(s.rows)} watched, by slack{at}"))
        lines.append(Content.styled(
            f"{'slack':<10}{'due':<18}{'status':<9}★ critical · stream.job @ workstation",
            "$text-muted"))
        room = max(self.size.height - 2 - len(lines) - 1, 1) if self.size.height else 40
        shown = s.rows[:room]
        lines.extend(_line(entry) for entry in shown)
        if len(s.rows) > len(shown):
            lines.append(Content.styled(f"… {len(s.rows) - len(shown)} more", "$text-muted"))
        return Content("\n").join(lines)

    def on_resize(self) -> None:
        self.show()
