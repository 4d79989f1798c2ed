"""HwaClient against the simulator over real loopback HTTP: what the panes will read and do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from resync_tui.hwa.client import _SLICED_DECODE_BYTES, API_PATH, HwaClient
from resync_tui.hwa.errors import (
    BadRequest,
    CredentialsRejected,
    HwaError,
    MalformedResponse,
    NotFound,
)
from resync_tui.hwa.models import JobInPlan, PlanJob
from resync_tui.hwa.simulator import Job, Simulator
from resync_tui.hwa.simulator.faults import Faults
from resync_tui.model.job_row import job_row_from_model
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "hwa" / "openapi-v2.json"
SECRET = "s3cr3t-Pa55word!"
TOKEN = "tok.en-value-Zz9"


def make_client(sim: Simulator, **options: object) -> HwaClient:
    """A client with short deadlines, so that no test can hang on the network."""
    settings: dict[str, object] = {
        "user": SIM_USER,
        "password": SIM_PASSWORD,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "call_timeout": 10.0,
        "plan_timeout": 20.0,
    }
    settings.update(options)
    return HwaClient(sim.base_url, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[HwaClient]:
    async with make_client(simulator) as hwa:
        yield hwa


def find_job(sim: Simulator, predicate: Callable[[Job], bool], max_ticks: int = 300) -> Job:
    """The first job in the wanted state, moving the plan clock a minute at a time."""
    for _ in range(max_ticks):
        for job in sim.plan.jobs:
            if predicate(job):
                return job
        sim.tick(60)
    raise AssertionError("no job reached the wanted state")


# ---- reading the plan -----------------------------------------------------------------


@pytest.mark.parametrize("page_size", [7, 10, 49, 50, 10_000])
async def test_fetch_plan_reads_every_job_once_in_plan_order(
    simulator: Simulator, page_size: int
) -> None:
    async with make_client(simulator, page_size=page_size, parallel_pages=3) as hwa:
        jobs = (await hwa.fetch_plan()).jobs
    assert [job.id for job in jobs] == [job.id for job in simulator.plan.jobs]
    assert jobs[-1].name == simulator.plan.jobs[-1].name


@pytest.fixture
def big_pages() -> Iterator[Simulator]:
    """6,000 jobs: a 2,500-job page is a body big enough to be decoded a slice at a time."""
    sim = Simulator(jobs=6000, seed=3, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0)
    sim.start_in_thread(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        sim.stop()


def page_bytes(sim: Simulator, limit: int) -> int:
    with httpx.Client(auth=(SIM_USER, SIM_PASSWORD), timeout=10.0) as http:
        answer = http.get(sim.base_url + API_PATH + "/plan/job", params={"limit": limit})
    return len(answer.content)


async def test_big_pages_give_the_same_jobs_in_the_same_order_as_small_ones(
    big_pages: Simulator,
) -> None:
    assert page_bytes(big_pages, 2500) > _SLICED_DECODE_BYTES > page_bytes(big_pages, 500)
    async with make_client(big_pages, page_size=2500, parallel_pages=2) as hwa:
        jobs = (await hwa.fetch_plan()).jobs
        first = await hwa.list_jobs(limit=2500, include_count=True)
        small = [
            job
            for offset in range(0, 6000, 500)
            for job in (await hwa.list_jobs(limit=500, offset=offset)).results or ()
        ]
    assert [job.id for job in jobs] == [job.id for job in big_pages.plan.jobs]
    assert jobs == small  # every field, not only the ids
    assert first.count == 6000 and list(first.results or ()) == small[:2500]


async def test_a_big_page_of_invalid_json_is_malformed(big_pages: Simulator) -> None:
    assert page_bytes(big_pages, 6000) // 2 > _SLICED_DECODE_BYTES  # the fault halves a body
    big_pages.set_faults(Faults(malformed_json_rate=1.0, paths=["/twsd/api/v2/plan/job"]))
    async with make_client(big_pages, page_size=6000) as hwa:
        with pytest.raises(MalformedResponse) as caught:
            await hwa.fetch_plan()
    assert caught.value.endpoint == "GET /plan/job"
    assert "invalid JSON" in caught.value.message


async def test_fetch_plan_keeps_each_job_once_when_the_plan_moves_between_pages(
    simulator: Simulator,
) -> None:
    ticks: list[str] = []

    def move_the_plan(endpoint: str, seconds: float, outcome: str) -> None:
        ticks.append(simulator.tick(600))  # the plan changes after every page

    async with make_client(
        simulator, page_size=7, parallel_pages=1, on_request=move_the_plan
    ) as hwa:
        jobs = (await hwa.fetch_plan()).jobs
    assert len(ticks) >= 8
    assert len({job.id for job in jobs}) == len(jobs) == 50


async def test_list_jobs_gives_one_page_with_count_only_when_asked(client: HwaClient) -> None:
    counted = await client.list_jobs(limit=5, offset=45, include_count=True)
    plain = await client.list_jobs(limit=5)
    assert counted.count == 50
    assert counted.results is not None and len(counted.results) == 5
    assert plain.count is None
    assert plain.next is not None and "offset=5" in plain.next


async def test_oql_status_filter_passes_through(client: HwaClient, simulator: Simulator) -> None:
    expected = sorted(job.id for job in simulator.plan.jobs if job.status == "HOLD")
    jobs = (await client.fetch_plan("jobruns.compositeStatus.status = 'HOLD'")).jobs
    assert sorted(job.id for job in jobs) == expected
    assert {job.status for job in jobs} == {"HOLD"}


async def test_oql_order_by_passes_through(client: HwaClient) -> None:
    jobs = (await client.fetch_plan("folder LIKE '/@' ORDER BY name DESC")).jobs
    names = [job.name or "" for job in jobs]
    assert len(names) == 50
    assert names == sorted(names, reverse=True)


async def test_oql_the_engine_cannot_parse_is_a_bad_request_with_its_reason(
    client: HwaClient,
) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.fetch_plan("name = = 'x' ORDER")
    assert caught.value.endpoint == "GET /plan/job"
    assert "invalid oql" in caught.value.message
    assert not caught.value.transient


async def test_job_fields_the_panes_show(client: HwaClient, simulator: Simulator) -> None:
    sim_job = find_job(simulator, lambda j: j.status == "SUCC")
    job = await client.get_job(sim_job.id)
    assert isinstance(job, JobInPlan)
    assert (job.id, job.name, job.status, job.common_status) == (
        sim_job.id,
        sim_job.name,
        "SUCC",
        "SUCCESSFUL",
    )
    assert job.return_code == 0
    assert job.last_run is not None and job.last_run.id == sim_job.last_run.id
    assert job.started_at is not None and job.ended_at is not None
    assert job.duration == job.ended_at - job.started_at
    assert job.estimated_duration is not None
    assert job.workstation == sim_job.workstation.name
    assert job.job_stream_name == sim_job.stream.name


async def test_unknown_job_is_not_found_and_ids_cannot_escape_their_path(
    client: HwaClient,
) -> None:
    for job_id in ("NO_SUCH_JOB", "../../engine/info", "a/b?c=d#e"):
        with pytest.raises(NotFound) as caught:
            await client.get_job(job_id)
        assert caught.value.endpoint == "GET /plan/job/{job_id}"
        assert job_id not in str(caught.value.endpoint)


async def test_counts_match_the_plan_and_the_signature_sees_a_change(
    client: HwaClient, simulator: Simulator
) -> None:
    assert await client.job_counts() == simulator.plan.counts()
    before = await client.plan_signature()
    assert before[0] == 50
    assert before == await client.plan_signature()
    sim_job = find_job(simulator, lambda j: j.status == "EXEC")
    await client.job_action(sim_job.id, "kill")
    assert await client.plan_signature() != before


async def test_job_log_is_plain_text_with_line_paging(
    client: HwaClient, simulator: Simulator
) -> None:
    sim_job = find_job(simulator, lambda j: j.status in ("SUCC", "ABEND"))
    job = await client.get_job(sim_job.id)
    assert job.last_run is not None and job.last_run.id is not None
    text = await client.job_log(job.last_run.id)
    lines = text.splitlines()
    assert any(sim_job.name in line for line in lines)
    assert await client.job_log(job.last_run.id, from_line=2, to_line=3) == "\n".join(
        lines[1:3]
    ) + "\n"
    with pytest.raises(NotFound):
        await client.job_log("NO_SUCH_RUN")


async def test_predecessors_and_successors_name_the_linked_jobs(
    client: HwaClient, simulator: Simulator
) -> None:
    sim_job = next(job for job in simulator.plan.jobs if job.preds and job.succs)
    preds = await client.predecessors(sim_job.id)
    succs = await client.successors(sim_job.id)
    assert [node.id for node in preds] == [job.id for job in sim_job.preds]
    assert [node.id for node in succs] == [job.id for job in sim_job.succs]
    assert all(node.flow_node_type == "JOB" and node.status for node in preds + succs)


async def test_workstations_page_through_and_show_link_state(simulator: Simulator) -> None:
    async with make_client(simulator, page_size=3) as hwa:
        workstations = (await hwa.workstations()).workstations
    assert [ws.id for ws in workstations] == [ws.id for ws in simulator.plan.workstations]
    for ws, sim_ws in zip(workstations, simulator.plan.workstations, strict=True):
        assert ws.type == sim_ws.type
        assert ws.needs_attention == (not sim_ws.linked and sim_ws.type != "MANAGER")


async def test_engine_info_gives_version_and_time_zone(client: HwaClient) -> None:
    info = await client.engine_info()
    assert info.display_version == "10.1.0.1"
    assert info.timezone == "UTC"


# ---- operator actions -----------------------------------------------------------------


def _held(j: Job) -> bool:
    return j.user_held


ACTION_CASES: list[tuple[str, Callable[[Job], bool], Callable[[JobInPlan], bool]]] = [
    ("hold", lambda j: j.status == "HOLD" and not j.user_held,
     lambda after: after.common_status == "HELD"),
    ("release", _held, lambda after: after.common_status != "HELD"),
    ("cancel", lambda j: j.status == "HOLD" and not j.user_held,
     lambda after: after.status == "CANCL"),
    ("kill", lambda j: j.status == "EXEC",
     lambda after: after.status == "ABEND" and after.return_code == -1),
    ("confirm-succ", lambda j: j.status == "ABEND",
     lambda after: after.status == "SUCC" and bool(after.last_run and after.last_run.confirmed)),
    ("confirm-abend", lambda j: j.status == "SUCC",
     lambda after: after.status == "ABEND"),
    ("rerun", lambda j: j.status in ("SUCC", "ABEND"),
     lambda after: after.status == "READY" and after.rerun_count == 1 and len(after.jobruns) == 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "wanted", "changed"), ACTION_CASES, ids=[case[0] for case in ACTION_CASES]
)
async def test_each_action_changes_the_plan_as_read_back(
    client: HwaClient,
    simulator: Simulator,
    action: str,
    wanted: Callable[[Job], bool],
    changed: Callable[[JobInPlan], bool],
) -> None:
    if action == "release":
        held = find_job(simulator, lambda j: j.status == "HOLD")
        await client.job_action(held.id, "hold")
    sim_job = find_job(simulator, wanted)
    before = await client.get_job(sim_job.id)
    result = await client.job_action(
        sim_job.id,
        action,  # type: ignore[arg-type]
        justification_category="Incident",
        justification_description="night shift fix",
        justification_ticket="INC-42",
    )
    assert result.id == sim_job.id
    after = await client.get_job(sim_job.id)
    assert after != before
    assert changed(after)
    last = (simulator.plan.job(sim_job.id).justifications or [])[-1]
    assert last == {
        "action": action,
        "category": "Incident",
        "description": "night shift fix",
        "ticket": "INC-42",
    }


async def test_justification_text_with_newlines_and_accents_is_sent_cleaned(
    client: HwaClient, simulator: Simulator
) -> None:
    sim_job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    await client.job_action(
        sim_job.id, "hold", justification_description="Müller asked\r\nX-Injected: 1"
    )
    record = (simulator.plan.job(sim_job.id).justifications or [])[-1]
    assert "\n" not in record["description"] and "\r" not in record["description"]
    assert record["description"].startswith("M")
    assert "X-Injected" in record["description"]


async def test_an_action_that_makes_no_sense_is_refused_with_the_reason(
    client: HwaClient, simulator: Simulator
) -> None:
    sim_job = find_job(simulator, lambda j: j.status == "SUCC")
    with pytest.raises(BadRequest) as caught:
        await client.job_action(sim_job.id, "kill")
    assert caught.value.endpoint == "PUT /plan/job/{job_id}/action/kill"
    assert "not running" in caught.value.message


async def test_unsupported_action_is_refused_before_any_call(client: HwaClient) -> None:
    with pytest.raises(ValueError, match="unsupported action"):
        await client.job_action("X", "delete")  # type: ignore[arg-type]


# ---- credentials and secrets ------------------------------------------------------------


async def test_wrong_password_is_credentials_rejected_without_the_password(
    simulator: Simulator,
) -> None:
    async with make_client(simulator, password=SECRET) as hwa:
        with pytest.raises(CredentialsRejected) as caught:
            await hwa.fetch_plan()
    error = caught.value
    assert error.message.startswith("credentials rejected")
    assert not error.transient
    assert SECRET not in str(error) and SECRET not in repr(error)


async def test_wrong_token_is_credentials_rejected(simulator: Simulator) -> None:
    async with HwaClient(simulator.base_url, token=TOKEN, call_timeout=10.0) as hwa:
        with pytest.raises(CredentialsRejected) as caught:
            await hwa.engine_info()
    assert TOKEN not in str(caught.value)


async def test_repr_and_errors_never_show_secrets(simulator: Simulator) -> None:
    basic = HwaClient(simulator.base_url, user="ops", password=SECRET)
    bearer = HwaClient(simulator.base_url, token=TOKEN)
    try:
        assert SECRET not in repr(basic) and "ops" in repr(basic)
        assert TOKEN not in repr(bearer)
        assert SECRET not in repr(vars(basic)) and TOKEN not in repr(vars(bearer))
    finally:
        await basic.aclose()
        await bearer.aclose()


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError) as caught:
        HwaClient(f"https://ops:{SECRET}@engine.example:31116")
    assert SECRET not in str(caught.value)


def test_tls_verification_is_on_unless_turned_off() -> None:
    assert "verify=True" in repr(HwaClient("https://engine.example:31116"))


# ---- data the engine controls -----------------------------------------------------------


async def test_hostile_names_pass_through_as_exact_data(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(hostile=True))
    async with httpx.AsyncClient(
        base_url=client.base_url, auth=(SIM_USER, SIM_PASSWORD), timeout=5.0
    ) as raw_http:
        raw = (await raw_http.get("/plan/job", params={"limit": 100})).content
    expected = [job["name"] for job in msgspec.json.decode(raw)["results"]]
    jobs = (await client.fetch_plan()).jobs
    assert [job.name for job in jobs] == expected
    assert any("\x1b[" in (job.name or "") for job in jobs)
    assert any("[bold red]" in (job.name or "") for job in jobs)
    assert any(len(job.name or "") >= 10_000 for job in jobs)
    workstations = (await client.workstations()).workstations
    assert any("\x1b" in (ws.name or "") for ws in workstations)


async def test_every_error_is_an_hwa_error_with_an_endpoint_template(
    client: HwaClient,
) -> None:
    failures: list[HwaError] = []
    for call in (
        client.get_job("missing"),
        client.job_log("missing"),
        client.predecessors("missing"),
        client.fetch_plan("bad oql ((("),
    ):
        try:
            await call
        except HwaError as exc:
            failures.append(exc)
    assert [f.endpoint for f in failures] == [
        "GET /plan/job/{job_id}",
        "GET /plan/job/run/{run_id}/joblog",
        "GET /plan/job/{job_id}/predecessors",
        "GET /plan/job",
    ]


@pytest.mark.parametrize("page_size", [7, 10_000])
async def test_read_plan_gives_the_rows_of_the_full_models_hostile_and_bad_records_too(
    page_size: int,
) -> None:
    """The lite records of ``read_plan`` (only what a row needs) map to the same rows as
    the full ``JobInPlan``s, with the same records unreadable, for names full of escapes
    and markup and for records of the wrong type, decoded whole (small pages) or in
    slices (10,000 jobs asked: a body over 1 MiB)."""
    sim = Simulator(jobs=1500, seed=4, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        sim.set_faults(Faults(hostile=0.3, bad_records=2))
        lite: list[PlanJob] = []
        async with make_client(sim, page_size=page_size, parallel_pages=2) as hwa:
            full = await hwa.fetch_plan()
            read = await hwa.read_plan(lite.extend, canonical=str)
    finally:
        sim.stop()
    assert read.jobs == [] and read.received == len(lite) == len(full.jobs)
    assert all(type(job) is PlanJob for job in lite)
    assert [job_row_from_model(job) for job in lite] == [
        job_row_from_model(job) for job in full.jobs]
    assert any("\x1b[2J" in (job.name or "") for job in lite)
    assert read.unreadable == full.unreadable and len(read.unreadable) >= 2
    assert read.complete == full.complete


@pytest.mark.parametrize("page_size", [7, 50, 10_000])
async def test_fetch_plan_hands_each_job_once_to_a_sink_and_keeps_none(
    simulator: Simulator, page_size: int
) -> None:
    """With a sink the caller maps jobs as pages arrive; the read keeps no decoded job."""
    taken: list[list[str]] = []
    async with make_client(simulator, page_size=page_size, parallel_pages=3) as hwa:
        read = await hwa.fetch_plan(sink=lambda jobs: taken.append([job.id for job in jobs]))
    assert read.jobs == [] and read.complete
    assert read.received == len(simulator.plan.jobs)
    assert [job_id for part in taken for job_id in part] == [job.id for job in
                                                             simulator.plan.jobs]
    assert all(len(part) <= min(page_size, 500) for part in taken)


def _struct_of(info: object) -> type | None:
    """The Struct a field holds (directly, optional or as a tuple's items), else None."""
    if isinstance(info, msgspec.inspect.StructType):
        return info.cls
    for inner in getattr(info, "types", ()):  # Optional: a UnionType
        found = _struct_of(inner)
        if found is not None:
            return found
    item = getattr(info, "item_type", None)
    return _struct_of(item) if item is not None else None


def test_the_lite_plan_job_is_job_in_plan_v2_field_for_field() -> None:
    """Every field ``PlanJob`` declares, nested ones too, is one the spec's
    ``JobInPlanV2`` has, under the same wire name and of the type the full model gives it
    (so a record is read or refused by the same rules)."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]

    def check(lite: type, full: type, schema_name: str) -> int:
        schema = spec[schema_name]
        props = schema["properties"]
        lite_info = msgspec.inspect.type_info(lite)
        full_fields = {f.name: f for f in msgspec.inspect.type_info(full).fields}
        checked = 0
        for field in lite_info.fields:
            assert field.encode_name in props, (schema_name, field.encode_name)
            twin = full_fields[field.name]
            assert twin.encode_name == field.encode_name
            inner_lite, inner_full = _struct_of(field.type), _struct_of(twin.type)
            if inner_lite is None:
                assert field.type == twin.type, (schema_name, field.name)
                checked += 1
                continue
            assert inner_full is not None
            prop = props[field.encode_name]
            ref = prop.get("$ref") or prop["items"]["$ref"]
            checked += check(inner_lite, inner_full, ref.rsplit("/", 1)[1])
        return checked

    assert check(PlanJob, JobInPlan, "JobInPlanV2") >= 20
