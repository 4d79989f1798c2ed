"""The simulator's API over real loopback HTTP: pagination, OQL, auth, jobs, logs, engine."""

from __future__ import annotations

import httpx
import pytest

from resync_tui.hwa.simulator import API_BASE, Simulator


def test_offset_paging_reaches_the_last_job_exactly_once(
    api: httpx.Client, simulator: Simulator
) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        page = api.get("/plan/job", params={"limit": 7, "offset": offset}).json()
        seen += [job["id"] for job in page["results"]]
        if len(page["results"]) < 7:
            break
        offset += 7
    assert len(seen) == len(set(seen)) == 50
    assert seen == [job.id for job in simulator.plan.jobs]


def test_next_links_walk_the_whole_plan_with_count(api: httpx.Client) -> None:
    url: str | None = "/plan/job?limit=12"
    seen: list[str] = []
    pages = 0
    while url is not None:
        response = api.get(url, headers={"Include-Count": "true"})
        body = response.json()
        assert body["count"] == 50
        seen += [job["id"] for job in body["results"]]
        if pages > 0:  # the engine names itself, not the address it was reached by
            assert body["previous"].startswith("https://hwa-master.example.com:31116/twsd/")
        else:
            assert "previous" not in body
        link = body.get("next")
        url = None if link is None else link.split("/twsd/api/v2", 1)[1]
        pages += 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == 50


def test_count_is_absent_unless_asked(api: httpx.Client) -> None:
    body = api.get("/plan/job", params={"limit": 1}).json()
    assert "count" not in body
    assert len(body["results"]) == 1


def test_default_limit_returns_everything_on_one_page(api: httpx.Client) -> None:
    body = api.get("/plan/job").json()
    assert len(body["results"]) == 50
    assert "next" not in body


def test_oql_filters_by_status_and_orders(api: httpx.Client, simulator: Simulator) -> None:
    expected = sorted(j.id for j in simulator.plan.jobs if j.status == "SUCC")
    body = api.get("/plan/job", params={"oql": "jobruns.compositeStatus.status = 'SUCC'"}).json()
    assert sorted(j["id"] for j in body["results"]) == expected
    assert all(j["lastRunCompositeStatus"]["status"] == "SUCC" for j in body["results"])

    body = api.get("/plan/job", params={"oql": "status IN ['SUCC','ABEND'] ORDER BY name DESC"})
    names = [j["name"] for j in body.json()["results"]]
    assert names == sorted(names, reverse=True)
    assert len(names) == len(expected) + simulator.plan.counts().get("ABEND", 0)


def test_oql_like_and_parentheses(api: httpx.Client, simulator: Simulator) -> None:
    folder = simulator.plan.jobs[0].folder
    stream = simulator.plan.jobs[0].stream.name
    oql = f"folder LIKE '{folder[:3]}@' AND (jobStreamName = '{stream}' OR name LIKE 'ZZZ@')"
    body = api.get("/plan/job", params={"oql": oql, "limit": 1000}).json()
    expected = [j.id for j in simulator.plan.jobs if j.stream.name == stream]
    assert [j["id"] for j in body["results"]] == expected


@pytest.mark.parametrize(
    "oql",
    ["status = ", "status = 'SUCC' AND", "nosuchfield = 'x'", "((", "NOT " * 1000 + "status = 'x'"],
)
def test_unparseable_oql_is_a_400_with_a_message(api: httpx.Client, oql: str) -> None:
    response = api.get("/plan/job", params={"oql": oql})
    assert response.status_code == 400
    assert "oql" in response.json()["message"]


def test_bad_limit_is_a_400(api: httpx.Client) -> None:
    assert api.get("/plan/job", params={"limit": "many"}).status_code == 400
    assert api.get("/plan/job", params={"offset": -1}).status_code == 400


def test_missing_or_wrong_credentials_are_401_with_json(simulator: Simulator) -> None:
    url = simulator.base_url + API_BASE + "/plan/job"
    for auth in (None, ("demo", "wrong"), ("someone", "demo")):
        response = httpx.get(url, auth=auth, timeout=5)
        assert response.status_code == 401
        assert "Not Authorized" in response.json()["message"]


def test_bearer_token_is_accepted_when_configured() -> None:
    with Simulator(jobs=5, seed=3, token="s3cret") as sim:
        url = sim.base_url + API_BASE + "/engine/info"
        ok = httpx.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=5)
        bad = httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert ok.status_code == 200
    assert bad.status_code == 401


