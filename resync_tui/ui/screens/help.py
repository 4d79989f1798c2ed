"""The help screen: every key, what the panes mean, and how to read the states."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from resync_tui.ui.keymap import effective_keys, keys_label

__all__ = ["ACTIONS_OFF", "ACTIONS_ON", "HELP_TEXT", "HelpScreen", "help_text"]

ACTIONS_ON = """\
* {jobs.actions} on the job list's cursor row or {job_detail.actions} in job details: \
the action menu (rerun, hold, release, cancel, kill, confirm SUCC / ABEND, release all \
dependencies, priority). ⚠ marks what cannot be undone; Send says exactly what goes to \
the engine, asks why, and is audited; Esc sends nothing
* marks: {jobs.mark} marks / unmarks the cursor's job (the cursor moves down) · \
{jobs.mark_all} marks every job of the current filter · {jobs.clear_marks} clears the \
marks; ◆ shows a marked row, the filter line says how many
* {jobs.actions} with marks: one action on every marked job; the jobs it does not fit \
are listed as skipped, not sent; above `actions.max_bulk` you type the count. Sent one \
job after the other, each audited, with a result per job; {bulk_progress.stop} stops \
sending the rest
* {job_detail.stream_actions} in job details: hold, release or cancel the job's job \
stream
* {workstations.actions} on the Workstations pane: link, unlink, start, stop, fence, \
limit (the value asked); the same confirmation, justification and audit"""
ACTIONS_OFF = """\
* read-only: actions are off. To act on jobs from here, set `[actions] enabled = true` \
in the settings file or `RESYNC_ACTIONS__ENABLED=true`"""

HELP_TEXT = """\
## Keys (the footer shows the main ones)
* {app.help} this help ({help.close} closes it) · `ctrl+p` command palette · {app.quit} quit
* {app.pause} pause / resume refreshing · {app.refresh} refresh every pane now · \
{app.alerts} alerts fired by the `[[alerts]]` rules ({alerts.acknowledge} acknowledges)
* {app.slower} / {app.faster} poll the job list less / more often · {app.theme} switch theme
* {dashboard.pane_jobs} jobs · {dashboard.pane_breakers} breakers · {dashboard.pane_cache} cache \
· {dashboard.pane_redis} Redis · {dashboard.pane_workstations} workstations (small terminals) \
· {dashboard.pane_streams} job streams · {dashboard.pane_critical} critical jobs \
({critical.open} opens the cursor's job)
* with several engines (`[engines.NAME]`): {app.engine} switch engine (type part of its \
name) · {app.engines} every engine on one screen (state, counts, data age)

## Job list
* {jobs.cursor_up} {jobs.cursor_down} {jobs.cursor_page_up} {jobs.cursor_page_down} \
{jobs.cursor_home} {jobs.cursor_end} move · {jobs.open} job details
* {jobs.next_failure} next failed job · {jobs.filter} filter (Enter keeps it, \
{jobs.clear_filter} clears it): words match names; terms `status=ABEND,FAIL` `ws=FTA_@` \
`stream=PAYROLL@` `job=@LOAD@` `folder=/FINANCE/` `rc>0` `group=failed`; `@` any \
characters, `!` negates, all must match
* {jobs.log} the job's log · {jobs.export} export the view to CSV / JSON · \
{jobs.copy_id} copy the job id · \
`ctrl+p` saved views ("View: NAME") and every pane and action by name
* {jobs.status_filter} status group: failed, stuck, running, waiting, cancelled, done, \
other, all · {jobs.attention_filter} attention only / all
* {jobs.sort} sort by the next column · {jobs.reverse_sort} reverse the sort · \
{jobs.attention} back to attention order
* ● new since you last looked: a job that failed, got stuck or passed its deadline \
after the dashboard started (the Jobs tab and the filter line say `N new`); it goes \
once its row was on screen a moment, the job opened, its alert acknowledged or it \
recovered · {jobs.clear_new} clears them all

## Job details
* {job_detail.close} back · {job_detail.log} job log · {job_detail.reload} reload · \
{job_detail.why_waiting} why waiting · `Tab` / click to switch tabs
* in the log: {job_detail.search} search · {job_log.next_match} / {job_log.previous_match} \
next / previous match · {job_log.next_error} / {job_log.previous_error} next / previous \
error line (`✖`) · {job_log.follow} follow a running job · {job_log.wrap} wrap · \
{job_log.save} save to a file

## Operator actions
{actions}

## Workstations
* {workstations.open} its jobs (the job filter set to `ws=NAME`) · {workstations.filter} \
filter ({workstations.clear_filter} clears it) · {workstations.sort} / \
{workstations.reverse_sort} / {workstations.attention} sort, reverse, trouble first

## Job streams
* {streams.open} the stream's jobs · {streams.filter} filter by text \
({streams.clear_filter} clears it) · {streams.sort} / {streams.reverse_sort} / \
{streams.attention} sort, reverse, worst job first · `↻` carried forward from the day before

## Audit trail
* {app.audit} (or "Audit trail" in the palette): every action recorded, newest first: \
time (UTC), who, action, job, outcome, why, latency · {audit.filter} filter · \
{audit.follow} follow on / off · {audit.close} back. Rows not in Redis yet say `spooled`
* The Redis pane shows the trail's health (records in the stream, last write, spool, \
drain errors); the header says `audit: 12 spooled` or `audit: drain failing`

## Reading the screen
* The header's right end says whether the view can be trusted: **OK**, **STALE**
  (the job list is older than two poll intervals: a poll hangs, or refresh is
  paused), **DEGRADED** (a breaker is not closed, Redis is down, a pane's last
  refresh failed, e.g. `workstations: engine not answering`, or records could not be
  read: `2 job records unreadable, not shown`), **ENGINE UNREACHABLE**
  (no read got an answer since the failure began), or **CREDENTIALS REJECTED** (the user
  and URL are named; nothing calls the engine again until `r`, or one try every
  `hwa.auth_retry_seconds`). Every reason says when the data shown was read.
* Times are the engine's: when its clock differs from this machine's by more than
  a few seconds, the header says `(engine clock +1h00m)`.
* A pane whose data is old keeps it and says **STALE, data from** when and why;
  **NO DATA** when it never got any. A stale pane never shows a green check.
* Jobs first in the list need attention: failed, stuck, running late, held.
  `⚠` before a status means late or stuck; the status is always written out.
  Every status is in one group; one this version does not know counts as `other`.
* Breakers: **CLOSED** (calls flow), **OPEN** (calls rejected until the next
  trial), **HALF-OPEN** (one trial call at a time); `⚠ CLOSED … failing` lets calls
  through only because too few were made to open it. The bar line is the failure
  rate over the last two minutes, on a 0–100 % scale.
* Cache: hit rates for what is read again (finished jobs' logs and details,
  dependency structure, engine info); job status is never cached.
"""
"""The help, ``{binding.id}`` standing for that binding's keys (filled from the live
bindings by :func:`help_text`, so a remapped key is written as remapped)."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")


