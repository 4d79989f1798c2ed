"""The one status vocabulary: which group each HWA job status belongs to, its symbol, its colour.

Every place that asks "is this failed?" (the attention order, ``n``, the ``f`` filter,
the counts line, the wall figures, the table's colours) asks this module, so they
cannot disagree. Every value of the spec's ``JobInPlanStatus`` is in exactly one
group; a value this module does not know (a newer engine) falls in ``other``, which
is shown as such, never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

import msgspec

__all__ = [
    "ALL_GROUPS",
    "ATTENTION_STATUSES",
    "FAILED_STATUSES",
    "GROUPS",
    "KNOWN_STATUSES",
    "RUNNING_STATUSES",
    "STUCK_STATUSES",
    "GroupName",
    "StatusGroup",
    "count_by_group",
    "group_of",
    "severity_of",
    "symbol_of",
]

GroupName = Literal["failed", "stuck", "running", "waiting", "cancelled", "done", "other"]

Severity = Literal["failed", "warning", "running", "waiting", "success", "muted"]
"""What a status looks like: widgets map it to their own component class (theme colour)."""


class StatusGroup(msgspec.Struct, frozen=True):
    """A group of internal statuses an operator treats alike."""

    name: GroupName
    label: str
    """What the filter line and the counts say, e.g. ``failed``."""
    statuses: frozenset[str]
    severity: Severity
    meaning: str
    """One line for the help screen."""


GROUPS: Final[tuple[StatusGroup, ...]] = (
    StatusGroup("failed", "failed", frozenset({"ABEND", "FAIL", "ERROR", "ABENP"}), "failed",
                "ended in error or could not start (ABENP: abend awaiting confirmation)"),
    StatusGroup("stuck", "stuck", frozenset({"STUCK", "INTRPT", "SUSP", "UNDCDED"}), "warning",
                "needs an operator: stuck, interrupted, suspended or undecided"),
    StatusGroup("running", "running", frozenset({"EXEC", "STARTED", "INTRO"}), "running",
                "launched or running"),
    StatusGroup("waiting", "waiting",
                frozenset({"HOLD", "READY", "WAIT", "PEND", "PENDPRED", "ARRVING", "FENCE",
                           "EXTRN", "NONREPPRED"}), "waiting",
                "not started yet: dependencies, time, resources, fence, external"),
    StatusGroup("cancelled", "cancelled", frozenset({"CANCL", "CANCLP"}), "muted",
                "cancelled, or cancel pending"),
    StatusGroup("done", "done", frozenset({"SUCC", "SUCCP", "COMPLT", "END", "SUPPR"}),
                "success", "finished without error, or suppressed"),
    StatusGroup("other", "other", frozenset(), "warning",
                "a status this version does not know (shown as the engine sent it)"),
)
"""In the order an operator reads them: the most urgent first."""

ALL_GROUPS: Final[tuple[GroupName, ...]] = tuple(g.name for g in GROUPS)

_GROUP_OF: Final[Mapping[str, StatusGroup]] = {
    status: group for group in GROUPS for status in group.statuses
}
_BY_NAME: Final[Mapping[str, StatusGroup]] = {group.name: group for group in GROUPS}
_OTHER: Final = _BY_NAME["other"]

KNOWN_STATUSES: Final = frozenset(_GROUP_OF)
FAILED_STATUSES: Final = _BY_NAME["failed"].statuses
"""Where ``n`` stops, what the wall counts as failed, what the attention order puts first."""
STUCK_STATUSES: Final = _BY_NAME["stuck"].statuses
RUNNING_STATUSES: Final = frozenset({"EXEC", "STARTED"})
"""Running for the clock: a start time exists, so an elapsed time ticks (INTRO has none)."""
ATTENTION_STATUSES: Final = FAILED_STATUSES | STUCK_STATUSES
"""Need an operator, whatever the clock says."""

_SYMBOLS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("ABEND", "FAIL", "ERROR", "ABENP"), "✖"),
    **dict.fromkeys(("STUCK", "INTRPT", "UNDCDED"), "⚠"),
    "SUSP": "⏸",
    **dict.fromkeys(("EXEC", "STARTED"), "▶"),
    "INTRO": "▷",
    "READY": "○",
    **dict.fromkeys(("WAIT", "PEND", "PENDPRED", "ARRVING", "NONREPPRED"), "⋯"),
    **dict.fromkeys(("HOLD", "FENCE"), "⏸"),
    "EXTRN": "↗",
    **dict.fromkeys(("CANCL", "CANCLP"), "⊘"),
    "SUPPR": "⊖",
    **dict.fromkeys(("SUCC", "SUCCP", "COMPLT", "END"), "✔"),
}
UNKNOWN_SYMBOL: Final = "?"


def group_of(status: str) -> StatusGroup:
    """The group of an internal status; ``other`` for a value this version does not know."""
    return _GROUP_OF.get(status, _OTHER)


def group(name: str) -> StatusGroup:
    """A group by name (``KeyError`` for an unknown name)."""
    return _BY_NAME[name]


def symbol_of(status: str) -> str:
    return _SYMBOLS.get(status, UNKNOWN_SYMBOL)


def severity_of(status: str) -> Severity:
    return group_of(status).severity


def count_by_group(counts: Mapping[str, int]) -> dict[GroupName, int]:
    """Jobs per group from jobs per status; every job lands in exactly one group."""
    totals: dict[GroupName, int] = dict.fromkeys(ALL_GROUPS, 0)
    for status, count in counts.items():
        totals[group_of(status).name] += count
    return totals


def statuses_in(names: Iterable[str]) -> frozenset[str]:
    """The known statuses of several groups (``other`` adds none: it is the rest)."""
    return frozenset().union(*(group(name).statuses for name in names))
