"""The NOC wall's widgets: the batch band, four large figures, the newest failures.

A wall is read across a room by people who are not at its keyboard: the batch's state
comes first and large (``FAILED``, ``STUCK``, ``LATE``, ``WS DOWN`` in a block font,
coloured by severity and, under ``NO_COLOR``, carried by bold and reverse video), the
newest failures next, the dashboard's own health small. Data that is not fresh never
looks healthy: the figures grey out and say from when they are, the band turns grey.
Each widget redraws only when what it shows changes (an idle wall writes next to
nothing to the terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from rich.align import Align
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Digits, Label, Static

from resync_tui.model.overall import BatchState, Overall
from resync_tui.model.status import severity_of, symbol_of
from resync_tui.model.wall import WallCounts, WallFailure
from resync_tui.ui.text import safe_text
from resync_tui.ui.widgets.header import OVERALL_STYLES

if TYPE_CHECKING:
    from textual.app import RenderResult

__all__ = ["FIGURES", "UNTRUSTED", "BigFigure", "WallFailures", "WallFigures", "WallState",
           "untrusted"]

UNTRUSTED: Final = frozenset({"STALE", "ENGINE UNREACHABLE", "CREDENTIALS REJECTED",
                              "CONNECTING"})
"""Overall states in which the figures are not being refreshed: shown greyed."""

FIGURES: Final = (("failed", "FAILED", "-bad"), ("stuck", "STUCK", "-warn"),
                  ("late", "LATE", "-bad"), ("ws", "WS DOWN", "-warn"))
"""(key, caption, class when above zero), left to right; ``#wall-KEY`` is the figure."""


def untrusted(overall: Overall) -> bool:
    """Whether the job figures on screen may be old (the wall greys them)."""
    return overall.label in UNTRUSTED


# A 3x5 font, each lit pixel two cells wide (terminal cells are about twice as tall as
# wide): 6x5 cells a digit, readable across a room.
_FONT: Final[dict[str, tuple[str, ...]]] = {
    "0": ("###", "# #", "# #", "# #", "###"),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"),
    "3": ("###", "  #", " ##", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"),
    "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"),
    "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"),
    "9": ("###", "# #", "###", "  #", "###"),
    ",": (" ", " ", " ", "#", "#"),
    "-": ("   ", "   ", "###", "   ", "   "),
    "?": ("###", "  #", " ##", "   ", " # "),
}
FONT_HEIGHT: Final = 5


def _glyphs(value: str) -> list[tuple[str, ...]]:
    return [_FONT.get(char, _FONT["?"]) for char in value]


def block_width(value: str, scale: int) -> int:
    """Cells ``value`` takes in the block font at ``scale`` (1 or 2 cells a pixel)."""
    glyphs = _glyphs(value)
    return sum(len(g[0]) * scale for g in glyphs) + max(len(glyphs) - 1, 0) * scale


def block_pixels(value: str, scale: int) -> list[list[tuple[bool, int]]]:
    """``value`` in the block font: per row, runs of (lit, cells)."""
    glyphs = _glyphs(value)
    rows: list[list[tuple[bool, int]]] = []
    for y in range(FONT_HEIGHT):
        line = " ".join(g[y] for g in glyphs)
        runs: list[tuple[bool, int]] = []
        for char in line:
            on = char == "#"
            if runs and runs[-1][0] == on:
                runs[-1] = (on, runs[-1][1] + scale)
            else:
                runs.append((on, scale))
        rows.append(runs)
    return rows


class BigFigure(Digits):
    """A number in a 5-row block font (a ``Digits``: ``value`` and ``update`` as there),
    as wide as its room allows: pixels two cells wide, else one, else plain bold text."""

    DEFAULT_CSS = """
    BigFigure { width: 100%; height: 5; }
    """

    def update(self, value: str) -> None:
        if value != self.value:  # judged every second: the same figure repaints nothing
            super().update(value)

    SCALES: Final = ((4, 2), (2, 1), (1, 1))
    """(cells, rows) a pixel takes, the largest first: the largest that fits is drawn."""

    def render(self) -> RenderResult:
        width = self.content_region.width or self.size.width
        height = self.content_region.height or self.size.height
        value = self.value
        style = self.rich_style
        # A lit pixel is a run of spaces on the figure's colour: exact in any terminal
        # font (and in the SVG snapshots), where block glyphs may come out narrower.
        lit = Style(bgcolor=style.color) if style.color is not None else Style(reverse=True)
        for scale, rows in self.SCALES:
            drawn = block_width(value, scale)
            if drawn > width or FONT_HEIGHT * rows > max(height, FONT_HEIGHT):
                continue
            text = Text(style=style, end="", no_wrap=True)
            left = (width - drawn) // 2
            right = width - drawn - left
            top = (height - FONT_HEIGHT * rows) // 2
            lines = [[(False, width)]] * top
            for row in block_pixels(value, scale):
                lines += [[(False, left), *row, (False, right)]] * rows
            for y, runs in enumerate(lines):
                if y:
                    text.append("\n")
                for on, run in runs:
                    text.append(" " * run, lit if on else None)
            return text
        return Align.center(Text(f"\n\n{value}", style=style, end=""), style=style)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return block_width(self.value, 2)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return FONT_HEIGHT  # the CSS may give more (``-tall``): the font then grows


