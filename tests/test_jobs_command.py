"""``resync-tui jobs`` against the real simulator, checked against direct reads of the API."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from resync_tui.hwa.simulator import API_BASE, Simulator

USER, PASSWORD = "demo", "demo"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=300, seed=7, user=USER, password=PASSWORD, time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


def run_jobs(url: str, tmp_path: Path, *args: str,
             password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env.update({"RESYNC_HWA__URL": url, "RESYNC_HWA__USER": USER,
                "RESYNC_HWA__PASSWORD": password,
                "RESYNC_HWA__CALL_DEADLINE": "10", "RESYNC_RETRY__MAX_ATTEMPTS": "1",
                "RESYNC_LOGGING__FILE": str(tmp_path / "log.txt")})
    return subprocess.run([sys.executable, "-m", "resync_tui", "jobs", *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)


def api_jobs(sim: Simulator, oql: str | None = None) -> list[dict[str, Any]]:
    """Every job of the plan as the API sends it, read page by page by hand."""
    jobs: list[dict[str, Any]] = []
    with httpx.Client(base_url=sim.base_url + API_BASE, auth=(USER, PASSWORD),
                      timeout=httpx.Timeout(10.0)) as client:
        while True:
            params: dict[str, str | int] = {"limit": 100, "offset": len(jobs)}
            if oql:
                params["oql"] = oql
            page = client.get("/plan/job", params=params).raise_for_status().json()
            jobs += page["results"]
            if len(page["results"]) < 100:
                return jobs


def test_json_for_status_abend_is_exactly_the_abended_jobs_of_the_plan(
        sim: Simulator, tmp_path: Path) -> None:
    result = run_jobs(sim.base_url, tmp_path, "--query", "status=ABEND", "--json")
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    expected = api_jobs(sim, "lastRunCompositeStatus.status = 'ABEND'")
    assert expected, "the seeded plan has abended jobs"
    assert sorted(job["id"] for job in printed) == sorted(job["id"] for job in expected)
    by_id = {job["id"]: job for job in expected}
    for job in printed:
        raw = by_id[job["id"]]
        assert {"id", "name", "stream", "workstation", "status", "rc", "start", "end"} <= set(job)
        assert (job["name"], job["stream"], job["workstation"], job["status"], job["rc"]) == (
            raw["name"], raw["jobStreamName"], raw["workstation"], "ABEND",
            raw["jobruns"][-1].get("returnCode"))
    assert result.stderr == ""


def test_wildcard_negation_and_rc_terms_match_a_direct_reading_of_the_plan(
        sim: Simulator, tmp_path: Path) -> None:
    result = run_jobs(sim.base_url, tmp_path, "--query", "ws=@_aix_@ rc>=0 !status=HOLD",
                      "--csv", "--sort=-stream")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = [
        job for job in api_jobs(sim)
        if "_AIX_" in job["workstation"].upper()
        and job["jobruns"] and job["jobruns"][-1].get("returnCode", -1) >= 0
        and job["lastRunCompositeStatus"]["status"] != "HOLD"]
    assert expected
    assert sorted(r["id"] for r in rows) == sorted(j["id"] for j in expected)
    streams = [r["stream"].lower() for r in rows]
    assert streams == sorted(streams, reverse=True)


def test_text_output_is_aligned_rows_and_nothing_else(sim: Simulator, tmp_path: Path) -> None:
    result = run_jobs(sim.base_url, tmp_path, "--query", "group=failed")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "STREAM", "WORKSTATION", "FOLDER", "STATUS", "RC",
                              "START", "END"]
    failed = {"ABEND", "FAIL", "ERROR", "ABENP"}
    expected = [j for j in api_jobs(sim) if j["lastRunCompositeStatus"]["status"] in failed]
    assert len(lines) == len(expected)
    column = header.index("STATUS")
    assert {line[column:].split()[0] for line in lines} <= failed


def test_a_bad_query_exits_2_with_the_message(sim: Simulator, tmp_path: Path) -> None:
    result = run_jobs(sim.base_url, tmp_path, "--query", "colour=red")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("resync-tui: bad --query: unknown term 'colour' — known: status "
                             "ws stream job folder rc group\n")


def test_rejected_credentials_are_one_line_on_stderr(sim: Simulator, tmp_path: Path) -> None:
    result = run_jobs(sim.base_url, tmp_path, "--json", password="wrong")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1
    assert "credentials rejected" in result.stderr and "wrong" not in result.stderr


def test_an_unreachable_engine_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = run_jobs("http://127.0.0.1:9", tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("resync-tui: cannot read the plan from http://127.0.0.1:9")
