"""``resync-tui act`` through a subprocess, against a simulator over loopback HTTP and a
real redis-server: each exit code, what the engine received, what the audit holds."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from resync_tui.audit.stream import AuditStream
from resync_tui.hwa.simulator import Simulator
from tests.hwa.sim_helpers import clear, find_job, recorded, set_faults

JUSTIFY = ("--justification", "night shift fix", "--category", "Incident",
           "--ticket", "INC-42")
SENT_HEADERS = {"Justification-Category": "Incident",
                "Justification-Description": "night shift fix",
                "Justification-Ticket-Num": "INC-42"}


@pytest.fixture
def act_env(simulator: Simulator, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The CLI's settings, all from the environment (no settings file is found in cwd)."""
    return {**os.environ, "RESYNC_CONFIG": "", "HOME": str(tmp_path),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path),
            "RESYNC_HWA__URL": simulator.base_url, "RESYNC_HWA__USER": "demo",
            "RESYNC_HWA__PASSWORD": "demo", "RESYNC_HWA__CONNECT_TIMEOUT": "2",
            "RESYNC_HWA__READ_TIMEOUT": "5", "RESYNC_HWA__CALL_DEADLINE": "10",
            "RESYNC_REDIS__URL": redis_url, "RESYNC_REDIS__SOCKET_TIMEOUT": "3",
            "RESYNC_AUDIT__SPOOL_DIR": str(tmp_path / "spool"),
            "RESYNC_ACTIONS__ENABLED": "true", "NO_COLOR": "1"}


def act(env: dict[str, str], cwd: Path, *args: str, stdin: Any = subprocess.DEVNULL
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "resync_tui", "act", *args], env=env,
                          cwd=cwd, stdin=stdin, capture_output=True, text=True, timeout=60)


async def stream_records(redis_url: str) -> list[dict[str, Any]]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        return [r async for _, r in AuditStream(client).entries() if r is not None]
    finally:
        await client.aclose()


async def test_done_exits_0_one_line_one_request_with_body_and_headers_and_audited(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    job = find_job(simulator, lambda j: j.status == "ABEND")
    clear(admin)
    result = act(act_env, tmp_path, job.id, "rerun", *JUSTIFY, "--yes")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"done  rerun  {job.id}  status now ")
    [sent] = recorded(admin)
    assert sent["path"].endswith(f"/plan/job/run/{job.runs[0].id}/action/rerun")
    assert sent["body"] == {} and sent["content_type"] == "application/json"
    assert sent["headers"] == SENT_HEADERS
    assert len(simulator.plan.job(job.id).runs) == 2
    records = await stream_records(redis_url)
    assert [(r["kind"], r["action"], r["job_id"]) for r in records] == [
        ("intent", "rerun", job.id), ("outcome", "rerun", job.id)]
    assert records[1]["outcome"]["result"] == "done"
    assert records[0]["justification"] == {"category": "Incident",
                                           "description": "night shift fix",
                                           "ticket": "INC-42"}


async def test_refused_by_the_engine_exits_1_with_its_message(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    job = find_job(simulator, lambda j: j.status == "SUCC")
    clear(admin)
    result = act(act_env, tmp_path, job.id, "release", *JUSTIFY, "--yes")
    assert result.returncode == 1, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"refused  release  {job.id}  HTTP 400") and "not held" in line
    assert line.count("HTTP 400") == 1, line  # was "HTTP 400  rejected (HTTP 400): …"
    assert len(recorded(admin)) == 1
    records = await stream_records(redis_url)
    assert [r["kind"] for r in records] == ["intent", "outcome"]
    assert records[1]["outcome"]["status"] == 400


