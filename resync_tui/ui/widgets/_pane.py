"""What the side panes share: number formatting, a fixed-scale sparkline, the stale line."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import ClassVar, Final, Protocol

from textual.content import Content
from textual.widget import Widget

from resync_tui.feeds.status import FeedHealth
from resync_tui.model.overall import hms

__all__ = ["Pane", "spark", "stale_line"]

_BARS: Final = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int, maximum: float = 100.0) -> str:
    """A sparkline of the last ``width`` values on a fixed 0..maximum scale.

    Fixed scale on purpose: a blip of 2% must not look like 100%.
    """
    if width <= 0 or not values:
        return ""
    tail = values[-width:]
    top = len(_BARS) - 1
    chars = []
    for value in tail:
        ratio = 0.0 if maximum <= 0 else min(max(value / maximum, 0.0), 1.0)
        chars.append(_BARS[round(ratio * top)])
    return "".join(chars)


def stale_line(health: FeedHealth, width: int = 0, *,
               aged: bool = False) -> Content | None:
    """``⚠ STALE, data from 10:42:07 — <reason>`` when the feed's last poll failed.

    "from" is when the data still shown was read (the failure's own start is in the
    reason). Wrapped to ``width`` (when given): the reason is what the operator must
    read, an ellipsis would cut it.
    """
    if health.ok and not aged:
        return None
    reason = health.reason if not health.ok else "no new answer yet"
    last = health.last_success
    head = f"⚠ STALE, data from {hms(last)}" if last is not None else "⚠ NO DATA"
    if width <= 0:
        return Content.assemble((head, "$warning bold"), " — ", reason)
    rest = textwrap.wrap(f"{'x' * len(head)} — {reason}", width) or [""]
    first = rest[0][len(head):]
    return Content("\n").join([
        Content.assemble((head, "$warning bold"), first),
        *(Content(line) for line in rest[1:]),
    ])


class _FeedState(Protocol):
    @property
    def health(self) -> FeedHealth: ...


class Pane(Widget):
    """A bordered side pane; ``border_subtitle`` says STALE when its feed failed.

    Subclasses set ``PANE_TITLE``, declare a reactive ``state`` (a feed's state,
    which carries ``health``) and implement ``build()``. A new state is drawn only if what it shows
    differs from what is on screen (text and styles): over SSH every redraw costs
    bytes, and most polls change nothing visible.
    """

    DEFAULT_CSS = """
    Pane {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $warning;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    Pane.-stale { border: round $warning; }
    Pane:focus { border: round $accent; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._content: Content = Content("")
        self._shown: tuple[str, tuple[object, ...]] | None = None
        self._aged = False
        self.redraws = 0
        """How many times new content was drawn (tests and benches read it)."""

    PANE_TITLE: ClassVar[str] = ""

    def on_mount(self) -> None:
        self.border_title = self.PANE_TITLE
        self.show()

    def watch_state(self, state: _FeedState | None) -> None:
        """Every pane's ``state`` reactive lands here: mark stale, redraw if it shows."""
        if state is not None:
            self.mark_stale(state.health)
        self.show()

    def stale_lines(self, health: FeedHealth) -> list[Content]:
        """The stale line (wrapped to the pane), or nothing when the feed is healthy."""
        stale = stale_line(health, self.inner_width(), aged=self.aged)
        return [] if stale is None else [stale]

    @property
    def aged(self) -> bool:
        """The last poll was good but its answer is old (the next one hangs)."""
        return self._aged

    def set_aged(self, aged: bool) -> None:
        """Judged by the dashboard each second: data older than a few intervals is stale
        even when no poll failed yet, and must not look healthy meanwhile."""
        if aged != self._aged:
            self._aged = aged
            state = getattr(self, "state", None)
            health = getattr(state, "health", None)
            if isinstance(health, FeedHealth):
                self.mark_stale(health)
            self.show()

    @property
    def stale(self) -> bool:
        """What is shown is not a fresh reading (failed poll, or aged)."""
        state = getattr(self, "state", None)
        health = getattr(state, "health", None)
        return self._aged or (isinstance(health, FeedHealth) and not health.ok)

    def build(self) -> Content:
        raise NotImplementedError

    def show(self) -> None:
        """Rebuild; refresh only when the visible content changed."""
        content = self.build()
        key = (content.plain, tuple(content.spans))
        if key == self._shown:
            return
        lines_changed = self._content.plain.count("\n") != content.plain.count("\n")
        self._shown = key
        self._content = content
        self.redraws += 1
        self.refresh(layout=lines_changed)

    def render(self) -> Content:
        return self._content

    def on_resize(self) -> None:
        self.show()

    def mark_stale(self, health: FeedHealth) -> None:
        stale = not health.ok or self._aged
        self.set_class(stale, "-stale")
        self.border_subtitle = ("STALE" if health.has_data else "NO DATA") if stale else ""

    def inner_width(self) -> int:
        return max(self.content_size.width, 10)
