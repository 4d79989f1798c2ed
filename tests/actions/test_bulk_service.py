"""Bulk and job-stream actions through ActionService, over real HTTP (simulator) and a real
redis-server: one audited request per job, in order, never retried; a cap that needs the
count confirmed; cancel stops sending; a job stream action names the stream in the trail."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import httpx
import pytest

from resync_tui.audit import JobRef
from resync_tui.feeds.actions import ActionRequest, ActionResult, ActionService, BulkRun
from resync_tui.hwa.simulator import Simulator
from tests.actions.test_service import SENT_HEADERS, WHY, make_service, stream_records
from tests.hwa.sim_helpers import clear, recorded, set_faults

__all__ = ["make_service"]

DEADLINE = 60.0


def _waiting(sim: Simulator, n: int) -> list[str]:
    """``n`` jobs that may be held (waiting, not held by anyone yet)."""
    ids = [j.id for j in sim.plan.jobs if j.status in ("HOLD", "READY") and not j.user_held]
    assert len(ids) >= n, ids
    return ids[:n]


async def test_a_bulk_hold_sends_one_audited_request_per_job_in_order(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ids = _waiting(simulator, 3)
    clear(admin)
    service = await make_service()
    seen: list[str] = []
    try:
        run = service.bulk(ActionRequest(i, "hold", WHY) for i in ids)
        results = await asyncio.wait_for(run.run(lambda r: seen.append(r.request.job_id)),
                                         DEADLINE)
    finally:
        await service.runtime.aclose()
    assert [r.result for r in results] == ["done"] * 3 and seen == ids and not run.stopped
    assert all(r.job is not None and r.job.status == "HOLD" for r in results)
    sent = recorded(admin)
    assert [s["path"].split("/plan/job/")[1] for s in sent] == [f"{i}/action/hold" for i in ids]
    assert all(s["headers"] == SENT_HEADERS for s in sent)
    records = await stream_records(redis_url)
    assert [(r["kind"], r["job_id"]) for r in records] == [
        (kind, i) for i in ids for kind in ("intent", "outcome")]


async def test_above_max_bulk_nothing_runs_without_the_count_confirmed(
        simulator: Simulator, admin: httpx.Client,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    requests = [ActionRequest(i, "hold", WHY) for i in _waiting(simulator, 3)]
    clear(admin)
    service = await make_service()
    settings = service.runtime.settings
    service.runtime.settings = settings.replace(
        actions=dataclasses.replace(settings.actions, max_bulk=2))
    try:
        with pytest.raises(ValueError, match=r"above actions\.max_bulk"):
            service.bulk(requests)
        with pytest.raises(ValueError, match=r"above actions\.max_bulk"):
            service.bulk(requests, confirmed_count=2)
        run = service.bulk(requests, confirmed_count=3)
    finally:
        await service.runtime.aclose()
    assert run.total == 3 and recorded(admin) == []


async def test_cancel_stops_sending_and_what_was_sent_stays_recorded(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ids = _waiting(simulator, 4)
    clear(admin)
    service = await make_service()
    run: BulkRun | None = None

    def cancel_after_two(result: ActionResult) -> None:
        assert run is not None
        if len(run.results) == 2:
            run.cancel()

    try:
        run = service.bulk(ActionRequest(i, "hold", WHY) for i in ids)
        await asyncio.wait_for(run.run(cancel_after_two), DEADLINE)
    finally:
        await service.runtime.aclose()
    assert len(run.results) == 2 and run.cancelled and "cancelled" in run.stopped
    assert [r.job_id for r in run.unsent] == ids[2:]
    assert len(recorded(admin)) == 2
    assert len(await stream_records(redis_url)) == 4  # two intents, two outcomes
    assert not simulator.plan.job(ids[3]).user_held


async def test_a_timeout_on_one_job_is_unknown_and_the_others_are_still_sent(
        simulator: Simulator, admin: httpx.Client,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ids = _waiting(simulator, 3)
    service = await make_service(read_timeout=1.0, call_deadline=3.0)
    await service.read_job(ids[0])  # connections warm: the fault holds only the action
    set_faults(admin, {"action_timeout": True, "paths": [f"/plan/job/{ids[1]}/action/"]})
    clear(admin)
    try:
        run = service.bulk(ActionRequest(i, "hold", WHY) for i in ids)
        results = await asyncio.wait_for(run.run(), DEADLINE)
    finally:
        await service.runtime.aclose()
    assert [r.result for r in results] == ["done", "unknown", "done"]
    assert len(recorded(admin)) == 3  # the unanswered one not retried


async def test_three_unanswered_jobs_in_a_row_stop_the_rest(
        simulator: Simulator, admin: httpx.Client,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    ids = _waiting(simulator, 5)
    service = await make_service(read_timeout=1.0, call_deadline=3.0)
    await service.read_job(ids[0])
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    try:
        run = service.bulk(ActionRequest(i, "hold", WHY) for i in ids)
        results = await asyncio.wait_for(run.run(), DEADLINE)
    finally:
        await service.runtime.aclose()
    assert [r.result for r in results] == ["unknown"] * 3
    assert "without an answer" in run.stopped and len(run.unsent) == 2
    assert len(recorded(admin)) == 3


async def test_a_job_stream_hold_holds_the_stream_and_the_record_names_it(
        simulator: Simulator, admin: httpx.Client, redis_url: str,
        make_service: Callable[..., Awaitable[ActionService]]) -> None:
    stream = next(s for s in simulator.plan.streams if not s.held and any(
        j.stream is s and j.status in ("HOLD", "READY") for j in simulator.plan.jobs))
    clear(admin)
    service = await make_service()
    try:
        result = await asyncio.wait_for(service.perform(ActionRequest(
            stream.id, "hold", WHY, job=JobRef(stream.id, stream.name, stream.name),
            target="jobstream")), DEADLINE)
        refused = await asyncio.wait_for(service.perform(ActionRequest(
            stream.id, "hold", WHY, target="jobstream")), DEADLINE)
        invalid = await service.perform(ActionRequest(stream.id, "rerun", WHY,
                                                      target="jobstream"))
    finally:
        await service.runtime.aclose()
    assert result.result == "done" and simulator.plan.stream(stream.id).held
    assert refused.result == "refused" and "already held" in refused.message
    assert invalid.result == "invalid"
    sent = recorded(admin)
    assert len(sent) == 2 and sent[0]["path"].endswith(f"/plan/jobstream/{stream.id}/action/hold")
    assert sent[0]["headers"] == SENT_HEADERS
    records = await stream_records(redis_url)
    assert records[0]["action"] == "jobstream-hold" and records[0]["job_stream"] == stream.name
    assert records[1]["outcome"]["result"] == "done"
