"""What asks for an operator action, and how the menus name actions: the messages the
panes post for the app (it opens the menus: ``ui/screens/confirm_action.py``), the labels
and the status advice. Apart from the menus' screens so that the panes and the app can
post and route them without loading the menus before the first frame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec
from textual.message import Message

from resync_tui.model.status import group_of

if TYPE_CHECKING:
    from resync_tui.feeds.actions import ActionRequest

__all__ = [
    "ACTION_LABELS",
    "HELD_SUBSTATUS",
    "STREAM_ACTION_LABELS",
    "WORKSTATION_ACTION_LABELS",
    "ActionsRequested",
    "BulkActionsRequested",
    "StreamActionsRequested",
    "StreamRef",
    "action_label",
    "why_not_allowed",
]

ACTION_LABELS: Final = {
    "rerun": "rerun", "hold": "hold", "release": "release", "cancel": "cancel",
    "kill": "kill", "confirm-succ": "confirm SUCC", "confirm-abend": "confirm ABEND",
    "release-all-dependencies": "release all dependencies",
    "update-priority": "update priority…",
}
"""What the menu calls each action of ``feeds.actions.ACTIONS``, in menu order."""
STREAM_ACTION_LABELS: Final = {
    "hold": "hold job stream", "release": "release job stream", "cancel": "cancel job stream",
}
"""What the menu calls each action of ``feeds.actions.STREAM_ACTIONS``."""
WORKSTATION_ACTION_LABELS: Final = {
    "link": "link workstation", "unlink": "unlink workstation",
    "start": "start workstation", "stop": "stop workstation",
    "update-fence": "set fence…", "update-limit": "set limit…",
}
"""What the menu calls each action of ``feeds.actions.WS_ACTIONS``."""


def action_label(request: ActionRequest) -> str:
    """How the operator reads ``request``'s action ("hold job stream", "confirm SUCC")."""
    labels = {"jobstream": STREAM_ACTION_LABELS,
              "workstation": WORKSTATION_ACTION_LABELS}.get(request.target, ACTION_LABELS)
    return labels.get(request.action, request.action).rstrip("…")

_FINISHED: Final = frozenset({"failed", "done", "cancelled"})


HELD_SUBSTATUS: Final = "HOLD_PRIORITY_ZERO"
"""The spec's substatus of a job an operator held (its priority set to 0)."""


def why_not_allowed(action: str, status: str, substatus: str = "") -> str | None:
    """Why ``action`` is not offered for a job in ``status`` (None: it is offered).

    A job waiting in HOLD for its time or its predecessors can still be held; one the
    operator held already (``substatus`` HOLD_PRIORITY_ZERO) cannot."""
    grp = group_of(status).name
    if action == "rerun" and grp not in _FINISHED:
        return "only finished or failed jobs"
    if action == "hold" and (substatus == HELD_SUBSTATUS or grp != "waiting"):
        return "only waiting jobs not held yet"
    if action == "release" and status != "HOLD":
        return "only held jobs"
    if action == "kill" and status not in ("EXEC", "STUCK"):
        return "only running jobs"
    if action == "cancel" and (grp in _FINISHED or status == "EXEC"):
        return "finished, or running (kill it)"
    if action in ("confirm-succ", "confirm-abend") and grp in ("done", "cancelled"):
        return "the job has ended"
    if action == "release-all-dependencies" and grp != "waiting":
        return "only waiting jobs"
    if action == "update-priority" and grp in _FINISHED:
        return "the job has finished"
    return None


class ActionsRequested(Message):
    """The operator asked for the action menu on ``job_id`` (the app opens it)."""

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id


class BulkActionsRequested(Message):
    """The operator asked for the action menu on the marked jobs (the app opens it)."""

    def __init__(self, job_ids: tuple[str, ...]) -> None:
        super().__init__()
        self.job_ids = job_ids


class StreamActionsRequested(Message):
    """The operator asked for the job stream menu of ``job_id``'s stream (from the job
    detail; the app reads the job to learn its stream's id, then opens it)."""

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id


class StreamRef(msgspec.Struct, frozen=True):
    """A job stream as the engine names it (its id is what the action paths take)."""

    id: str
    name: str = ""
    workstation: str = ""