class WallFigures(Horizontal):
    """Failed, stuck and late critical jobs and workstations down, large, named.

    Above zero a figure takes its severity's colour (failed and late: error; stuck and
    workstations down: warning), zero is calm; when the data may be old every figure is
    greyed and its caption says from when (``FAILED · data from 06:30:00``).
    """

    DEFAULT_CSS = """
    WallFigures { height: auto; display: none; padding: 1 0 0 0; }
    WallFigures > Vertical { width: 1fr; height: auto; }
    WallFigures.-tall BigFigure { height: 10; }
    WallFigures Label { width: 100%; text-align: center; text-style: bold; }
    WallFigures BigFigure { color: $success; }
    WallFigures .-bad { color: $error; text-style: bold; }
    WallFigures .-warn { color: $warning; text-style: bold; }
    WallFigures .-unknown { color: $text-muted; }
    WallFigures .-stale, WallFigures .-stale.-bad, WallFigures .-stale.-warn {
        color: $text-disabled; text-style: none;
    }
    WallFigures Label.-stale, WallFigures Label.-stale.-bad, WallFigures Label.-stale.-warn {
        color: $text-warning; text-style: bold;
    }
    /* NO_COLOR: greys cannot carry severity; the caption of a figure above zero is in
       reverse video, the figure at full contrast; old figures stay grey and say so. */
    WallFigures BigFigure:nocolor { color: $foreground; }
    WallFigures Label.-bad:nocolor, WallFigures Label.-warn:nocolor {
        color: $foreground; text-style: bold reverse;
    }
    WallFigures BigFigure.-stale:nocolor { color: $text-disabled; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._captions: dict[str, str] = {}
        self.workstations_down = 0
        """Workstations down in the last state published (the dashboard keeps it, wall or
        not: the batch band and the WS DOWN figure read it)."""

    def compose(self) -> ComposeResult:
        for key, caption, _bad in FIGURES:
            with Vertical(id=f"wall-cell-{key}"):
                yield Label(caption, id=f"wall-caption-{key}")
                yield BigFigure("-", id=f"wall-{key}")

    def show(self, counts: WallCounts, *, stale: bool, ws_stale: bool,
             data_from: datetime | None) -> None:
        """New figures; only what reads differently is redrawn."""
        if not self.is_mounted:
            return
        values = {"failed": counts.failed, "stuck": counts.stuck, "late": counts.late,
                  "ws": counts.workstations_down}
        since = f" · data from {data_from:%H:%M:%S}" if data_from is not None else ""
        for key, caption, bad in FIGURES:
            value = values[key]
            old = stale or (ws_stale and key == "ws")
            figure = self.query_one(f"#wall-{key}", BigFigure)
            figure.update("-" if value is None else f"{value:,}")
            label = self.query_one(f"#wall-caption-{key}", Label)
            text = f"{caption}{since}" if old and value is not None else caption
            if self._captions.get(key) != text:
                self._captions[key] = text
                label.update(text)
            for widget in (figure, label):
                widget.set_class(bool(value) and bad == "-bad", "-bad")
                widget.set_class(bool(value) and bad == "-warn", "-warn")
                widget.set_class(value is None, "-unknown")
                widget.set_class(old, "-stale")


class WallState(Static):
    """The batch's state as a full-width band, readable across a room.

    A NOC reads the band as the state of the batch, so it says failed and stuck jobs and
    workstations down; whether the dashboard's own data is fresh is the smaller second
    line (``data ✔ OK`` / ``data ⚠ STALE — …``), never the headline. Data that may be
    old turns the band grey: a green band must never stand over old figures.
    """

    DEFAULT_CSS = """
    WallState {
        display: none;
        height: 3;
        content-align: center middle;
        text-align: center;
        color: $text;
        background: $primary-muted;
        &.-ok { background: $success-muted; }
        &.-attention { background: $warning; }
        &.-failures { background: $error; }
        &.-stale { background: $panel; color: $text-muted; }
        &:nocolor { background: $panel; color: $foreground; }
        &.-failures:nocolor { text-style: reverse; }
    }
    """

    _shown: tuple[str, str] | None = None
    """(band, data line) last drawn."""

    def show(self, batch: BatchState, overall: Overall) -> None:
        marker = {"FAILURES": "✖", "ATTENTION": "⚠", "BATCH OK": "✔"}.get(batch.label, "…")
        head = f"{marker} {batch.label} — {batch.summary}"
        data_marker, _style = OVERALL_STYLES.get(overall.label, ("?", ""))
        tail = f"data {data_marker} {overall.label}"
        if overall.reason:
            tail += f" — {safe_text(overall.reason, 140)}"
        if (head, tail) != self._shown:  # judged every second; the same words repaint nothing
            self._shown = (head, tail)
            text = Text(end="")
            text.append(head, style="bold")
            text.append("\n")
            text.append(tail, style="bold reverse" if untrusted(overall) else "")
            self.update(text)
        stale = untrusted(overall)
        self.set_class(stale, "-stale")
        self.set_class(not stale and batch.label == "BATCH OK", "-ok")
        self.set_class(not stale and batch.label == "ATTENTION", "-attention")
        self.set_class(not stale and batch.label == "FAILURES", "-failures")


class WallFailures(Widget):
    """The newest failures, newest first, as many as fit: time, status, RC, job, stream,
    workstation; a blank line between two when the wall is tall enough to afford it."""

    DEFAULT_CSS = """
    WallFailures {
        width: 1fr;
        height: 1fr;
        display: none;
        border: round $error 60%;
        border-title-style: bold;
        border-title-color: $text;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        &.-none { border: round $success 60%; }
        &.-stale { border: round $panel; color: $text-muted; }
    }
    """

    SPACED_MIN_HEIGHT: Final = 24
    """From this many rows of room on, failures are double-spaced (easier from afar)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._failures: tuple[WallFailure, ...] = ()
        self._failed = 0
        self._stale = False
        self.border_title = "NEWEST FAILURES"

    @property
    def failures(self) -> tuple[WallFailure, ...]:
        return self._failures

    def show(self, failures: Sequence[WallFailure], failed: int | None, *, stale: bool) -> None:
        """The newest failures (more than fit is fine) and how many jobs failed in all."""
        failures = tuple(failures)
        count = failed or 0
        if (failures, count, stale) == (self._failures, self._failed, self._stale):
            return  # nothing new: no repaint
        self._failures, self._failed, self._stale = failures, count, stale
        title = "NEWEST FAILURES" if count else "FAILURES"
        if count:
            title += f" · {count:,} failed job{'s' if count != 1 else ''}, newest first"
        self.border_title = title
        self.set_class(not count, "-none")
        self.set_class(stale, "-stale")
        self.refresh()

    def render(self) -> RenderResult:
        height = self.content_region.height
        width = self.content_region.width
        if not self._failures:
            return Content.styled("✔ no failed job", "bold $text-success")
        spaced = height >= self.SPACED_MIN_HEIGHT
        step = 2 if spaced else 1
        shown = self._failures[: max((height + step - 1) // step, 0)]
        columns = self._columns(shown, width)
        lines: list[Content] = []
        for failure in shown:
            lines.append(self._line(failure, columns))
            if spaced:
                lines.append(Content(""))
        return Content("\n").join(lines[:height])

    @staticmethod
    def _columns(shown: Sequence[WallFailure], width: int) -> tuple[str, int, int, int]:
        """(time format, job, stream, workstation widths): the job in full as far as it
        fits, then the stream, then the workstation; seconds go when room is short."""
        clock = "%H:%M:%S" if width >= 90 else "%H:%M"
        fixed = len(clock) + 2 + 8 + 2 + 6 + 2  # time, status, RC and their gaps
        room = width - fixed
        job = min(max((len(safe_text(f.job, 64)) for f in shown), default=0), 32, room)
        room -= job + 3
        stream = min(max((len(safe_text(f.stream, 64)) for f in shown), default=0), 24, room)
        if stream < 6:
            stream = 0
        room -= stream + 2
        ws = min(max((len(safe_text(f.workstation, 64)) + 3 for f in shown), default=0), room)
        return clock, job, stream, ws if ws >= 6 else 0

    def _line(self, failure: WallFailure, columns: tuple[str, int, int, int]) -> Content:
        """``05:41:25  ✖ ABEND  RC 4    JOB  STREAM  on WORKSTATION``, in columns."""
        clock, job_w, stream_w, ws_w = columns
        severity = severity_of(failure.status)
        status_style = "bold $text-error" if severity == "failed" else "bold $text-warning"
        if self._stale:
            status_style = "bold"
        blank = "--:--:--" if len(clock) > 5 else "--:--"
        when = f"{failure.at:{clock}}" if failure.at is not None else blank
        rc = f"RC {failure.return_code}" if failure.return_code is not None else ""
        status = f"{symbol_of(failure.status)} {safe_text(failure.status, 8)}"
        parts: list[tuple[str, str] | str] = [
            (when, "bold"), "  ", (f"{status:<8}", status_style), "  ", f"{rc:<6}", "  ",
            (_cut(failure.job, job_w).ljust(job_w), "bold")]
        if stream_w:
            parts += ["   ", _cut(failure.stream, stream_w).ljust(stream_w)]
        if ws_w:
            parts += ["  ", _cut(f"on {failure.workstation}", ws_w)]
        return Content.assemble(*parts)


def _cut(value: str, width: int) -> str:
    text = safe_text(value, 200)
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