def help_text(keys: Mapping[str, tuple[str, ...]], *, actions: bool = False) -> str:
    """:data:`HELP_TEXT` with each binding's keys (binding id -> keys) written in;
    ``actions``: whether the action keys are bound (else: how to enable them)."""
    def fill(match: re.Match[str]) -> str:
        found = keys.get(match[1], ())
        return keys_label(found) if found else "(no key)"

    text = HELP_TEXT.replace("{actions}", ACTIONS_ON if actions else ACTIONS_OFF)
    return _PLACEHOLDER.sub(fill, text)


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

    def __init__(self, keys: Mapping[str, tuple[str, ...]] | None = None, *,
                 actions: bool = False) -> None:
        """``keys``: each binding id's keys as the app has them (its keymap applied);
        None = the keys the code declares. ``actions``: operator actions enabled."""
        super().__init__()
        self.actions = actions
        self.keys = dict(keys) if keys is not None else effective_keys({})

    def compose(self) -> ComposeResult:
        close = self.keys.get("help.close", ())
        with VerticalScroll() as scroll:
            # The title lives in the border: on a 24-line terminal every row counts.
            scroll.border_title = (f"resync-tui help · ↑↓ scroll · "
                                   f"{keys_label(close[:1], code=False)} closes")
            yield Markdown(help_text(self.keys, actions=self.actions))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
