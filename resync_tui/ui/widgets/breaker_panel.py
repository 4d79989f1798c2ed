"""Circuit breakers: one block per breaker, state in words and colour, failure-rate trend."""

from __future__ import annotations

from typing import Final

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.breakers import BreakerRow, BreakersState
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import Pane, spark

__all__ = ["STATE_LABELS", "BreakerPanel"]

STATE_LABELS: Final[dict[str, tuple[str, str, str]]] = {
    # state: (marker, words, style) — words and marker, so colour is never the only signal
    "closed": ("●", "CLOSED", "$success"),
    "open": ("✖", "OPEN", "$error bold"),
    "half_open": ("◐", "HALF-OPEN", "$warning bold"),
    "forced_open": ("✖", "FORCED OPEN", "$error bold"),
    "disabled": ("○", "DISABLED", "$text-muted"),
    "metrics_only": ("○", "METRICS ONLY", "$text-muted"),
}


def _rate_style(rate: float) -> str:
    # Hystrix dashboard colours by error %: fine / warning / error.
    if rate >= 40:
        return "$error bold"
    if rate >= 10:
        return "$warning"
    return ""


class BreakerPanel(Pane):
    """Renders :class:`BreakersState`; redraws only when a row changed."""

    state: reactive[BreakersState | None] = reactive(None, repaint=False)
    """Latest sample of every breaker (None before the first poll)."""

    PANE_TITLE = "Circuit breakers"

    def build(self) -> Content:
        state = self.state
        if state is None:
            return Content("waiting for first sample…")
        lines = self.stale_lines(state.health)
        width = self.inner_width()
        for row in state.rows:
            lines.extend(self._block(row, width))
        if not state.rows:
            lines.append(Content("no breakers"))
        return Content("\n").join(lines)

    @staticmethod
    def _block(row: BreakerRow, width: int) -> list[Content]:
        marker, words, style = STATE_LABELS.get(
            row.state, ("?", safe_text(row.state.upper(), 16), "$warning"))
        if row.failing:
            # CLOSED beside "100% failed" must not be green: it lets calls through only
            # because too few were made to open it (or it has just closed again).
            marker, style = "⚠", "$warning bold"
        name = safe_text(row.name, 18)
        narrow = width < 52  # side pane of a 120-column terminal: calls go to line two
        first = Content.assemble(
            (f"{marker} ", style),
            (f"{name:<14}" if narrow else f"{name:<16}", "bold"),
            " ",
            (f"{words:<10}" if narrow else f"{words:<11}", style),
            (f"{row.failure_rate:5.1f}% failed", _rate_style(row.failure_rate)),
            "" if narrow else f"  {row.calls_in_window} calls",
        )
        details: list[str] = [f"{row.calls_in_window} calls"] if narrow else []
        if row.failing and row.calls_in_window < row.minimum_calls:
            details.append(f"failing, opens at {row.minimum_calls} calls")
        elif row.failing:
            details.append("failing")
        if row.seconds_until_trial is not None:
            details.append("trial now" if row.seconds_until_trial == 0
                           else f"trial in {row.seconds_until_trial}s")
        if row.not_permitted:
            details.append(f"{row.not_permitted} rejected in all")
        if row.last_transition:
            details.append(row.last_transition)
        tail = " · ".join(details)
        spark_width = max(8, min(40, width - 4 - len(tail) - 2))
        second = Content.assemble(
            "  ",
            (spark(row.history, spark_width).ljust(spark_width, " "), style or "$primary"),
            "  ",
            (tail, "$text-muted"),
        )
        return [first, second]
