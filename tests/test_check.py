"""``resync-tui check`` as a monitoring system runs it: a subprocess, its exit code, its lines.

Against the simulator over loopback HTTP (faults through ``PUT /_sim/faults``) and a real
Redis. Every subprocess has a deadline; none of these asserts a duration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from resync_tui.audit import Spool
from resync_tui.check import (
    CRITICAL,
    OK,
    UNKNOWN,
    WARNING,
    CheckOptions,
    CheckResult,
    EngineReading,
    Range,
    _Watchdog,
    is_check_argv,
    judge,
)
from resync_tui.hwa.simulator import Simulator
from resync_tui.redis_server import EmbeddedRedis
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER, admin, simulator
from tests.hwa.sim_helpers import set_faults

__all__ = ["admin", "simulator"]

PROCESS_DEADLINE = 15.0
"""No check subprocess may outlive this (a hung plugin fails the test, never hangs it)."""


@pytest.fixture
def calm(simulator: Simulator) -> Simulator:
    """Every job SUCC, every workstation linked: a healthy batch to spoil one way at a time."""
    for job in simulator.plan.jobs:
        simulator.plan.set_status(job, "SUCC")
    for ws in simulator.plan.workstations:
        ws.linked = True
    return simulator


def write_settings(tmp_path: Path, url: str, extra: str = "") -> Path:
    cfg = tmp_path / "settings.toml"
    cfg.write_text(f'[hwa]\nurl = "{url}"\nuser = "{SIM_USER}"\n'
                   f'[audit]\nspool_dir = "{tmp_path / "spool"}"\n{extra}')
    return cfg


def run_check(cfg: Path, *args: str, password: str = SIM_PASSWORD,
              deadline: float = PROCESS_DEADLINE) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env["RESYNC_HWA__PASSWORD"] = password
    env["XDG_STATE_HOME"] = str(cfg.parent / "state")
    return subprocess.run(
        [sys.executable, "-m", "resync_tui", "check", "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=deadline, env=env, cwd=cfg.parent)


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.splitlines()
    assert lines, f"no plugin output; stderr: {result.stderr}"
    return lines[0]


def perfdata(line: str) -> dict[str, str]:
    """``'failed'=3;1;5;0`` pairs of a status line, by label."""
    assert " | " in line, line
    pairs = line.split(" | ", 1)[1].split()
    return {pair.split("=", 1)[0].strip("'"): pair.split("=", 1)[1] for pair in pairs}


def spoil(sim: Simulator, count: int, status: str) -> None:
    for job in sim.plan.jobs[:count]:
        sim.plan.set_status(job, status)


# ---- the batch's state ---------------------------------------------------------------


def test_a_healthy_batch_is_ok_with_perfdata(calm: Simulator, tmp_path: Path) -> None:
    result = run_check(write_settings(tmp_path, calm.base_url))
    assert result.returncode == OK, result.stdout + result.stderr
    line = first_line(result)
    assert line.startswith("RESYNC OK - 0 failed, 0 stuck"), line
    perf = perfdata(line)
    assert perf["failed"] == "0;0;5;0"
    assert perf["stuck"] == "0;0;;0"
    assert perf["ws_down"] == "0;0;;0"
    assert perf["jobs"] == f"{len(calm.plan.jobs)};;;0"
    assert perf["age"].endswith("s;60;;0")
    assert result.stderr == ""  # nothing but the plugin output, and not on stderr either


def test_failures_above_warn_are_a_warning(calm: Simulator, tmp_path: Path) -> None:
    spoil(calm, 2, "ABEND")
    result = run_check(write_settings(tmp_path, calm.base_url),
                       "--warn-failed", "1", "--crit-failed", "5")
    assert result.returncode == WARNING, result.stdout
    line = first_line(result)
    assert line.startswith("RESYNC WARNING - 2 failed"), line
    assert "failed >1" in line
    assert perfdata(line)["failed"] == "2;1;5;0"
    assert "attention: ABEND 2" in result.stdout.splitlines()[1:]


def test_failures_above_crit_are_critical(calm: Simulator, tmp_path: Path) -> None:
    spoil(calm, 6, "FAIL")
    result = run_check(write_settings(tmp_path, calm.base_url),
                       "--warn-failed", "1", "--crit-failed", "5")
    assert result.returncode == CRITICAL, result.stdout
    assert first_line(result).startswith("RESYNC CRITICAL - 6 failed")


def test_default_thresholds_warn_on_the_first_failed_job(calm: Simulator, tmp_path: Path) -> None:
    spoil(calm, 1, "ABENP")
    result = run_check(write_settings(tmp_path, calm.base_url))
    assert result.returncode == WARNING, result.stdout


def test_a_workstation_down_is_a_warning_that_names_it(calm: Simulator, tmp_path: Path) -> None:
    victim = next(ws for ws in calm.plan.workstations if ws.type not in ("MANAGER", "POOL"))
    victim.linked = False
    result = run_check(write_settings(tmp_path, calm.base_url))
    assert result.returncode == WARNING, result.stdout
    line = first_line(result)
    assert "1 of " in line and "workstations down" in line
    assert perfdata(line)["ws_down"] == "1;0;;0"
    assert f"workstation down: {victim.name} (not linked or running)" in result.stdout


def test_stuck_jobs_warn_unless_the_threshold_allows_them(calm: Simulator,
                                                          tmp_path: Path) -> None:
    spoil(calm, 3, "STUCK")
    cfg = write_settings(tmp_path, calm.base_url)
    assert run_check(cfg).returncode == WARNING
    assert run_check(cfg, "--warn-stuck", "5").returncode == OK


# ---- the engine and the settings -----------------------------------------------------


def test_engine_outage_is_critical(calm: Simulator, admin: httpx.Client, tmp_path: Path) -> None:
    set_faults(admin, {"outage": "refused"})
    result = run_check(write_settings(tmp_path, calm.base_url), "--timeout", "5")
    assert result.returncode == CRITICAL, result.stdout
    assert first_line(result).startswith("RESYNC CRITICAL - engine unreachable at ")


def test_engine_answering_5xx_is_critical(calm: Simulator, admin: httpx.Client,
                                          tmp_path: Path) -> None:
    set_faults(admin, {"error_rate": 1.0})
    result = run_check(write_settings(tmp_path, calm.base_url))
    assert result.returncode == CRITICAL, result.stdout
    assert "engine failing" in first_line(result)


def test_rejected_password_is_unknown_with_the_reason_and_no_secret(calm: Simulator,
                                                                    tmp_path: Path) -> None:
    password = "s3cret-wrong-pw"
    result = run_check(write_settings(tmp_path, calm.base_url), "-v", password=password)
    assert result.returncode == UNKNOWN, result.stdout
    line = first_line(result)
    assert line.startswith("RESYNC UNKNOWN - credentials rejected (HTTP 401) for user demo")
    assert password not in result.stdout + result.stderr


@pytest.mark.parametrize("fault", [{"latency": 30}, {"slow_body": 20}])
def test_a_slow_engine_is_unknown_within_the_timeout(calm: Simulator, admin: httpx.Client,
                                                    tmp_path: Path, fault: dict[str, int]) -> None:
    set_faults(admin, fault)
    # The process deadline (15 s) is far below the 30 s the engine would take: a check
    # that waited for the engine fails here instead of passing late.
    result = run_check(write_settings(tmp_path, calm.base_url), "--timeout", "2")
    assert result.returncode == UNKNOWN, result.stdout
    line = first_line(result)
    assert line.startswith("RESYNC UNKNOWN - engine at "), line
    assert "did not answer within 2 s" in line


def test_bad_settings_are_unknown_with_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text("[hwa]\nurll = \"http://x\"\n")
    result = run_check(cfg)
    assert result.returncode == UNKNOWN
    line = first_line(result)
    assert line.startswith("RESYNC UNKNOWN - bad settings: ") and "hwa.urll" in line
    assert "Traceback" not in result.stderr


def test_a_missing_settings_file_is_unknown(tmp_path: Path) -> None:
    result = run_check(tmp_path / "nope.toml")
    assert result.returncode == UNKNOWN
    assert "settings file not found" in first_line(result)


def test_bad_arguments_are_unknown(tmp_path: Path) -> None:
    result = run_check(tmp_path / "nope.toml", "--warn-failed", "lots")
    assert result.returncode == UNKNOWN
    assert first_line(result).startswith("RESYNC UNKNOWN - bad arguments")


def test_engine_names_the_configured_engine_only(calm: Simulator, tmp_path: Path) -> None:
    cfg = write_settings(tmp_path, calm.base_url)
    result = run_check(cfg, "--engine", "production")
    assert result.returncode == UNKNOWN
    assert first_line(result) == "RESYNC UNKNOWN - no engine production"
    assert run_check(cfg, "--engine", "127.0.0.1").returncode == OK
    assert run_check(cfg, "--engine", "hwa").returncode == OK


def test_json_is_one_object_with_numbers(calm: Simulator, tmp_path: Path) -> None:
    spoil(calm, 2, "ABEND")
    result = run_check(write_settings(tmp_path, calm.base_url), "--json",
                       "--warn-failed", "1")
    assert result.returncode == WARNING
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["state"] == "WARNING" and report["exit_code"] == WARNING
    assert report["perfdata"]["failed"] == 2
    assert report["perfdata"]["ws_down"] == 0
    assert report["thresholds"]["failed"] == {"warn": "1", "crit": "5"}
    assert report["summary"].startswith("2 failed")


# ---- --redis -------------------------------------------------------------------------


def test_redis_up_and_an_empty_spool_change_nothing(calm: Simulator, redis_url: str,
                                                    tmp_path: Path) -> None:
    cfg = write_settings(tmp_path, calm.base_url, f'[redis]\nurl = "{redis_url}"\n')
    result = run_check(cfg, "--redis")
    assert result.returncode == OK, result.stdout
    assert perfdata(first_line(result))["spool"] == "0;0;;0"
    assert any(line.startswith("redis up (PING ") for line in result.stdout.splitlines())


def test_redis_down_is_a_warning(calm: Simulator, redis_server: EmbeddedRedis, redis_url: str,
                                 tmp_path: Path) -> None:
    cfg = write_settings(tmp_path, calm.base_url, f'[redis]\nurl = "{redis_url}"\n')
    redis_server.stop()
    result = run_check(cfg, "--redis", "--timeout", "5")
    assert result.returncode == WARNING, result.stdout
    line = first_line(result)
    assert line.startswith("RESYNC WARNING - 0 failed") and "redis down: " in line


def test_redis_down_does_not_hide_a_critical_engine(calm: Simulator, redis_server: EmbeddedRedis,
                                                    redis_url: str, tmp_path: Path) -> None:
    spoil(calm, 9, "ABEND")
    cfg = write_settings(tmp_path, calm.base_url, f'[redis]\nurl = "{redis_url}"\n')
    redis_server.stop()
    assert run_check(cfg, "--redis", "--timeout", "5").returncode == CRITICAL


def test_audit_records_waiting_in_the_spool_are_a_warning(calm: Simulator, redis_url: str,
                                                          tmp_path: Path) -> None:
    cfg = write_settings(tmp_path, calm.base_url, f'[redis]\nurl = "{redis_url}"\n')
    spool = Spool(tmp_path / "spool")
    spool.append([{"id": "w1:1", "kind": "intent"}, {"id": "w1:2", "kind": "outcome"}])
    result = run_check(cfg, "--redis")
    assert result.returncode == WARNING, result.stdout
    assert "2 audit records waiting in the spool" in first_line(result)
    assert perfdata(first_line(result))["spool"] == "2;0;;0"
    assert run_check(cfg).returncode == OK  # without --redis the spool is not judged


def test_embedded_redis_is_not_reported_down(calm: Simulator, tmp_path: Path) -> None:
    result = run_check(write_settings(tmp_path, calm.base_url), "--redis")
    assert result.returncode == OK, result.stdout
    assert "not checked" in result.stdout and "redis down" not in result.stdout


# ---- pieces, without a process -------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "alerts"), [
    ("5", 5, False), ("5", 6, True), ("5", -1, True), ("0", 1, True), ("0", 0, False),
    ("10:", 9, True), ("10:", 10, False), ("~:10", -50, False), ("~:10", 11, True),
    ("2:5", 1, True), ("2:5", 3, False), ("@2:5", 3, True), ("@2:5", 6, False),
])
def test_nagios_ranges(text: str, value: float, alerts: bool) -> None:
    assert Range.parse(text).alerts(value) is alerts


@pytest.mark.parametrize("text", ["", "x", "5:2", "@", "1:2:3"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad threshold"):
        Range.parse(text)


def test_untrusted_names_cannot_break_the_plugin_line() -> None:
    reading = EngineReading({"SUCC": 3}, 2, (("CPU\x1b[31m|'x'=9\nRESYNC OK", "not linked"),), 0.0)
    result = judge(reading, CheckOptions())
    lines = result.lines()
    assert len(lines) == 2
    assert "\x1b" not in lines[1] and "|" not in lines[1] and "\n" not in lines[1]
    assert lines[0].count("|") == 1


def test_the_check_argv_is_recognised() -> None:
    assert is_check_argv(["check", "--bogus"])
    assert is_check_argv(["--config", "check", "check"])
    assert not is_check_argv(["config", "check"])
    assert not is_check_argv(["--config", "check"])


def test_the_watchdog_says_unknown_once_the_deadline_is_past() -> None:
    fired = threading.Event()
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        fired.set()

    dog = _Watchdog(0.01, as_json=True, exit=exit_)
    dog.start()
    assert fired.wait(10)
    assert codes == [UNKNOWN]
    # The late verdict is not printed a second time: the watchdog's answer stands.
    assert dog.emit(CheckResult(OK, "late")) == UNKNOWN


def test_the_watchdog_exits_with_the_code_already_printed(
        capsys: pytest.CaptureFixture[str]) -> None:
    fired = threading.Event()
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        fired.set()

    dog = _Watchdog(0.2, as_json=False, exit=exit_)
    assert dog.emit(CheckResult(WARNING, "printed")) == WARNING
    dog.start()
    assert fired.wait(10)
    assert codes == [WARNING]
    out = capsys.readouterr().out
    assert out.count("RESYNC") == 1 and out.startswith("RESYNC WARNING - printed")


def test_the_check_does_not_load_the_ui(calm: Simulator, tmp_path: Path) -> None:
    """Textual is a quarter of a second of imports a monitoring system would pay every
    minute: nothing on the check's path (settings included) may load it."""
    cfg = write_settings(tmp_path, calm.base_url)
    code = ("import sys\nfrom resync_tui.cli import main\n"
            f"code = main(['check', '--config', {str(cfg)!r}])\n"
            "print('textual loaded' if 'textual' in sys.modules else 'no textual')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env["RESYNC_HWA__PASSWORD"] = SIM_PASSWORD
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=PROCESS_DEADLINE, env=env, cwd=tmp_path)
    assert result.stdout.splitlines()[-1] == "no textual", result.stdout + result.stderr
