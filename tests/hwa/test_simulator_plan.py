"""The living plan: deterministic per seed, moving along the HWA status life."""

from __future__ import annotations

import asyncio

import httpx
import msgspec

from resync_tui.hwa.simulator import API_BASE, Plan, Simulator
from resync_tui.hwa.simulator.plan import CLOCK_START, common_status

ALLOWED = {
    "HOLD": {"READY", "CANCL"},
    "READY": {"INTRO"},
    "INTRO": {"EXEC", "FAIL", "STUCK"},
    "EXEC": {"SUCC", "ABEND"},
}


def reachable(start: str) -> set[str]:
    """Statuses reachable from ``start`` (a tick may cover several transitions)."""
    found: set[str] = set()
    todo = [start]
    while todo:
        for nxt in ALLOWED.get(todo.pop(), set()):
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


def test_same_seed_and_ticks_give_the_identical_plan() -> None:
    first, second = Plan(jobs=300, seed=9), Plan(jobs=300, seed=9)
    for seconds in (30, 600, 3600, 7200):
        first.tick(seconds)
        second.tick(seconds)
    assert first.fingerprint() == second.fingerprint()


def test_one_long_tick_equals_many_short_ones() -> None:
    first, second = Plan(jobs=300, seed=4), Plan(jobs=300, seed=4)
    first.tick(3600)
    for _ in range(60):
        second.tick(60)
    assert first.fingerprint() == second.fingerprint()


def test_another_seed_gives_another_plan() -> None:
    assert Plan(jobs=100, seed=1).fingerprint() != Plan(jobs=100, seed=2).fingerprint()


def test_clock_starts_at_a_fixed_instant_and_moves_only_with_ticks() -> None:
    plan = Plan(jobs=20, seed=1)
    assert plan.clock == CLOCK_START == "2026-11-25T06:00:00Z"
    plan.tick(90)
    assert plan.clock == "2026-11-25T06:01:30Z"


def test_fresh_plan_has_something_for_the_dashboard() -> None:
    counts = Plan(jobs=50, seed=1).counts()
    assert counts.get("ABEND", 0) >= 1
    assert counts.get("EXEC", 0) >= 1
    assert counts.get("HOLD", 0) >= 1
    assert counts.get("SUCC", 0) >= 1


def test_statuses_only_move_along_the_status_life() -> None:
    plan = Plan(jobs=400, seed=5)
    before = {job.id: job.status for job in plan.jobs}
    seen: set[str] = set(before.values())
    for _ in range(24 * 6):
        plan.tick(600)
        for job in plan.jobs:
            old = before[job.id]
            if job.status != old:
                assert job.status in reachable(old), (old, job.status)
                before[job.id] = job.status
                seen.add(job.status)
    assert {"HOLD", "READY", "INTRO", "EXEC", "SUCC", "ABEND"} <= seen
    finished = sum(1 for job in plan.jobs if job.status in ("SUCC", "ABEND", "FAIL"))
    assert finished > len(plan.jobs) // 2


def test_a_job_starts_only_after_its_predecessors_succeeded() -> None:
    plan = Plan(jobs=400, seed=6)
    for _ in range(48):
        plan.tick(1800)
        for job in plan.jobs:
            if job.status in ("READY", "INTRO", "EXEC") and not job.last_run.rerun:
                assert all(pred.status in ("SUCC", "CANCL") for pred in job.preds)


def test_json_status_fields_are_consistent() -> None:
    plan = Plan(jobs=500, seed=2)
    plan.tick(3 * 3600)
    for job in plan.jobs:
        doc = msgspec.json.decode(plan.job_bytes(job))
        status = doc["lastRunCompositeStatus"]["status"]
        assert status == job.status == doc["jobruns"][-1]["compositeStatus"]["status"]
        assert doc["lastRunCommonStatus"] == common_status(status, job.user_held)
        assert doc["lastRunCompositeStatus"].get("error", False) == (status in ("ABEND", "FAIL"))
        run = doc["jobruns"][-1]
        if status in ("SUCC", "ABEND"):
            assert run["timeInfo"]["actualEndTime"] >= run["timeInfo"]["actualStartTime"]
            assert "returnCode" in run
            assert (run["returnCode"] == 0) == (status == "SUCC")
        if status == "EXEC":
            assert "actualStartTime" in run["timeInfo"]
            assert "jobNumber" in run


def test_cached_json_changes_when_the_job_changes() -> None:
    plan = Plan(jobs=50, seed=1)
    job = next(j for j in plan.jobs if j.status == "HOLD" and not j.preds)
    before = plan.job_bytes(job)
    plan.tick(24 * 3600)
    assert plan.job_bytes(job) != before
    assert msgspec.json.decode(plan.job_bytes(job))["lastRunCompositeStatus"]["status"] == (
        job.status
    )


def test_plan_size_scales_workstations_and_streams() -> None:
    small, large = Plan(jobs=50, seed=1), Plan(jobs=5000, seed=1)
    assert len(small.jobs) == 50
    assert len(large.jobs) == 5000
    assert 8 <= len(small.workstations) < len(large.workstations) <= 40
    assert {w.type for w in large.workstations} >= {"AGENT", "FTA", "POOL"}
    assert all(5 <= sum(1 for j in large.jobs if j.stream is s) <= 24 for s in large.streams)
    assert any(p.stream is not j.stream for j in large.jobs for p in j.preds)


def test_tick_over_http_admin_route(simulator: Simulator) -> None:
    response = httpx.post(simulator.base_url + "/_sim/tick", json={"seconds": 3600}, timeout=5)
    assert response.json() == {"clock": "2026-11-25T07:00:00Z"}
    state = httpx.get(simulator.admin_url + "/_sim/state", timeout=5).json()
    assert state["clock"] == "2026-11-25T07:00:00Z"
    assert sum(state["counts"].values()) == 50
    bad = httpx.post(simulator.base_url + "/_sim/tick", json={"seconds": -1}, timeout=5)
    assert bad.status_code == 400


def test_reset_rebuilds_the_seeded_plan(simulator: Simulator) -> None:
    fresh = simulator.plan.fingerprint()
    simulator.tick(7200)
    assert simulator.plan.fingerprint() != fresh
    state = httpx.post(simulator.admin_url + "/_sim/reset", timeout=5).json()
    assert state["clock"] == CLOCK_START
    assert simulator.plan.fingerprint() == fresh


async def test_time_scale_moves_the_clock_on_its_own() -> None:
    sim = Simulator(jobs=20, seed=1, time_scale=600.0)
    url = await sim.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            clock = CLOCK_START
            for _ in range(100):
                await asyncio.sleep(0.1)
                clock = (await client.get(url + "/_sim/state")).json()["clock"]
                if clock != CLOCK_START:
                    break
            assert clock > CLOCK_START
            info = await client.get(url + API_BASE + "/engine/info", auth=("demo", "demo"))
            assert info.status_code == 200
    finally:
        await sim.aclose()
