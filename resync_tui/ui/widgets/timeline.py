"""The replay's timeline: where in the recording the dashboard is, and the keys to move."""

from __future__ import annotations

from datetime import datetime

import msgspec
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["ReplayTimeline", "TimelinePosition"]


class TimelinePosition(msgspec.Struct, frozen=True):
    """What the timeline shows (times as the recorded dashboard showed them)."""

    start: datetime
    end: datetime
    at: datetime
    playing: bool
    speed: float = 1.0


def _hms(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}"


class ReplayTimeline(Widget):
    """One line: play state, the moment shown, a bar from start to end, the keys."""

    DEFAULT_CSS = """
    ReplayTimeline {
        height: 1;
        background: $boost;
        color: $foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    position: reactive[TimelinePosition | None] = reactive(None)

    def render(self) -> Content:
        pos = self.position
        if pos is None:
            return Content("")
        mark = f" ▶ playing {pos.speed:g}× " if pos.playing else " ■ paused "
        head = Content.styled(mark, "bold")
        moment = Content.styled(f"{pos.at:%Y-%m-%d %H:%M:%S} │ ", "bold")
        keys = " │ space play/pause · ←/→ step · [/] ∓1 min · Home/End"
        span = (pos.end - pos.start).total_seconds()
        done = (pos.at - pos.start).total_seconds() / span if span > 0 else 1.0
        ends = (f"{_hms(pos.start)} ", f" {_hms(pos.end)}")
        fixed = head.cell_length + moment.cell_length + sum(map(len, ends))
        width = self.size.width
        room = width - fixed - len(keys)
        if room < 10:
            keys = ""
            room = width - fixed
        parts: list[Content | str | tuple[str, str]] = [head, moment]
        if room >= 5:
            filled = min(room - 1, max(0, round(done * (room - 1))))
            parts += [ends[0], ("━" * filled, "$accent"), ("●", "bold $accent"),
                      ("─" * (room - 1 - filled), "$foreground-muted"), ends[1]]
        parts.append((keys, "$foreground-muted"))
        return Content.assemble(*parts)
