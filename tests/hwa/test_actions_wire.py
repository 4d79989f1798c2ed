"""Operator actions on the wire: what the client sends, as the simulator's /_sim/actions saw it.

Every request goes over real loopback HTTP; ``/_sim/actions`` (admin port) is the
engine's own record of what it received, so these tests prove the method, path,
query, content type, body and Justification headers an engine would get, and
that an action whose answer never comes is reported as "outcome unknown" and
reached the engine exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from resync_tui.hwa.client import API_PATH, TRANSPORT_RETRIES, HwaClient
from resync_tui.hwa.errors import (
    ActionOutcomeUnknown,
    BadRequest,
    EngineUnreachable,
    is_transient,
)
from resync_tui.hwa.simulator import Job, Simulator
from resync_tui.resilience.retry import RetryPolicy, call_resilient
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER
from tests.hwa.sim_helpers import clear, find_job, recorded, set_faults

DEADLINE = 20.0
JUSTIFY: dict[str, Any] = {
    "justification_category": "Incident",
    "justification_description": "night shift fix",
    "justification_ticket": "INC-42",
}
SENT_HEADERS = {
    "Justification-Category": "Incident",
    "Justification-Description": "night shift fix",
    "Justification-Ticket-Num": "INC-42",
}
NO_HEADERS = dict.fromkeys(SENT_HEADERS)


def make_client(sim: Simulator, **options: Any) -> HwaClient:
    settings: dict[str, Any] = {"user": SIM_USER, "password": SIM_PASSWORD,
                                "connect_timeout": 2.0, "read_timeout": 5.0,
                                "call_timeout": 10.0}  # fmt: skip
    settings.update(options)
    return HwaClient(sim.base_url, **settings)


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[HwaClient]:
    async with make_client(simulator) as hwa:
        yield hwa


def api_path(path: str) -> str:
    return API_PATH + path


# (action, wanted job, sends a JSON body)
CASES: list[tuple[str, Callable[[Job], bool], bool]] = [
    ("hold", lambda j: j.status == "HOLD" and not j.user_held, False),
    ("cancel", lambda j: j.status == "HOLD" and not j.user_held, False),
    ("kill", lambda j: j.status == "EXEC", False),
    ("confirm-succ", lambda j: j.status == "ABEND", True),
    ("confirm-abend", lambda j: j.status == "SUCC", True),
    ("release-all-dependencies",
     lambda j: j.status == "HOLD" and any(p.status not in ("SUCC", "CANCL") for p in j.preds),
     False),
]  # fmt: skip


@pytest.mark.parametrize(("action", "wanted", "json_body"), CASES, ids=[c[0] for c in CASES])
async def test_each_job_action_is_sent_as_the_spec_says(
    client: HwaClient,
    simulator: Simulator,
    admin: httpx.Client,
    action: str,
    wanted: Callable[[Job], bool],
    json_body: bool,
) -> None:
    job = find_job(simulator, wanted)
    clear(admin)
    call = client.job_action(job.id, action, **JUSTIFY)  # type: ignore[arg-type]
    await asyncio.wait_for(call, DEADLINE)
    [sent] = recorded(admin)
    assert sent["method"] == "PUT"
    assert sent["path"] == api_path(f"/plan/job/{job.id}/action/{action}")
    assert sent["query"] == {}
    assert sent["headers"] == SENT_HEADERS
    assert sent["status"] == 200
    if json_body:
        assert sent["content_type"] == "application/json"
        assert sent["body"] == {}
    else:
        assert sent["body"] is None and sent["body_bytes"] == 0
    assert (simulator.plan.job(job.id).justifications or [])[-1]["action"] == action


async def test_rerun_goes_to_the_run_path_with_a_json_body(
    client: HwaClient, simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    run_id = job.last_run.id
    clear(admin)
    await asyncio.wait_for(client.job_action(job.id, "rerun", **JUSTIFY), DEADLINE)
    [sent] = recorded(admin)
    assert sent["path"] == api_path(f"/plan/job/run/{run_id}/action/rerun")
    assert sent["content_type"] == "application/json"
    assert sent["body"] == {}
    assert sent["headers"] == SENT_HEADERS
    assert len(simulator.plan.job(job.id).runs) == 2
    assert simulator.plan.job(job.id).status == "READY"


async def test_release_all_dependencies_lets_a_waiting_job_go(
    client: HwaClient, simulator: Simulator
) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held
                   and j.sched_time <= simulator.plan.now
                   and any(p.status not in ("SUCC", "CANCL") for p in j.preds))  # fmt: skip
    await asyncio.wait_for(client.job_action(job.id, "release-all-dependencies"), DEADLINE)
    simulator.tick(120)
    assert simulator.plan.job(job.id).status != "HOLD"
    with pytest.raises(BadRequest, match="no dependency left"):
        await asyncio.wait_for(client.job_action(job.id, "release-all-dependencies"), DEADLINE)


async def test_update_priority_sends_the_priority_as_a_query_parameter(
    client: HwaClient, simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    clear(admin)
    result = await asyncio.wait_for(client.update_priority(job.id, 42), DEADLINE)
    assert result.id == job.id
    [sent] = recorded(admin)
    assert sent["path"] == api_path(f"/plan/job/{job.id}/action/update-priority")
    assert sent["query"] == {"priority": "42"}
    assert sent["body"] is None and sent["headers"] == NO_HEADERS
    assert (await client.get_job(job.id)).priority == 42
    with pytest.raises(ValueError, match="priority"):
        await client.update_priority(job.id, 102)
    assert len(recorded(admin)) == 1  # refused before any call


def test_update_priority_without_a_priority_is_a_400(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = simulator.plan.jobs[0]
    assert api.put(f"/plan/job/{job.id}/action/update-priority").status_code == 400
    assert api.put(f"/plan/job/{job.id}/action/update-priority",
                   params={"priority": "7"}).status_code == 200  # fmt: skip
    assert simulator.plan.job(job.id).orig_priority == 7


@pytest.mark.parametrize(
    "path",
    ["/plan/job/run/{run}/action/rerun", "/plan/job/{job}/action/confirm-succ",
     "/plan/job/action/rerun?oql=status%20%3D%20'ABEND'"],
)  # fmt: skip
def test_an_operation_with_a_request_body_refuses_a_request_without_json(
    api: httpx.Client, simulator: Simulator, admin: httpx.Client, path: str
) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    url = path.format(run=job.last_run.id, job=job.id)
    before = simulator.plan.job(job.id).status, len(simulator.plan.job(job.id).runs)
    clear(admin)
    bare = api.put(url)  # Content-Length: 0, no Content-Type: what the old client sent
    assert bare.status_code == 415
    assert "application/json" in bare.json()["message"]
    text = api.put(url, content=b"{}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    after = simulator.plan.job(job.id)
    assert (after.status, len(after.runs)) == before  # nothing applied
    assert [a["status"] for a in recorded(admin)] == [415, 415]
    assert api.put(url, json={}).status_code == 200


def test_a_job_level_rerun_is_not_an_engine_path(api: httpx.Client, simulator: Simulator) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    answer = api.put(f"/plan/job/{job.id}/action/rerun", json={})
    assert answer.status_code == 404
    assert "/plan/job/run/{run_id}/action/rerun" in answer.json()["message"]
    assert len(simulator.plan.job(job.id).runs) == 1


async def test_job_stream_hold_release_cancel(
    client: HwaClient, simulator: Simulator, admin: httpx.Client
) -> None:
    plan = simulator.plan
    def waiting(stream: object) -> list[Job]:
        return [j for j in plan.jobs if j.stream is stream and j.status == "HOLD"]

    stream = next(s for s in plan.streams if len(waiting(s)) >= 2)
    members = waiting(stream)
    clear(admin)
    held = await asyncio.wait_for(
        client.jobstream_action(stream.id, "hold", **JUSTIFY), DEADLINE)
    assert held.id == stream.id
    assert all(plan.job(j.id).user_held for j in members)
    simulator.tick(24 * 3600)
    assert all(plan.job(j.id).status == "HOLD" for j in members)
    with pytest.raises(BadRequest, match="already held"):
        await asyncio.wait_for(client.jobstream_action(stream.id, "hold"), DEADLINE)
    await asyncio.wait_for(client.jobstream_action(stream.id, "release"), DEADLINE)
    assert not any(plan.job(j.id).user_held for j in members)
    await asyncio.wait_for(client.jobstream_action(stream.id, "cancel"), DEADLINE)
    statuses = {plan.job(j.id).status for j in plan.jobs if j.stream is stream}
    assert "HOLD" not in statuses and "READY" not in statuses
    sent = recorded(admin)
    assert [a["path"] for a in sent] == [
        api_path(f"/plan/jobstream/{stream.id}/action/{action}")
        for action in ("hold", "hold", "release", "cancel")
    ]
    assert sent[0]["headers"] == SENT_HEADERS and sent[0]["body"] is None
    with pytest.raises(ValueError, match="unsupported job stream action"):
        await client.jobstream_action(stream.id, "kill")  # type: ignore[arg-type]


async def test_bulk_hold_by_filter_lists_each_job_done_or_refused(
    client: HwaClient, simulator: Simulator, admin: httpx.Client
) -> None:
    plan = simulator.plan
    waiting = [j.id for j in plan.jobs if j.status == "HOLD" and not j.user_held]
    plan.job(waiting[0]).user_held = True  # already held: refused, the others done
    clear(admin)
    result = await asyncio.wait_for(
        client.bulk_job_action("hold", oql="status = 'HOLD'", **JUSTIFY), DEADLINE)
    done = {item.id for item in result.successful_resource_responses}
    failed = {item.id: item.message for item in result.failed_resource_responses}
    assert done == set(waiting[1:])
    assert "already held" in (failed[waiting[0]] or "")
    assert all(plan.job(i).user_held for i in done)
    [sent] = recorded(admin)
    assert sent["path"] == api_path("/plan/job/action/hold")
    assert sent["query"] == {"oql": "status = 'HOLD'"}
    assert sent["headers"] == SENT_HEADERS and sent["body"] is None


async def test_bulk_rerun_sends_json_and_max_object_affected_refuses_a_big_selection(
    client: HwaClient, simulator: Simulator, admin: httpx.Client
) -> None:
    plan = simulator.plan
    finished = [j.id for j in plan.jobs if j.status in ("SUCC", "ABEND")]
    assert len(finished) > 1
    with pytest.raises(BadRequest, match="max_object_affected"):
        await asyncio.wait_for(client.bulk_job_action(
            "rerun", oql="status IN ('SUCC', 'ABEND')", max_object_affected=1), DEADLINE)
    assert all(len(plan.job(i).runs) == 1 for i in finished)
    clear(admin)
    result = await asyncio.wait_for(
        client.bulk_job_action("rerun", oql="status IN ('SUCC', 'ABEND')"), DEADLINE)
    assert {i.id for i in result.successful_resource_responses} == set(finished)
    assert all(len(plan.job(i).runs) == 2 for i in finished)
    [sent] = recorded(admin)
    assert sent["content_type"] == "application/json" and sent["body"] == {}
    with pytest.raises(ValueError, match="filter"):
        await client.bulk_job_action("hold", oql=" ")


async def test_bulk_job_stream_cancel(client: HwaClient, simulator: Simulator) -> None:
    stream = simulator.plan.streams[0]
    result = await asyncio.wait_for(
        client.bulk_jobstream_action("cancel", oql=f"name = '{stream.name}'"), DEADLINE)
    assert [i.id for i in result.successful_resource_responses] == [stream.id]
    assert all(j.status in ("SUCC", "ABEND", "FAIL", "CANCL", "EXEC")
               for j in simulator.plan.jobs if j.stream is stream)  # fmt: skip


# ---- never retried: the outcome of an unanswered action is unknown ----------------------


async def test_an_action_applied_but_never_answered_is_unknown_and_sent_once(
    simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    async with make_client(simulator, read_timeout=1.0, call_timeout=3.0) as hwa:
        with pytest.raises(ActionOutcomeUnknown) as caught:
            await asyncio.wait_for(hwa.job_action(job.id, "rerun", **JUSTIFY), DEADLINE)
    error = caught.value
    assert "check the job before trying again" in str(error)
    assert error.endpoint == "PUT /plan/job/run/{run_id}/action/rerun"
    assert not is_transient(error)
    [sent] = recorded(admin)  # one attempt reached the engine
    assert sent["path"].endswith(f"/plan/job/run/{job.runs[0].id}/action/rerun")
    assert len(simulator.plan.job(job.id).runs) == 2  # applied, exactly once


async def test_the_resilience_layer_does_not_retry_an_unknown_outcome(
    simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    policy = RetryPolicy(max_attempts=3, initial_backoff_seconds=0.01, deadline_seconds=15.0)
    async with make_client(simulator, read_timeout=1.0, call_timeout=3.0) as hwa:
        for idempotent in (False, True):  # even a caller that forgets idempotent=False
            with pytest.raises(ActionOutcomeUnknown):
                await asyncio.wait_for(call_resilient(
                    lambda: hwa.job_action(job.id, "hold"), breaker=None, retry=policy,
                    timeout=10.0, is_transient=is_transient, idempotent=idempotent,
                ), DEADLINE)  # fmt: skip
    assert len(recorded(admin)) == 2  # one per call, none retried
    assert TRANSPORT_RETRIES == 0


async def test_a_connection_cut_after_sending_is_unknown_not_a_failure(
    simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "EXEC")
    clear(admin)
    set_faults(admin, {"outage": "reset"})
    async with make_client(simulator) as hwa:
        with pytest.raises(ActionOutcomeUnknown):
            await asyncio.wait_for(hwa.job_action(job.id, "kill"), DEADLINE)
    assert len(recorded(admin)) == 1


async def test_an_engine_that_cannot_be_reached_got_nothing(
    simulator: Simulator, admin: httpx.Client
) -> None:
    job = find_job(simulator, lambda j: j.status == "EXEC")
    clear(admin)
    set_faults(admin, {"outage": "refused"})
    async with make_client(simulator) as hwa:
        with pytest.raises(EngineUnreachable) as caught:
            await asyncio.wait_for(hwa.job_action(job.id, "kill"), DEADLINE)
    assert not isinstance(caught.value, ActionOutcomeUnknown)
    assert recorded(admin) == []
    assert simulator.plan.job(job.id).status == "EXEC"


async def test_a_refusal_carries_the_engine_message(
    client: HwaClient, simulator: Simulator
) -> None:
    job = find_job(simulator, lambda j: j.status == "SUCC")
    with pytest.raises(BadRequest) as caught:
        await asyncio.wait_for(client.job_action(job.id, "kill"), DEADLINE)
    assert caught.value.status == 400
    assert "not running" in caught.value.message
