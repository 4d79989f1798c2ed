"""What the side panes share: number formatting, a fixed-scale sparkline, the stale line."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import ClassVar, Final, Protocol

from rich.cells import cell_len
from textual.app import RenderResult
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from resync_tui.feeds.status import FeedHealth
from resync_tui.model.overall import hms

__all__ = ["CappedText", "Pane", "changed_regions", "changed_span", "spark", "stale_line"]

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


class CappedText(Static):
    """Text wrapped to the widget's width and held to ``max_lines``, the cut shown.

    A pane's stale line sits in a few rows: a long reason ("credentials rejected ...
    for user demo at <url>: not calling it again until r is pressed", as it said then)
    wrapped past them was cut by the pane's height mid-sentence, and the last word read
    as the message ("...: not"). Here the last line kept ends in "…": the operator sees
    that there is more (the log has the whole reason).
    """

    def __init__(self, content: Content | str = "", *, max_lines: int = 3,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(content, id=id, classes=classes, markup=False)
        self.max_lines = max_lines

    def render(self) -> RenderResult:
        visual = self.visual
        width = self.content_region.width or self.size.width
        if not isinstance(visual, Content) or width <= 1:
            return visual
        lines = visual.wrap(width)
        if len(lines) <= self.max_lines:
            return visual
        kept = lines[: self.max_lines]
        last = kept[-1].rstrip()
        if last.cell_length > width - 1:
            last = last.truncate(width - 1)
        kept[-1] = last + "…"
        return Content("\n").join(kept)


_Cell = tuple[str, tuple[object, ...]]


def _cells(line: Content) -> list[_Cell]:
    """One (character, styles) per terminal cell; a wide character's second cell is ""."""
    text = line.plain
    styles: list[list[object]] = [[] for _ in text]
    for span in line.spans:
        for index in range(span.start, min(span.end, len(text))):
            styles[index].append(span.style)
    cells: list[_Cell] = []
    for char, style in zip(text, styles, strict=True):
        key = tuple(style)
        cells.append((char, key))
        cells.extend(("", key) for _ in range(cell_len(char) - 1))
    return cells


def changed_span(before: Sequence[object], after: Sequence[object]) -> tuple[int, int] | None:
    """(first, end) of the cells that differ between two lines of cells, or None.

    One span per line, not one per changed run: Textual writes a partial update of a line
    from the left edge of the widget to the span's end, so two spans on a line cost more
    than the one that covers both.
    """
    common = min(len(before), len(after))
    first = next((x for x in range(common) if before[x] != after[x]), common)
    if len(before) != len(after):
        return first, max(len(before), len(after))  # the longer one's tail is new cells
    if first == common:
        return None
    end = common
    while end > first and before[end - 1] == after[end - 1]:
        end -= 1
    return first, end


def changed_regions(old: Content, new: Content) -> list[Region]:
    """The cells where ``new`` differs from ``old`` (same number of lines), one region
    per changed line.

    A clock that ticks is then a few cells, not a line, and a pane where one figure
    changed repaints that figure, not its box: over SSH every cell written costs bytes.
    """
    regions: list[Region] = []
    for y, (old_line, new_line) in enumerate(
            zip(old.split("\n"), new.split("\n"), strict=False)):
        if old_line.plain == new_line.plain and old_line.spans == new_line.spans:
            continue
        span = changed_span(_cells(old_line), _cells(new_line))
        if span is not None:
            regions.append(Region(span[0], y, span[1] - span[0], 1))
    return regions


def _hidden(widget: Widget) -> bool:
    """Whether the widget or a container of it is ``display: none`` (never painted)."""
    return any(not node.display for node in widget.ancestors_with_self
               if isinstance(node, Widget))


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
        self.repainted_cells = 0
        """Cells marked for repaint by partial redraws (tests and benches read it)."""

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
        """Rebuild; refresh only the cells whose content changed (nothing if none did).

        A new line count changes the pane's height: then the whole pane is laid out again.
        """
        content = self.build()
        key = (content.plain, tuple(content.spans))
        if key == self._shown:
            return
        old = self._content
        lines_changed = old.plain.count("\n") != content.plain.count("\n")
        self._shown = key
        self._content = content
        self.redraws += 1
        if lines_changed or not self.is_mounted:
            self.refresh(layout=lines_changed)
            if lines_changed and self.is_mounted:
                self.call_after_refresh(self._check_height, 3)
            return
        if _hidden(self):
            # Textual keeps a widget's repaint regions until it paints it: a pane hidden
            # behind another tab would keep one per changed figure per poll. A whole
            # refresh replaces them (nothing is sent while hidden; shown, it is redrawn).
            self.refresh()
            return
        regions = changed_regions(old, content)
        self.repainted_cells += sum(region.area for region in regions)
        if regions:
            self.refresh(*regions)

    def render(self) -> Content:
        return self._content

    def _check_height(self, tries: int) -> None:
        """After the frame that should have grown or shrunk the pane: if its height is
        not its line count, ask for the layout again. Under load a pane could stay at its
        old height, its new last lines cut off with nothing to say so (the Redis pane at
        2 of its 6 lines, until something else laid the column out again)."""
        if self.styles.height is None or not self.styles.height.is_auto:
            return
        if self.styles.max_height is not None or self.styles.min_height is not None:
            return  # a height the content does not set alone
        wanted = self._content.plain.count("\n") + 1
        if self.size.height and self.size.height != wanted and tries > 0:
            self.clear_cached_dimensions()
            self.refresh(layout=True)
            self.call_after_refresh(self._check_height, tries - 1)

    def on_resize(self) -> None:
        self.show()

    def mark_stale(self, health: FeedHealth) -> None:
        """Border and subtitle say STALE; set only on a change (setting the subtitle
        repaints the whole box, even to the same text)."""
        stale = not health.ok or self._aged
        self.set_class(stale, "-stale")
        subtitle = ("STALE" if health.has_data else "NO DATA") if stale else ""
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

    def inner_width(self) -> int:
        return max(self.content_size.width, 10)
