"""The action menu and its confirmation: one operator action on one job, said in full.

``ConfirmActionScreen(job, engine=..., require=...)`` lists every action on the job
(those the job's status does not allow are shown disabled, with the reason; the ones
that cannot be undone are marked ⚠), says exactly what will be sent (engine, job and
its status, action, parameters) and asks for the justification. Send stays disabled,
with the reason written beside it, until the action is allowed and the fields of
``actions.require`` are filled. The screen dismisses with the :class:`ActionRequest`
to send, or None (Escape, Cancel): it sends nothing itself.

``StreamActionScreen(job, stream, engine=..., require=...)`` is the same menu for the
job's job stream (hold, release, cancel; ⚠ cancel), opened from the job detail; its
request has ``target="jobstream"``. ``WorkstationActionScreen(row, engine=..., require=...)``
is the menu of one workstation of the Workstations pane (link, unlink, start, stop, fence
and limit, the last two with the value asked; ⚠ unlink and stop: its jobs stop being
launched); its request has ``target="workstation"``. The bulk menu is
``ui/screens/bulk_action.py``.

The status table here is advice for the operator, not a rule: the engine stays the
judge, and its refusal is shown as it gave it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from resync_tui.audit import JobRef
from resync_tui.feeds.actions import (
    ACTIONS,
    DANGEROUS_ACTIONS,
    STREAM_ACTIONS,
    WS_ACTIONS,
    WS_VALUE_RANGE,
    ActionRequest,
)
from resync_tui.feeds.workstations import WorkstationRow
from resync_tui.model.job_row import JobRow
from resync_tui.ui.action_requests import (
    ACTION_LABELS,
    STREAM_ACTION_LABELS,
    WORKSTATION_ACTION_LABELS,
    ActionsRequested,
    BulkActionsRequested,
    StreamActionsRequested,
    StreamRef,
    action_label,
    why_not_allowed,
)
from resync_tui.ui.screens._justification import (
    FIELDS_CSS,
    JustificationFields,
    justification_params,
)
from resync_tui.ui.text import safe_text

__all__ = [
    "ACTION_LABELS",
    "STREAM_ACTION_LABELS",
    "WORKSTATION_ACTION_LABELS",
    "ActionsRequested",
    "BulkActionsRequested",
    "ConfirmActionScreen",
    "StreamActionScreen",
    "StreamActionsRequested",
    "StreamRef",
    "WorkstationActionScreen",
    "action_label",
    "action_option",
    "why_not_allowed",
]

_WS_DANGER: Final = "its jobs stop being launched"


def action_option(action: str, label: str, reason: str | None, *, dangerous: bool,
                  danger: str = "cannot be undone") -> Option:
    """One line of an action menu: ⚠ and ``danger`` for a dangerous one, "not now: why" if
    disabled."""
    prompt = Text(no_wrap=True, overflow="ellipsis", end="")
    prompt.append("⚠ " if dangerous else "  ", style="bold")
    prompt.append(f"{label:<25}")
    if reason is not None:
        prompt.append(f"not now: {reason}", style="italic")
    elif dangerous:
        prompt.append(danger, style="bold")
    return Option(prompt, id=action, disabled=reason is not None)


class ConfirmActionScreen(JustificationFields, ModalScreen[ActionRequest | None]):
    """Pick the action, say why, see what will be sent; Send or Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm_action.cancel"),
    ]

    DEFAULT_CSS = """
    ConfirmActionScreen { align: center middle; }
    ConfirmActionScreen > VerticalScroll {
        width: 100%;
        max-width: 110;
        height: auto;
        max-height: 100%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    ConfirmActionScreen Static { height: auto; }
    ConfirmActionScreen #action-list { height: auto; max-height: 9; border: none; padding: 0; }
    ConfirmActionScreen #action-will { text-style: bold; }
    ConfirmActionScreen #action-why { color: $text-warning; }
    ConfirmActionScreen Horizontal { height: 1; align-horizontal: right; }
    ConfirmActionScreen Button { margin-left: 2; }
    ConfirmActionScreen {""" + FIELDS_CSS + """}
    """

    def __init__(self, job: JobRow, *, engine: str, require: Iterable[str] = ()) -> None:
        super().__init__()
        self.job = job
        self.engine = engine
        self.require = tuple(require)
        first = [a for a in self.offered if self.reason(a) is None]
        self.action = first[0] if first else self.offered[0]
        """The action highlighted in the menu."""

    # -- what the menu is about (StreamActionScreen says it of the job stream) -----------

    offered: tuple[str, ...] = ACTIONS
    """The actions of the menu, in order."""
    target = "job"
    """``ActionRequest.target`` of what Send sends."""

    def label(self, action: str) -> str:
        return ACTION_LABELS[action]

    def reason(self, action: str) -> str | None:
        """Why ``action`` is not offered now (None: it is)."""
        return why_not_allowed(action, self.job.status, self.job.substatus)

    def dangerous(self, action: str) -> bool:
        prefix = "" if self.target == "job" else f"{self.target}-"
        return f"{prefix}{action}" in DANGEROUS_ACTIONS

    def danger(self, action: str) -> str:
        """What the operator is warned of for a dangerous action."""
        return "cannot be undone"

    def takes_value(self, action: str) -> bool:
        """Whether ``action`` asks a value (in the ``#action-priority`` field)."""
        return action == "update-priority"

    def value_hint(self, action: str) -> str:
        return "priority (0-101; 100 = HI, 101 = GO)"

    def target_line(self) -> Text:
        job = self.job
        return Text(f"job     {safe_text(job.stream, 80)} › {safe_text(job.job, 80)}"
                    f" @ {safe_text(job.workstation, 40)}  (id {safe_text(job.job_id, 80)})"
                    f"  status {safe_text(job.status or '?', 20)}", end="")

    def target_name(self) -> str:
        return safe_text(self.job.job, 80)


    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Operator action · Esc cancels, nothing is sent"
            yield Static(Text(f"engine  {safe_text(self.engine, 200)}", end=""),
                         id="action-engine")
            yield Static(self.target_line(), id="action-job")
            yield OptionList(*(action_option(a, self.label(a), self.reason(a),
                                             dangerous=self.dangerous(a),
                                             danger=self.danger(a))
                               for a in self.offered), id="action-list")
            yield Input(placeholder=self.value_hint(self.action), id="action-priority",
                        restrict=r"[0-9]*", max_length=4, compact=True)
            yield from self.justification_inputs()
            yield Static("", id="action-will")
            yield Static("", id="action-why")
            with Horizontal():
                yield Button("Send", id="action-send", variant="warning", compact=True,
                             disabled=True)
                yield Button("Cancel", id="action-cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.offered.index(self.action)
        options.focus()
        self._update()

    # -- what will be sent ---------------------------------------------------------------

    def request(self) -> ActionRequest:
        """The request Send would send now."""
        job = self.job
        priority = self._value("priority")
        return ActionRequest(
            job.job_id, self.action, self.justification(),
            int(priority) if self.action == "update-priority" and priority else None,
            JobRef(job.job_id, job.job, job.stream, job.workstation))

    def blocked(self) -> str | None:
        """Why Send is disabled now (None: it is enabled)."""
        reason = self.reason(self.action)
        if reason is not None:
            return f"{self.label(self.action)} is not possible in status " \
                   f"{safe_text(self.job.status or '?', 20)}: {reason}"
        if self.action == "update-priority" and (problem := self.priority_problem()):
            return problem
        return self.missing_required()

    def _update(self) -> None:
        request = self.request()
        danger = f"  ⚠ {self.danger(self.action)}" if self.dangerous(self.action) else ""
        params = [f"{name}={value}" for name, value in request.parameters.items()]
        params += justification_params(request.justification)
        self.query_one("#action-will", Static).update(Text(
            f"will send: {self.label(self.action).rstrip('…')} on "
            f"{self.target_name()}{danger}  ·  {', '.join(params) or 'no parameters'}",
            end=""))
        value_field = self.query_one("#action-priority", Input)
        value_field.set_class(self.takes_value(self.action), "-shown")
        value_field.placeholder = self.value_hint(self.action)
        reason = self.blocked()
        self.query_one("#action-why", Static).update(
            Text("" if reason is None else f"Send is disabled: {reason}", end=""))
        self.query_one("#action-send", Button).disabled = reason is not None

    @on(OptionList.OptionHighlighted, "#action-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.action = event.option.id
            self._update()

    @on(OptionList.OptionSelected, "#action-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an action: on to its first field."""
        target = "#action-priority" if self.takes_value(self.action) else "#action-category"
        self.query_one(target, Input).focus()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._update()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#action-send")
    def _send(self) -> None:
        if self.blocked() is None:
            self.dismiss(self.request())

    @on(Button.Pressed, "#action-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StreamActionScreen(ConfirmActionScreen):
    """Hold, release or cancel the job stream of ``job`` (``plan/jobstream/{id}/action/*``).

    This version does not read the stream's status, so no action is disabled here: the
    engine judges, and its refusal ("already held") is shown as it gave it.
    """

    offered = STREAM_ACTIONS
    target = "jobstream"

    def __init__(self, job: JobRow, stream: StreamRef, *, engine: str,
                 require: Iterable[str] = ()) -> None:
        self.stream = stream
        super().__init__(job, engine=engine, require=require)

    def label(self, action: str) -> str:
        return STREAM_ACTION_LABELS[action]

    def reason(self, action: str) -> str | None:
        return None

    def target_line(self) -> Text:
        stream = self.stream
        return Text(f"stream  {safe_text(stream.name or self.job.stream, 80)} @ "
                    f"{safe_text(stream.workstation, 40)}  (id {safe_text(stream.id, 80)}), "
                    f"the stream of job {safe_text(self.job.job, 80)}", end="")

    def target_name(self) -> str:
        return safe_text(self.stream.name or self.stream.id, 80)

    def request(self) -> ActionRequest:
        stream = self.stream
        return ActionRequest(
            stream.id, self.action,
            self.justification(),
            job=JobRef(stream.id, stream.name, stream.name, stream.workstation),
            target="jobstream")


class WorkstationActionScreen(ConfirmActionScreen):
    """Link, unlink, start, stop, or set the fence or limit of one workstation
    (``plan/workstation/{id}/action/*``), from the Workstations pane.

    What its ``activeStates`` make pointless is disabled with the reason (linking a
    linked one, stopping a stopped one; a pool has no link of its own): advice, the
    engine stays the judge. Unlink and stop are dangerous: its jobs stop being launched.
    """

    offered = WS_ACTIONS
    target = "workstation"

    def __init__(self, row: WorkstationRow, *, engine: str, require: Iterable[str] = ()) -> None:
        ModalScreen.__init__(self)
        self.row = row
        self.engine = engine
        self.require = tuple(require)
        first = [a for a in self.offered if self.reason(a) is None]
        self.action = first[0] if first else self.offered[0]

    def label(self, action: str) -> str:
        return WORKSTATION_ACTION_LABELS[action]

    def reason(self, action: str) -> str | None:
        row = self.row
        pool = row.linked == ""
        if action in ("link", "unlink") and pool:
            return "a pool has no link of its own"
        if action == "link" and row.linked == "linked":
            return "already linked"
        if action == "unlink" and row.linked == "unlinked":
            return "not linked"
        running = "RUNNING" in row.states
        if action == "start" and running:
            return "already running"
        if action == "stop" and not running and not pool:
            return "not running"
        return None

    def danger(self, action: str) -> str:
        return _WS_DANGER

    def takes_value(self, action: str) -> bool:
        return action in WS_VALUE_RANGE

    def value_hint(self, action: str) -> str:
        if action not in WS_VALUE_RANGE:
            return ""
        name, low, high = WS_VALUE_RANGE[action]
        now = self.row.fence if action == "update-fence" else self.row.limit
        return f"new {name} ({low}-{high}; now {'?' if now is None else now})"

    def target_line(self) -> Text:
        row = self.row
        fence = "?" if row.fence is None else row.fence
        limit = "?" if row.limit is None else row.limit
        return Text(f"workstation  {safe_text(row.name, 80)} ({safe_text(row.type, 12)}, "
                    f"id {safe_text(row.ws_id, 80)})  {row.linked or 'pool'} · "
                    f"{safe_text(','.join(row.states) or 'no active state', 120)} · "
                    f"fence {fence} · limit {limit}", end="")

    def target_name(self) -> str:
        return safe_text(self.row.name, 80)

    def _ws_value(self) -> int | None:
        raw = self._value("priority")
        return int(raw) if self.takes_value(self.action) and raw else None

    def request(self) -> ActionRequest:
        row = self.row
        return ActionRequest(
            row.ws_id, self.action,
            self.justification(),
            job=JobRef(row.ws_id, row.name, "", row.name), target="workstation",
            value=self._ws_value())

    def blocked(self) -> str | None:
        reason = self.reason(self.action)
        if reason is not None:
            return f"{self.label(self.action).rstrip('…')} is not possible now: {reason}"
        if self.action in WS_VALUE_RANGE:
            name, low, high = WS_VALUE_RANGE[self.action]
            value = self._ws_value()
            if value is None or not low <= value <= high:
                return f"{self.label(self.action).rstrip('…')} needs a {name} from {low} " \
                       f"to {high}"
        return self.missing_required()
