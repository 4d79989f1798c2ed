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


def _as_toml(value: Any) -> Any:
    """A tuple default ([actions] require) is what a TOML array reads as: a list."""
    return list(value) if isinstance(value, tuple) else value


def _code_defaults() -> dict[str, dict[str, Any]]:
    """Every key the code knows, with the value the code uses when no file says otherwise."""
    defaults = Settings()
    tables: dict[str, Any] = {
        f.name: getattr(defaults, f.name) for f in dataclasses.fields(defaults)
        if f.name not in ("breakers", "keymap", "themes", "alerts", "views", "engines", "engine",
                          "source", "origins")
    }
    tables.update({f"breakers.{name}": bs for name, bs in defaults.breakers.items()})
    return {
        name: {f.name: _as_toml(getattr(section, f.name)) for f in dataclasses.fields(section)
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
    ("[hwa]\nurll = 'x'\n", {},
     "unknown key 'hwa.urll'; did you mean 'hwa.url'? allowed: url, user"),
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


# --- where the settings file comes from ---


def _user_file(directory: Path, user: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "settings.toml"
    path.write_text(f'[hwa]\nuser = "{user}"\n')
    return path


def test_settings_file_lookup_order_first_found_wins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--config, RESYNC_CONFIG, ./settings.toml, $XDG_CONFIG_HOME/resync-tui, /etc/resync-tui:
    each one is used when every one before it is absent."""
    work, xdg, etc = tmp_path / "work", tmp_path / "xdg", tmp_path / "etc"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    explicit = _user_file(tmp_path / "explicit", "from-option")
    named = _user_file(tmp_path / "named", "from-env-var")
    monkeypatch.setenv("RESYNC_CONFIG", str(named))
    in_cwd = _user_file(work, "from-cwd")
    in_xdg = _user_file(xdg / "resync-tui", "from-xdg")
    in_etc = _user_file(etc, "from-etc")

    def winner(path: Path | None = None) -> tuple[str, str]:
        settings = load_settings(path, system_dir=etc)
        return settings.hwa.user, settings.source

    assert winner(explicit) == ("from-option", str(explicit))
    assert winner() == ("from-env-var", str(named))
    monkeypatch.delenv("RESYNC_CONFIG")
    assert winner() == ("from-cwd", str(in_cwd))
    in_cwd.unlink()
    assert winner() == ("from-xdg", str(in_xdg))
    in_xdg.unlink()
    assert winner() == ("from-etc", str(in_etc))
    in_etc.unlink()
    assert winner() == ("demo", "defaults")  # no file anywhere: the code defaults


def test_without_xdg_config_home_the_user_file_is_under_home_dot_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("RESYNC_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = _user_file(tmp_path / "home" / ".config" / "resync-tui", "from-home")
    settings = load_settings(system_dir=tmp_path / "no-etc")
    assert (settings.hwa.user, settings.source) == ("from-home", str(path))
    # A relative XDG_CONFIG_HOME is invalid (XDG spec) and ignored, not read from the cwd.
    _user_file(tmp_path / "rel" / "resync-tui", "from-relative")
    monkeypatch.setenv("XDG_CONFIG_HOME", "rel")
    assert load_settings(system_dir=tmp_path / "no-etc").hwa.user == "from-home"


def test_a_named_settings_file_that_does_not_exist_is_an_error_not_the_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _user_file(tmp_path, "from-cwd")  # would be found by the search: must not be used
    with pytest.raises(SettingsError, match=r"typo\.toml: settings file not found$"):
        load_settings(tmp_path / "typo.toml", env={})
    with pytest.raises(SettingsError,
                       match=r"other\.toml: settings file not found \(named by RESYNC_CONFIG\)"):
        load_settings(env={"RESYNC_CONFIG": str(tmp_path / "other.toml")})


# --- every problem at once ---


def test_every_problem_of_a_file_is_reported_not_just_the_first(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nurll = "x"\npoll_interval = 0\n[ui]\ntheme = "pink"\n'
                   '[breakers.redis]\nminimum_calls = 0\n[enigne]\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={"RESYNC_CACHE__L1_TTL": "soon"})
    problems = caught.value.problems
    assert len(problems) == 6, problems
    assert all("\n" not in p for p in problems)
    expected = ["unknown section [enigne]", "unknown key 'hwa.urll'; did you mean 'hwa.url'?",
                "key 'hwa.poll_interval': bad value 0", "key 'ui.theme': bad value 'pink'",
                "key 'breakers.redis.minimum_calls': bad value 0",
                "RESYNC_CACHE__L1_TTL): bad value 'soon'"]
    for fragment in expected:
        assert sum(fragment in p for p in problems) == 1, (fragment, problems)
    # str() stays one line for the start-up message, and says there is more.
    assert "\n" not in str(caught.value) and "and 5 more" in str(caught.value)


def test_a_key_in_the_wrong_section_suggests_the_right_one(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[hwa]\nsocket_timeout = 1.0\n")
    with pytest.raises(SettingsError, match=r"did you mean 'redis\.socket_timeout'\?"):
        load_settings(cfg, env={})


def test_every_bound_the_code_enforces_is_reported_in_one_pass(tmp_path: Path) -> None:
    """Each bounded key set just past its maximum: one problem per key, none lost."""
    tables: list[tuple[str, type[Any]]] = [
        (f.name, type(getattr(Settings(), f.name))) for f in dataclasses.fields(Settings)
        if f.name not in ("breakers", "keymap", "themes", "alerts", "views", "engines", "engine",
                          "source", "origins")]
    tables.append(("breakers.hwa_api", type(BREAKER_DEFAULTS["hwa_api"])))
    lines, keys = [], []
    for name, cls in tables:
        lines.append(f"[{name}]")
        for f in dataclasses.fields(cls):
            if f.metadata.get("max") is not None:
                lines.append(f"{f.name} = {f.metadata['max'] + 1}")
                keys.append(f"{name}.{f.name}")
    cfg = tmp_path / "s.toml"
    cfg.write_text("\n".join(lines) + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert len(keys) > 30
    assert [p.split("key '", 1)[1].split("'", 1)[0] for p in caught.value.problems] == keys


def test_a_hostile_key_name_cannot_reach_the_terminal_as_an_escape_sequence(
        tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\n"\\u001b]0;owned\\u0007x" = 1\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert "\x1b" not in caught.value.problems[0] and "\x07" not in caught.value.problems[0]
    assert "unknown key 'hwa.x'" in caught.value.problems[0]


def test_an_unparsable_url_is_a_settings_problem_not_a_crash(tmp_path: Path) -> None:
    """urlsplit raises ValueError on an unclosed IPv6 bracket: start-up printed a traceback."""
    cfg = tmp_path / "s.toml"
    cfg.write_text('[hwa]\nurl = "http://[::1"\n[redis]\nurl = "redis://u:hunter22@[::1"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert [p.split(": ", 1)[1].split(":", 1)[0] for p in caught.value.problems] == [
        "key 'hwa.url'", "key 'redis.url'"]
    assert "hunter22" not in str(caught.value.problems)


def test_a_breaker_variable_without_a_breaker_name_is_a_problem_not_ignored() -> None:
    """RESYNC_BREAKERS__MINIMUM_CALLS used to be silently dropped: no breaker changed."""
    with pytest.raises(SettingsError, match=r"RESYNC_BREAKERS__MINIMUM_CALLS names no breaker"):
        load_settings(None, env={"RESYNC_BREAKERS__MINIMUM_CALLS": "3"})
