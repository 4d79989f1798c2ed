"""Operator actions over HTTP change the plan the way the HWA status life says."""

from __future__ import annotations

import httpx

from resync_tui.hwa.simulator import Job, Simulator

JUSTIFY = {
    "Justification-Category": "Incident",
    "Justification-Description": "night shift fix",
    "Justification-Ticket-Num": "INC-42",
}


def find(sim: Simulator, predicate: object, max_ticks: int = 200) -> Job:
    """The first job matching ``predicate``, moving the clock a minute at a time if needed."""
    assert callable(predicate)
    for _ in range(max_ticks):
        for job in sim.plan.jobs:
            if predicate(job):
                return job
        sim.tick(60)
    raise AssertionError("no job reached the wanted state")


BODY_ACTIONS = {"rerun", "confirm-succ", "confirm-abend"}
"""Their operations have a requestBody in the spec: sent as JSON."""


def act(api: httpx.Client, job: Job, action: str) -> httpx.Response:
    """An action as the spec says: rerun on the job's last run, JSON where a body is due."""
    body = {} if action in BODY_ACTIONS else None
    if action == "rerun":
        return api.put(f"/plan/job/run/{job.last_run.id}/action/rerun", headers=JUSTIFY,
                       json=body)  # fmt: skip
    return api.put(f"/plan/job/{job.id}/action/{action}", headers=JUSTIFY, json=body)


def test_hold_keeps_a_waiting_job_from_starting_until_released(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "HOLD" and j.preds and j.sched_time < 7 * 3600)
    response = act(api, job, "hold")
    assert response.status_code == 200
    assert response.json()["id"] == job.id
    assert response.json()["url"].endswith(f"/plan/job/{job.id}")
    body = api.get(f"/plan/job/{job.id}").json()
    assert body["lastRunCompositeStatus"]["status"] == "HOLD"
    assert body["lastRunCompositeStatus"]["substatus"] == "HOLD_PRIORITY_ZERO"
    assert body["lastRunCommonStatus"] == "HELD"
    assert body["priority"] == 0
    assert simulator.plan.job(job.id).justifications == [
        {"action": "hold", "category": "Incident", "description": "night shift fix",
         "ticket": "INC-42"}
    ]  # fmt: skip
    simulator.tick(24 * 3600)
    assert simulator.plan.job(job.id).status == "HOLD"

    assert act(api, job, "release").status_code == 200
    released = simulator.plan.job(job.id)
    assert not released.user_held
    assert released.priority == released.orig_priority
    assert released.status in ("READY", "HOLD")


def test_release_of_a_job_that_is_not_held_is_a_400(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "SUCC")
    response = act(api, job, "release")
    assert response.status_code == 400
    assert "not held" in response.json()["message"]


def test_hold_of_a_running_job_is_a_400(api: httpx.Client, simulator: Simulator) -> None:
    job = find(simulator, lambda j: j.status == "EXEC")
    assert act(api, job, "hold").status_code == 400
    assert simulator.plan.job(job.id).status == "EXEC"


def test_rerun_of_an_abended_job_adds_a_run_and_starts_again(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "ABEND")
    assert act(api, job, "rerun").status_code == 200
    body = api.get(f"/plan/job/{job.id}").json()
    assert len(body["jobruns"]) == 2
    assert body["jobruns"][-1]["rerunJob"] is True
    assert body["jobruns"][0]["compositeStatus"]["status"] == "ABEND"
    assert body["lastRunCompositeStatus"]["status"] == "READY"
    simulator.tick(60)
    assert simulator.plan.job(job.id).status in ("INTRO", "EXEC", "SUCC", "ABEND")


def test_rerun_through_the_run_id_path_of_the_spec(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "SUCC")
    response = api.put(f"/plan/job/run/{job.last_run.id}/action/rerun", json={})
    assert response.status_code == 200
    assert len(simulator.plan.job(job.id).runs) == 2
    assert api.put("/plan/job/run/NOPE/action/rerun", json={}).status_code == 404


def test_rerun_of_a_running_job_is_a_400(api: httpx.Client, simulator: Simulator) -> None:
    job = find(simulator, lambda j: j.status == "EXEC")
    assert act(api, job, "rerun").status_code == 400


