"""Workstations feed: every workstation of the plan, and which are not linked and running.

Read through the tiered cache under a key that names the current interval
(``plan:<plan>:workstations:<n>``, n = wall-clock seconds // interval): every
dashboard sharing the Redis (a NOC with ten screens) asks the engine once per
interval, and no answer is ever older than one interval. The operator's
refresh drops the key first. The last list is also kept under a fixed key, to
show something after a restart while the engine is down. Records the engine sent
but that could not be decoded travel with the rows and are published in
``WorkstationsState.unreadable``.

``WorkstationsState.rows`` holds every workstation (the Workstations pane lists them
all); ``problems`` only those not linked or not running (the tab mark, the wall's
figure, the alerts and the root-cause walk read it). When the feed is given the jobs
view, each row also counts the jobs the dashboard holds on that workstation by status
group (no second read of the plan), counted in a worker thread for big plans.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from msgspec.structs import replace

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.hwa.models import UnreadableRecord
from resync_tui.model.jobs_view import JobsView, paced
from resync_tui.model.status import ALL_GROUPS, GroupName, group_of
from resync_tui.model.streams import all_jobs
from resync_tui.sanitize import safe_text

__all__ = ["WORKSTATIONS_CACHE_KEY", "WorkstationRow", "WorkstationsFeed", "WorkstationsState",
           "count_jobs_by_workstation"]

WORKSTATIONS_CACHE_KEY = "plan:workstations"
_NAME_MAX = 40
_THREAD_THRESHOLD = 5000
"""Jobs beyond which they are counted off the event loop."""
_COUNT_ATTEMPTS = 3
_GROUP_INDEX: dict[GroupName, int] = {name: i for i, name in enumerate(ALL_GROUPS)}


class WorkstationRow(msgspec.Struct, frozen=True):
    """One workstation as the pane shows it (strings already through ``safe_text``)."""

    name: str
    type: str
    states: tuple[str, ...]
    """``activeStates`` as the engine gave them, in its order."""
    problem: str
    """What is wrong in words ("not linked", "not running"), empty when healthy."""
    ws_id: str = ""
    """The engine's id (what the action paths take); the name when the engine gave none."""
    fence: int | None = None
    limit: int | None = None
    host: str = ""
    """``nodeName`` (the agent's host), else the agent id."""
    jobs: tuple[int, ...] = ()
    """Jobs the dashboard holds on it, per status group in ``ALL_GROUPS`` order (failed,
    stuck, running, waiting, cancelled, done, other); empty when not counted."""

    @property
    def linked(self) -> str:
        """``linked`` / ``unlinked``; empty for a pool (it has no link of its own)."""
        if self.type.upper() in _POOLS:
            return ""
        return "linked" if "LINKED" in self.states else "unlinked"

    def count(self, group: GroupName) -> int:
        return self.jobs[_GROUP_INDEX[group]] if self.jobs else 0

    @property
    def job_total(self) -> int:
        return sum(self.jobs)


class WorkstationsState(msgspec.Struct, frozen=True):
    total: int = 0
    problems: tuple[WorkstationRow, ...] = ()
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)
    unreadable: tuple[UnreadableRecord, ...] = ()
    """Workstation records of the last read that could not be decoded (raw text: sanitize)."""
    rows: tuple[WorkstationRow, ...] = ()
    """Every workstation of the last read, those in trouble first, then by name."""
    jobs_counted: int = 0
    """Jobs of the jobs view the per-workstation counts were made from."""

    @property
    def healthy(self) -> int:
        return self.total - len(self.problems)


_POOLS = ("POOL", "D_POOL")


def _problem(ws_type: str, states: Iterable[str]) -> str:
    """Pools have no link of their own; anything else must be LINKED and RUNNING."""
    if ws_type.upper() in _POOLS:
        return ""
    present = set(states)
    missing = [word for word, flag in (("linked", "LINKED"), ("running", "RUNNING"))
               if flag not in present]
    return "not " + " or ".join(missing) if missing else ""


def _rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for ws in items:
        states = tuple(str(s) for s in (getattr(ws, "active_states", None) or ()))
        host = getattr(ws, "node_name", None) or getattr(ws, "agent_id", None) or ""
        rows.append({
            "name": str(getattr(ws, "name", None) or getattr(ws, "id", None) or "?"),
            "type": str(getattr(ws, "type", None) or ""),
            "states": list(states),
            "id": str(getattr(ws, "id", None) or getattr(ws, "name", None) or ""),
            "fence": _int_or_none(getattr(ws, "fence", None)),
            "limit": _int_or_none(getattr(ws, "limit", None)),
            "host": str(host),
        })
    return rows


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(jobs: Iterable[Any]) -> dict[str, list[int]]:
    """Jobs per workstation name, per status group (one pass; a status's group once)."""
    slot_of: dict[str, int] = {}
    per_ws: dict[str, list[int]] = {}
    groups = len(ALL_GROUPS)
    for row in jobs:
        status = row.status
        slot = slot_of.get(status)
        if slot is None:
            slot = slot_of[status] = _GROUP_INDEX[group_of(status).name]
        counts = per_ws.get(row.workstation)
        if counts is None:
            counts = per_ws[row.workstation] = [0] * groups
        counts[slot] += 1
    return per_ws


