"""The simulator's wire output for a seed, pinned by digest: refactors must not move a byte.

A scripted session (job pages, engine info, workstations, ticks, operator actions,
refused actions, job logs, deletes, hostile names) runs over real HTTP for seeds 1
and 7; every answer's status, ``Date`` header and body is folded into one digest per
step. The recorded digests were taken from the code before the simulator was split
by concern, so any difference in what a client sees shows here, naming the step.
The "delete" and "hostile names" steps were re-recorded when the ``action_timeout``
fault was added: they fold the faults JSON, which now names it (every other step,
actions included, kept its digest).
Every step that folds job JSON, and the other-day plan, were re-recorded when jobs with
a deadline got ``timeRestrictions.deadlineTime`` (critical jobs, one job in 40): with
that one field left out, every digest recorded before it still held.
"runs and logs" was re-recorded when job logs came to grow with the plan clock (a line
per slot of the run's time, never dated after it; a failed run's error lines): only the
log bodies changed, every other step kept its digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from resync_tui.hwa.simulator import API_BASE, Plan, Simulator

JUSTIFY = {
    "Justification-Category": "Change",
    "Justification-Description": "golden session",
    "Justification-Ticket-Num": "CHG-7",
}


class Session:
    """Runs the scripted requests and keeps one digest per named step."""

    def __init__(self, sim: Simulator, api: httpx.Client, admin: httpx.Client) -> None:
        self.sim = sim
        self.api = api
        self.admin = admin
        self.digests: dict[str, str] = {}
        self._hash = hashlib.sha256()

    def step(self, name: str) -> None:
        """Close the current step under ``name`` and start the next one."""
        self.digests[name] = self._hash.hexdigest()[:16]
        self._hash = hashlib.sha256()

    def fold(self, response: httpx.Response) -> httpx.Response:
        self._hash.update(b"%d\n" % response.status_code)
        self._hash.update(response.headers.get("Date", "").encode() + b"\n")
        body = response.content.replace(self.sim.base_url.encode(), b"http://SIM")
        self._hash.update(body + b"\n--\n")
        return response

    def note(self, data: bytes) -> None:
        """Fold in-process data (not on the wire) into the current step."""
        self._hash.update(data)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.fold(self.api.get(path, params=params, headers={"Include-Count": "true"}))

    def put(self, path: str) -> httpx.Response:
        return self.fold(self.api.put(path, headers=JUSTIFY, json={}))

    def tick(self, seconds: float) -> None:
        self.fold(self.admin.post("/_sim/tick", json={"seconds": seconds}))

    def all_jobs(self) -> list[dict[str, Any]]:
        """Every job, read in pages of 64 by following offsets (each page folded)."""
        jobs: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.get("/plan/job", limit=64, offset=offset).json()
            jobs += page["results"]
            if "next" not in page:
                return jobs
            offset += 64

    def first(self, status: str, **extra: Any) -> dict[str, Any] | None:
        for job in self.all_jobs():
            if job["lastRunCompositeStatus"]["status"] == status and all(
                job.get(k) == v for k, v in extra.items()
            ):
                return job
        return None

    def act(self, job: dict[str, Any] | None, action: str) -> None:
        assert job is not None, f"no job for {action}"
        self.put(f"/plan/job/{job['id']}/action/{action}")
        self.get(f"/plan/job/{job['id']}")


def run_session(sim: Simulator, api: httpx.Client, admin: httpx.Client) -> dict[str, str]:
    s = Session(sim, api, admin)
    s.all_jobs()
    s.step("first pages")
    s.fold(api.get("/engine/info"))
    s.get("/plan/workstation")
    s.get("/plan/workstation", oql="type = 'AGENT' ORDER BY name DESC")
    s.step("engine and workstations")
    s.get("/plan/job", oql="status = 'HOLD' ORDER BY priority DESC, name")
    s.get("/plan/job/count", grouping_filters="status")
    s.get("/plan/job/count", grouping_filters="workstation,folder")
    s.step("queries")
    for seconds in (1, 30, 600, 3600, 3 * 3600):
        s.tick(seconds)
        s.all_jobs()
        s.get("/plan/workstation")
        s.step(f"tick {seconds}")
    s.act(s.first("HOLD"), "hold")
    held = s.first("HOLD", lastRunCommonStatus="HELD")
    s.act(held, "hold")  # refused: already held
    s.act(held, "release")
    s.act(s.first("EXEC"), "kill")
    abend = s.first("ABEND")
    assert abend is not None
    s.put(f"/plan/job/run/{abend['jobruns'][-1]['id']}/action/rerun")  # the spec reruns a run
    s.get(f"/plan/job/{abend['id']}")
    s.act(s.first("SUCC"), "confirm-abend")
    s.act(s.first("ABEND"), "confirm-succ")
    s.act(s.first("SUCC"), "cancel")  # refused: final
    s.act(s.first("HOLD"), "cancel")
    s.act(s.first("EXEC"), "cancel")  # refused: kill it first
    s.act(s.first("HOLD"), "kill")  # refused: not running
    s.act(s.first("HOLD"), "warp")  # unknown action
    s.step("actions")
    assert abend is not None
    runs = s.get(f"/plan/job/{abend['id']}").json()["jobruns"]
    s.put(f"/plan/job/run/{runs[0]['id']}/action/rerun")  # refused: the rerun is READY
    done = s.first("SUCC")
    assert done is not None
    s.put(f"/plan/job/run/{done['jobruns'][0]['id']}/action/rerun")
    s.get(f"/plan/job/{done['id']}")
    s.get(f"/plan/job/run/{runs[0]['id']}/joblog")
    s.get(f"/plan/job/run/{runs[0]['id']}/joblog", contentOnly="true", from_line=2, to_line=9)
    s.get(f"/plan/job/{abend['id']}/predecessors")
    s.get(f"/plan/job/{abend['id']}/successors")
    s.step("runs and logs")
    for seconds in (60, 1800, 6 * 3600):
        s.tick(seconds)
        s.all_jobs()
        s.step(f"after actions tick {seconds}")
    victim = s.all_jobs()[5]
    s.fold(admin.delete(f"/_sim/job/{victim['id']}"))
    s.tick(3600)
    s.all_jobs()
    s.fold(admin.get("/_sim/state"))
    s.step("delete")
    s.fold(admin.put("/_sim/faults", json={"hostile": 0.2, "seed": 3}))
    s.all_jobs()
    s.get("/plan/workstation")
    s.step("hostile names")
    for job in sim.plan.jobs:
        s.note(msgspec.json.encode(job.justifications or []))
    s.step("justifications")
    return s.digests


@pytest.fixture(params=[1, 7], ids=["seed1", "seed7"])
def session(request: pytest.FixtureRequest) -> Iterator[tuple[int, dict[str, str]]]:
    seed: int = request.param
    sim = Simulator(jobs=400, seed=seed, time_scale=0.0)
    sim.start_in_thread(host="127.0.0.1", port=0)
    timeout = httpx.Timeout(10.0)
    try:
        with (
            httpx.Client(base_url=sim.base_url + API_BASE, auth=("demo", "demo"),
                         timeout=timeout) as api,
            httpx.Client(base_url=sim.admin_url, timeout=timeout) as admin,
        ):  # fmt: skip
            yield seed, run_session(sim, api, admin)
    finally:
        sim.stop()


RECORDED: dict[int, dict[str, str]] = {
    1: {
        "first pages": "419b8d7d421727a0",
        "engine and workstations": "46ca4c641436dfd5",
        "queries": "ce3a3102745f5d7f",
        "tick 1": "3d391ef8c6878199",
        "tick 30": "e7c3abd58bb2ca0a",
        "tick 600": "9646a62df5743e42",
        "tick 3600": "a2f223e8c6ccb70c",
        "tick 10800": "204d8dee0317f568",
        "actions": "c239864e447ea442",
        "runs and logs": "862ba83380438248",
        "after actions tick 60": "fd52458923606023",
        "after actions tick 1800": "5bf367bac82b0b29",
        "after actions tick 21600": "ed449471ec491f96",
        "delete": "011af3dbba7e9b62",
        "hostile names": "f7510d9c23a11c20",
        "justifications": "4e9e51eeb9a3c289",
    },
    7: {
        "first pages": "dc0d9a5396e497b3",
        "engine and workstations": "c26e4974c69e795e",
        "queries": "a4755979ecf2d007",
        "tick 1": "f055326efe01d282",
        "tick 30": "b0c047cfec374ff6",
        "tick 600": "25e021e7d3653dfd",
        "tick 3600": "f349750514259098",
        "tick 10800": "175fb12195c664b6",
        "actions": "7afa543f01d61ca9",
        "runs and logs": "75449eef9a0fe882",
        "after actions tick 60": "95deca28e2c6e639",
        "after actions tick 1800": "c832ecb165776c94",
        "after actions tick 21600": "915206ad4dfcc007",
        "delete": "fd7a38d4c7c09ef7",
        "hostile names": "4432fc7480cbed74",
        "justifications": "30d26414398f49f6",
    },
}


def test_the_wire_is_byte_identical_to_the_recorded_session(
    session: tuple[int, dict[str, str]],
) -> None:
    seed, digests = session
    assert digests == RECORDED[seed]


def plan_on_another_day() -> str:
    """A plan started at a host-like instant (not the pinned day), read in process."""
    plan = Plan(jobs=300, seed=7, start=1_800_000_123.0)
    digest = hashlib.sha256(plan.fingerprint())
    for seconds in (45, 900, 5400):
        plan.tick(seconds)
        digest.update(plan.fingerprint())
        digest.update(msgspec.json.encode(plan.state()))
    late = plan.select("schedTime >= '2027-01-15T12:00:00Z' ORDER BY schedTime DESC")
    digest.update(" ".join(job.id for job in late).encode())
    return digest.hexdigest()[:16]


def test_a_plan_on_another_day_is_unchanged_too() -> None:
    assert plan_on_another_day() == "7a68aa2b0197664f"
