"""Several engines: the overview of every engine (``O``) and the switcher (``:``).

Both render the :class:`~resync_tui.feeds.engines.EnginesState` the app's engines
feed publishes (the check's cheap count read of each engine, never a plan read) and
return the name of the engine picked; the app does the switching. Names, URLs and
reasons come from settings or the engine and go through ``safe_text`` into plain
``Text`` (never parsed as markup).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from resync_tui.feeds.engines import EnginesState, EngineSummary
from resync_tui.model.status import GroupName
from resync_tui.ui.format import format_age
from resync_tui.ui.text import plain_text, safe_text

__all__ = ["EngineSwitcher", "EnginesScreen", "state_style"]

_STATE_STYLES: Final = {
    "OK": "bold green", "STALE": "bold yellow", "CONNECTING": "bold",
    "UNREACHABLE": "bold red", "CREDENTIALS REJECTED": "bold red", "ERROR": "bold red"}
_MARKS: Final = {"OK": "✔", "STALE": "⚠", "CONNECTING": "…", "UNREACHABLE": "✖",
                 "CREDENTIALS REJECTED": "✖", "ERROR": "✖"}
_COLUMNS: Final[tuple[tuple[str, GroupName], ...]] = (
    ("failed", "failed"), ("stuck", "stuck"), ("running", "running"),
    ("waiting", "waiting"), ("done", "done"))


def state_style(state: str) -> str:
    """The style of an engine's state word (a symbol goes with it: never colour alone)."""
    return _STATE_STYLES.get(state, "bold")


def _state_text(engine: EngineSummary) -> Text:
    return Text(f"{_MARKS.get(engine.state, '?')} {engine.state}",
                style=state_style(engine.state), end="")


def _age(engine: EngineSummary) -> str:
    return "-" if engine.age is None else format_age(engine.age)


def _count(engine: EngineSummary, group: GroupName) -> Text:
    if not engine.health.has_data:
        return Text("-", end="")
    value = engine.groups.get(group, 0)
    style = "bold red" if group == "failed" and value else ""
    return Text(f"{value:,}", style=style, end="")


class EnginesScreen(ModalScreen[str | None]):
    """Every engine on one screen: state, counts by group, data age; Enter switches."""

    DEFAULT_CSS = """
    EnginesScreen { align: center middle; }
    EnginesScreen > Vertical {
        width: 96%; height: auto; max-height: 90%; border: round $primary;
        background: $surface; border-title-color: $primary;
    }
    EnginesScreen #engines-note { padding: 1 1 0 1; color: $text-muted; }
    EnginesScreen DataTable { height: auto; max-height: 30; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="engines.close"),
    ]

    def __init__(self, state: EnginesState | None) -> None:
        super().__init__()
        self.state = state
        self._ready = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Engines · Enter switches · Esc closes"
            yield DataTable(id="engines-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="engines-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(" ", "Engine", "State", *(label for label, _ in _COLUMNS),
                          "jobs", "age", "URL · why")
        self._ready = True
        self.show(self.state)
        table.focus()

    def show(self, state: EnginesState | None) -> None:
        """A new reading of the engines: the rows again, the cursor kept on its engine."""
        self.state = state
        if not self._ready:  # on_mount draws it
            return
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        engines = state.engines if state is not None else ()
        for engine in engines:
            detail = engine.reason or engine.url
            table.add_row(
                Text("▶" if engine.shown else " ", style="bold", end=""),
                Text(safe_text(engine.name, 32), style="bold" if engine.shown else "", end=""),
                _state_text(engine),
                *(_count(engine, group) for _, group in _COLUMNS),
                Text(f"{engine.total:,}" if engine.health.has_data else "-", end=""),
                Text(_age(engine), end=""),
                plain_text(detail, max_len=120),
                key=engine.name)
        if engines:
            table.move_cursor(row=min(cursor, len(engines) - 1))
        note = self.query_one("#engines-note", Static)
        note.update(Text(
            "counts from GET /plan/job/count on each engine (no plan read); ages on each "
            "engine's clock; ▶ the engine shown" if engines else "reading the engines …",
            end=""))

    @on(DataTable.RowSelected)
    def _picked(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None:
            self.dismiss(key)

    def action_close(self) -> None:
        self.dismiss(None)


class EngineSwitcher(ModalScreen[str | None]):
    """``:`` like k9s contexts: type part of a name, Enter picks the highlighted engine."""

    DEFAULT_CSS = """
    EngineSwitcher { align: center top; }
    EngineSwitcher > Vertical {
        width: 70; max-width: 96%; height: auto; max-height: 80%; margin-top: 2;
        border: round $primary; background: $surface; border-title-color: $primary;
    }
    EngineSwitcher OptionList { height: auto; max-height: 16; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="switcher.close"),
        Binding("down", "cursor(1)", "Next", show=False, id="switcher.down"),
        Binding("up", "cursor(-1)", "Previous", show=False, id="switcher.up"),
    ]

    def __init__(self, names: Sequence[str], state: Callable[[], EnginesState | None],
                 shown: str) -> None:
        super().__init__()
        self._names = tuple(names)
        self._state = state
        self._shown = shown
        self._matches: tuple[str, ...] = self._names

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Engine · type a name · Enter switches · Esc closes"
            yield Input(placeholder="engine name", id="switcher-input")
            yield OptionList(id="switcher-list")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def matches(self, text: str) -> tuple[str, ...]:
        """Names holding ``text`` (ignoring case), those starting with it first."""
        wanted = text.strip().lower()
        hits = [n for n in self._names if wanted in n.lower()]
        return tuple(sorted(hits, key=lambda n: not n.lower().startswith(wanted)))

    def _fill(self, text: str) -> None:
        state = self._state()
        options = self.query_one(OptionList)
        options.clear_options()
        self._matches = self.matches(text)
        for name in self._matches:
            row = state.get(name) if state is not None else None
            label = Text(f"{'▶' if name == self._shown else ' '} {safe_text(name, 32):<20}",
                         end="")
            if row is not None:
                label.append(f"{_MARKS.get(row.state, '?')} {row.state}",
                             style=state_style(row.state))
                if row.health.has_data:
                    label.append(f"  {row.failed:,} failed · {row.total:,} jobs")
            options.add_option(Option(label, id=name))
        if self._matches:
            options.highlighted = 0

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if self._matches and index is not None:
            self.dismiss(self._matches[index])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(event.option.id)

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self._matches:
            current = options.highlighted or 0
            options.highlighted = (current + step) % len(self._matches)

    def action_close(self) -> None:
        self.dismiss(None)
