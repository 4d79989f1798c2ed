"""The command line as scripts see it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from resync_tui import __version__
from resync_tui.cli import build_parser


def run_cli(*args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "resync_tui", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env=full_env)


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"resync-tui {__version__}"


def test_help_lists_every_contracted_subcommand() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name in ("demo", "sim", "snapshot", "config", "--config", "--wall", "--metrics-port"):
        assert name in result.stdout
    result = run_cli("config", "--help")
    assert result.returncode == 0
    for name in ("check", "show", "schema"):
        assert name in result.stdout


@pytest.mark.parametrize("argv", [
    ["demo", "--jobs", "10", "--seed", "3", "--time-scale", "2"],
    ["sim", "--host", "127.0.0.1", "--port", "0", "--jobs", "5", "--seed", "1",
     "--time-scale", "0", "--user", "u", "--password", "p"],
    ["snapshot", "--out", "x.svg", "--size", "80x24", "--demo", "--seed", "9"],
    ["snapshot", "--out", "x.svg", "--config", "s.toml"],
    ["--config", "s.toml", "--wall", "--metrics-port", "9100"],
    ["config", "check", "--config", "s.toml"],
    ["config", "show", "--config", "s.toml"],
    ["--config", "s.toml", "config", "check"],
    ["config", "schema"],
])
def test_contracted_flags_parse(argv: list[str]) -> None:
    build_parser().parse_args(argv)


def test_wrong_settings_stop_start_up_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text("[hwa]\ntimeout = 3\n")
    result = run_cli("--config", str(cfg))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(cfg) in lines[0] and "hwa.timeout" in lines[0]
    assert "Traceback" not in result.stderr


def test_wrong_environment_value_is_named(tmp_path: Path) -> None:
    result = run_cli("--config", "/nonexistent.toml", env={"RESYNC_HWA__PAGE_SIZE": "0"})
    assert result.returncode == 2
    assert "/nonexistent.toml: settings file not found" in result.stderr
    result = run_cli(cwd=tmp_path, env={"RESYNC_HWA__PAGE_SIZE": "0"})
    assert result.returncode == 2
    assert "RESYNC_HWA__PAGE_SIZE" in result.stderr and "Traceback" not in result.stderr


def test_bad_size_is_rejected_by_the_parser() -> None:
    result = run_cli("snapshot", "--out", "x.svg", "--size", "huge")
    assert result.returncode == 2
    assert "expected WIDTHxHEIGHT" in result.stderr


@pytest.mark.parametrize("argv", [
    ["demo", "--jobs", "10", "--seed", "3", "--time-scale", "2", "--no-faults"],
    ["--config", "s.toml", "--metrics-port", "9100", "demo", "--record", "x.rec"],
    ["--engine", "b", "check", "--warn-failed", "3", "--json"],
    ["jobs", "--query", "status=ABEND", "--csv"],
    ["config", "show", "--config", "s.toml"],
    ["--config", "s.toml", "act", "J1", "hold", "--justification", "why", "--yes"],
    ["--record-max-mb", "5", "sim", "--port", "0"],
])
def test_the_command_named_parses_as_with_every_command_built(argv: list[str]) -> None:
    """``main`` builds only the named command's options (``command_word``): what it
    parses is what the whole command line would."""
    from resync_tui.cli import command_word

    assert command_word(argv) == next(w for w in argv if w in (
        "demo", "check", "jobs", "config", "act", "sim"))
    assert vars(build_parser(command_word(argv)).parse_args(argv)) == \
        vars(build_parser().parse_args(argv))


def test_the_top_level_help_is_the_same_however_the_line_was_built() -> None:
    """``--help`` lists every command with its line, also when a command was named."""
    from resync_tui.cli import command_word

    assert command_word(["--help", "demo"]) is None
    full = build_parser().format_help()
    for name in ("demo", "check", "jobs", "act", None):
        assert build_parser(name).format_help() == full
    for line in ("monitoring plugin (Nagios/Icinga/Checkmk)", "print the plan's jobs"):
        assert line in full


def test_sim_on_a_port_already_taken_says_so_in_one_line() -> None:
    # Seen starting a second `resync-tui sim` on the same port: an aiohttp traceback.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("sim", "--port", str(port), "--jobs", "50")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"resync-tui sim: cannot listen on "
                                                   f"127.0.0.1:{port}: ")
    assert "address already in use" in lines[0]
    assert "listening on" not in result.stdout


def test_sim_help_says_how_to_switch_every_fault_and_that_a_put_merges() -> None:
    """Every fault the simulator takes and every /_sim/ route it serves is in its help, and
    the help says a PUT merges (an outage ends only with ``"outage": "none"``)."""
    from resync_tui.hwa.simulator import Faults, Simulator

    result = run_cli("sim", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for name in Faults.__struct_fields__:
        assert name in text, name
    routes = {route.resource.canonical for route in Simulator(jobs=10)._make_app().router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/_sim/")}
    assert routes
    for route in routes:
        assert route.replace("{job_id}", "ID") in text, route
    assert "MERGED into the faults in force" in text and '{"outage": "none"}' in text
