"""Workstations that are not linked and running (the healthy ones are only counted)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.ui.widgets._pane import Pane

__all__ = ["WorkstationStrip"]


class WorkstationStrip(Pane):
    state: reactive[WorkstationsState | None] = reactive(None, repaint=False)
    """Latest list (None before the first answer)."""

    PANE_TITLE = "Workstations"

    def build(self) -> Content:
        s = self.state
        if s is None:
            return Content("waiting for the engine…")
        lines = self.stale_lines(s.health)
        if not s.health.has_data and not s.total:
            return Content("\n").join(lines or [Content("no data")])
        if not s.problems and self.stale:
            # Stale: what was true at the last answer, without the green check of a
            # healthy reading (a stale line must never look healthy).
            at = s.health.last_success
            when = f" at {at:%H:%M:%S}" if at is not None else ""
            lines.append(Content.styled(
                f"all {s.total} workstations were linked and running{when}", "$text-muted"))
        elif not s.problems:
            lines.append(Content.assemble(("✔ ", "$success"),
                                          f"all {s.total} workstations linked and running"))
        else:
            lines.append(Content.assemble(
                (f"✖ {len(s.problems)} of {s.total} not linked/running", "$error bold"),
                f" · {s.healthy} ok"))
            for ws in s.problems:
                states = ",".join(ws.states) or "no active state"
                lines.append(Content.assemble(
                    ("✖ ", "$error"), (ws.name, "bold"), f" ({ws.type}) ",
                    (ws.problem, "$error"), ("  " + states, "$text-muted")))
        return Content("\n").join(lines)