def test_single_job_and_404(api: httpx.Client, simulator: Simulator) -> None:
    job = simulator.plan.jobs[3]
    body = api.get(f"/plan/job/{job.id}").json()
    assert body["id"] == job.id
    assert body["name"] == job.name
    assert body["jobStreamName"] == job.stream.name
    missing = api.get("/plan/job/NOPE")
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["message"]


def test_grouped_count_matches_the_plan(api: httpx.Client, simulator: Simulator) -> None:
    body = api.get("/plan/job/count", params={"grouping_filters": "status"}).json()
    assert body["count"] == 50
    assert body["groupedCount"] == simulator.plan.counts()
    by_ws = api.get("/plan/job/count", params={"grouping_filters": "workstation"}).json()
    assert sum(by_ws["groupedCount"].values()) == 50
    assert api.get("/plan/job/count").json() == {"count": 50}
    assert api.get("/plan/job/count", params={"grouping_filters": "colour"}).status_code == 400


def test_finished_job_log_has_header_body_and_return_code(
    api: httpx.Client, simulator: Simulator
) -> None:
    job = next(j for j in simulator.plan.jobs if j.status == "ABEND")
    run_id = job.last_run.id
    response = api.get(f"/plan/job/run/{run_id}/joblog")
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[1].startswith("= JOB")
    assert job.name in lines[1]
    assert len(lines) > 30
    assert f"= Exit Status           : {job.last_run.return_code}" in lines
    content = api.get(f"/plan/job/run/{run_id}/joblog", params={"contentOnly": "true"}).text
    assert "= JOB" not in content
    assert "Exit Status" not in content
    window = api.get(f"/plan/job/run/{run_id}/joblog", params={"from_line": 2, "to_line": 4})
    assert window.text.splitlines() == lines[1:4]
    assert api.get("/plan/job/run/NOPE/joblog").status_code == 404


def test_running_job_log_has_no_footer_yet(api: httpx.Client, simulator: Simulator) -> None:
    job = next(j for j in simulator.plan.jobs if j.status == "EXEC")
    text = api.get(f"/plan/job/run/{job.last_run.id}/joblog").text
    assert "Exit Status" not in text
    assert job.name in text


def test_predecessors_and_successors(api: httpx.Client, simulator: Simulator) -> None:
    job = next(j for j in simulator.plan.jobs if j.preds and j.succs)
    preds = api.get(f"/plan/job/{job.id}/predecessors").json()
    succs = api.get(f"/plan/job/{job.id}/successors").json()
    assert preds["count"] == len(job.preds)
    assert [p["id"] for p in preds["results"]] == [p.id for p in job.preds]
    assert [s["id"] for s in succs["results"]] == [s.id for s in job.succs]
    assert all(p["flowNodeType"] == "JOB" for p in preds["results"])
    assert api.get("/plan/job/NOPE/successors").status_code == 404


def test_workstations_paginate_and_show_link_state(
    api: httpx.Client, simulator: Simulator
) -> None:
    body = api.get("/plan/workstation", headers={"Include-Count": "true"}).json()
    assert body["count"] == len(simulator.plan.workstations) >= 8
    assert {w["type"] for w in body["results"]} >= {"AGENT", "MANAGER"}
    assert all("LINKED" in w["activeStates"] for w in body["results"])
    page = api.get("/plan/workstation", params={"limit": 3, "offset": 3}).json()
    assert [w["id"] for w in page["results"]] == [w["id"] for w in body["results"][3:6]]
    agents = api.get("/plan/workstation", params={"oql": "type = 'AGENT'"}).json()["results"]
    assert agents
    assert all(w["type"] == "AGENT" for w in agents)


def test_workstations_unlink_as_the_clock_moves(simulator: Simulator, api: httpx.Client) -> None:
    seen_unlinked: set[str] = set()
    for _ in range(48):
        simulator.tick(300)
        body = api.get("/plan/workstation", params={"oql": "activeStates IN ['LINKED']"}).json()
        linked = {w["name"] for w in body["results"]}
        seen_unlinked |= {w.name for w in simulator.plan.workstations} - linked
    assert seen_unlinked


def test_engine_info(api: httpx.Client) -> None:
    body = api.get("/engine/info").json()
    assert body["displayVersion"] == "10.1.0.1"
    assert body["timezone"] == "UTC"
    assert body["capabilities"]["engine"]["name"] == "SIM_ENGINE"


def test_unknown_plan_id_is_rejected(api: httpx.Client) -> None:
    assert api.get("/plan/job", params={"plan_id": "current"}).status_code == 200
    assert api.get("/plan/job", params={"plan_id": "yesterday"}).status_code == 400
