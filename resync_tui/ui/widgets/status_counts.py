"""One line of job counts, failures first: what an operator reads at a glance.

Public API: ``StatusCounts(name=None, id=None, classes=None)``;
``status_counts.set_counts(counts: Mapping[str, int])`` (e.g. ``JobsView.counts``);
the reactive ``status_counts.counts`` holds the normalized tuple. The widget redraws only
when a shown figure changed (reactive equality), so an update with the same counts sends
nothing to the terminal.

The figures follow ``resync_tui.model.status``: the statuses that need an operator (the
``failed`` and ``stuck`` groups) each have a figure, the calm groups one figure each
(``running``, ``waiting``, ``cancelled``, ``done``), and statuses this version does not
know are counted as ``other``. Every job is in exactly one figure: they add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from resync_tui.model.status import FAILED_STATUSES, group, group_of, symbol_of

__all__ = ["StatusCounts"]

_ALWAYS_SHOWN: Final = ("ABEND", "FAIL", "ERROR", "STUCK")
"""Shown even at zero: "no failure" must be said, not implied by an absence."""
_ONE_BY_ONE: Final = ("ABEND", "FAIL", "ERROR", "ABENP", "STUCK", "INTRPT", "SUSP", "UNDCDED")
"""The failed and stuck groups, one figure per status, in this order."""
_GROUP_FIGURES: Final = ("running", "waiting", "cancelled", "done", "other")
_GROUP_SYMBOL: Final[dict[str, str]] = {
    "running": "▶", "waiting": "⋯", "cancelled": "⊘", "done": "✔", "other": "?",
}
_ALWAYS_SHOWN_GROUPS: Final = frozenset({"running", "waiting", "done"})
_CALM_ORDER: Final = ("done", "cancelled", "waiting", "running")
"""Figures dropped first (in this order) when even the compact line is too long."""
_URGENT: Final = frozenset(_ONE_BY_ONE) | {"other"}
"""Never dropped to make room, and always with their symbol."""
_SEVERITY_COMPONENT: Final[dict[str, str]] = {
    "failed": "status-counts--failed",
    "warning": "status-counts--warning",
    "running": "status-counts--running",
    "success": "status-counts--success",
}

def _component(label: str) -> str | None:
    if label in _GROUP_SYMBOL:
        return _SEVERITY_COMPONENT.get(group(label).severity)
    return _SEVERITY_COMPONENT.get(group_of(label).severity)


def _thousands(value: int) -> str:
    return f"{value:,}"


class StatusCounts(Widget):
    """``✖ ABEND 3  ✖ FAIL 0  ✖ ERROR 0  ⚠ STUCK 1  ▶ running 12 … ✔ done 180,112  total``."""

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
        groups: dict[str, int] = dict.fromkeys(_GROUP_FIGURES, 0)
        for status, count in counts.items():
            name = group_of(status).name
            if name in groups:
                groups[name] += count
        shown: list[tuple[str, int]] = []
        for status in _ONE_BY_ONE:
            count = counts.get(status, 0)
            if count or status in _ALWAYS_SHOWN:
                shown.append((status, count))
        for name in _GROUP_FIGURES:
            if groups[name] or name in _ALWAYS_SHOWN_GROUPS:
                shown.append((name, groups[name]))
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
        failures_shown = any(c for s, c in counts if s in FAILED_STATUSES)
        counts = [(s, c) for s, c in counts
                  if c or (s == "ABEND" and not failures_shown)]
        for step in range(8):
            if step == 1:
                counts = [(s, c) for s, c in counts if s != "total"]
            elif step >= 2 and step < 7:
                calm = [s for s, _ in counts if s not in _URGENT]
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
            if status == "total":
                text.append(f"{status} {_thousands(count)}")
                continue
            component = _component(status) if count else "status-counts--zero"
            style = self.get_component_rich_style(component, partial=True) if component else ""
            symbol = _GROUP_SYMBOL.get(status) or symbol_of(status)
            if compact and status not in _URGENT:
                text.append(f"{status} {_thousands(count)}", style=style)
            else:
                text.append(f"{symbol} {status} {_thousands(count)}", style=style)
        return text
