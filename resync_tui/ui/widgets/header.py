"""The top line: engine, plan, clock, age of the data and the overall state in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from resync_tui.feeds.breakers import BreakersState
from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.redis_health import RedisHealth
from resync_tui.feeds.status import FeedHealth
from resync_tui.ui.text import safe_text

__all__ = ["OVERALL_STYLES", "DashboardHeader", "Overall", "overall_status"]

OVERALL_STYLES: Final[dict[str, tuple[str, str]]] = {
    "OK": ("✔", "$success"),
    "DEGRADED": ("⚠", "$warning"),
    "ENGINE UNREACHABLE": ("✖", "$error"),
    "CREDENTIALS REJECTED": ("✖", "$error"),
    "CONNECTING": ("…", "$primary"),
}


@dataclass(frozen=True, slots=True)
class Overall:
    label: str
    """OK, DEGRADED, ENGINE UNREACHABLE, CREDENTIALS REJECTED or CONNECTING."""
    reason: str = ""


def overall_status(
    engine: FeedHealth | None,
    jobs: FeedHealth | None,
    workstations: FeedHealth | None,
    breakers: BreakersState | None,
    redis: RedisHealth | None,
) -> Overall:
    """The one state an operator reads first; every cause is named in ``reason``."""
    hwa = [h for h in (engine, jobs, workstations) if h is not None]
    for health in hwa:
        if not health.ok and health.kind == "credentials":
            return Overall("CREDENTIALS REJECTED", health.reason)
    if engine is not None and not engine.ok and engine.kind == "unreachable":
        return Overall("ENGINE UNREACHABLE", engine.reason)
    if jobs is not None and not jobs.ok and jobs.kind == "unreachable":
        return Overall("ENGINE UNREACHABLE", jobs.reason)
    if engine is None or jobs is None or (not jobs.has_data and jobs.ok):
        return Overall("CONNECTING")
    reasons: list[str] = [h.reason for h in hwa if not h.ok]
    if breakers is not None:
        reasons += [f"breaker {row.name} {row.state.replace('_', '-')}" for row in breakers.rows
                    if row.state not in ("closed", "disabled", "metrics_only")]
    if redis is not None and not redis.up and redis.health.polls:
        reasons.append("redis down")
    if reasons:
        return Overall("DEGRADED", "; ".join(reasons))
    return Overall("OK")


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


class DashboardHeader(Widget):
    """One line; the clock comes from ``clock`` so tests and screenshots can freeze it."""

    DEFAULT_CSS = """
    DashboardHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    engine: reactive[EngineState | None] = reactive(None)
    """Engine name, version and plan (None before the first answer)."""
    overall: reactive[Overall] = reactive(Overall("CONNECTING"))
    """The overall state shown on the right."""
    last_refresh: reactive[datetime | None] = reactive(None)
    """When the job list was last read successfully."""
    now: reactive[datetime | None] = reactive(None)
    """The displayed time (ticks once a second)."""
    paused: reactive[bool] = reactive(False)
    """Refresh paused by the operator."""
    interval: reactive[float] = reactive(0.0)
    """Seconds between job polls."""

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock

    def on_mount(self) -> None:
        self.now = self._clock()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self.now = self._clock().replace(microsecond=0)

    def render(self) -> Content:
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
        interval too, 0 keeps only the engine, the clock, the data age and PAUSED."""
        engine = self.engine
        parts: list[str | tuple[str, str] | Content] = []
        if detail:
            parts.append((" resync-tui ", "bold"))
        if engine is not None:
            name = engine.name or "engine"
            version = f" {engine.version}" if engine.version and detail > 2 else ""
            plan = f" · plan {safe_text(engine.plan_id, 24)}" if detail else ""
            parts += ["│ " if detail else " ", (safe_text(name, 40 if detail else 20), "bold"),
                      safe_text(version, 32), f"{plan} "]
        now = self.now
        if now is not None:
            parts.append(f"│ {now:%H:%M:%S} ")
        if self.last_refresh is not None and now is not None:
            age = (now - self.last_refresh).total_seconds()
            parts.append(f"│ data {_age(age)} old " if detail else f"│ {_age(age)} old ")
        elif now is not None:
            parts.append("│ no data yet ")
        if self.interval and detail > 1:
            parts.append(f"│ every {self.interval:g}s ")
        if self.paused:
            parts.append(("│ ⏸ PAUSED ", "$warning bold"))
        return Content.assemble(*parts)
