"""The client tells the truth about what the engine sent: records, pages, removals, clock, auth.

Every test talks HTTP to the simulator; ``/_sim/stats`` (``Simulator.stats``) proves
how many calls the engine really received.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from resync_tui.cli import build_parser
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.errors import CredentialsRejected, NotFound
from resync_tui.hwa.simulator import API_BASE, Faults, Simulator
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER

DEADLINE = 20.0
WRONG = "not-the-password"


def make_client(sim: Simulator, **kwargs: Any) -> HwaClient:
    options: dict[str, Any] = {"user": SIM_USER, "password": SIM_PASSWORD, "connect_timeout": 2.0,
                               "read_timeout": 5.0, "call_timeout": 10.0, "trust_env": False}
    options.update(kwargs)
    return HwaClient(sim.base_url, **options)


def requests_to(sim: Simulator, key: str | None = None) -> int:
    """API requests the engine received (all of them, or one ``METHOD template``)."""
    counts = sim.stats()["requests"]
    return counts.get(key, 0) if key else sum(counts.values())


# ---- 1. per-record decode -----------------------------------------------------------------


async def test_a_bad_record_costs_only_itself_not_its_page(simulator: Simulator) -> None:
    simulator.set_faults(Faults(bad_records=2))
    async with make_client(simulator, page_size=10, parallel_pages=2) as hwa:
        read = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
    expected = [job.id for i, job in enumerate(simulator.plan.jobs) if i % 10 >= 2]
    assert [job.id for job in read.jobs] == expected  # 40 good jobs, in plan order
    assert len(read.unreadable) == 10
    bad_ids = {job.id for i, job in enumerate(simulator.plan.jobs) if i % 10 < 2}
    assert {record.job_id for record in read.unreadable} == bad_ids
    reasons = " ".join(record.reason for record in read.unreadable)
    assert "schedTime" in reasons and "priority" in reasons
    assert all(len(record.reason) <= 120 for record in read.unreadable)


async def test_a_bad_record_in_a_big_sliced_page_costs_only_itself() -> None:
    sim = Simulator(jobs=6000, seed=3, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0,
                    faults=Faults(bad_records=1))
    sim.start_in_thread("127.0.0.1", 0)
    try:
        async with make_client(sim, page_size=3000, parallel_pages=2) as hwa:
            read = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
    finally:
        sim.stop()
    assert len(read.jobs) == 5998 and len(read.unreadable) == 2
    assert {r.job_id for r in read.unreadable} == {sim.plan.jobs[0].id, sim.plan.jobs[3000].id}


async def test_a_bad_workstation_record_is_reported_and_the_rest_kept(
        simulator: Simulator) -> None:
    simulator.set_faults(Faults(bad_records=1))
    async with make_client(simulator) as hwa:
        read = await asyncio.wait_for(hwa.workstations(), DEADLINE)
    everyone = [ws.id for ws in simulator.plan.workstations]
    assert [ws.id for ws in read.workstations] == everyone[1:]
    (bad,) = read.unreadable
    assert bad.job_id == everyone[0] and "timeStarted" in bad.reason


# ---- 2. paging -------------------------------------------------------------------------


async def test_an_engine_capping_pages_without_count_is_read_to_the_end(
        simulator: Simulator) -> None:
    simulator.set_faults(Faults(page_cap=7, no_count=True))
    async with make_client(simulator, page_size=100) as hwa:
        read = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
    # Every job once, in order; the next links name an engine host we cannot even resolve:
    # only their path and query were used.
    assert [job.id for job in read.jobs] == [job.id for job in simulator.plan.jobs]
    assert requests_to(simulator, "GET /twsd/api/v2/plan/job") == 8  # 7 full pages + 1 short
    assert not read.complete  # no count: nothing proves no job slipped between pages


async def test_a_capping_engine_with_count_is_paged_by_its_size(simulator: Simulator) -> None:
    simulator.set_faults(Faults(page_cap=12))
    async with make_client(simulator, page_size=100, parallel_pages=3) as hwa:
        read = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
    assert [job.id for job in read.jobs] == [job.id for job in simulator.plan.jobs]
    assert read.complete


# ---- 3. removal --------------------------------------------------------------------------


async def test_a_deletion_between_pages_makes_the_read_incomplete(simulator: Simulator) -> None:
    async with make_client(simulator, page_size=10, parallel_pages=1) as hwa:
        steady = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
        assert steady.complete and len(steady.jobs) == 50
        before = [job.id for job in simulator.plan.jobs]
        simulator.set_faults(Faults(delete_after_first_page=1))
        read = await asyncio.wait_for(hwa.fetch_plan(), DEADLINE)
        deleted, skipped = before[0], before[10]
        ids = [job.id for job in read.jobs]
        assert deleted in ids  # served on page 1, then deleted before page 2 ...
        assert skipped not in ids  # ... so page 2 started one job later: this one slipped
        assert not read.complete  # ... and the read says it cannot vouch for what is missing
        assert (await hwa.get_job(skipped)).id == skipped
        with pytest.raises(NotFound):
            await hwa.get_job(deleted)


# ---- 4. credentials ------------------------------------------------------------------------


async def test_rejected_credentials_stop_every_call_until_retried(simulator: Simulator) -> None:
    async with make_client(simulator, password=WRONG, auth_retry_seconds=3600.0) as hwa:
        assert hwa.credentials_rejected is None
        with pytest.raises(CredentialsRejected):
            await hwa.engine_info()
        assert requests_to(simulator) == 1
        for call in (hwa.engine_info, hwa.fetch_plan, hwa.job_counts, hwa.workstations) * 3:
            with pytest.raises(CredentialsRejected) as caught:
                await asyncio.wait_for(call(), DEADLINE)
            message = str(caught.value)
            assert f"user {SIM_USER} at {hwa.base_url}" in message and WRONG not in message
        assert requests_to(simulator) == 1  # twelve polls, not one more login attempt
        assert hwa.credentials_rejected is not None and hwa.user == SIM_USER

        hwa.retry_credentials()  # the operator pressed r, nothing fixed yet
        with pytest.raises(CredentialsRejected):
            await hwa.engine_info()
        with pytest.raises(CredentialsRejected):
            await hwa.engine_info()
        assert requests_to(simulator) == 2  # exactly one probe

        simulator.set_credentials(password=WRONG)  # the engine now takes that password
        hwa.retry_credentials()
        results = await asyncio.gather(*(hwa.engine_info() for _ in range(3)),
                                       return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1  # the probe
        assert all(isinstance(r, CredentialsRejected) for r in results
                   if isinstance(r, BaseException))  # concurrent callers failed fast
        assert requests_to(simulator) == 3
        assert hwa.credentials_rejected is None
        await hwa.engine_info()
        await hwa.job_counts()
        assert requests_to(simulator) == 5  # calls flow again


async def test_retry_rereads_the_password_from_the_provider(simulator: Simulator) -> None:
    password_file = [WRONG]
    async with make_client(simulator, password=WRONG, auth_retry_seconds=3600.0,
                           password_provider=lambda: password_file[0]) as hwa:
        with pytest.raises(CredentialsRejected):
            await hwa.engine_info()
        password_file[0] = SIM_PASSWORD  # the operator fixed the file
        hwa.retry_credentials()
        assert (await hwa.engine_info()).display_version
        assert hwa.credentials_rejected is None


async def test_after_auth_retry_seconds_one_call_probes(simulator: Simulator) -> None:
    async with make_client(simulator, password=WRONG, auth_retry_seconds=0.0) as hwa:
        for _ in range(3):  # the wait is over every time: each call is that one probe
            with pytest.raises(CredentialsRejected):
                await hwa.engine_info()
        assert requests_to(simulator) == 3


# ---- 5. engine clock --------------------------------------------------------------------


def test_the_simulator_dates_answers_by_its_own_clock(simulator: Simulator,
                                                      api: httpx.Client) -> None:
    assert api.get("/engine/info").headers["Date"] == "Wed, 25 Nov 2026 06:00:00 GMT"
    simulator.tick(90)
    assert api.get("/plan/job", params={"limit": 1}).headers["Date"] == (
        "Wed, 25 Nov 2026 06:01:30 GMT")


@pytest.fixture
def hour_ahead() -> Iterator[Simulator]:
    sim = Simulator(jobs=5, seed=1, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0,
                    clock_offset=3600.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        yield sim
    finally:
        sim.stop()


async def test_engine_now_follows_the_engines_clock(hour_ahead: Simulator) -> None:
    engine = datetime(2026, 11, 25, 7, 0, 0, tzinfo=UTC)  # frozen an hour after the pin
    async with make_client(hour_ahead) as hwa:
        assert hwa.clock_offset is None
        asked = datetime.now(UTC)
        await hwa.engine_info()
        await hwa.job_counts()
        offset = hwa.clock_offset
        assert offset is not None
        now = hwa.engine_now()
    assert now.tzinfo is not None
    # The engine's second starts at 07:00:00; the local time since the question bounds the rest.
    assert engine <= now <= engine + timedelta(seconds=1) + (datetime.now(UTC) - asked)


def test_a_living_simulator_starts_today_ahead_by_its_offset() -> None:
    before = datetime.now(UTC)
    sim = Simulator(jobs=5, seed=1, time_scale=1.0, clock_offset=3600.0)
    after = datetime.now(UTC)
    clock = datetime.fromisoformat(sim.plan.clock)
    assert before + timedelta(seconds=3599) <= clock <= after + timedelta(seconds=3600)
    assert sim.plan.clock[:10] in {(before + timedelta(hours=1)).date().isoformat(),
                                   (after + timedelta(hours=1)).date().isoformat()}
    date = email.utils.formatdate(sim.plan.engine_time, usegmt=True)
    assert email.utils.parsedate_to_datetime(date) == clock


@pytest.mark.parametrize(("time_scale", "offset"), [(0.0, 0.0), (1.0, 3600.0)])
async def test_a_real_time_engine_runs_at_1x_whatever_its_offset(time_scale: float,
                                                                offset: float) -> None:
    """A real engine's clock (1x, maybe ahead or behind) is never estimated off 1: the
    Date headers' 1 s steps would otherwise read as a clock running fast or stopped."""
    sim = Simulator(jobs=5, seed=1, user=SIM_USER, password=SIM_PASSWORD,
                    time_scale=time_scale, clock_offset=offset)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        async with make_client(sim) as hwa:
            assert hwa.clock_rate == 1.0  # no answer yet
            for _ in range(6):
                await hwa.engine_info()
                await asyncio.sleep(0.3)
            assert hwa.clock_rate == 1.0
    finally:
        sim.stop()


