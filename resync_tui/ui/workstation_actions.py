"""What the app does for the Workstations pane: its jobs on Enter, its actions on ``A``.

Mixed into ``ResyncApp`` (its handlers are found by name, ``on_workstation_selected``
and ``on_workstation_actions_requested``): the pane posts the message, the app filters
the jobs pane or opens :class:`WorkstationActionScreen`, and sends what it returns once,
through the action service (audited, never retried). After an action that was sent the
workstations feed asks the engine again at once (its cached read would still show the
workstation as it was), so the pane shows the new link state on that poll.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from textual.widgets import Input

from resync_tui.feeds.actions import ActionRequest
from resync_tui.ui.action_requests import action_label
from resync_tui.ui.widgets.workstations_pane import (
    WorkstationActionsRequested,
    WorkstationSelected,
)

if TYPE_CHECKING:
    from resync_tui.ui.app import ResyncApp

__all__ = ["WorkstationHandlers"]

_log = logging.getLogger(__name__)


class WorkstationHandlers:
    """The app's side of the Workstations pane (a mixin of ``ResyncApp``)."""

    def _ws_app(self) -> ResyncApp:
        return cast("ResyncApp", self)

    def on_workstation_selected(self, message: WorkstationSelected) -> None:
        """A workstation's jobs: the jobs pane filtered by the ``ws=NAME`` term (exactly
        that name, as Enter on a stream does with ``stream=NAME``)."""
        app = self._ws_app()
        jobs = app.dashboard.jobs
        query = f"ws={message.name}"
        app.view.set_filter(query)
        for filter_input in jobs.query("#jobs-filter-input").results(Input):
            filter_input.value = query  # shown, editable, Esc clears it
        jobs.update_jobs(app.view)
        jobs.table.move_cursor(0)
        app.dashboard.active_pane = "jobs"
        jobs.table.focus()

    def on_workstation_actions_requested(self, message: WorkstationActionsRequested) -> None:
        """The action menu of one workstation (only with actions enabled)."""
        app = self._ws_app()
        if app.actions is None:
            return
        from resync_tui.ui.screens.confirm_action import WorkstationActionScreen

        app.push_screen(WorkstationActionScreen(message.row, engine=app._engine_label(),
                                                require=app.settings.actions.require),
                        self._ws_confirmed)

    def _ws_confirmed(self, request: ActionRequest | None) -> None:
        app = self._ws_app()
        if request is None:
            app.say("action cancelled: nothing sent", timeout=2)
            return
        app.say(f"sending {action_label(request)} …", timeout=10)
        app.run_worker(self._ws_perform(request), group="actions", exit_on_error=False)

    async def _ws_perform(self, request: ActionRequest) -> None:
        """Send it once, say what came of it, then read the workstations again."""
        from resync_tui.ui.app import describe_action_result  # the app imports this module

        app = self._ws_app()
        assert app.actions is not None
        result = await app.actions.perform(request)
        app.last_action = result
        app.say(describe_action_result(result),
                severity="information" if result.result == "done" else "error", timeout=10)
        runner = app.runners.get("workstations")
        if result.sent and runner is not None:
            try:
                await app.poll_now("workstations")
            except Exception as exc:  # the action is sent; only the re-read failed
                _log.warning("workstations not read again after %s (%s)",
                             request.audit_action, type(exc).__name__)
