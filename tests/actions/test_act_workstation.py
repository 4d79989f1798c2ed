"""``resync-tui act --workstation``: one workstation action from a shell, through a
subprocess, against the simulator over loopback HTTP and a real redis-server."""

from __future__ import annotations

from pathlib import Path

import httpx

from resync_tui.hwa.simulator import Simulator, Workstation
from tests.actions.test_act_cli import JUSTIFY, _with_terminal, act, act_env, stream_records
from tests.hwa.sim_helpers import clear, recorded, set_faults

__all__ = ["act_env"]


def _agent(sim: Simulator) -> Workstation:
    ws = next(w for w in sim.plan.workstations if w.type == "AGENT")
    ws.linked = ws.running = True
    return ws


async def test_unlink_exits_0_one_line_audited_as_a_workstation_action(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    ws = _agent(simulator)
    clear(admin)
    result = act(act_env, tmp_path, ws.id, "unlink", "--workstation", *JUSTIFY, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"done  workstation-unlink  {ws.id}"]
    [sent] = recorded(admin)
    assert sent["path"].endswith(f"/plan/workstation/{ws.id}/action/unlink")
    assert not simulator.plan.workstation(ws.id).linked
    records = await stream_records(redis_url)
    assert [(r["kind"], r["action"]) for r in records] == [
        ("intent", "workstation-unlink"), ("outcome", "workstation-unlink")]
    assert records[0]["job_name"] == ws.name  # read first: the record names it


def test_fence_takes_its_value_and_a_bad_one_exits_2_sending_nothing(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    ws = _agent(simulator)
    clear(admin)
    bad = act(act_env, tmp_path, ws.id, "update-fence", "--workstation", "--value", "500",
              *JUSTIFY, "--yes")
    assert bad.returncode == 2 and "from 0 to 101" in bad.stderr
    assert recorded(admin) == []
    done = act(act_env, tmp_path, ws.id, "update-fence", "--workstation", "--value", "25",
               *JUSTIFY, "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"done  workstation-update-fence  {ws.id}  fence=25"
    assert [s["query"] for s in recorded(admin)] == [{"priority": "25"}]
    assert simulator.plan.workstation(ws.id).fence == 25


def test_without_yes_it_shows_the_workstation_and_says_stop_is_dangerous(
        simulator: Simulator, admin: httpx.Client, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    ws = _agent(simulator)
    clear(admin)
    result = _with_terminal(act_env, tmp_path, "n", ws.id, "stop", "--workstation", *JUSTIFY)
    assert result.returncode == 2, result.stderr
    assert f"workstation: {ws.name} (id {ws.id}), LINKED" in result.stderr
    assert "action:  stop  (its jobs stop being launched)" in result.stderr
    assert recorded(admin) == [] and simulator.plan.workstation(ws.id).running


async def test_a_timeout_exits_3_and_is_sent_once(
        simulator: Simulator, admin: httpx.Client, redis_url: str, tmp_path: Path,
        act_env: dict[str, str]) -> None:
    ws = _agent(simulator)
    set_faults(admin, {"action_timeout": True})
    clear(admin)
    env = {**act_env, "RESYNC_HWA__READ_TIMEOUT": "1", "RESYNC_HWA__CALL_DEADLINE": "3"}
    result = act(env, tmp_path, ws.id, "unlink", "--workstation", *JUSTIFY, "--yes")
    assert result.returncode == 3, result.stderr
    assert len(recorded(admin)) == 1  # not retried
    records = await stream_records(redis_url)
    assert records[-1]["outcome"]["result"] == "unknown"
