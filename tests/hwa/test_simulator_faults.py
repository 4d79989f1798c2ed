"""Fault injection: every kind is visible to a plain HTTP client, and switchable live."""

from __future__ import annotations

import json

import httpx
import msgspec
import pytest

from resync_tui.hwa.simulator import API_BASE, Faults, Simulator
from resync_tui.hwa.simulator.faults import hostile_text


def put_faults(admin: httpx.Client, **changes: object) -> httpx.Response:
    return admin.put("/_sim/faults", json=changes)


def test_faults_json_round_trips_and_defaults_break_nothing() -> None:
    faults = Faults(latency=0.5, error_rate=0.1, outage="reset", paths=["/plan/job"], seed=3)
    assert Faults.from_json(faults.to_json()) == faults
    assert msgspec.json.decode(Faults().to_json()) == {
        "latency": 0.0, "error_rate": 0.0, "outage": "none", "slow_body": 0,
        "truncated_rate": 0.0, "malformed_json_rate": 0.0, "wrong_shape_rate": 0.0,
        "hostile": False, "paths": [], "bad_records": 0, "page_cap": 0, "no_count": False,
        "delete_after_first_page": 0, "action_timeout": False, "seed": 0,
    }  # fmt: skip
    mild = Faults.mild()
    assert 0 < mild.error_rate <= 0.05
    assert mild.latency > 0
    assert 0 < mild.hostile_rate < 0.05
    assert Faults.from_json(mild.to_json()) == mild


def test_admin_route_updates_partially_and_rejects_bad_input(
    admin: httpx.Client, simulator: Simulator
) -> None:
    assert admin.get("/_sim/faults").json()["error_rate"] == 0.0
    response = put_faults(admin, error_rate=0.25)
    assert response.status_code == 200
    assert put_faults(admin, latency=0.01).json()["error_rate"] == 0.25
    assert simulator.faults.error_rate == 0.25
    assert simulator.faults.latency == 0.01
    for bad in ({"bogus": 1}, {"error_rate": 2}, {"outage": "maybe"}, {"latency": "slow"}):
        rejected = admin.put("/_sim/faults", json=bad)
        assert rejected.status_code == 400
        assert "bad faults" in rejected.json()["message"]
    assert admin.put("/_sim/faults", content=b"not json").status_code == 400
    assert simulator.faults.error_rate == 0.25
    # Tripped over: `"outage": true` said only "Expected `str`, got `bool`".
    for bad_outage in (True, "maybe"):
        said = admin.put("/_sim/faults", json={"outage": bad_outage}).json()["message"]
        assert "outage is one of: none, refused, reset" in said


def test_error_rate_gives_5xx_with_json_only_on_filtered_paths(
    api: httpx.Client, admin: httpx.Client
) -> None:
    put_faults(admin, error_rate=1.0, paths=["/plan/job"])
    statuses = {api.get("/plan/job").status_code for _ in range(12)}
    assert statuses <= {500, 502, 503}
    assert len(statuses) > 1
    failed = api.get("/plan/job/count")
    assert "simulated server error" in failed.json()["message"]
    assert api.get("/engine/info").status_code == 200
    assert admin.get("/_sim/state").status_code == 200


def test_error_decisions_are_deterministic_per_seed() -> None:
    def statuses() -> list[int]:
        with Simulator(jobs=5, seed=1, faults=Faults(error_rate=0.5, seed=11)) as sim:
            url = sim.base_url + API_BASE + "/engine/info"
            with httpx.Client(auth=("demo", "demo"), timeout=5) as client:
                return [client.get(url).status_code for _ in range(16)]

    first = statuses()
    assert first == statuses()
    assert 200 in first
    assert set(first) - {200}


def test_admin_routes_are_never_faulted(simulator: Simulator) -> None:
    simulator.set_faults(Faults(error_rate=1.0, malformed_json_rate=1.0, latency=0.0))
    response = httpx.get(simulator.base_url + "/_sim/state", timeout=5)
    assert response.status_code == 200
    assert response.json()["faults"]["error_rate"] == 1.0


