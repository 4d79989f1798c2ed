"""``resync-tui config check | show | schema`` as an operator and an editor see them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from resync_tui.settings_schema import schema_text, settings_schema

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess (deadline 60 s), with a private HOME so no
    settings file of the machine's user is found."""
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith("RESYNC_") and k != "XDG_CONFIG_HOME"}
    full_env["HOME"] = str(home or cwd / "home")
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "resync_tui", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env=full_env)


# --- config check ---


def test_check_lists_every_problem_one_per_line_and_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nurll = "x"\npoll_interval = 0\n[ui]\ntheme = "pink"\n')
    result = run_cli("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    assert all(line.startswith(f"{cfg}: ") for line in lines)
    assert "unknown key 'hwa.urll'; did you mean 'hwa.url'? allowed: url, user" in lines[0]
    assert "key 'hwa.poll_interval': bad value 0; allowed: a number from 0.5 to 3600" in lines[1]
    assert "key 'ui.theme': bad value 'pink'; allowed: one of textual-dark" in lines[2]
    assert "Traceback" not in result.stderr


def test_check_includes_problems_of_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[hwa]\npage_size = 0\n")
    result = run_cli("config", "check", "--config", str(cfg), cwd=tmp_path,
                     env={"RESYNC_HWA__VERIFY_TLS": "maybe"})
    assert result.returncode == 2
    assert len(result.stdout.splitlines()) == 2
    assert "(RESYNC_HWA__VERIFY_TLS): bad value 'maybe'; allowed: true or false" in result.stdout


def test_check_of_good_settings_says_ok_and_which_file(tmp_path: Path) -> None:
    result = run_cli("config", "check", "--config", str(REPO / "settings.toml"), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"settings OK: {REPO / 'settings.toml'}\n")
    result = run_cli("config", "check", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        0, "settings OK: defaults (no settings file found)\n")


def test_check_finds_the_file_the_dashboard_would_use(tmp_path: Path) -> None:
    """The lookup is the dashboard's: cwd before the XDG config home, RESYNC_CONFIG first."""
    work, xdg = tmp_path / "work", tmp_path / "xdg" / "resync-tui"
    work.mkdir()
    xdg.mkdir(parents=True)
    (xdg / "settings.toml").write_text("[hwa]\nuser = 'ops'\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert run_cli("config", "check", cwd=work, env=env).stdout == (
        f"settings OK: {xdg / 'settings.toml'}\n")
    (work / "settings.toml").write_text("[hwa]\nuser = 'local'\n")
    assert run_cli("config", "check", cwd=work, env=env).stdout == (
        f"settings OK: {work / 'settings.toml'}\n")
    named = tmp_path / "named.toml"
    named.write_text("")
    assert run_cli("config", "check", cwd=work, env={**env, "RESYNC_CONFIG": str(named)}
                   ).stdout == f"settings OK: {named}\n"
    missing = run_cli("config", "check", cwd=work,
                      env={**env, "RESYNC_CONFIG": str(tmp_path / "gone.toml")})
    assert missing.returncode == 2
    assert "gone.toml: settings file not found (named by RESYNC_CONFIG)" in missing.stdout


def test_the_dashboard_reads_the_xdg_file_and_stops_on_its_problems(tmp_path: Path) -> None:
    """Start-up uses the same lookup and prints every problem, one line each."""
    xdg = tmp_path / "home" / ".config" / "resync-tui"
    xdg.mkdir(parents=True)
    (xdg / "settings.toml").write_text("[hwa]\npage_size = 0\nparallel_pages = 0\n")
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert all(line.startswith(f"resync-tui: {xdg / 'settings.toml'}: key 'hwa.")
               for line in lines)
    assert "Traceback" not in result.stderr


# --- config show ---


def _shown(stdout: str) -> dict[str, tuple[str, str]]:
    """``key = value  # source`` lines by key."""
    rows: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines()[1:]:
        assignment, source = line.rsplit("  # ", 1)
        key, value = assignment.rstrip().split(" = ", 1)
        rows[key] = (value, source)
    return rows


def test_show_masks_the_password_and_names_where_each_value_came_from(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nurl = "https://engine.example:31116"\n'
                   "[breakers.redis]\nminimum_calls = 7\n")
    result = run_cli("config", "show", "--config", str(cfg), cwd=tmp_path,
                     env={"RESYNC_HWA__PASSWORD": "s3cret-pw", "RESYNC_HWA__USER": "ops"})
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"# settings file: {cfg}"
    rows = _shown(result.stdout)
    assert rows["hwa.password"] == ('"***"', "RESYNC_HWA__PASSWORD")
    assert rows["hwa.url"] == ('"https://engine.example:31116"', str(cfg))
    assert rows["hwa.user"] == ('"ops"', "RESYNC_HWA__USER")
    assert rows["breakers.redis.minimum_calls"] == ("7", str(cfg))
    assert rows["breakers.redis.open_wait_seconds"] == ("5.0", "default")
    assert rows["hwa.verify_tls"] == ("true", "default")
    assert rows["redis.password"] == ('""', "default")


def test_show_names_the_password_file_and_never_its_content(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("file-pw-99\n")
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'[hwa]\npassword_env = ""\npassword_file = "{pw}"\n')
    result = run_cli("config", "show", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "file-pw-99" not in result.stdout
    assert _shown(result.stdout)["hwa.password"] == ('"***"', str(pw))


def test_show_lists_every_key_the_schema_knows(tmp_path: Path) -> None:
    result = run_cli("config", "show", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "# settings file: defaults (no settings file found)"
    rows = _shown(result.stdout)
    schema = settings_schema()["properties"]
    expected = {f"{section}.{key}" for section, table in schema.items()
                if section not in ("breakers", "alerts")  # alerts: none by default
                for key in table["properties"]}
    expected |= {f"breakers.{name}.{key}" for name, table in
                 schema["breakers"]["properties"].items() for key in table["properties"]}
    expected |= {"hwa.password", "hwa.token", "redis.password"}
    assert set(rows) == expected
    assert all(source == "default" for _, source in rows.values())


def test_show_prints_hostile_values_escaped_not_as_terminal_codes(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nuser = "\\u001b]0;owned\\u0007ops"\n')
    result = run_cli("config", "show", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    value = _shown(result.stdout)["hwa.user"][0]
    assert tomllib.loads(f"v = {value}")["v"] == "\x1b]0;owned\x07ops"  # still the value


def test_show_of_broken_settings_lists_the_problems_and_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[hwa]\npage_size = 0\n[ui]\ncolour = 'red'\n")
    result = run_cli("config", "show", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 2


# --- config schema ---


def test_committed_schema_is_what_the_code_generates_now(tmp_path: Path) -> None:
    committed = (REPO / "docs" / "settings.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "docs/settings.schema.json is stale: resync-tui config schema > "
        "docs/settings.schema.json")
    result = run_cli("config", "schema", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, committed)


def test_shipped_settings_toml_validates_against_the_schema() -> None:
    schema = json.loads((REPO / "docs" / "settings.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    with (REPO / "settings.toml").open("rb") as fh:
        jsonschema.validate(tomllib.load(fh), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(("document", "why"), [
    ({"hwa": {"urll": "x"}}, "unknown key"),
    ({"hwa": {"password": "hunter22"}}, "a secret in the file"),
    ({"hwa": {"poll_interval": 0}}, "below the minimum"),
    ({"hwa": {"verify_tls": "yes"}}, "not a boolean"),
    ({"logging": {"level": "LOUD"}}, "not a choice"),
    ({"keymap": {"jobs.next_fail": "x"}}, "an unknown binding id"),
    ({"breakers": {"hwa_api": {"minimum_calls": 0}}}, "a named breaker's bound"),
    ({"breakers": {"extra": {"window_seconds": 0}}}, "another breaker's bound"),
    ({"enigne": {}}, "unknown section"),
])
def test_schema_refuses_what_the_loader_refuses(tmp_path: Path, document: dict[str, Any],
                                                why: str) -> None:
    validator = jsonschema.Draft202012Validator(settings_schema())
    assert not validator.is_valid(document), why
    cfg = tmp_path / "s.toml"
    cfg.write_text("\n".join(_toml(document)) + "\n")
    result = run_cli("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2, (why, result.stdout)


def _toml(document: dict[str, Any], prefix: str = "") -> list[str]:
    """A tiny TOML writer for the nested tables above."""
    lines: list[str] = []
    for name, table in document.items():
        lines.append(f"[{prefix}{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()
                  if not isinstance(value, dict)]
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines += _toml(nested, f"{prefix}{name}.")
    return lines