async def count_jobs_by_workstation(view: JobsView) -> tuple[dict[str, list[int]], int]:
    """Jobs per workstation name and status group, and how many jobs were counted.

    Small plans are counted on the event loop (the view's only writer); big ones in a
    worker thread, tried a few times if the jobs feed changes the view under it, then
    listed on the loop and counted in the thread.
    """
    if view.total <= _THREAD_THRESHOLD:
        held = all_jobs(view)
        return _count(held), len(held)

    def listed_and_counted() -> tuple[dict[str, list[int]], int] | None:
        for _ in range(_COUNT_ATTEMPTS):
            listed = view.total
            try:
                # From the view itself, paced: no 200k-row snapshot for young collections
                # to walk, and the loop gets the GIL between slices.
                return _count(view.rows_paced()), listed
            except RuntimeError:  # the view changed size under the count
                continue
        return None

    counted = await asyncio.to_thread(listed_and_counted)
    if counted is not None:
        return counted
    # A snapshot on the loop (``all_jobs`` here held it 50+ ms); a tuple, which the
    # collector stops tracking once it has seen it (a 200k list it rescans each time).
    snapshot = tuple(view.all_rows())
    return await asyncio.to_thread(lambda: _count(paced(snapshot))), len(snapshot)


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
                 wall_clock: Callable[[], float] = time.time, *,
                 jobs: JobsView | None = None) -> None:
        """``jobs``: the jobs view whose jobs each row counts (None: no counts)."""
        self._rt = runtime
        self._jobs = jobs
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self._last = WorkstationsState()
        self.interval = interval
        self._wall_clock = wall_clock
        self._drop_next = False
        self._counted: tuple[int, tuple[dict[str, list[int]], int]] | None = None
        """(jobs view version, its counts): a poll with the view unchanged counts nothing."""

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
                    self._last = await self._state_counted(cached, health)
            self._last = replace(self._last, health=health)
            return self._last
        state = await self._state_counted(rows, self._tracker.success())
        self._last = replace(state, unreadable=unreadable)
        return self._last

    async def _state_counted(self, rows: list[Any], health: FeedHealth) -> WorkstationsState:
        if self._jobs is None or not self._jobs.loaded:
            # No job list read yet (the first read of a big plan takes seconds): blank
            # job columns, not a 0 on every workstation.
            return self._state(rows, health)
        version = self._jobs.version  # before counting: a change meanwhile counts again
        if self._counted is None or self._counted[0] != version:
            self._counted = (version, await count_jobs_by_workstation(self._jobs))
        counts, counted = self._counted[1]
        return self._state(rows, health, counts, counted)

    @staticmethod
    def _state(rows: list[Any], health: FeedHealth,
               counts: dict[str, list[int]] | None = None,
               counted: int = 0) -> WorkstationsState:
        """The state of a read: every row (in trouble first, then by name) and the
        problems; job counts matched by the workstation's name as the engine sent it."""
        shown: list[WorkstationRow] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            states = tuple(str(s) for s in row.get("states", ()))
            ws_type = str(row.get("type", ""))
            raw_name = str(row.get("name", "?"))
            jobs: tuple[int, ...] = ()
            if counts is not None:
                jobs = tuple(counts.get(raw_name) or (0,) * len(ALL_GROUPS))
            shown.append(WorkstationRow(
                name=safe_text(raw_name, _NAME_MAX),
                type=safe_text(ws_type, 12),
                states=tuple(safe_text(s, 24) for s in states),
                problem=_problem(ws_type, states),
                ws_id=str(row.get("id") or raw_name),
                fence=_int_or_none(row.get("fence")),
                limit=_int_or_none(row.get("limit")),
                host=safe_text(str(row.get("host") or ""), 64),
                jobs=jobs,
            ))
        shown.sort(key=lambda r: (not r.problem, r.name))
        problems = tuple(r for r in shown if r.problem)
        return WorkstationsState(total=len(shown), problems=problems, health=health,
                                 rows=tuple(shown), jobs_counted=counted)
