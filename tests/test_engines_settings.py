"""[engines.NAME] in settings: several engines, each with the keys of [hwa], checked by
``config check`` like [hwa], with their own passwords and cache namespaces."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from resync_tui.feeds.runtime import build_runtimes, cache_namespace
from resync_tui.settings import HwaSettings, SettingsError, explain_settings, load_settings
from tests.test_cli import run_cli

TWO = """\
[engines.prod]
url = "http://prod.example:31116"
user = "ops"
read_timeout = 12.0
[engines.test]
url = "https://test.example:31116"
plan_id = "next"
"""


def _file(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "s.toml"
    cfg.write_text(text)
    return cfg


def test_two_engines_are_read_in_file_order_with_the_keys_of_hwa(tmp_path: Path) -> None:
    settings = load_settings(_file(tmp_path, TWO), env={})
    assert settings.engine_names == ("prod", "test")
    prod, test = settings.engines["prod"], settings.engines["test"]
    assert (prod.url, prod.user, prod.read_timeout) == ("http://prod.example:31116", "ops", 12.0)
    assert (test.url, test.plan_id, test.read_timeout) == (
        "https://test.example:31116", "next", HwaSettings().read_timeout)
    # The first engine is shown unless ui.engine says otherwise; hwa holds it for the
    # code that reads one engine (feeds, actions, the check).
    assert settings.engine == "prod" and settings.hwa == prod
    assert settings.for_engine("test").hwa == test
    assert settings.for_engine("test").engine == "test"


def test_ui_engine_picks_the_engine_shown_first(tmp_path: Path) -> None:
    settings = load_settings(_file(tmp_path, '[ui]\nengine = "test"\n' + TWO), env={})
    assert settings.engine == "test" and settings.hwa.url == "https://test.example:31116"


def test_each_engine_has_its_own_password_variable_and_none_shows(tmp_path: Path) -> None:
    env = {"RESYNC_ENGINES__PROD__PASSWORD": "prod-pw-1", "RESYNC_ENGINES__TEST__TOKEN": "tok-2",
           "RESYNC_HWA__PASSWORD": "not-for-any-engine"}
    settings = load_settings(_file(tmp_path, TWO), env=env)
    assert settings.engines["prod"].password.reveal() == "prod-pw-1"
    assert settings.engines["prod"].token is None
    assert settings.engines["test"].password.reveal() == ""
    token = settings.engines["test"].token
    assert token is not None and token.reveal() == "tok-2"
    shown = "\n".join(explain_settings(settings))
    assert "prod-pw-1" not in shown and "tok-2" not in shown
    assert "engines.prod.password = \"***\"" in shown
    assert "RESYNC_ENGINES__PROD__PASSWORD" in shown
    assert "\nhwa.url" not in shown  # [hwa] is not in use: not listed as if it were


def test_an_engine_password_file_is_read_like_hwa(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    settings = load_settings(_file(tmp_path, TWO + f'password_file = "{pw}"\n'), env={})
    assert settings.engines["test"].password.reveal() == "from-file"


def test_environment_overrides_an_engine_key_and_may_add_an_engine(tmp_path: Path) -> None:
    env = {"RESYNC_ENGINES__PROD__READ_TIMEOUT": "7", "RESYNC_ENGINES__DR__URL": "http://dr:1"}
    settings = load_settings(_file(tmp_path, TWO), env=env)
    assert settings.engines["prod"].read_timeout == 7.0
    assert settings.engine_names == ("prod", "test", "dr")
    assert settings.engines["dr"].url == "http://dr:1"
    assert settings.origins["engines.prod.read_timeout"] == "RESYNC_ENGINES__PROD__READ_TIMEOUT"


def test_every_engine_problem_is_named_in_config_check(tmp_path: Path) -> None:
    cfg = _file(tmp_path, """\
[engines.prod]
url = "ftp://prod"
colour = "red"
[engines.PROD]
url = "http://other:1"
[engines.test]
url = "http://test:1"
page_size = 0
[engines."bad name"]
url = "http://x:1"
""")
    result = run_cli("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert any("'engines.prod.url'" in line and "ftp://prod" in line and "http://" in line
               for line in lines), lines
    assert any("unknown key 'engines.prod.colour'" in line for line in lines), lines
    assert any("[engines.PROD]" in line and "used twice" in line for line in lines), lines
    assert any("'engines.test.page_size'" in line and "bad value 0" in line
               for line in lines), lines
    assert any("bad engine name" in line for line in lines), lines
    assert len(lines) == 5, lines


def test_hwa_and_engines_together_are_refused_with_the_rule(tmp_path: Path) -> None:
    cfg = _file(tmp_path, '[hwa]\nurl = "http://a:1"\n' + TWO)
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert "[hwa] and [engines.<name>] both given" in caught.value.problems[0]
    with pytest.raises(SettingsError) as from_env:
        load_settings(_file(tmp_path, TWO), env={"RESYNC_HWA__URL": "http://a:1"})
    assert "RESYNC_HWA__URL" in from_env.value.problems[0]


def test_ui_engine_must_name_an_engine(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_file(tmp_path, '[ui]\nengine = "qa"\n' + TWO), env={})
    assert caught.value.problems == (
        f"{tmp_path / 's.toml'}: key 'ui.engine': bad value 'qa'; allowed: empty or one of "
        "prod, test",)
    with pytest.raises(SettingsError) as single:
        load_settings(_file(tmp_path, '[ui]\nengine = "qa"\n'), env={})
    assert "there is no [engines.<name>]" in single.value.problems[0]


def test_hwa_alone_stays_the_single_engine_form(tmp_path: Path) -> None:
    settings = load_settings(_file(tmp_path, '[hwa]\nurl = "http://one:1"\n'),
                             env={"RESYNC_HWA__PASSWORD": "pw"})
    assert settings.engines == {} and settings.engine == ""
    assert settings.hwa.password.reveal() == "pw"
    assert cache_namespace(settings) == "resync"  # the keys of a single engine unchanged


async def test_two_engines_get_two_runtimes_with_their_own_namespace_and_breakers(
        tmp_path: Path, redis_url: str) -> None:
    settings = load_settings(_file(tmp_path, TWO), env={})
    runtimes = build_runtimes(settings.replace(
        redis=dataclasses.replace(settings.redis, url=redis_url)))
    try:
        prod, test = runtimes.get("prod"), runtimes.get("test")
        assert runtimes.names == ("prod", "test")
        assert (prod.engine_name, test.engine_name) == ("prod", "test")
        assert (prod.cache.namespace, test.cache.namespace) == ("resync:prod", "resync:test")
        assert prod.breakers is not test.breakers
        assert prod.hwa_api is not test.hwa_api
        assert prod.settings.hwa.url == "http://prod.example:31116"
        assert test.settings.hwa.plan_id == "next"
    finally:
        await runtimes.aclose()
