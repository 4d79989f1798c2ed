"""What each pane's tab adds to its label: a small terminal shows one pane at a time,
so a problem in a hidden pane must show on its tab (a symbol and a figure, not colour).

One function per pane, each taking that pane's feed state (typed by what it reads, so
the model imports no feed); the pane registry (``resync_tui/ui/panes.py``) names which
applies to which pane.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from resync_tui.model.overall import Breakers, Health
from resync_tui.model.status import count_by_group

__all__ = ["breakers_mark", "cache_mark", "jobs_mark", "redis_mark", "streams_mark",
           "workstations_mark"]


class _View(Protocol):
    @property
    def counts(self) -> Mapping[str, int]: ...


class _JobsState(Protocol):
    @property
    def view(self) -> _View: ...
    @property
    def health(self) -> Health: ...


class _HealthOnly(Protocol):
    @property
    def health(self) -> Health: ...


class _RedisState(Protocol):
    @property
    def up(self) -> bool: ...
    @property
    def health(self) -> Health: ...


class _WorkstationsState(Protocol):
    @property
    def problems(self) -> Sequence[object]: ...
    @property
    def health(self) -> Health: ...


def jobs_mark(state: _JobsState, *, stale: bool = False) -> str:
    """``✖26`` failed jobs; ``⚠`` before it when the list is stale (both can be true)."""
    failed = count_by_group(state.view.counts)["failed"] if state.health.has_data else 0
    warn = "⚠" if stale or not state.health.ok else ""
    return f"{warn}✖{failed:,}" if failed else warn


def breakers_mark(state: Breakers) -> str:
    opened = sum(1 for row in state.rows if row.state in ("open", "forced_open"))
    if opened:
        return f"✖{opened}"
    calm = all(row.state in ("closed", "disabled", "metrics_only") for row in state.rows)
    return "" if calm else "⚠"


def cache_mark(state: _HealthOnly, *, stale: bool = False) -> str:
    return "⚠" if stale or not state.health.ok else ""


def redis_mark(state: _RedisState, *, stale: bool = False) -> str:
    if state.health.polls and not state.up:
        return "✖"
    return "⚠" if stale else ""


def workstations_mark(state: _WorkstationsState, *, stale: bool = False) -> str:
    down = len(state.problems)
    warn = "⚠" if stale or not state.health.ok else ""
    return f"{warn}✖{down}" if down else warn


class _StreamsView(Protocol):
    @property
    def failing(self) -> int: ...


class _StreamsState(Protocol):
    @property
    def view(self) -> _StreamsView: ...
    @property
    def health(self) -> Health: ...


def streams_mark(state: _StreamsState, *, stale: bool = False) -> str:
    """``✖3``: streams failed or stuck (the engine's status); ``⚠`` first when stale."""
    failing = state.view.failing
    warn = "⚠" if stale or not state.health.ok else ""
    return f"{warn}✖{failing:,}" if failing and state.health.has_data else warn
