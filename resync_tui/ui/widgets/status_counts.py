"""One line of job counts per status, failures first: what an operator reads at a glance.

Public API: ``StatusCounts(name=None, id=None, classes=None)``;
``status_counts.set_counts(counts: Mapping[str, int])`` (e.g. ``JobsView.counts``);
the reactive ``status_counts.counts`` holds the normalized tuple. The widget redraws only
when a shown figure changed (reactive equality), so an update with the same counts sends
nothing to the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from resync_tui.ui.widgets.jobs_table import STATUS_SYMBOLS

__all__ = ["SHOWN_STATUSES", "StatusCounts"]

SHOWN_STATUSES: Final[tuple[str, ...]] = (
    "ABEND", "FAIL", "ERROR", "STUCK", "EXEC", "READY", "HOLD", "SUCC"
)
"""Statuses with their own figure, in this order; the rest add up to "other"."""
_ALWAYS_SHOWN: Final = frozenset({"ABEND", "FAIL", "ERROR", "EXEC", "READY", "HOLD", "SUCC"})
_FAILED: Final = frozenset({"ABEND", "FAIL", "ERROR"})
_CALM_ORDER: Final = ("SUCC", "READY", "HOLD", "EXEC")
"""Figures dropped first (in this order) when even the compact line is too long."""
_COMPONENT: Final[dict[str, str]] = {
    "ABEND": "status-counts--failed",
    "FAIL": "status-counts--failed",
    "ERROR": "status-counts--failed",
    "STUCK": "status-counts--warning",
    "EXEC": "status-counts--running",
    "SUCC": "status-counts--success",
}


def _thousands(value: int) -> str:
    return f"{value:,}"


class StatusCounts(Widget):
    """Counts per status: ``✖ ABEND 3  ✖ FAIL 0 … ✔ SUCC 180,112  other 12  total 200,000``."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-counts--failed",
        "status-counts--warning",
        "status-counts--running",
        "status-counts--success",
        "status-counts--zero",
    }

    DEFAULT_CSS = """
    StatusCounts {
        height: 1;
        padding: 0 1;
        & > .status-counts--failed { color: $error; text-style: bold; }
        & > .status-counts--warning { color: $warning; text-style: bold; }
        & > .status-counts--running { color: $accent; }
        & > .status-counts--success { color: $success; }
        & > .status-counts--zero { color: $text-muted; text-style: none; }
    }
    """

    counts: reactive[tuple[tuple[str, int], ...]] = reactive(())
    """(status, count) pairs as shown, plus ("other", n) and ("total", n)."""

    def set_counts(self, counts: Mapping[str, int]) -> None:
        """Show these counts (status -> jobs); no redraw if the shown figures are equal."""
        shown: list[tuple[str, int]] = []
        other = 0
        for status, count in counts.items():
            if status not in SHOWN_STATUSES:
                other += count
        for status in SHOWN_STATUSES:
            count = counts.get(status, 0)
            if count or status in _ALWAYS_SHOWN:
                shown.append((status, count))
        shown.append(("other", other))
        shown.append(("total", sum(counts.values())))
        self.counts = tuple(shown)

    def set_unknown(self) -> None:
        """No job list read yet: say so rather than show zero failures."""
        self.counts = ()

    def render(self) -> Text:
        """The fullest form that fits on one line; failures are never left out."""
        if not self.counts:
            return Text("job counts unknown: no job list read yet", end="")
        width = self.content_region.width or self.size.width
        text = self._counts_line(self.counts, compact=False)
        if not width or text.cell_len <= width:
            return text
        # Narrow: zero counts go (a failure status only when another failure shows),
        # then "other"/"total" (the filter line has the total), then symbols off
        # non-failure figures, then the calmest statuses (SUCC, READY, HOLD, EXEC).
        counts = list(self.counts)
        failures_shown = any(c for s, c in counts if s in _FAILED)
        counts = [(s, c) for s, c in counts
                  if c or (s == "ABEND" and not failures_shown)]
        for step in range(8):
            if step == 1:
                counts = [(s, c) for s, c in counts if s not in ("other", "total")]
            elif step >= 2 and step < 7:
                calm = [s for s, _ in counts if s not in _FAILED and s != "STUCK"]
                if step > 2 and calm:
                    victim = next((s for s in _CALM_ORDER if s in calm), calm[-1])
                    counts = [(s, c) for s, c in counts if s != victim]
            text = self._counts_line(tuple(counts), compact=step >= 2)
            if text.cell_len <= width:
                return text
        text.truncate(width, overflow="ellipsis")
        return text

    def _counts_line(self, counts: tuple[tuple[str, int], ...], *, compact: bool) -> Text:
        text = Text(no_wrap=True, end="")
        for index, (status, count) in enumerate(counts):
            if index:
                text.append(" " if compact else "  ")
            if status in ("other", "total"):
                text.append(f"{status} {_thousands(count)}")
                continue
            component = _COMPONENT.get(status) if count else "status-counts--zero"
            style = self.get_component_rich_style(component, partial=True) if component else ""
            symbol = STATUS_SYMBOLS.get(status, "?")
            if compact and status not in _FAILED and status != "STUCK":
                text.append(f"{status} {_thousands(count)}", style=style)
            else:
                text.append(f"{symbol} {status} {_thousands(count)}", style=style)
        return text