def test_cancel_marks_cancl_and_releases_successors(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "HOLD" and not j.user_held and j.succs
               and all(p.status == "SUCC" for p in j.succs[0].preds if p is not j))  # fmt: skip
    assert act(api, job, "cancel").status_code == 200
    body = api.get(f"/plan/job/{job.id}").json()
    assert body["lastRunCompositeStatus"]["status"] == "CANCL"
    assert body["lastRunCompositeStatus"]["canceled"] is True
    assert body["lastRunCommonStatus"] == "CANCELED"
    successor = job.succs[0]
    simulator.tick(max(0.0, successor.sched_time - simulator.plan.now) + 120)
    assert simulator.plan.job(successor.id).status != "HOLD"


def test_cancel_of_a_finished_job_is_a_400(api: httpx.Client, simulator: Simulator) -> None:
    job = find(simulator, lambda j: j.status == "SUCC")
    assert act(api, job, "cancel").status_code == 400


def test_kill_turns_a_running_job_into_a_killed_abend(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "EXEC")
    assert act(api, job, "kill").status_code == 200
    killed = simulator.plan.job(job.id)
    assert killed.status == "ABEND"
    assert killed.killed
    body = api.get(f"/plan/job/{job.id}").json()
    assert body["lastRunCommonStatus"] == "ERROR"
    assert body["jobruns"][-1]["timeInfo"]["actualEndTime"]
    log = api.get(f"/plan/job/run/{job.last_run.id}/joblog").text
    assert "killed by operator" in log
    assert act(api, job, "kill").status_code == 400


def test_confirm_succ_turns_an_abend_into_succ_and_lets_successors_run(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "ABEND" and j.succs)
    assert act(api, job, "confirm-succ").status_code == 200
    assert simulator.plan.job(job.id).status == "SUCC"
    assert api.get(f"/plan/job/{job.id}").json()["jobruns"][-1]["confirmed"] is True
    successor = job.succs[0]
    if all(p.status == "SUCC" for p in successor.preds):
        simulator.tick(120)
        assert simulator.plan.job(successor.id).status != "HOLD"
    assert act(api, job, "confirm-succ").status_code == 400


def test_confirm_abend_turns_a_succ_into_abend(api: httpx.Client, simulator: Simulator) -> None:
    job = find(simulator, lambda j: j.status == "SUCC")
    assert act(api, job, "confirm-abend").status_code == 200
    assert simulator.plan.job(job.id).status == "ABEND"
    assert act(api, job, "confirm-abend").status_code == 400


def test_confirm_on_a_job_that_never_ran_is_a_400(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "HOLD")
    assert act(api, job, "confirm-succ").status_code == 400
    assert act(api, job, "confirm-abend").status_code == 400


def test_unknown_job_or_action_is_a_404(api: httpx.Client, simulator: Simulator) -> None:
    assert api.put("/plan/job/NOPE/action/hold").status_code == 404
    job = simulator.plan.jobs[0]
    assert api.put(f"/plan/job/{job.id}/action/teleport").status_code == 404


def test_actions_need_credentials(simulator: Simulator) -> None:
    job = simulator.plan.jobs[0]
    url = f"{simulator.base_url}/twsd/api/v2/plan/job/{job.id}/action/cancel"
    assert httpx.put(url, timeout=5).status_code == 401
    assert simulator.plan.job(job.id).status == job.status


def test_confirm_abend_of_a_running_job_ends_it_now_and_keeps_successors_waiting(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "EXEC" and j.succs)
    clock = simulator.plan.clock
    assert act(api, job, "confirm-abend").status_code == 200
    body = api.get(f"/plan/job/{job.id}").json()
    assert body["lastRunCompositeStatus"]["status"] == "ABEND"
    assert body["jobruns"][-1]["timeInfo"]["actualEndTime"] == clock
    simulator.tick(24 * 3600)
    assert simulator.plan.job(job.succs[0].id).status == "HOLD"


def test_a_refused_confirm_says_why_and_changes_nothing(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = find(simulator, lambda j: j.status == "HOLD")
    before = api.get(f"/plan/job/{job.id}").content
    for action, word in (("confirm-succ", "SUCC"), ("confirm-abend", "ABEND")):
        response = act(api, job, action)
        assert response.status_code == 400
        assert response.json()["message"] == (
            f"cannot confirm {word} for job {job.name} in status HOLD"
        )
    assert api.get(f"/plan/job/{job.id}").content == before
