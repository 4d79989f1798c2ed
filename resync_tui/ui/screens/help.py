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
## Keys (the footer shows the main ones)
* `?` this help (Esc or `?` closes it) · `ctrl+p` command palette · `q` quit
* `p` pause / resume refreshing · `r` refresh every pane now
* `+` / `-` poll the job list less / more often · `t` dark / light theme
* `1`…`5` show jobs, breakers, cache, Redis, workstations (small terminals)

## Job list
* `↑` `↓` `PgUp` `PgDn` `Home` `End` move · `Enter` job details
* `n` next failed job · `/` filter by text (Enter keeps it, Esc clears it)
* `f` status group: all, failed, running, waiting, done · `a` attention only / all
* `s` sort by the next column · `S` reverse the sort · `o` back to attention order

## Job details
* `Esc` back · `l` job log · `r` reload · `Tab` / click to switch tabs

## Reading the screen
* The header's right end is the overall state: **OK**, **DEGRADED** (a breaker
  is not closed, Redis is down or a pane is stale), **ENGINE UNREACHABLE** or
  **CREDENTIALS REJECTED** (fix the user/password; it is never retried).
  **PAUSED** in the header: nothing is being refreshed.
* A pane whose last refresh failed keeps its last data and says **STALE**, since
  when and why; **NO DATA** when it never got any.
* Jobs first in the list need attention: failed, stuck, running late, held.
  `⚠` before a status means late or stuck; the status is always written out.
* Breakers: **CLOSED** (calls flow), **OPEN** (calls rejected until the next
  trial), **HALF-OPEN** (one trial call at a time). The bar line is the failure
  rate over the last two minutes, on a 0–100 % scale.
* Cache: hit rate of the in-memory level (L1) and of Redis (L2) over the last
  interval and since start. It holds workstations, engine info, job dependencies
  and finished job logs; the job list is always read live. L2 is shared by every
  dashboard on the same Redis, so a single dashboard sees few hits: that is normal.
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
        with VerticalScroll() as scroll:
            # The title lives in the border: on a 24-line terminal every row counts.
            scroll.border_title = "resync-tui help · ↑↓ scroll · Esc closes"
            yield Markdown(HELP_TEXT)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
