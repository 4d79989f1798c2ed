"""Settings: defaults, file, environment, and one clear line for each mistake."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from resync_tui.settings import (
    BREAKER_DEFAULTS,
    BREAKER_NAMES,
    Secret,
    Settings,
    SettingsError,
    describe_settings,
    load_settings,
)

REPO = Path(__file__).resolve().parents[1]


def _code_defaults() -> dict[str, dict[str, Any]]:
    """Every key the code knows, with the value the code uses when no file says otherwise."""
    defaults = Settings()
    tables: dict[str, Any] = {
        f.name: getattr(defaults, f.name) for f in dataclasses.fields(defaults)
        if f.name not in ("breakers", "source")
    }
    tables.update({f"breakers.{name}": bs for name, bs in defaults.breakers.items()})
    return {
        name: {f.name: getattr(section, f.name) for f in dataclasses.fields(section)
               if not f.metadata.get("resolved")}
        for name, section in tables.items()
    }


def test_shipped_settings_file_loads_and_matches_documented_defaults() -> None:
    settings = load_settings(REPO / "settings.toml", env={})
    assert settings.hwa.verify_tls is True
    assert settings.redis.url == "embedded"
    assert set(settings.breakers) == {"hwa_api", "hwa_job_status", "redis"}
    assert settings.source.endswith("settings.toml")


def test_settings_toml_values_are_exactly_the_code_defaults() -> None:
    """A dashboard started outside the repository (no settings.toml) runs the same settings."""
    with (REPO / "settings.toml").open("rb") as fh:
        document = tomllib.load(fh)
    shipped: dict[str, dict[str, Any]] = {
        name: table for name, table in document.items() if name != "breakers"}
    shipped.update({f"breakers.{name}": table
                    for name, table in document.get("breakers", {}).items()})
    code = _code_defaults()
    assert sorted(shipped) == sorted(code), "sections differ between settings.toml and code"
    differences = [
        f"{section}.{key}: settings.toml {shipped[section].get(key, '<missing>')!r}, "
        f"code {value!r}"
        for section, keys in code.items() for key, value in keys.items()
        if key not in shipped[section] or shipped[section][key] != value
        or type(shipped[section][key]) is not type(value)
    ]
    extra = [f"{section}.{key}" for section, keys in shipped.items() for key in keys
             if key not in code[section]]
    assert differences == [] and extra == []
    shipped_settings = load_settings(REPO / "settings.toml", env={})
    assert shipped_settings == Settings(source=shipped_settings.source)


def test_breakers_are_only_those_guarding_something_this_app_calls() -> None:
    assert BREAKER_NAMES == tuple(BREAKER_DEFAULTS) == ("hwa_api", "hwa_job_status", "redis")
    assert set(Settings().breakers) == set(BREAKER_NAMES)


def test_a_breaker_table_in_a_file_starts_from_that_breakers_own_defaults(
        tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[breakers.redis]\nminimum_calls = 7\n")
    redis = load_settings(cfg, env={}).breakers["redis"]
    assert redis.minimum_calls == 7
    assert redis.open_wait_seconds == BREAKER_DEFAULTS["redis"].open_wait_seconds == 5.0


def test_every_key_in_the_schema_is_documented_in_settings_toml() -> None:
    text = (REPO / "settings.toml").read_text()
    for line in describe_settings().splitlines():
        line = line.strip()
        if line.startswith("["):
            continue
        key = line.split(" = ")[0]
        assert f"\n{key} = " in text, f"{key} is not in settings.toml"


def test_environment_overrides_file_including_nested_breaker_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nurl = "https://engine.example:31116"\npoll_interval = 5\n')
    settings = load_settings(cfg, env={
        "RESYNC_HWA__URL": "https://other.example:443",
        "RESYNC_HWA__USER": "ops",
        "RESYNC_BREAKERS__HWA_API__MINIMUM_CALLS": "25",
        "RESYNC_HWA__VERIFY_TLS": "false",
    })
    assert settings.hwa.url == "https://other.example:443"
    assert settings.hwa.user == "ops"
    assert settings.hwa.poll_interval == 5.0
    assert settings.breakers["hwa_api"].minimum_calls == 25
    assert settings.hwa.verify is False


@pytest.mark.parametrize(("toml", "env", "expected"), [
    ('[hwa]\npoll_interval = "often"\n', {},
     "key 'hwa.poll_interval': bad value 'often'; allowed: a number from 0.5 to 3600"),
    ("[hwa]\npoll_interval = 0\n", {}, "bad value 0; allowed: a number from 0.5 to 3600"),
    ("[hwa]\nverify_tls = 1\n", {}, "key 'hwa.verify_tls': bad value 1; allowed: true or false"),
    ("[hwa]\nurll = 'x'\n", {}, "unknown key 'hwa.urll'; allowed: url, user"),
    ("[engine]\nurl = 'x'\n", {}, "unknown section [engine]"),
    ('[hwa]\nurl = "ftp://engine"\n', {}, "key 'hwa.url': bad value 'ftp://engine'"),
    ('[redis]\nurl = "localhost:6379"\n', {}, "key 'redis.url': bad value 'localhost:6379'"),
    ("[ui]\ntheme = 'pink'\n", {}, "allowed: one of textual-dark, textual-light"),
    ("[breakers.hwa_api]\nminimum_calls = -1\n", {}, "key 'breakers.hwa_api.minimum_calls'"),
    ("", {"RESYNC_CACHE__L1_TTL": "soon"}, "RESYNC_CACHE__L1_TTL): bad value 'soon'"),
    ("[hwa\n", {}, "not valid TOML"),
])
def test_a_wrong_value_gives_one_line_naming_file_key_value_and_allowed(
        tmp_path: Path, toml: str, env: dict[str, str], expected: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env=env)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    if not env:
        assert str(cfg) in message


def test_password_in_file_is_refused_with_the_way_to_do_it(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\npassword = "hunter22"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert "RESYNC_HWA__PASSWORD" in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_password_comes_from_env_or_file_and_never_shows(tmp_path: Path) -> None:
    settings = load_settings(None, env={"RESYNC_HWA__PASSWORD": "s3cret-pw"})
    assert settings.hwa.password.reveal() == "s3cret-pw"
    for text in (repr(settings), str(settings), repr(settings.hwa), f"{settings.hwa.password}"):
        assert "s3cret-pw" not in text
    pw_file = tmp_path / "pw"
    pw_file.write_text("from-file\n")
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'[hwa]\npassword_env = ""\npassword_file = "{pw_file}"\n')
    assert load_settings(cfg, env={}).hwa.password == Secret("from-file")


def test_missing_password_file_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\npassword_file = "/nonexistent/pw"\n')
    with pytest.raises(SettingsError, match=r"hwa\.password_file': cannot read '/nonexistent/pw'"):
        load_settings(cfg, env={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"nope\.toml: settings file not found"):
        load_settings(tmp_path / "nope.toml", env={})
