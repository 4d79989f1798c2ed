"""The help screen: every key, what the panes mean, and how to read the states."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

__all__ = ["HELP_TEXT", "HelpScreen"]

HELP_TEXT = """\
# resync-tui

## Keys
| key | what it does |
|---|---|
| `?` | this help (Esc or `?` closes it) |
| `ctrl+p` | command palette: pause, refresh, interval, theme |
| `p` | pause / resume refreshing |
| `r` | refresh every pane now |
| `+` / `-` | poll the job list less / more often |
| `t` | switch between the dark and the light theme |
| `q` | quit |
| `1`…`5` | show jobs, breakers, cache, Redis, workstations (small terminals) |
| `Enter` | details of the job under the cursor (runs, dependencies, job log) |
| `/` `f` `a` | filter jobs by text, by status group, attention only |
| `n` | next failed job · `s` / `S` sort by column / reverse |

## Reading the screen
* The header's right end is the overall state: **OK**, **DEGRADED** (a breaker
  is not closed, Redis is down or a pane is stale), **ENGINE UNREACHABLE** or
  **CREDENTIALS REJECTED** (fix the user/password; it is never retried).
* A pane whose last refresh failed keeps its last data and says **STALE**, since
  when and why.
* Breakers: **CLOSED** (calls flow), **OPEN** (calls rejected until the next
  trial), **HALF-OPEN** (one trial call at a time). The bar line is the failure
  rate over the last two minutes, on a 0–100 % scale.
* Cache: hit rate of the in-memory level (L1) and of Redis (L2) over the last
  interval and since start.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP_TEXT)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
