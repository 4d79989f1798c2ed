"""Job streams in the simulator over HTTP: paging, status derived from the jobs, carry
forward, neighbours, counts, 404 (schemas are checked in test_schema_conformance.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from resync_tui.hwa.errors import NotFound
from resync_tui.hwa.simulator import API_BASE, Simulator
from resync_tui.hwa.simulator.faults import Faults
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER
from tests.hwa.test_client import make_client


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A 600-job plan (enough streams to page and to carry some forward), clock frozen."""
    simulator = Simulator(jobs=600, seed=3, user=SIM_USER, password=SIM_PASSWORD,
                          time_scale=0.0)
    simulator.start_in_thread(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url + API_BASE, auth=(SIM_USER, SIM_PASSWORD),
                      timeout=httpx.Timeout(5.0)) as http:
        yield http


def _all_streams(client: httpx.Client, limit: int) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    offset = 0
    while True:
        page = client.get("/plan/jobstream", params={"limit": limit, "offset": offset},
                          headers={"Include-Count": "true"}).json()
        found += page["results"]
        if "next" not in page:
            return found
        offset += limit


def test_stream_list_pages_cover_every_stream_once(sim: Simulator, client: httpx.Client) -> None:
    first = client.get("/plan/jobstream", params={"limit": 7},
                       headers={"Include-Count": "true"}).json()
    assert first["count"] == len(sim.plan.streams)
    assert len(first["results"]) == 7 and "next" in first and "previous" not in first
    assert "count" not in client.get("/plan/jobstream", params={"limit": 7}).json()
    streams = _all_streams(client, 7)
    assert [s["id"] for s in streams] == [s.id for s in sim.plan.streams]


def test_stream_job_counts_and_status_follow_its_jobs(sim: Simulator,
                                                      client: httpx.Client) -> None:
    sim.tick(4 * 3600)
    plan = sim.plan
    stream = plan.streams[0]  # its third job is doomed to ABEND at the start of the day
    doc = client.get(f"/plan/jobstream/{stream.id}").json()
    jobs = [j for j in plan.jobs if j.stream is stream]
    assert doc["jobStreamStats"]["numberOfJob"] == len(jobs)
    assert doc["jobStreamStats"].get("numberOfAbendedJob", 0) == sum(
        1 for j in jobs if j.status == "ABEND")
    assert any(j.status == "ABEND" for j in jobs)
    assert doc["compositeStatus"]["status"] in ("STUCK", "EXEC", "ABEND")
    assert doc["compositeStatus"].get("error", False) == (
        doc["compositeStatus"]["status"] in ("STUCK", "ABEND"))


def test_a_stream_whose_jobs_all_succeed_is_succ_and_a_cancelled_one_cancl(
        sim: Simulator, client: httpx.Client) -> None:
    plan = sim.plan
    stream = next(s for s in plan.streams[2:] if plan.now < s.sched_time)
    assert client.get(f"/plan/jobstream/{stream.id}").json()["compositeStatus"]["status"] \
        == "HOLD"
    for job in plan.jobs_of_stream(stream):
        plan.set_status(job, "SUCC")
    doc = client.get(f"/plan/jobstream/{stream.id}").json()
    assert doc["compositeStatus"]["status"] == "SUCC"
    assert doc["commonStatus"] == "SUCCESSFUL"
    other = next(s for s in plan.streams[2:] if plan.now < s.sched_time and s is not stream)
    assert client.put(f"/plan/jobstream/{other.id}/action/cancel").status_code == 200
    doc = client.get(f"/plan/jobstream/{other.id}").json()
    assert doc["compositeStatus"]["status"] == "CANCL"
    assert doc["compositeStatus"]["canceled"] is True


def test_some_streams_carry_forward_from_the_previous_day(client: httpx.Client) -> None:
    streams = _all_streams(client, 50)
    carried = [s for s in streams if s["jsDefinitionFlags"].get("carriedForward")]  # type: ignore[union-attr]
    assert carried
    for doc in carried:
        assert doc["jsOptions"]["carryForward"] is True  # type: ignore[index]
        assert str(doc["scheduledDate"]) < str(doc["schedTime"])[:10]
    assert len(carried) < len(streams)


