"""ActionService over real HTTP (simulator) and a real redis-server: validation first, the
intent spooled before the request, one attempt, the outcome recorded, the job re-read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from resync_tui.audit import Justification
from resync_tui.audit.stream import AuditStream
from resync_tui.feeds.actions import (
    UNKNOWN_ADVICE,
    ActionRequest,
    ActionResult,
    ActionService,
    build_audit_log,
)
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.settings import Settings
from tests.hwa.sim_helpers import clear, find_job, recorded, set_faults
from tests.ui.dashboard_support import frozen_clock, make_settings

DEADLINE = 30.0
WHY = Justification(category="Incident", description="night shift fix", ticket="INC-42")
SENT_HEADERS = {"Justification-Category": "Incident",
                "Justification-Description": "night shift fix",
                "Justification-Ticket-Num": "INC-42"}


def action_settings(sim: Simulator, redis_url: str, spool: Path, *, enabled: bool = True,
                    **hwa: Any) -> Settings:
    settings = make_settings(sim.base_url, redis_url)
    return settings.replace(
        # Reads may be retried (3 attempts, quick backoff): actions must still go once.
        retry=dataclasses.replace(settings.retry, max_attempts=3, initial_backoff=0.01),
        hwa=dataclasses.replace(settings.hwa, **hwa),
        audit=dataclasses.replace(settings.audit, spool_dir=str(spool)),
        actions=dataclasses.replace(settings.actions, enabled=enabled))


@pytest.fixture
def make_service(simulator: Simulator, redis_url: str, tmp_path: Path
                 ) -> Callable[..., Awaitable[ActionService]]:
    async def make(*, enabled: bool = True, spool: Path | None = None,
                   **hwa: Any) -> ActionService:
        settings = action_settings(simulator, redis_url, spool or tmp_path / "spool",
                                   enabled=enabled, **hwa)
        runtime = build_runtime(settings, clock=frozen_clock)
        return ActionService(runtime, build_audit_log(settings, runtime.redis))

    return make




async def stream_records(redis_url: str) -> list[dict[str, Any]]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        return [r async for _, r in AuditStream(client).entries() if r is not None]
    finally:
        await client.aclose()


async def perform(service: ActionService, request: ActionRequest) -> ActionResult:
    return await asyncio.wait_for(service.perform(request), DEADLINE)


async def test_a_done_rerun_is_sent_once_with_headers_recorded_and_the_job_re_read(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    clear(admin)
    service = await make_service()
    try:
        result = await perform(service, ActionRequest(job.id, "rerun", WHY))
        [sent] = recorded(admin)
        text = service.runtime.metrics.registry
        done = text.get_sample_value("resync_actions_total",
                                     {"action": "rerun", "outcome": "done"})
        spooled = text.get_sample_value("resync_audit_spool_records")
    finally:
        await service.runtime.aclose()
    assert result.result == "done" and result.sent
    assert sent["path"].endswith("/action/rerun") and sent["headers"] == SENT_HEADERS
    assert sent["body"] == {} and sent["content_type"] == "application/json"
    assert result.job is not None and len(result.job.jobruns) == 2  # re-read: the new run
    records = await stream_records(redis_url)
    assert [(r["kind"], r["action"], r["job_id"]) for r in records] == [
        ("intent", "rerun", job.id), ("outcome", "rerun", job.id)]
    assert records[0]["job_name"] == job.name and records[0]["justification"] == WHY.as_dict()
    assert records[1]["outcome"]["result"] == "done" and records[1]["intent"] == result.audit_id
    assert records[1]["latency"] is not None
    assert (done, spooled) == (1.0, 0.0)


async def test_the_engine_refusing_is_refused_with_its_status_and_message(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "SUCC")
    clear(admin)
    service = await make_service()
    try:
        result = await perform(service, ActionRequest(job.id, "release", WHY))
    finally:
        await service.runtime.aclose()
    assert (result.result, result.status) == ("refused", 400)
    assert "is not held" in result.message and result.job is None
    assert len(recorded(admin)) == 1
    outcome = (await stream_records(redis_url))[-1]["outcome"]
    assert outcome["result"] == "refused" and outcome["status"] == 400
    assert "is not held" in outcome["message"]


async def test_an_unanswered_action_is_unknown_sent_once_and_recorded_unknown(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    service = await make_service(read_timeout=1.0, call_deadline=3.0)
    await service.read_job(job.id)  # connections warm: the fault holds only the action
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    try:
        result = await perform(service, ActionRequest(job.id, "hold", WHY))
    finally:
        await service.runtime.aclose()
    assert result.result == "unknown" and result.message == UNKNOWN_ADVICE
    assert len(recorded(admin)) == 1  # not retried
    records = await stream_records(redis_url)
    assert [r["kind"] for r in records] == ["intent", "outcome"]
    assert records[1]["outcome"] == {"result": "unknown", "status": None,
                                     "message": UNKNOWN_ADVICE}


async def test_an_unwritable_spool_sends_nothing_and_says_why(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    spool = tmp_path / "broken"
    (spool / "spool.jsonl").mkdir(parents=True)  # the spool file cannot be opened to append
    clear(admin)
    service = await make_service(spool=spool)
    try:
        result = await perform(service, ActionRequest(job.id, "rerun", WHY))
        failures = service.runtime.metrics.registry.get_sample_value(
            "resync_audit_write_failures_total")
    finally:
        await service.runtime.aclose()
    assert result.result == "not_sent" and not result.sent
    assert "audit spool cannot be written" in result.message
    assert recorded(admin) == []
    assert failures == 1.0
    assert len(simulator.plan.job(job.id).runs) == 1


@pytest.mark.parametrize(("request_", "why"), [
    (ActionRequest("J", "explode", WHY), "unknown action"),
    (ActionRequest("J", "hold", Justification(category="Incident")), "description"),
    (ActionRequest("J", "update-priority", WHY, priority=102), "0 to 101"),
    (ActionRequest("J", "update-priority", WHY), "0 to 101"),
    (ActionRequest("J", "hold", WHY, priority=5), "only for update-priority"),
], ids=["unknown", "no-description", "priority-102", "no-priority", "stray-priority"])
async def test_an_invalid_request_is_neither_sent_nor_recorded(
        admin: httpx.Client, tmp_path: Path, request_: ActionRequest, why: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    clear(admin)
    service = await make_service()
    try:
        result = await perform(service, request_)
    finally:
        await service.runtime.aclose()
    assert result.result == "invalid" and why in result.message
    assert recorded(admin) == [] and service.audit.spool.read() == ([], set())


async def test_with_actions_disabled_nothing_is_sent_or_recorded(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    clear(admin)
    service = await make_service(enabled=False)
    try:
        result = await perform(service, ActionRequest(job.id, "rerun", WHY))
    finally:
        await service.runtime.aclose()
    assert result.result == "disabled" and "RESYNC_ACTIONS__ENABLED=true" in result.message
    assert recorded(admin) == [] and service.audit.spool.read() == ([], set())


async def test_update_priority_sends_the_priority_and_records_it(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD")
    clear(admin)
    service = await make_service()
    try:
        result = await perform(service, ActionRequest(job.id, "update-priority", WHY,
                                                      priority=101))
    finally:
        await service.runtime.aclose()
    assert result.result == "done" and result.job is not None and result.job.priority == 101
    [sent] = recorded(admin)
    assert sent["query"]["priority"] == "101"
    assert (await stream_records(redis_url))[0]["parameters"] == {"priority": 101}


async def test_a_server_error_is_refused_and_not_retried_though_reads_would_be(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    service = await make_service()
    await service.read_job(job.id)
    set_faults(admin, {"error_rate": 1.0, "paths": [f"/plan/job/{job.id}/action/"]})
    clear(admin)
    try:
        result = await perform(service, ActionRequest(job.id, "hold", WHY))
        retries = service.runtime.metrics.registry.get_sample_value(
            "resync_retries_total", {"operation": "action hold"})
    finally:
        await service.runtime.aclose()
    assert result.result == "refused" and result.status in (500, 502, 503)
    assert len(recorded(admin)) == 1 and retries is None
    assert [r["kind"] for r in await stream_records(redis_url)] == ["intent", "outcome"]
