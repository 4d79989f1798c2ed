"""The workstations feed lists every workstation with its jobs; workstation actions go
through the action service like job actions (validated, audited, sent once).

Real HTTP to the simulator, a real redis-server for the cache and the audit stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from resync_tui.audit import JobRef, Justification
from resync_tui.feeds.actions import (
    DANGEROUS_ACTIONS,
    UNKNOWN_ADVICE,
    ActionRequest,
    ActionResult,
    ActionService,
    build_audit_log,
)
from resync_tui.feeds.jobs import JobsFeed
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.feeds.workstations import WorkstationsFeed
from resync_tui.hwa.simulator import Simulator, Workstation
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.status import ALL_GROUPS, group_of
from tests.actions.test_service import action_settings, stream_records
from tests.hwa.conftest import admin, simulator
from tests.hwa.sim_helpers import clear, recorded, set_faults
from tests.ui.dashboard_support import frozen_clock

__all__ = ["admin", "simulator"]

DEADLINE = 30.0
WHY = Justification(category="Change", description="agent maintenance", ticket="CHG-7")


@pytest.fixture
def make_service(simulator: Simulator, redis_url: str, tmp_path: Path
                 ) -> Callable[..., Awaitable[ActionService]]:
    async def make(*, enabled: bool = True, **hwa: Any) -> ActionService:
        settings = action_settings(simulator, redis_url, tmp_path / "spool", enabled=enabled,
                                   **hwa)
        runtime = build_runtime(settings, clock=frozen_clock)
        return ActionService(runtime, build_audit_log(settings, runtime.redis))

    return make


@pytest.fixture
async def runtime(simulator: Simulator, redis_url: str, tmp_path: Path
                  ) -> AsyncIterator[Runtime]:
    rt = build_runtime(action_settings(simulator, redis_url, tmp_path / "spool"),
                       clock=frozen_clock)
    try:
        yield rt
    finally:
        await rt.aclose()


def agent(sim: Simulator) -> Workstation:
    ws = next(w for w in sim.plan.workstations if w.type == "AGENT")
    ws.linked = ws.running = True
    return ws


def ws_request(ws: Workstation, action: str, value: int | None = None,
               why: Justification = WHY) -> ActionRequest:
    return ActionRequest(ws.id, action, why, job=JobRef(ws.id, ws.name, "", ws.name),
                         target="workstation", value=value)


async def perform(service: ActionService, request: ActionRequest) -> ActionResult:
    return await asyncio.wait_for(service.perform(request), DEADLINE)


# ---- the feed: every workstation, its jobs counted ---------------------------------------


async def test_the_feed_lists_every_workstation_trouble_first_with_fence_limit_and_jobs(
        simulator: Simulator, runtime: Runtime) -> None:
    plan = simulator.plan
    down = agent(simulator)
    down.linked = False
    view = JobsView(clock=frozen_clock)
    await asyncio.wait_for(JobsFeed(runtime, view).poll(), DEADLINE)
    state = await asyncio.wait_for(
        WorkstationsFeed(runtime, 3600.0, jobs=view).poll(), DEADLINE)
    assert state.health.ok and state.total == len(plan.workstations)
    assert {r.name for r in state.rows} == {w.name for w in plan.workstations}
    troubled = [r for r in state.rows if r.problem]
    assert state.rows[:len(troubled)] == tuple(troubled)  # in trouble first...
    fine = [r.name for r in state.rows if not r.problem]
    assert fine == sorted(fine)  # ...then by name
    assert any(r.linked == "linked" for r in state.rows)  # the healthy ones are listed too
    row = next(r for r in state.rows if r.name == down.name)
    assert (row.linked, row.problem, row.ws_id) == ("unlinked", "not linked or running",
                                                    down.id)
    assert (row.fence, row.limit, row.host) == (down.fence, down.limit, down.node)
    assert row in state.problems
    on_it = [j for j in plan.jobs if j.workstation is down]
    assert row.job_total == len(on_it) and state.jobs_counted == len(plan.jobs)
    for group in ALL_GROUPS:
        assert row.count(group) == sum(1 for j in on_it if group_of(j.status).name == group)


# ---- the action service ------------------------------------------------------------------


async def test_an_unlink_is_audited_sent_once_and_the_next_read_shows_it(
        simulator: Simulator, admin: httpx.Client, redis_url: str, runtime: Runtime,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ws = agent(simulator)
    clear(admin)
    service = await make_service()
    try:
        result = await perform(service, ws_request(ws, "unlink"))
    finally:
        await service.runtime.aclose()
    assert result.result == "done" and result.sent
    [sent] = recorded(admin)
    assert sent["path"].endswith(f"/plan/workstation/{ws.id}/action/unlink")
    records = await stream_records(redis_url)
    assert [(r["kind"], r["action"], r["job_id"]) for r in records] == [
        ("intent", "workstation-unlink", ws.id), ("outcome", "workstation-unlink", ws.id)]
    assert records[0]["justification"] == WHY.as_dict()
    assert records[0]["workstation"] == ws.name
    assert records[1]["outcome"]["result"] == "done"
    assert "workstation-unlink" in DANGEROUS_ACTIONS and "workstation-stop" in DANGEROUS_ACTIONS
    state = await asyncio.wait_for(WorkstationsFeed(runtime, 3600.0).poll(), DEADLINE)
    assert next(r for r in state.rows if r.ws_id == ws.id).linked == "unlinked"


async def test_fence_and_limit_are_sent_with_their_value_and_recorded_with_it(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ws = agent(simulator)
    clear(admin)
    service = await make_service()
    try:
        fence = await perform(service, ws_request(ws, "update-fence", 30))
        limit = await perform(service, ws_request(ws, "update-limit", 4))
    finally:
        await service.runtime.aclose()
    assert (fence.result, limit.result) == ("done", "done")
    assert [s["query"] for s in recorded(admin)] == [{"priority": "30"}, {"limit": "4"}]
    assert (ws.fence, ws.limit) == (30, 4)
    intents = [r for r in await stream_records(redis_url) if r["kind"] == "intent"]
    assert [r["parameters"] for r in intents] == [{"fence": 30}, {"limit": 4}]


async def test_bad_values_and_read_only_send_and_record_nothing(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ws = agent(simulator)
    clear(admin)
    service = await make_service()
    read_only = await make_service(enabled=False)
    try:
        results = [await perform(service, request) for request in (
            ws_request(ws, "update-fence"),            # no value
            ws_request(ws, "update-limit", 5000),      # out of range
            ws_request(ws, "link", 3),                 # a value it does not take
            ws_request(ws, "kill"),                    # not a workstation action
            ws_request(ws, "unlink", why=Justification()),  # no justification
        )]
        disabled = await perform(read_only, ws_request(ws, "unlink"))
    finally:
        await service.runtime.aclose()
        await read_only.runtime.aclose()
    assert [r.result for r in results] == ["invalid"] * 5
    assert "from 0 to 101" in results[0].message and "from 0 to 1024" in results[1].message
    assert "on a workstation" in results[3].message
    assert disabled.result == "disabled" and "RESYNC_ACTIONS__ENABLED" in disabled.message
    assert recorded(admin) == [] and await stream_records(redis_url) == []
    assert ws.linked


async def test_an_unanswered_unlink_is_unknown_sent_once_and_recorded_unknown(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ws = agent(simulator)
    service = await make_service(read_timeout=1.0, call_deadline=3.0)
    await service.read_job(simulator.plan.jobs[0].id)  # connections warm
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    try:
        result = await perform(service, ws_request(ws, "unlink"))
    finally:
        await service.runtime.aclose()
    assert result.result == "unknown" and result.message == UNKNOWN_ADVICE
    assert len(recorded(admin)) == 1  # not retried
    records = await stream_records(redis_url)
    assert [r["kind"] for r in records] == ["intent", "outcome"]
    assert records[1]["outcome"]["result"] == "unknown"
