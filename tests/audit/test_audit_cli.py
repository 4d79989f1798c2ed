"""``resync-tui audit``: lists the records (after draining the spool) and verifies them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import redis.asyncio as aioredis

from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
from resync_tui.audit.stream import AuditStream


def run_audit(*args: str, spool: Path, url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESYNC_REDIS__URL": url, "RESYNC_AUDIT__SPOOL_DIR": str(spool),
           "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "RESYNC_CONFIG": "", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "resync_tui", "audit", *args], env=env,
                          cwd=home, capture_output=True, text=True, timeout=120)


async def test_audit_json_drains_the_spool_then_prints_one_object_per_record(
        tmp_path: Path, durable_url: str, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    offline = AuditLog(spool, None, hwa_user="ops")  # Redis was down when it acted
    rid = await offline.intent("rerun", JobRef("WS1;JS1;J1", "J1\x1b[31m"),
                               justification=Justification(description="after fix"))
    await offline.outcome(rid, Outcome.done(200), latency=0.5)
    result = run_audit("--json", spool=spool, url=durable_url, home=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["kind"], r["action"], r["job_id"]) for r in printed] == [
        ("intent", "rerun", "WS1;JS1;J1"), ("outcome", "rerun", "WS1;JS1;J1")]
    assert printed[1]["outcome"]["result"] == "done" and printed[0]["hwa_user"] == "ops"
    assert len([e async for e in AuditStream(durable).entries()]) == 2  # drained

    text = run_audit("--since", "1h", spool=spool, url=durable_url, home=tmp_path)
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 2
    assert "\x1b" not in text.stdout and "after fix" in text.stdout


async def test_audit_verify_exits_0_when_whole_and_1_with_a_line_per_problem(
        tmp_path: Path, durable_url: str, durable: aioredis.Redis) -> None:
    spool = tmp_path / "spool"
    log = AuditLog(spool, durable)
    for job in ("J1", "J2"):
        await log.outcome(await log.intent("hold", JobRef(job)), Outcome.done())
    whole = run_audit("--verify", spool=spool, url=durable_url, home=tmp_path)
    assert (whole.returncode, whole.stdout) == (0, "audit trail whole: 4 records of 1 writers\n")
    first = [eid async for eid, _ in AuditStream(durable).entries()][1]
    await durable.xdel("resync:audit", first)
    broken = run_audit("--verify", spool=spool, url=durable_url, home=tmp_path)
    assert broken.returncode == 1
    assert broken.stdout == f"gap: writer {log.writer.id} has no record 2 (lost or deleted)\n"
