"""The justification an operator action asks for (category, description, ticket), shared
by the one-job menu (``ConfirmActionScreen``) and the bulk one (``BulkActionScreen``):
the same fields, read and checked the same way, so the two never say it differently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, cast

from textual.dom import DOMNode
from textual.widgets import Input

from resync_tui.audit import Justification
from resync_tui.ui.text import safe_text

__all__ = ["FIELDS", "FIELDS_CSS", "JustificationFields", "justification_params"]

FIELDS: Final = ("category", "description", "ticket")
"""The fields, in the order they are asked (their widgets are ``#action-<name>``)."""

FIELDS_CSS: Final = """
    /* Compact (Textual's): focused, a bordered Input took its one line for its borders,
       and what the operator typed was not shown. */
    Input.-textual-compact { padding: 0 1; margin: 0; }
    Input.-textual-compact:focus { background-tint: $foreground 12%; }
    #action-priority { display: none; }
    #action-priority.-shown { display: block; }
"""
"""Nested in each screen's CSS (``Screen { ... }``)."""


class JustificationFields:
    """Mixed into a screen asking for a justification: ``require`` (the fields that must
    not be empty, ``actions.require``) and the three compact inputs."""

    require: tuple[str, ...] = ()

    def _field(self, name: str) -> str:
        return f"{name} (required)" if name in self.require else name

    def justification_inputs(self) -> Iterator[Input]:
        """The three fields, each a compact Input with its name as the placeholder."""
        for name in FIELDS:
            yield Input(placeholder=self._field(name), id=f"action-{name}", compact=True)

    def _value(self, name: str) -> str:
        return cast(DOMNode, self).query_one(f"#action-{name}", Input).value.strip()

    def justification(self) -> Justification:
        return Justification(*(self._value(name) for name in FIELDS))

    def missing_required(self) -> str | None:
        """Why Send waits for the operator's words (None: all required ones are given)."""
        missing = [name for name in self.require if not self._value(name)]
        if missing:
            return f"required: {', '.join(missing)} (settings: actions.require)"
        return None

    def priority_problem(self) -> str | None:
        """Why the priority typed cannot be sent (None: it can)."""
        priority = self._value("priority")
        if not priority or not 0 <= int(priority) <= 101:
            return "update priority needs a priority from 0 to 101"
        return None


def justification_params(why: Justification) -> list[str]:
    """``category='ops'``, ``description='…'``: what "will send" lists of the given fields."""
    return [f"{name}={safe_text(value, 60)!r}" for name, value in
            (("category", why.category), ("description", why.description),
             ("ticket", why.ticket)) if value]
