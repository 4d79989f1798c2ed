"""[keymap], [themes.NAME], ui.theme and ui.alternate_theme at load time: what is
accepted, and one clear line (naming the key and what is allowed) for each mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from resync_tui.settings import Settings, SettingsError, load_settings
from resync_tui.ui.keymap import binding_ids


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    cfg = tmp_path / "s.toml"
    cfg.write_text(text)
    return load_settings(cfg, env=env or {})


def _problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as caught:
        _load(tmp_path, text)
    return caught.value.problems


def test_every_binding_has_an_id_and_the_cursor_keys_are_among_them() -> None:
    ids = binding_ids()
    assert {"jobs.cursor_up", "jobs.cursor_down", "jobs.cursor_page_up",
            "jobs.cursor_page_down", "jobs.cursor_home", "jobs.cursor_end",
            "app.help", "app.pause", "app.quit", "jobs.next_failure"} <= set(ids)


def test_a_keymap_loads_quoted_unquoted_and_from_the_environment(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[keymap]\n"jobs.next_failure" = "x"\njobs.sort = "ctrl+s"\n',
                     env={"RESYNC_KEYMAP__APP__PAUSE": "f9"})
    assert settings.keymap == {"jobs.next_failure": "x", "jobs.sort": "ctrl+s",
                               "app.pause": "f9"}
    assert settings.origins["keymap.app.pause"] == "RESYNC_KEYMAP__APP__PAUSE"


def test_an_unknown_binding_id_is_reported_with_the_valid_ids(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, '[keymap]\n"jobs.next_fail" = "x"\n')
    assert "s.toml" in problem and "unknown key 'keymap.jobs.next_fail'" in problem
    assert "did you mean 'keymap.jobs.next_failure'?" in problem
    assert all(bid in problem for bid in binding_ids())


def test_a_key_the_app_already_has_is_a_clash(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, '[keymap]\n"jobs.next_failure" = "q"\n')
    assert "key 'keymap.jobs.next_failure': bad value 'q'" in problem
    assert "already bound to app.quit" in problem
    assert all(bid in problem for bid in binding_ids())


def test_two_ids_on_one_key_in_the_same_place_is_a_clash(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, '[keymap]\n"jobs.sort" = "o"\n')
    assert "key 'keymap.jobs.sort'" in problem and "already bound to jobs.attention" in problem


def test_moving_the_other_binding_away_too_is_no_clash(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[keymap]\n"app.quit" = "ctrl+x"\n"jobs.next_failure" = "q"\n')
    assert settings.keymap["jobs.next_failure"] == "q"


def test_the_same_key_in_places_never_active_together_is_no_clash(tmp_path: Path) -> None:
    # job_detail.log (details screen) and jobs.attention (dashboard) never meet.
    assert _load(tmp_path, '[keymap]\n"job_detail.log" = "o"\n').keymap


def test_a_key_that_is_no_key_is_reported(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, '[keymap]\n"app.pause" = "ctlr+p"\n')
    assert "key 'keymap.app.pause': bad value 'ctlr+p'" in problem and "allowed:" in problem


def test_a_user_theme_loads_and_ui_theme_may_name_it(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[ui]\ntheme = "mine"\nalternate_theme = "nord"\n'
                               '[themes.mine]\nprimary = "#336699"\ndark = false\n'
                               'variables = { "footer-key-foreground" = "#88C0D0 50%" }\n')
    assert settings.ui.theme == "mine" and settings.themes["mine"].primary == "#336699"
    assert settings.themes["mine"].dark is False


def test_a_bad_colour_is_reported_naming_the_key(tmp_path: Path) -> None:
    problems = _problems(tmp_path, '[themes.mine]\nprimary = "#336699"\nsurface = "#12345"\n'
                                   'variables = { "footer-key-foreground" = "bluish" }\n')
    assert any("key 'themes.mine.surface': bad value '#12345'" in p for p in problems)
    assert any("key 'themes.mine.variables.footer-key-foreground': bad value 'bluish'" in p
               for p in problems)


def test_a_theme_without_primary_or_a_known_name_is_reported(tmp_path: Path) -> None:
    problems = _problems(tmp_path, '[ui]\ntheme = "pink"\n[themes.mine]\ndark = true\n')
    assert any("themes.mine.primary" in p for p in problems)
    assert any("key 'ui.theme': bad value 'pink'" in p and "textual-dark" in p
               and "mine" in p for p in problems)


def test_config_check_reports_a_keymap_clash(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[keymap]\n"app.refresh" = "n"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "resync_tui", "config", "check",
                             "--config", str(cfg)], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 2
    assert "keymap.app.refresh" in result.stdout
    assert "already bound to jobs.next_failure" in result.stdout