async def test_a_real_engine_whose_clock_steps_an_hour_still_runs_at_1x() -> None:
    """One step of a real engine's clock (an NTP correction) between two answers is not a
    fast clock: taken for one, the engine's time was extrapolated at ~1,000x."""
    sim = Simulator(jobs=5, seed=1, user=SIM_USER, password=SIM_PASSWORD, time_scale=1.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        async with make_client(sim) as hwa:
            rates = []
            for i in range(9):
                if i == 4:
                    sim.tick(3600)
                await hwa.engine_info()
                rates.append(hwa.clock_rate)
                await asyncio.sleep(0.4)
            assert rates == [1.0] * 9
    finally:
        sim.stop()


@pytest.fixture
def sim_30x() -> Iterator[Simulator]:
    """A living engine whose clock runs 30 times as fast as this machine's (``demo``'s)."""
    sim = Simulator(jobs=5, seed=1, user=SIM_USER, password=SIM_PASSWORD, time_scale=30.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        yield sim
    finally:
        sim.stop()


async def test_a_simulated_engine_at_30x_is_measured_at_30x(sim_30x: Simulator) -> None:
    sim = sim_30x
    async with make_client(sim) as hwa:
        for _ in range(9):
            await hwa.engine_info()
            await asyncio.sleep(0.3)
        assert 20 <= hwa.clock_rate <= 40
        # Followed at its own rate: the median of the offsets lagged it by half the
        # samples (~45 s here, minutes at the demo's poll intervals). The simulator's
        # clock moves in steps of half a second, 15 s here.
        assert abs(hwa.engine_now().timestamp() - sim.plan.engine_time) < 25


async def test_a_clock_rate_known_in_advance_is_followed_from_the_first_answer(
        sim_30x: Simulator) -> None:
    """``demo`` knows its simulator's time scale. Measured alone, the rate needs answers
    over 1.2 s; the demo's polls are 10 s apart, and meanwhile its job list, read on
    time, was called STALE (minutes old on a clock taken for 1x) and the header's clock
    stepped 5 minutes at each poll."""
    sim = sim_30x
    async with make_client(sim) as told, make_client(sim) as untold:
        told.expect_clock_rate(30.0)
        assert told.clock_rate == 1.0  # no answer yet: nothing to follow
        await told.engine_info()
        await untold.engine_info()
        assert untold.clock_rate == 1.0
        assert told.clock_rate == 30.0
        await asyncio.sleep(2.0)  # 60 s on the engine, no answer meanwhile
        assert abs(told.engine_now().timestamp() - sim.plan.engine_time) < 20
        assert abs(untold.engine_now().timestamp() - sim.plan.engine_time) > 20
        for _ in range(9):  # then the answers judge
            await told.engine_info()
            await asyncio.sleep(0.3)
        assert 20 <= told.clock_rate <= 40 and told.clock_rate != 30.0


async def test_a_slow_rate_expected_is_not_taken() -> None:
    sim = Simulator(jobs=5, seed=1, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0)
    sim.start_in_thread("127.0.0.1", 0)
    try:
        async with make_client(sim) as hwa:
            hwa.expect_clock_rate(0.0)  # demo --time-scale 0: a frozen plan, 1x clock rule
            await hwa.engine_info()
            assert hwa.clock_rate == 1.0
    finally:
        sim.stop()


def test_sim_takes_a_clock_offset_flag() -> None:
    args = build_parser().parse_args(["sim", "--clock-offset", "3600"])
    assert args.clock_offset == 3600.0


# ---- 6. stats ---------------------------------------------------------------------------


def test_stats_count_requests_by_template_and_answers_by_status(
        simulator: Simulator, api: httpx.Client, admin: httpx.Client) -> None:
    job_id = simulator.plan.jobs[3].id
    api.get(f"/plan/job/{job_id}")
    api.get("/plan/job/nope")
    httpx.get(simulator.base_url + API_BASE + "/engine/info", timeout=5.0)  # no credentials
    stats = admin.get("/_sim/stats").json()
    assert stats == {
        "requests": {"GET /twsd/api/v2/plan/job/{job_id}": 2, "GET /twsd/api/v2/engine/info": 1},
        "responses": {"200": 1, "404": 1, "401": 1},
    }


# ---- 7. ids with ";" -----------------------------------------------------------------------


async def test_every_job_endpoint_takes_an_id_with_semicolons(simulator: Simulator) -> None:
    job = next(j for j in simulator.plan.jobs if ";" in j.id and j.preds and j.succs)
    async with make_client(simulator) as hwa:
        got = await hwa.get_job(job.id)
        assert got.id == job.id and got.last_run is not None and got.last_run.id
        assert [n.id for n in await hwa.predecessors(job.id)] == [p.id for p in job.preds]
        assert [n.id for n in await hwa.successors(job.id)] == [s.id for s in job.succs]
        assert job.name in await hwa.job_log(got.last_run.id)
        await hwa.job_action(job.id, "hold")
        assert simulator.plan.job(job.id).user_held
        await hwa.job_action(job.id, "release")
        assert not simulator.plan.job(job.id).user_held
    requests = simulator.stats()["requests"]
    assert requests["PUT /twsd/api/v2/plan/job/{job_id}/action/{action}"] == 2
