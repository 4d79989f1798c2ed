"""One action on the marked jobs: the confirmation that says it all, then the run.

``BulkActionScreen(rows, engine=..., require=..., max_bulk=...)`` says what will happen:
the engine, the action and its parameters, how many jobs, and each of them with its
current status (scrollable); the jobs whose status does not allow the action are listed
as skipped with the reason, and are not sent. The justification is asked as for one
job. Above ``max_bulk`` jobs Send opens :class:`CountConfirmScreen`, where the operator
types the count (Escape there sends nothing). It dismisses with a :class:`BulkChoice` or
None; it sends nothing itself.

``BulkProgressScreen`` shows the run the app drives (``feeds.actions.BulkRun``): a
progress bar, one line per job (done / refused: HTTP status and the engine's message /
outcome unknown), Escape or "Stop sending" stops sending the rest (what was sent stays
recorded), then Escape closes. Every string from the engine goes through ``safe_text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Log, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from resync_tui.audit import JobRef, Justification
from resync_tui.feeds.actions import (
    ACTIONS,
    DANGEROUS_ACTIONS,
    UNKNOWN_ADVICE,
    ActionRequest,
    ActionResult,
)
from resync_tui.model.job_row import JobRow
from resync_tui.ui.screens._justification import (
    FIELDS_CSS,
    JustificationFields,
    justification_params,
)
from resync_tui.ui.screens.confirm_action import ACTION_LABELS, action_option, why_not_allowed
from resync_tui.ui.text import safe_text

__all__ = ["BulkActionScreen", "BulkChoice", "BulkProgressScreen", "CountConfirmScreen",
           "describe_bulk_line"]

LISTED_MAX: Final = 1000
"""Jobs listed by name in the confirmation; beyond, a line says how many more."""


@dataclass(frozen=True)
class BulkChoice:
    """What the operator confirmed: the requests to send, the jobs skipped (with why)."""

    action: str
    requests: tuple[ActionRequest, ...]
    skipped: tuple[tuple[JobRow, str], ...]
    confirmed_count: int | None = None
    """The count typed in the second confirmation (above ``max_bulk``), else None."""


def _job_text(row: JobRow) -> str:
    return (f"{safe_text(row.stream, 40)} › {safe_text(row.job, 60)} @ "
            f"{safe_text(row.workstation, 24)}")


class BulkActionScreen(JustificationFields, ModalScreen[BulkChoice | None]):
    """Pick the action for every marked job, see who gets it and who is skipped, say why."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="bulk_action.cancel"),
    ]

    DEFAULT_CSS = """
    BulkActionScreen { align: center middle; }
    BulkActionScreen > VerticalScroll {
        width: 100%;
        max-width: 120;
        height: auto;
        max-height: 100%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    BulkActionScreen Static { height: auto; }
    BulkActionScreen #bulk-action-list { height: auto; max-height: 9; border: none; padding: 0; }
    BulkActionScreen #bulk-jobs {
        height: auto; max-height: 12; border-left: thick $panel; padding: 0 0 0 1;
    }
    BulkActionScreen #action-will { text-style: bold; }
    BulkActionScreen #action-why { color: $text-warning; }
    BulkActionScreen Horizontal { height: 1; align-horizontal: right; }
    BulkActionScreen Button { margin-left: 2; }
    BulkActionScreen {""" + FIELDS_CSS + """}
    """

    def __init__(self, rows: Sequence[JobRow], *, engine: str, require: Iterable[str] = (),
                 max_bulk: int = 500) -> None:
        super().__init__()
        self.rows = tuple(rows)
        self.engine = engine
        self.require = tuple(require)
        self.max_bulk = max_bulk
        counts = {a: self._sendable(a) for a in ACTIONS}
        best = max(ACTIONS, key=lambda a: (len(counts[a]) > 0, -ACTIONS.index(a)))
        self.action = best
        """The action highlighted in the menu (the first one some job allows)."""

    # -- who gets what -------------------------------------------------------------------

    def _sendable(self, action: str) -> list[JobRow]:
        return [r for r in self.rows if why_not_allowed(action, r.status, r.substatus) is None]

    def split(self, action: str | None = None) -> tuple[list[JobRow], list[tuple[JobRow, str]]]:
        """The jobs ``action`` is sent to, and those skipped with the reason."""
        action = action or self.action
        send: list[JobRow] = []
        skipped: list[tuple[JobRow, str]] = []
        for row in self.rows:
            reason = why_not_allowed(action, row.status, row.substatus)
            if reason is None:
                send.append(row)
            else:
                skipped.append((row, reason))
        return send, skipped

    def _menu_option(self, action: str) -> Option:
        """``⚠ kill   1 to send, 3 skipped · cannot be undone``; disabled when no job fits."""
        send = len(self._sendable(action))
        skipped = len(self.rows) - send
        dangerous = action in DANGEROUS_ACTIONS
        if not send:
            return action_option(action, ACTION_LABELS[action], "no marked job allows it",
                                 dangerous=dangerous)
        prompt = Text(no_wrap=True, overflow="ellipsis", end="")
        prompt.append("⚠ " if dangerous else "  ", style="bold")
        prompt.append(f"{ACTION_LABELS[action]:<25}")
        prompt.append(f"{send:,} to send" + (f", {skipped:,} skipped" if skipped else ""))
        if dangerous:
            prompt.append(" · cannot be undone", style="bold")
        return Option(prompt, id=action)

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = (f"Operator action on {len(self.rows):,} marked jobs · "
                                "Esc cancels, nothing is sent")
            yield Static(Text(f"engine  {safe_text(self.engine, 200)}", end=""),
                         id="action-engine")
            yield OptionList(*(self._menu_option(a) for a in ACTIONS),
                             id="bulk-action-list")
            with VerticalScroll(id="bulk-jobs"):
                yield Static("", id="bulk-jobs-list")
            yield Input(placeholder="priority (0-101; 100 = HI, 101 = GO)", id="action-priority",
                        restrict=r"[0-9]*", max_length=3, compact=True)
            yield from self.justification_inputs()
            yield Static("", id="action-will")
            yield Static("", id="action-why")
            with Horizontal():
                yield Button("Send", id="action-send", variant="warning", compact=True,
                             disabled=True)
                yield Button("Cancel", id="action-cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = ACTIONS.index(self.action)
        options.focus()
        self._update()

    def choice(self, confirmed_count: int | None = None) -> BulkChoice:
        """What Send would send now."""
        send, skipped = self.split()
        priority = self._value("priority")
        why = self.justification()
        value = int(priority) if self.action == "update-priority" and priority else None
        requests = tuple(ActionRequest(r.job_id, self.action, why, value,
                                       JobRef(r.job_id, r.job, r.stream, r.workstation))
                         for r in send)
        return BulkChoice(self.action, requests, tuple(skipped), confirmed_count)

    def blocked(self) -> str | None:
        """Why Send is disabled now (None: it is enabled)."""
        send, _skipped = self.split()
        if not send:
            return f"no marked job allows {ACTION_LABELS[self.action].rstrip('…')}"
        if self.action == "update-priority" and (problem := self.priority_problem()):
            return problem
        return self.missing_required()

    def _update(self) -> None:
        send, skipped = self.split()
        label = ACTION_LABELS[self.action].rstrip("…")
        lines = Text(no_wrap=True, overflow="ellipsis", end="")
        listed = 0
        for row in send:
            if listed >= LISTED_MAX:
                break
            lines.append(f"{'send':<6}{safe_text(row.status or '?', 8):<8}{_job_text(row)}\n")
            listed += 1
        for row, reason in skipped:
            if listed >= LISTED_MAX:
                break
            lines.append(f"{'skip':<6}{safe_text(row.status or '?', 8):<8}{_job_text(row)}",
                         style="dim")
            lines.append(f" — not sent: {reason}\n", style="italic")
            listed += 1
        if listed < len(self.rows):
            lines.append(f"… and {len(self.rows) - listed:,} more\n")
        lines.rstrip()
        self.query_one("#bulk-jobs-list", Static).update(lines)
        why = self.choice().requests[0].justification if send else Justification()
        params = [f"priority={self._value('priority')}"] if (
            self.action == "update-priority" and self._value("priority")) else []
        params += justification_params(why)
        danger = "  ⚠ cannot be undone" if self.action in DANGEROUS_ACTIONS else ""
        skip = f" ({len(skipped):,} skipped, not sent)" if skipped else ""
        cap = (f" · above actions.max_bulk ({self.max_bulk:,}): you will type the count"
               if len(send) > self.max_bulk else "")
        self.query_one("#action-will", Static).update(Text(
            f"will send: {label} to {len(send):,} jobs, one after the other{skip}{danger}"
            f"  ·  {', '.join(params) or 'no parameters'}{cap}", end=""))
        self.query_one("#action-priority").set_class(self.action == "update-priority",
                                                      "-shown")
        blocked = self.blocked()
        self.query_one("#action-why", Static).update(
            Text("" if blocked is None else f"Send is disabled: {blocked}", end=""))
        self.query_one("#action-send", Button).disabled = blocked is not None

    # -- events --------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#bulk-action-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.action = event.option.id
            self._update()

    @on(OptionList.OptionSelected, "#bulk-action-list")
    def _selected(self) -> None:
        target = "#action-priority" if self.action == "update-priority" else "#action-category"
        self.query_one(target, Input).focus()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._update()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#action-send")
    def _send(self) -> None:
        if self.blocked() is not None:
            return
        choice = self.choice()
        count = len(choice.requests)
        if count <= self.max_bulk:
            self.dismiss(choice)
            return

        def second(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(self.choice(confirmed_count=count))
            else:
                self.query_one("#action-why", Static).update(Text(
                    "count not confirmed: nothing sent", end=""))

        self.app.push_screen(CountConfirmScreen(
            ACTION_LABELS[self.action].rstrip("…"), count, self.max_bulk), second)

    @on(Button.Pressed, "#action-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CountConfirmScreen(ModalScreen[bool]):
    """The second confirmation above ``actions.max_bulk``: type the number of jobs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="bulk_count.cancel"),
    ]

    DEFAULT_CSS = """
    CountConfirmScreen { align: center middle; }
    CountConfirmScreen > Vertical {
        width: 100%; max-width: 72; height: auto; border: thick $error;
        background: $surface; padding: 0 1;
    }
    CountConfirmScreen Static { height: auto; }
    CountConfirmScreen Input.-textual-compact { padding: 0 1; margin: 1 0 0 0; }
    CountConfirmScreen Input.-textual-compact:focus { background-tint: $foreground 12%; }
    """

    def __init__(self, action: str, count: int, cap: int) -> None:
        super().__init__()
        self.action = action
        self.count = count
        self.cap = cap

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Second confirmation · Esc sends nothing"
            yield Static(Text(f"{self.action} on {self.count:,} jobs: more than "
                              f"actions.max_bulk ({self.cap:,}). Type {self.count} and "
                              "Enter to send.", end=""))
            yield Input(placeholder=f"type {self.count}", restrict=r"[0-9]*",
                        id="bulk-count", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#bulk-count")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() == str(self.count):
            self.dismiss(True)
        else:
            self.notify(f"type exactly {self.count} to send, or Esc", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(False)


def describe_bulk_line(result: ActionResult) -> str:
    """One job's outcome in the result list (engine strings made safe)."""
    request = result.request
    job = request.job
    name = (f"{safe_text(job.stream, 40)} › {safe_text(job.name, 60)}" if job and job.name
            else safe_text(request.job_id, 80))
    if result.result == "done":
        now = f": status now {safe_text(result.job.status or '?', 20)}" if result.job else ""
        return f"done     {name}{now}"
    if result.result == "refused":
        code = f"HTTP {result.status}" if result.status else "refused"
        return f"refused  {name}: {code}: {safe_text(result.message, 200)}"
    if result.result == "unknown":
        return f"unknown  {name}: {UNKNOWN_ADVICE}"
    return f"not sent {name}: {safe_text(result.message, 200)}"


class BulkProgressScreen(ModalScreen[None]):
    """The run as it goes: progress, one line per job, stop; Escape closes once over."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_close", "Stop / close", id="bulk_progress.stop"),
    ]

    DEFAULT_CSS = """
    BulkProgressScreen { align: center middle; }
    BulkProgressScreen > Vertical {
        width: 100%; max-width: 120; height: 100%; max-height: 40;
        border: round $warning; background: $surface; padding: 0 1;
    }
    BulkProgressScreen Static { height: auto; }
    BulkProgressScreen ProgressBar { height: 1; }
    BulkProgressScreen #bulk-summary { text-style: bold; }
    BulkProgressScreen Log { height: 1fr; }
    BulkProgressScreen Horizontal { height: 1; align-horizontal: right; }
    BulkProgressScreen Button { margin-left: 2; }
    """

    def __init__(self, title: str, total: int, skipped: Sequence[tuple[JobRow, str]] = (),
                 *, on_stop: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.total = total
        self.skipped = tuple(skipped)
        self.on_stop = on_stop
        self.counts = {"done": 0, "refused": 0, "unknown": 0, "not_sent": 0}
        self.finished = False
        self.stopping = False
        self.lines: list[str] = []
        """Every line of the result list, as shown (tests read it)."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = safe_text(self.title_text, 100)
            yield ProgressBar(total=self.total, show_eta=False, id="bulk-progress")
            yield Static("", id="bulk-summary")
            yield Log(id="bulk-results", auto_scroll=True)
            with Horizontal():
                yield Button("Stop sending", id="bulk-stop", variant="error", compact=True)

    def on_mount(self) -> None:
        self._summary()

    def _write(self, line: str) -> None:
        self.lines.append(line)
        self.query_one(Log).write_line(line)

    def _summary(self) -> None:
        c = self.counts
        sent = c["done"] + c["refused"] + c["unknown"] + c["not_sent"]
        state = ("finished" if self.finished
                 else "stopping after this job…" if self.stopping else "sending…")
        skipped = f" · {len(self.skipped):,} skipped" if self.skipped else ""
        self.query_one("#bulk-summary", Static).update(Text(
            f"{sent:,} of {self.total:,} · {c['done']:,} done · {c['refused']:,} refused · "
            f"{c['unknown']:,} unknown · {c['not_sent']:,} not sent{skipped} · {state}",
            end=""))

    def add_result(self, result: ActionResult) -> None:
        """One job's outcome (called by the app's worker, on the event loop)."""
        key = result.result if result.result in self.counts else "not_sent"
        self.counts[key] += 1
        self._write(describe_bulk_line(result))
        self.query_one(ProgressBar).advance(1)
        self._summary()

    def finish(self, stopped: str, unsent: Sequence[ActionRequest]) -> None:
        """The run is over: say why the rest was not sent, list the skipped jobs."""
        self.finished = True
        if stopped and unsent:
            self._write(f"— {safe_text(stopped, 120)}: {len(unsent):,} not sent —")
        for row, reason in self.skipped:
            self._write(f"skipped  {_job_text(row)}: not sent: {reason}")
        button = self.query_one("#bulk-stop", Button)
        button.label = "Close"
        button.variant = "primary"
        self._summary()

    def action_stop_or_close(self) -> None:
        if self.finished:
            self.dismiss(None)
            return
        if not self.stopping:
            self.stopping = True
            if self.on_stop is not None:
                self.on_stop()
            self._summary()

    @on(Button.Pressed, "#bulk-stop")
    def _button(self) -> None:
        self.action_stop_or_close()
