"""[views.NAME] in settings: loaded, shown, and a bad query or sort stops start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from resync_tui.settings import SettingsError, ViewSettings, explain_settings, load_settings
from tests.test_cli import run_cli


def test_saved_views_are_read_with_their_query_and_sort(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[views.failures]\nquery = "group=failed ws=FTA_@"\nsort = "-started"\n'
                   '[views.all]\n')
    settings = load_settings(cfg, env={"RESYNC_VIEWS__ALL__SORT": "stream"})
    assert settings.views == {
        "failures": ViewSettings(query="group=failed ws=FTA_@", sort="-started"),
        "all": ViewSettings(sort="stream")}
    shown = "\n".join(explain_settings(settings))
    assert 'views.failures.query = "group=failed ws=FTA_@"' in shown
    assert "views.all.sort" in shown and "RESYNC_VIEWS__ALL__SORT" in shown


def test_config_check_names_the_view_with_a_bad_query_and_a_bad_sort(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[views.oops]\nquery = "colour=red"\n[views.order]\nsort = "-size"\n'
                   '[views.good]\nquery = "rc>0"\n')
    result = run_cli("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{cfg}: key 'views.oops.query': bad value 'colour=red'; unknown term 'colour' — "
        "known: status ws stream job folder rc group",
        f"{cfg}: key 'views.order.sort': bad value '-size'; unknown sort column '-size' — "
        "known: attention stream job workstation folder status info started ended duration "
        "(a leading - reverses)",
    ]
    with pytest.raises(SettingsError):
        load_settings(cfg, env={})
