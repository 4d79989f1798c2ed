"""The top line: engine, plan, clock, age of the data and the overall state in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from resync_tui.feeds.engine import EngineState
from resync_tui.model.overall import Overall
from resync_tui.ui.format import format_age, format_offset, format_rate
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets._pane import changed_regions

__all__ = ["CLOCK_OFFSET_SHOWN", "OVERALL_STYLES", "DashboardHeader"]

OVERALL_STYLES: Final[dict[str, tuple[str, str]]] = {
    "OK": ("✔", "$success"),
    "STALE": ("⚠", "$warning"),
    "DEGRADED": ("⚠", "$warning"),
    "ENGINE UNREACHABLE": ("✖", "$error"),
    "CREDENTIALS REJECTED": ("✖", "$error"),
    "CONNECTING": ("…", "$primary"),
}

CLOCK_OFFSET_SHOWN: Final = 5.0
"""An engine clock this many seconds away from this machine's is named in the header."""


class DashboardHeader(Widget):
    """One line; the clock comes from ``clock`` so tests and screenshots can freeze it.

    A change of a reactive repaints only the cells that now read differently: a clock
    tick is a few cells, and a new value that shows the same text repaints nothing.
    """

    DEFAULT_CSS = """
    DashboardHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    engine: reactive[EngineState | None] = reactive(None, repaint=False)
    """Engine name, version and plan (None before the first answer)."""
    overall: reactive[Overall] = reactive(Overall("CONNECTING"), repaint=False)
    """The overall state shown on the right."""
    last_refresh: reactive[datetime | None] = reactive(None, repaint=False)
    """When the job list was last read successfully."""
    now: reactive[datetime | None] = reactive(None, repaint=False)
    """The displayed time (ticks once a second)."""
    paused: reactive[bool] = reactive(False, repaint=False)
    """Refresh paused by the operator."""
    interval: reactive[float] = reactive(0.0, repaint=False)
    """Seconds between job polls."""
    audit: reactive[str] = reactive("", repaint=False)
    """What is wrong with the audit trail, in a few words ("12 spooled", "drain failing");
    "" when nothing is (then the header says nothing of it)."""
    clock_offset: reactive[float | None] = reactive(None, repaint=False)
    clock_rate: reactive[float] = reactive(1.0, repaint=False)
    """Engine seconds per second of this machine: 1 for a real engine; a simulator's
    time scale (``demo``: 30). Named beside the offset, or the ages (engine seconds)
    beside "every 10s" (this machine's) read as a contradiction."""
    share: reactive[str] = reactive("", repaint=False)
    ranking: reactive[int] = reactive(0, repaint=False)
    """Jobs of a first read whose most urgent rows are shown while the rest is ranked
    (a preview: data read, none judged for the header yet); 0 otherwise."""
    replay: reactive[str] = reactive("", repaint=False)
    """``REPLAY`` and the recording's day when replaying a recording, else empty: the time
    shown is then the recorded one, and never to be taken for live data."""
    """The shared feed's role (``shared · leader``...), empty when not shared."""
    """Engine clock minus this machine's, in seconds (None: not known yet). The time shown
    is the engine's; when the two differ by more than a few seconds the header says so."""

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._content: Content | None = None
        """What was last rendered (what the terminal shows)."""
        self.redraws = 0
        """How many times a change of content was sent (tests and benches read it)."""
        self.repainted_cells = 0
        """Cells marked for repaint by those changes (tests and benches read it)."""

    def on_mount(self) -> None:
        # The dashboard moves ``now`` on each second, when it judges the state again.
        self.now = self._clock().replace(microsecond=0)

    def render(self) -> Content:
        self._content = self._build()
        return self._content

    def _changed(self) -> None:
        """A shown value changed: repaint the cells that differ from the screen, if any."""
        old = self._content
        if old is None or not self.is_mounted:
            self.refresh()
            return
        content = self._build()
        if content.plain == old.plain and content.spans == old.spans:
            return
        self._content = content
        self.redraws += 1
        regions = changed_regions(old, content)
        self.repainted_cells += sum(region.area for region in regions)
        self.refresh(*regions)

    def watch_engine(self) -> None:
        self._changed()

    def watch_overall(self) -> None:
        self._changed()

    def watch_last_refresh(self) -> None:
        self._changed()

    def watch_now(self) -> None:
        self._changed()

    def watch_paused(self) -> None:
        self._changed()

    def watch_interval(self) -> None:
        self._changed()

    def watch_share(self) -> None:
        self._changed()

    def watch_clock_offset(self) -> None:
        self._changed()

    def watch_clock_rate(self) -> None:
        self._changed()

    def watch_ranking(self) -> None:
        self._changed()

    def watch_audit(self) -> None:
        self._changed()

    def watch_replay(self) -> None:
        self._changed()

    def _build(self) -> Content:
        """The line at the current width (the fullest form that fits)."""
        marker, style = OVERALL_STYLES.get(self.overall.label, ("?", "$warning"))
        badge = Content.styled(f" {marker} {self.overall.label} ", f"bold $text on {style}")
        width = self.size.width
        # Narrow terminals lose the least useful parts first; PAUSED and the age of the
        # data stay: they say whether what is on screen can be trusted.
        left = self._left(detail=3)
        for detail in (2, 1, 0):
            if left.cell_length + badge.cell_length <= width:
                break
            left = self._left(detail=detail)
        gap = width - left.cell_length - badge.cell_length
        reason = safe_text(self.overall.reason, 200)
        if reason and gap >= 12:
            # Say why, as far as it fits: the badge alone does not tell what to fix.
            room = gap - 3
            if len(reason) > room:
                reason = reason[: room - 1] + "…"
            tail = Content.styled(f"│ {reason}", "$text-warning")
            return Content.assemble(left, tail, " " * (gap - tail.cell_length), badge)
        if gap >= 1:
            return Content.assemble(left, " " * gap, badge)
        return Content.assemble(badge, " ", left)

    def _left(self, *, detail: int) -> Content:
        """The left part: ``detail`` 3 is everything, 2 drops the engine version, 1 the poll
        interval too, 0 keeps only the engine, the clock (its offset or pace in short),
        the data age and PAUSED."""
        engine = self.engine
        parts: list[str | tuple[str, str] | Content] = []
        if detail:
            parts.append((" resync-tui ", "bold"))
        if self.replay:  # kept at every width: recorded data must not pass for live
            parts.append((f"│ {safe_text(self.replay, 40)} " if detail
                          else f" {safe_text(self.replay, 40)} ", "bold $text on $accent"))
        if engine is not None:
            name = engine.name or "engine"
            version = f"HWA {engine.version}" if engine.version and detail > 2 else ""
            plan = f" · plan {safe_text(engine.plan_id, 24)}" if detail else ""
            parts += ["│ " if detail else " ", (safe_text(name, 40 if detail else 20), "bold"),
                      f" · {safe_text(version, 32)}" if version else "", f"{plan} "]
        now = self.now
        if now is not None:
            parts.append(f"│ {now:%H:%M:%S} ")
            offset = self.clock_offset
            rate = self.clock_rate
            if offset is not None and abs(offset) >= CLOCK_OFFSET_SHOWN and detail:
                pace = "" if rate == 1.0 else f", runs {format_rate(rate)}"
                parts.append((f"(engine clock {format_offset(offset)}{pace}) ",
                              "$text-warning"))
            elif offset is not None and abs(offset) >= CLOCK_OFFSET_SHOWN:
                # Narrow: still said, shortly; the age beside it is on that clock.
                short = format_rate(rate) if rate != 1.0 else format_offset(offset)
                parts.append((f"({short}) ", "$text-warning"))
        if self.last_refresh is not None and now is not None:
            age = (now - self.last_refresh).total_seconds()
            shown = format_age(age)
            text = f"│ data {shown} old " if detail else f"│ {shown} old "
            stale = self.overall.label not in ("OK", "CONNECTING")
            parts.append((text, "$warning bold") if stale else text)
        elif now is not None and self.ranking:
            parts.append(f"│ ranking {self.ranking:,} jobs " if detail else "│ ranking ")
        elif now is not None:
            parts.append("│ no data yet ")
        if self.interval and detail > 1:
            parts.append(f"│ every {self.interval:g}s ")
        if self.share and detail:
            alone = not self.share.startswith("shared")
            parts.append((f"│ {self.share} ", "$warning") if alone else f"│ {self.share} ")
        if self.paused:
            parts.append(("│ ⏸ PAUSED ", "$warning bold"))
        if self.audit:  # kept at every width: an audit record not in Redis yet matters
            parts.append((f"│ audit: {safe_text(self.audit, 60)} ", "$warning bold"))
        return Content.assemble(*parts)
