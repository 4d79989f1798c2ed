"""Every JSON answer of the simulator validates against the spec's schema for its path+status.

The schemas come straight from ../shared/hwa/openapi-v2.json (OpenAPI 3.1 = JSON Schema
2020-12), resolved through a referencing Registry over the whole document.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from resync_tui.hwa.simulator import API_BASE, Faults, Simulator

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared/hwa/openapi-v2.json"
SPEC_URI = "urn:hwa:openapi-v2"
_DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
FORMATS = FormatChecker()


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return "T" in value and parsed.tzinfo is not None


def _is_duration(value: object) -> bool:
    return not isinstance(value, str) or _DURATION.match(value) is not None


FORMATS.checks("date-time", raises=ValueError)(_is_date_time)
FORMATS.checks("duration")(_is_duration)


@functools.cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return data


@functools.cache
def registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(spec(), default_specification=DRAFT202012)
    empty: Registry[Any] = Registry()
    return cast("Registry[Any]", empty.with_resource(SPEC_URI, resource))


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def response_spec(template: str, method: str, status: int) -> dict[str, Any]:
    operation = spec()["paths"][API_BASE + template][method]
    found: dict[str, Any] = operation["responses"][str(status)]
    return found


def validator(template: str, method: str, status: int) -> Draft202012Validator:
    content = response_spec(template, method, status)["content"]
    media = next(iter(content))
    pointer = _pointer("paths", API_BASE + template, method, "responses", str(status),
                       "content", media, "schema")  # fmt: skip
    schema = {"$ref": f"{SPEC_URI}#/{pointer}"}
    return Draft202012Validator(schema, registry=registry(), format_checker=FORMATS)


def check(response: httpx.Response, template: str, method: str = "get") -> None:
    """Validate a response against the spec; errors without a schema must still be JSON."""
    declared = response_spec(template, method, response.status_code)
    content = declared.get("content")
    if content is None:
        body = response.json()
        assert isinstance(body["message"], str)
        return
    media = next(iter(content))
    if media.startswith("text/plain"):
        assert response.headers["content-type"].startswith("text/plain")
        return
    assert response.headers["content-type"].startswith("application/json")
    errors = list(validator(template, method, response.status_code).iter_errors(response.json()))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.fixture
def busy(simulator: Simulator, api: httpx.Client) -> Simulator:
    """A plan that has seen reruns, kills, holds, cancels and a day of clock."""
    plan = simulator.plan
    abend = next(j for j in plan.jobs if j.status == "ABEND")
    api.put(f"/plan/job/run/{abend.last_run.id}/action/rerun", json={})
    running = next(j for j in plan.jobs if j.status == "EXEC")
    api.put(f"/plan/job/{running.id}/action/kill")
    waiting = [j for j in plan.jobs if j.status == "HOLD"]
    api.put(f"/plan/job/{waiting[0].id}/action/hold")
    api.put(f"/plan/job/{waiting[1].id}/action/cancel")
    simulator.tick(5 * 3600)
    return simulator


def test_spec_is_the_expected_document_and_the_checker_bites() -> None:
    assert spec()["openapi"].startswith("3.1")
    job_check = validator("/plan/job/{job_id}", "get", 200)
    assert job_check.is_valid({"id": "x", "schedTime": "2026-11-25T06:00:00Z"})
    assert not job_check.is_valid({"schedTime": "yesterday"})
    assert not job_check.is_valid({"lastRunCompositeStatus": {"status": "NOPE"}})
    assert not job_check.is_valid({"jobruns": [{"timeInfo": {"elapsedTime": "3 min"}}]})


def test_job_list_pages_and_every_job_conform(busy: Simulator, api: httpx.Client) -> None:
    page = api.get("/plan/job", params={"limit": 20, "offset": 20},
                   headers={"Include-Count": "true"})  # fmt: skip
    check(page, "/plan/job")
    assert page.json()["next"] and page.json()["previous"]
    full = api.get("/plan/job")
    check(full, "/plan/job")
    statuses = {j["lastRunCompositeStatus"]["status"] for j in full.json()["results"]}
    assert {"SUCC", "ABEND", "HOLD"} <= statuses
    check(api.get("/plan/job", params={"oql": "status = 'SUCC' ORDER BY name"}), "/plan/job")
    check(api.get("/plan/job", params={"oql": "status ="}), "/plan/job")


def test_single_job_and_its_neighbours_conform(busy: Simulator, api: httpx.Client) -> None:
    for job in busy.plan.jobs:
        check(api.get(f"/plan/job/{job.id}"), "/plan/job/{job_id}")
    job = next(j for j in busy.plan.jobs if j.preds and j.succs)
    check(api.get(f"/plan/job/{job.id}/predecessors"), "/plan/job/{job_id}/predecessors")
    check(api.get(f"/plan/job/{job.id}/successors"), "/plan/job/{job_id}/successors")
    check(api.get("/plan/job/NOPE"), "/plan/job/{job_id}")
    check(api.get("/plan/job/NOPE/predecessors"), "/plan/job/{job_id}/predecessors")
    check(api.get("/plan/job/NOPE/successors"), "/plan/job/{job_id}/successors")


def test_count_conforms(busy: Simulator, api: httpx.Client) -> None:
    for groups in ("status", "workstation,status", "folder", ""):
        check(api.get("/plan/job/count", params={"grouping_filters": groups}), "/plan/job/count")
    check(api.get("/plan/job/count", params={"grouping_filters": "x"}), "/plan/job/count")


def test_joblog_conforms(busy: Simulator, api: httpx.Client) -> None:
    job = next(j for j in busy.plan.jobs if j.status == "SUCC")
    template = "/plan/job/run/{run_id}/joblog"
    check(api.get(f"/plan/job/run/{job.last_run.id}/joblog"), template)
    check(api.get("/plan/job/run/NOPE/joblog"), template)
    check(api.get(f"/plan/job/run/{job.last_run.id}/joblog", params={"from_line": "x"}), template)


def test_workstations_and_engine_conform(busy: Simulator, api: httpx.Client) -> None:
    check(api.get("/plan/workstation", headers={"Include-Count": "true"}), "/plan/workstation")
    check(api.get("/plan/workstation", params={"limit": 2, "offset": 2}), "/plan/workstation")
    check(api.get("/plan/workstation", params={"oql": "type IN"}), "/plan/workstation")
    check(api.get("/engine/info"), "/engine/info")


@pytest.mark.parametrize(
    ("action", "status"),
    [("hold", "HOLD"), ("release", "HOLD"), ("cancel", "HOLD"), ("kill", "EXEC"),
     ("confirm-succ", "ABEND"), ("confirm-abend", "SUCC")],
)  # fmt: skip
def test_actions_conform(
    simulator: Simulator, api: httpx.Client, action: str, status: str
) -> None:
    template = f"/plan/job/{{job_id}}/action/{action}"
    job = next(j for j in simulator.plan.jobs if j.status == status)
    if action == "release":
        api.put(f"/plan/job/{job.id}/action/hold")
    body = {} if "requestBody" in spec()["paths"][API_BASE + template]["put"] else None
    check(api.put(f"/plan/job/{job.id}/action/{action}", json=body), template, "put")
    if "400" in spec()["paths"][API_BASE + template]["put"]["responses"]:
        check(api.put(f"/plan/job/{job.id}/action/{action}", json=body), template, "put")
    check(api.put(f"/plan/job/NOPE/action/{action}", json=body), template, "put")


def test_rerun_conforms(simulator: Simulator, api: httpx.Client) -> None:
    job = next(j for j in simulator.plan.jobs if j.status == "SUCC")
    template = "/plan/job/run/{run_id}/action/rerun"
    check(api.put(f"/plan/job/run/{job.last_run.id}/action/rerun", json={}), template, "put")
    check(api.put(f"/plan/job/run/{job.last_run.id}/action/rerun", json={}), template, "put")
    check(api.put("/plan/job/run/NOPE/action/rerun", json={}), template, "put")
    other = next(j for j in simulator.plan.jobs if j.status == "ABEND")
    # /plan/job/{job_id}/action/rerun is not in the spec: a real engine has no such path
    assert API_BASE + "/plan/job/{job_id}/action/rerun" not in spec()["paths"]
    assert api.put(f"/plan/job/{other.id}/action/rerun", json={}).status_code == 404
    assert simulator.plan.job(other.id).status == "ABEND"


def test_401_conforms(simulator: Simulator) -> None:
    answer = httpx.get(simulator.base_url + API_BASE + "/plan/job", timeout=5)
    assert answer.status_code == 401
    check(answer, "/plan/job")


def test_hostile_names_stay_schema_valid(
    simulator: Simulator, api: httpx.Client, admin: httpx.Client
) -> None:
    admin.put("/_sim/faults", json={"hostile": True})
    check(api.get("/plan/job"), "/plan/job")
    check(api.get("/plan/workstation"), "/plan/workstation")


def test_a_big_plan_page_conforms() -> None:
    with Simulator(jobs=3000, seed=8) as sim, httpx.Client(auth=("demo", "demo"), timeout=10) as c:
        sim.tick(4 * 3600)
        check(c.get(sim.base_url + API_BASE + "/plan/job", params={"offset": 1000}), "/plan/job")


def test_wrong_shape_fault_is_caught_by_the_same_check(
    simulator: Simulator, api: httpx.Client
) -> None:
    simulator.set_faults(Faults(wrong_shape_rate=1.0))
    with pytest.raises(AssertionError):
        check(api.get("/plan/job"), "/plan/job")


def test_new_action_endpoints_conform(simulator: Simulator, api: httpx.Client) -> None:
    plan = simulator.plan
    waiting = next(j for j in plan.jobs if j.status == "HOLD"
                   and any(p.status != "SUCC" for p in j.preds))  # fmt: skip
    template = "/plan/job/{job_id}/action/release-all-dependencies"
    check(api.put(f"/plan/job/{waiting.id}/action/release-all-dependencies"), template, "put")
    check(api.put(f"/plan/job/{waiting.id}/action/release-all-dependencies"), template, "put")
    check(api.put("/plan/job/NOPE/action/release-all-dependencies"), template, "put")
    template = "/plan/job/{job_id}/action/update-priority"
    check(api.put(f"/plan/job/{waiting.id}/action/update-priority", params={"priority": 5}),
          template, "put")  # fmt: skip
    check(api.put("/plan/job/NOPE/action/update-priority", params={"priority": 5}),
          template, "put")  # fmt: skip
    stream = plan.streams[0]
    for action in ("hold", "release", "cancel"):
        template = f"/plan/jobstream/{{jobstream_id}}/action/{action}"
        check(api.put(f"/plan/jobstream/{stream.id}/action/{action}"), template, "put")
        check(api.put(f"/plan/jobstream/NOPE/action/{action}"), template, "put")
    for kind, action, body in (("job", "hold", None), ("job", "rerun", {}),
                               ("job", "confirm-abend", {}), ("jobstream", "release", None)):
        template = f"/plan/{kind}/action/{action}"
        check(api.put(template, params={"oql": "name = 'NOPE' OR id != ''"}, json=body),
              template, "put")  # fmt: skip
        check(api.put(template, json=body), template, "put")  # no filter: 400


def test_workstation_by_id_and_its_actions_conform(
        simulator: Simulator, api: httpx.Client) -> None:
    ws = next(w for w in simulator.plan.workstations if w.type == "AGENT")
    template = "/plan/workstation/{workstation_id}"
    check(api.get(f"/plan/workstation/{ws.id}"), template)
    check(api.get("/plan/workstation/NOPE"), template)
    values = {"update-fence": {"priority": 20}, "update-limit": {"limit": 5}}
    for action in ("unlink", "link", "stop", "start", "update-fence", "update-limit"):
        template = f"/plan/workstation/{{workstation_id}}/action/{action}"
        params = values.get(action, {})
        check(api.put(f"/plan/workstation/{ws.id}/action/{action}", params=params),
              template, "put")  # fmt: skip
        check(api.put(f"/plan/workstation/NOPE/action/{action}", params=params),
              template, "put")  # fmt: skip
    check(api.get(f"/plan/workstation/{ws.id}"), "/plan/workstation/{workstation_id}")
    assert (ws.fence, ws.limit) == (20, 5)


def test_every_action_with_a_spec_request_body_answers_415_without_json(
    simulator: Simulator, api: httpx.Client
) -> None:
    job = simulator.plan.jobs[0]
    served = {
        "/plan/job/run/{run_id}/action/rerun": f"/plan/job/run/{job.last_run.id}/action/rerun",
        "/plan/job/action/rerun": "/plan/job/action/rerun?oql=id%20%3D%20'x'",
        "/plan/job/action/confirm-succ": "/plan/job/action/confirm-succ?oql=id%20%3D%20'x'",
        "/plan/job/action/confirm-abend": "/plan/job/action/confirm-abend?oql=id%20%3D%20'x'",
        "/plan/job/{job_id}/action/confirm-succ": f"/plan/job/{job.id}/action/confirm-succ",
        "/plan/job/{job_id}/action/confirm-abend": f"/plan/job/{job.id}/action/confirm-abend",
        "/plan/job/{job_id}/action/hold": f"/plan/job/{job.id}/action/hold",
        "/plan/job/{job_id}/action/cancel": f"/plan/job/{job.id}/action/cancel",
        "/plan/jobstream/{jobstream_id}/action/hold": "/plan/jobstream/x/action/hold",
        "/plan/job/action/release": "/plan/job/action/release?oql=id%20%3D%20'x'",
    }
    for template, url in served.items():
        operation = spec()["paths"][API_BASE + template]["put"]
        status = api.put(url).status_code
        assert (status == 415) == ("requestBody" in operation), (template, status)


def test_job_streams_conform(busy: Simulator, api: httpx.Client) -> None:
    """Every job stream read (list pages, one stream, neighbours, counts, 404) is the spec's."""
    page = api.get("/plan/jobstream", params={"limit": 1, "offset": 1},
                   headers={"Include-Count": "true"})  # fmt: skip
    check(page, "/plan/jobstream")
    assert page.json()["next"] and page.json()["previous"]
    full = api.get("/plan/jobstream")
    check(full, "/plan/jobstream")
    statuses = {s["compositeStatus"]["status"] for s in full.json()["results"]}
    assert len(statuses) >= 3  # the busy plan's streams are in several states
    check(api.get("/plan/jobstream", params={"oql": "name ="}), "/plan/jobstream")
    for stream in busy.plan.streams:
        check(api.get(f"/plan/jobstream/{stream.id}"), "/plan/jobstream/{jobstream_id}")
        for kind in ("predecessors", "successors"):
            check(api.get(f"/plan/jobstream/{stream.id}/{kind}"),
                  f"/plan/jobstream/{{jobstream_id}}/{kind}")
    check(api.get("/plan/jobstream/NOPE"), "/plan/jobstream/{jobstream_id}")
    check(api.get("/plan/jobstream/NOPE/successors"), "/plan/jobstream/{jobstream_id}/successors")
    for groups in ("status", "workstation,status", "folder", ""):
        check(api.get("/plan/jobstream/count", params={"grouping_filters": groups}),
              "/plan/jobstream/count")
    check(api.get("/plan/jobstream/count", params={"grouping_filters": "x"}),
          "/plan/jobstream/count")


def test_hostile_stream_names_stay_schema_valid(
    simulator: Simulator, api: httpx.Client, admin: httpx.Client
) -> None:
    admin.put("/_sim/faults", json={"hostile": True})
    check(api.get("/plan/jobstream"), "/plan/jobstream")
    stream = simulator.plan.streams[0]
    check(api.get(f"/plan/jobstream/{stream.id}/successors"),
          "/plan/jobstream/{jobstream_id}/successors")