def test_refused_outage_stops_listening_until_lifted(
    api: httpx.Client, admin: httpx.Client, simulator: Simulator
) -> None:
    assert api.get("/engine/info").status_code == 200
    put_faults(admin, outage="refused")
    with pytest.raises(httpx.ConnectError):
        httpx.get(simulator.base_url + API_BASE + "/engine/info", timeout=5)
    with pytest.raises(httpx.TransportError):
        api.get("/engine/info")  # the kept-alive connection is dropped too
    assert admin.get("/_sim/state").status_code == 200
    put_faults(admin, outage="none")
    assert api.get("/engine/info").status_code == 200


def test_refused_outage_from_python(simulator: Simulator, api: httpx.Client) -> None:
    simulator.set_faults(Faults(outage="refused"))
    with pytest.raises(httpx.ConnectError):
        httpx.get(simulator.base_url + API_BASE + "/engine/info", timeout=5)
    simulator.set_faults(Faults())
    assert api.get("/engine/info").status_code == 200


def test_reset_outage_accepts_then_drops_the_connection(
    api: httpx.Client, admin: httpx.Client
) -> None:
    put_faults(admin, outage="reset")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.get("/plan/job")
    put_faults(admin, outage="none")
    assert api.get("/plan/job").status_code == 200


def test_latency_delays_answers(api: httpx.Client, admin: httpx.Client) -> None:
    put_faults(admin, latency=1.0, paths=["/engine/info"])
    with pytest.raises(httpx.ReadTimeout):
        api.get("/engine/info", timeout=httpx.Timeout(5.0, read=0.2))
    assert api.get("/plan/job/count").status_code == 200


def test_truncated_body_is_shorter_than_its_content_length(
    api: httpx.Client, admin: httpx.Client
) -> None:
    put_faults(admin, truncated_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        api.get("/plan/job")


def test_malformed_json_is_a_200_that_does_not_parse(
    api: httpx.Client, admin: httpx.Client
) -> None:
    put_faults(admin, malformed_json_rate=1.0)
    response = api.get("/plan/job")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_wrong_shape_is_valid_json_of_the_wrong_shape(
    api: httpx.Client, admin: httpx.Client
) -> None:
    put_faults(admin, wrong_shape_rate=1.0)
    assert isinstance(api.get("/plan/job").json()["results"], dict)
    info = api.get("/engine/info").json()
    assert not isinstance(info["displayVersion"], str)


def test_slow_body_streams_the_answer_in_pieces(api: httpx.Client, admin: httpx.Client) -> None:
    put_faults(admin, slow_body=400_000)
    with api.stream("GET", "/plan/job") as response:
        chunks = list(response.iter_raw())
    body = b"".join(chunks)
    assert len(chunks) > 1
    assert len(msgspec.json.decode(body)["results"]) == 50


def test_hostile_names_are_served_exactly_as_data(
    api: httpx.Client, admin: httpx.Client, simulator: Simulator
) -> None:
    put_faults(admin, hostile=True)
    results = api.get("/plan/job").json()["results"]
    names = [job["name"] for job in results]
    assert all("\x1b[2J\x1b]0;pwned\x07" in name for name in names)
    assert all("[bold red]X[/]" in name for name in names)
    assert any(len(name) >= 10_000 for name in names)
    assert any("\x00" in name or "\x1b[31;1m" in name for name in names)
    job = simulator.plan.jobs[0]
    one = api.get(f"/plan/job/{job.id}").json()
    assert one["name"] == hostile_text(job.name, job.id)
    assert one["jobStreamName"] == hostile_text(job.stream.name, job.stream.id)
    stations = api.get("/plan/workstation").json()["results"]
    assert all("\x1b" in ws["name"] for ws in stations)
    put_faults(admin, hostile=False)
    assert api.get(f"/plan/job/{job.id}").json()["name"] == job.name


def test_hostile_rate_touches_only_some_records(api: httpx.Client, admin: httpx.Client) -> None:
    put_faults(admin, hostile=0.3, seed=5)
    names = [job["name"] for job in api.get("/plan/job").json()["results"]]
    hostile = [name for name in names if "\x1b" in name]
    assert 0 < len(hostile) < len(names)
