"""Workstations feed: which workstations are not linked and running.

Read through the tiered cache under a key that names the current interval
(``plan:<plan>:workstations:<n>``, n = wall-clock seconds // interval): every
dashboard sharing the Redis (a NOC with ten screens) asks the engine once per
interval, and no answer is ever older than one interval. The operator's
refresh drops the key first. The last list is also kept under a fixed key, to
show something after a restart while the engine is down. Records the engine sent
but that could not be decoded travel with the rows and are published in
``WorkstationsState.unreadable``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.hwa.models import UnreadableRecord
from resync_tui.sanitize import safe_text

__all__ = ["WORKSTATIONS_CACHE_KEY", "WorkstationRow", "WorkstationsFeed", "WorkstationsState"]

WORKSTATIONS_CACHE_KEY = "plan:workstations"
_NAME_MAX = 40


@dataclass(frozen=True, slots=True)
class WorkstationRow:
    name: str
    type: str
    states: tuple[str, ...]
    problem: str
    """What is wrong in words ("not linked", "not running"), empty when healthy."""


@dataclass(frozen=True, slots=True)
class WorkstationsState:
    total: int = 0
    problems: tuple[WorkstationRow, ...] = ()
    health: FeedHealth = field(default_factory=FeedHealth)
    unreadable: tuple[UnreadableRecord, ...] = ()
    """Workstation records of the last read that could not be decoded (raw text: sanitize)."""

    @property
    def healthy(self) -> int:
        return self.total - len(self.problems)


def _problem(ws_type: str, states: Iterable[str]) -> str:
    """Pools have no link of their own; anything else must be LINKED and RUNNING."""
    if ws_type.upper() in ("POOL", "D_POOL"):
        return ""
    present = set(states)
    missing = [word for word, flag in (("linked", "LINKED"), ("running", "RUNNING"))
               if flag not in present]
    return "not " + " or ".join(missing) if missing else ""


def _rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for ws in items:
        states = tuple(str(s) for s in (getattr(ws, "active_states", None) or ()))
        rows.append({
            "name": str(getattr(ws, "name", None) or getattr(ws, "id", None) or "?"),
            "type": str(getattr(ws, "type", None) or ""),
            "states": list(states),
        })
    return rows


def _unpack(loaded: Any) -> tuple[list[Any], tuple[UnreadableRecord, ...]]:
    """Rows and unreadable records from a cached read (a bare list: an older writer's)."""
    if isinstance(loaded, list):
        return loaded, ()
    if not isinstance(loaded, dict) or not isinstance(loaded.get("rows"), list):
        raise TypeError("cached workstation read is not a list of rows")
    unreadable: list[UnreadableRecord] = []
    for item in loaded.get("unreadable") or ():
        if isinstance(item, list | tuple) and len(item) == 2:
            ws_id, reason = item
            unreadable.append(UnreadableRecord(
                ws_id if isinstance(ws_id, str) else None, str(reason)))
    return loaded["rows"], tuple(unreadable)


class WorkstationsFeed:
    name = "workstations"

    def __init__(self, runtime: Runtime, interval: float,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._rt = runtime
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self._last = WorkstationsState()
        self.interval = interval
        self._wall_clock = wall_clock
        self._drop_next = False

    def refresh(self) -> None:
        """The next poll asks the engine, whatever the cache holds."""
        self.force_refresh()

    def force_refresh(self) -> None:
        """The next poll asks the engine, whatever the cache holds."""
        self._drop_next = True

    def _key(self) -> str:
        bucket = int(self._wall_clock() // max(self.interval, 0.5))
        return f"plan:{self._rt.settings.hwa.plan_id}:workstations:{bucket}"

    async def _load(self) -> dict[str, Any]:
        rt = self._rt
        read = await hwa_call(rt, rt.client.workstations, breaker=rt.hwa_api,
                              operation="workstations")
        rows = _rows(read.workstations)
        # Only the process that asked the engine refreshes the restart fallback.
        await rt.cache.set(WORKSTATIONS_CACHE_KEY, rows)
        bad = [[record.job_id, record.reason] for record in read.unreadable]
        return {"rows": rows, "unreadable": bad}

    async def poll(self) -> WorkstationsState:
        rt = self._rt
        key = self._key()
        try:
            if self._drop_next:
                self._drop_next = False
                await rt.cache.delete(key)
            loaded = await rt.cache.get_or_load(key, self._load, ttl=max(self.interval, 0.5))
            rows, unreadable = _unpack(loaded)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health = self._tracker.failure(exc)
            if not self._last.health.has_data and not self._last.total:
                cached = await rt.cache.get(WORKSTATIONS_CACHE_KEY)
                if isinstance(cached, list):
                    self._last = self._state(cached, health)
            self._last = replace(self._last, health=health)
            return self._last
        self._last = replace(self._state(rows, self._tracker.success()), unreadable=unreadable)
        return self._last

    @staticmethod
    def _state(rows: list[Any], health: FeedHealth) -> WorkstationsState:
        problems: list[WorkstationRow] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            states = tuple(str(s) for s in row.get("states", ()))
            ws_type = str(row.get("type", ""))
            problem = _problem(ws_type, states)
            if problem:
                problems.append(WorkstationRow(
                    name=safe_text(str(row.get("name", "?")), _NAME_MAX),
                    type=safe_text(ws_type, 12),
                    states=tuple(safe_text(s, 16) for s in states),
                    problem=problem,
                ))
        problems.sort(key=lambda r: r.name)
        return WorkstationsState(total=len(rows), problems=tuple(problems), health=health)