def test_stream_neighbours_are_the_streams_of_cross_stream_dependencies(
        sim: Simulator, client: httpx.Client) -> None:
    plan = sim.plan
    job = next(j for j in plan.jobs if any(p.stream is not j.stream for p in j.preds))
    pred_stream = next(p.stream for p in job.preds if p.stream is not job.stream)
    preds = client.get(f"/plan/jobstream/{job.stream.id}/predecessors").json()
    assert pred_stream.id in {node["id"] for node in preds["results"]}
    assert all(node["flowNodeType"] == "JOBSTREAM" for node in preds["results"])
    succs = client.get(f"/plan/jobstream/{pred_stream.id}/successors").json()
    assert job.stream.id in {node["id"] for node in succs["results"]}
    assert succs["count"] == len(succs["results"])


def test_stream_count_by_status_adds_up(sim: Simulator, client: httpx.Client) -> None:
    sim.tick(3 * 3600)
    answer = client.get("/plan/jobstream/count", params={"grouping_filters": "status"}).json()
    assert answer["count"] == len(sim.plan.streams) == sum(answer["groupedCount"].values())
    listed = Counter(s["compositeStatus"]["status"]  # type: ignore[index]
                     for s in _all_streams(client, 100))
    assert dict(listed) == answer["groupedCount"]
    assert client.get("/plan/jobstream/count").json() == {"count": len(sim.plan.streams)}
    assert client.get("/plan/jobstream/count",
                      params={"grouping_filters": "colour"}).status_code == 400


def test_unknown_stream_is_404_everywhere(client: httpx.Client) -> None:
    for path in ("/plan/jobstream/NOPE", "/plan/jobstream/NOPE/predecessors",
                 "/plan/jobstream/NOPE/successors"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "NOPE" in answer.json()["message"]


def test_stream_list_filters_with_oql_and_refuses_a_bad_one(sim: Simulator,
                                                            client: httpx.Client) -> None:
    name = sim.plan.streams[5].name
    found = client.get("/plan/jobstream", params={"oql": f"name = '{name}'"}).json()
    assert [s["name"] for s in found["results"]] == [name]
    assert client.get("/plan/jobstream", params={"oql": "name ="}).status_code == 400
    assert client.get("/plan/jobstream", params={"plan_id": "other"}).status_code == 400


# ---- the client's job stream reads ------------------------------------------------------


async def test_client_reads_every_stream_page_by_page(sim: Simulator) -> None:
    sim.tick(3 * 3600)
    async with make_client(sim, page_size=4) as hwa:
        read = await hwa.job_streams()
        counts = await hwa.job_stream_counts()
    plan = sim.plan
    assert [s.id for s in read.streams] == [s.id for s in plan.streams]
    assert read.unreadable == ()
    by_status = Counter(s.status for s in read.streams)
    assert counts.count == len(plan.streams)
    assert dict(by_status) == counts.grouped_count
    first = read.streams[0]
    jobs = plan.jobs_of_stream(plan.streams[0])
    assert first.job_stream_stats is not None
    assert first.job_stream_stats.number_of_job == len(jobs)
    assert first.started_at is not None  # its first job ran at 00:30
    assert any(s.carried_forward for s in read.streams)


async def test_client_one_stream_its_neighbours_and_an_unknown_one(sim: Simulator) -> None:
    plan = sim.plan
    job = next(j for j in plan.jobs if any(p.stream is not j.stream for p in j.preds))
    pred = next(p.stream for p in job.preds if p.stream is not job.stream)
    async with make_client(sim) as hwa:
        one = await hwa.get_job_stream(job.stream.id)
        preds = await hwa.job_stream_predecessors(job.stream.id)
        succs = await hwa.job_stream_successors(pred.id)
        with pytest.raises(NotFound) as missing:
            await hwa.get_job_stream("NO;SUCH/STREAM")
    assert one.display_name == job.stream.name
    assert pred.id in {node.id for node in preds}
    assert job.stream.id in {node.id for node in succs}
    assert missing.value.endpoint == "GET /plan/jobstream/{jobstream_id}"


async def test_client_keeps_the_readable_streams_of_a_page_with_bad_records(
        sim: Simulator) -> None:
    sim.set_faults(Faults(bad_records=2))
    async with make_client(sim) as hwa:
        read = await hwa.job_streams()
    assert len(read.unreadable) == 2
    assert len(read.streams) == len(sim.plan.streams) - 2