async def test_a_timeout_after_sending_exits_3_sent_once_and_recorded_unknown(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    env = {**act_env, "RESYNC_HWA__READ_TIMEOUT": "1", "RESYNC_HWA__CALL_DEADLINE": "3"}
    result = act(env, tmp_path, job.id, "hold", *JUSTIFY, "--yes")
    assert result.returncode == 3, result.stderr
    [line] = result.stdout.splitlines()
    assert line == f"unknown  hold  {job.id}  outcome unknown — check the job before trying again"
    assert len(recorded(admin)) == 1  # not retried
    records = await stream_records(redis_url)
    assert [r["kind"] for r in records] == ["intent", "outcome"]
    assert records[1]["outcome"]["result"] == "unknown"


@pytest.mark.parametrize(("args", "env_change", "says"), [
    (("hold", *JUSTIFY, "--yes"), {"RESYNC_ACTIONS__ENABLED": "false"}, "disabled"),
    (("hold", *JUSTIFY, "--yes"), {"RESYNC_ACTIONS__ENABLED": None}, "disabled"),
    (("hold", *JUSTIFY), {}, "no terminal to confirm on"),
    (("explode", *JUSTIFY, "--yes"), {}, "unknown action"),
    (("update-priority", "--priority", "102", *JUSTIFY, "--yes"), {}, "0 to 101"),
    (("hold", "--justification", " ", "--yes"), {}, "justification required: description"),
    (("hold", "--yes"), {}, "--justification"),
], ids=["disabled", "default-read-only", "no-tty-no-yes", "unknown-action", "priority-102",
        "blank-justification", "no-justification"])
def test_usage_problems_and_disabled_actions_exit_2_and_send_nothing(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path, act_env: dict[str, str],
        args: tuple[str, ...], env_change: dict[str, str | None], says: str) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    env = {**act_env, **{k: v for k, v in env_change.items() if v is not None}}
    for key in [k for k, v in env_change.items() if v is None]:
        env.pop(key, None)
    clear(admin)
    result = act(env, tmp_path, job.id, *args)
    assert result.returncode == 2
    assert says in result.stderr and result.stdout == ""
    assert recorded(admin) == []
    spool = tmp_path / "spool" / "spool.jsonl"
    assert not spool.exists() or spool.read_text() == ""


def _with_terminal(env: dict[str, str], cwd: Path, answer: str, *args: str
                   ) -> subprocess.CompletedProcess[str]:
    """Run ``act`` with a pseudo-terminal as stdin, the answer already typed."""
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode() + b"\n")
        return act(env, cwd, *args, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize(("answer", "code", "sent"), [("y", 0, 1), ("n", 2, 0), ("", 2, 0)])
def test_without_yes_it_shows_what_will_happen_and_sends_only_on_y(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path, act_env: dict[str, str],
        answer: str, code: int, sent: int) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    clear(admin)
    result = _with_terminal(act_env, tmp_path, answer, job.id, "cancel", *JUSTIFY)
    assert result.returncode == code, result.stderr
    prompt = result.stderr
    assert f"engine:  {simulator.base_url} (as demo)" in prompt
    assert f"(id {job.id}), status HOLD" in prompt and job.name in prompt
    assert "action:  cancel  (cannot be undone)" in prompt
    assert "params:  justification='night shift fix', category='Incident', " \
           "ticket='INC-42'" in prompt
    assert "Send it? [y/N]" in prompt
    assert len(recorded(admin)) == sent


async def test_with_the_embedded_redis_the_records_stay_in_the_spool(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    job = find_job(simulator, lambda j: j.status == "HOLD" and not j.user_held)
    clear(admin)
    result = act({**act_env, "RESYNC_REDIS__URL": "embedded"}, tmp_path, job.id, "hold",
                 *JUSTIFY, "--yes")
    assert result.returncode == 0, result.stderr
    assert "records stay in the spool" in result.stderr
    assert len(recorded(admin)) == 1
    assert await stream_records(redis_url) == []  # a private Redis would have lost them
    lines = (tmp_path / "spool" / "spool.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"kind":"intent"' in lines[0] and '"kind":"outcome"' in lines[1]
