"""Workstation actions on the wire and in the simulated plan.

What the client sends is proved by the simulator's own record (``/_sim/actions``): the
spec's ``PUT /plan/workstation/{workstation_id}/action/*`` paths, no body and no
Justification headers (the spec declares neither for them), the fence as ``priority``
and the limit as ``limit`` query parameters. What the simulator does with them is
proved by the next read of the plan (``GET /plan/workstation``, by id too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from resync_tui.hwa.client import API_PATH, WORKSTATION_ACTIONS, HwaClient
from resync_tui.hwa.errors import ActionOutcomeUnknown, BadRequest, NotFound, is_transient
from resync_tui.hwa.simulator import Simulator, Workstation
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER
from tests.hwa.sim_helpers import clear, find_job, recorded, set_faults

DEADLINE = 20.0
NO_HEADERS = dict.fromkeys(
    ("Justification-Category", "Justification-Description", "Justification-Ticket-Num"))


def make_client(sim: Simulator, **options: float) -> HwaClient:
    settings: dict[str, float] = {"connect_timeout": 2.0, "read_timeout": 5.0,
                                  "call_timeout": 10.0}
    settings.update(options)
    return HwaClient(sim.base_url, user=SIM_USER, password=SIM_PASSWORD, **settings)


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[HwaClient]:
    async with make_client(simulator) as hwa:
        yield hwa


def agent(sim: Simulator) -> Workstation:
    """A linked, running workstation that runs jobs (not the master, not a pool)."""
    for ws in sim.plan.workstations:
        if ws.type not in ("MANAGER", "POOL"):
            ws.linked, ws.running = True, True
            return ws
    raise AssertionError("no agent in the plan")


async def read(client: HwaClient, ws_id: str) -> list[str]:
    found = await asyncio.wait_for(client.get_workstation(ws_id), DEADLINE)
    return list(found.active_states)


async def test_unlink_and_link_are_sent_bare_and_change_the_link_state_read_back(
        client: HwaClient, simulator: Simulator, admin: httpx.Client) -> None:
    ws = agent(simulator)
    clear(admin)
    await asyncio.wait_for(client.workstation_action(ws.id, "unlink"), DEADLINE)
    assert "LINKED" not in await read(client, ws.id)
    listed = await asyncio.wait_for(client.workstations(), DEADLINE)
    [shown] = [w for w in listed.workstations if w.id == ws.id]
    assert not shown.linked  # the list says so too, not only the read by id
    await asyncio.wait_for(client.workstation_action(ws.id, "link"), DEADLINE)
    assert "LINKED" in await read(client, ws.id)
    sent = recorded(admin)
    assert [s["path"] for s in sent] == [
        f"{API_PATH}/plan/workstation/{ws.id}/action/unlink",
        f"{API_PATH}/plan/workstation/{ws.id}/action/link"]
    for one in sent:
        assert one["method"] == "PUT"
        assert one["query"] == {}
        assert one["body_bytes"] == 0 and one["content_type"] is None
        assert one["headers"] == NO_HEADERS
        assert one["status"] == 200


async def test_stop_takes_running_away_and_start_gives_it_back(
        client: HwaClient, simulator: Simulator) -> None:
    ws = agent(simulator)
    await asyncio.wait_for(client.workstation_action(ws.id, "stop"), DEADLINE)
    states = await read(client, ws.id)
    assert "RUNNING" not in states and "LINKED" in states
    await asyncio.wait_for(client.workstation_action(ws.id, "start"), DEADLINE)
    assert "RUNNING" in await read(client, ws.id)


async def test_fence_goes_as_priority_and_limit_as_limit_and_both_are_kept(
        client: HwaClient, simulator: Simulator, admin: httpx.Client) -> None:
    ws = agent(simulator)
    clear(admin)
    await asyncio.wait_for(client.workstation_action(ws.id, "update-fence", 40), DEADLINE)
    await asyncio.wait_for(client.workstation_action(ws.id, "update-limit", 7), DEADLINE)
    found = await asyncio.wait_for(client.get_workstation(ws.id), DEADLINE)
    assert (found.fence, found.limit) == (40, 7)
    fence, limit = recorded(admin)
    assert fence["path"].endswith("/action/update-fence") and fence["query"] == {
        "priority": "40"}
    assert limit["path"].endswith("/action/update-limit") and limit["query"] == {"limit": "7"}


async def test_jobs_on_an_unlinked_workstation_are_not_launched_until_it_is_linked(
        client: HwaClient, simulator: Simulator) -> None:
    waiting = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held
                       and not j.preds and j.workstation.type not in ("MANAGER", "POOL"))
    ws = waiting.workstation
    ws.linked = True
    await asyncio.wait_for(client.workstation_action(ws.id, "unlink"), DEADLINE)
    for _ in range(48 * 60):  # until its time comes (a day at most): it gets READY...
        if waiting.status != "HOLD":
            break
        simulator.tick(60)
    simulator.tick(600)  # ...and ten minutes later still waits: not launched, not relinked
    assert (waiting.status, waiting.substatus) == ("READY", "READY_WAITING_FOR_AGENT")
    assert not ws.linked
    await asyncio.wait_for(client.workstation_action(ws.id, "link"), DEADLINE)
    simulator.tick(120)
    assert waiting.status != "READY"  # launched once linked again


async def test_a_value_out_of_range_or_an_unknown_workstation_is_refused(
        client: HwaClient, simulator: Simulator) -> None:
    ws = agent(simulator)
    await asyncio.wait_for(client.workstation_action(ws.id, "link"), DEADLINE)  # a no-op
    assert ws.linked
    with pytest.raises(BadRequest) as caught:
        await asyncio.wait_for(client.workstation_action(ws.id, "update-fence", 500), DEADLINE)
    assert "from 0 to 101" in caught.value.message
    with pytest.raises(NotFound):
        await asyncio.wait_for(client.workstation_action("NOPE", "unlink"), DEADLINE)
    with pytest.raises(ValueError):
        await client.workstation_action(ws.id, "update-limit")  # no value: never sent
    with pytest.raises(ValueError):
        await client.workstation_action(ws.id, "link", 3)
    assert set(WORKSTATION_ACTIONS) == {"link", "unlink", "start", "stop", "update-fence",
                                        "update-limit"}


async def test_an_unanswered_workstation_action_is_unknown_and_reached_the_engine_once(
        simulator: Simulator, admin: httpx.Client) -> None:
    ws = agent(simulator)
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    async with make_client(simulator, read_timeout=1.0, call_timeout=3.0) as hwa:
        with pytest.raises(ActionOutcomeUnknown) as caught:
            await asyncio.wait_for(hwa.workstation_action(ws.id, "unlink"), DEADLINE)
    assert not is_transient(caught.value)
    assert caught.value.endpoint == "PUT /plan/workstation/{workstation_id}/action/unlink"
    assert len(recorded(admin)) == 1
    assert not ws.linked  # applied, once
