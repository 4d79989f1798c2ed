"""[actions]: read-only unless enabled; which justification fields are required."""

from __future__ import annotations

from pathlib import Path

import pytest

from resync_tui.settings import SettingsError, explain_settings, load_settings


def test_actions_are_off_by_default_and_need_a_description(tmp_path: Path) -> None:
    settings = load_settings(None, env={"HOME": str(tmp_path)}, cwd=tmp_path,
                             system_dir=tmp_path)
    assert settings.actions.enabled is False
    assert settings.actions.require == ("description",)
    assert settings.actions.max_bulk == 500


def test_the_environment_enables_actions_and_lists_required_fields(tmp_path: Path) -> None:
    settings = load_settings(None, env={"HOME": str(tmp_path),
                                        "RESYNC_ACTIONS__ENABLED": "true",
                                        "RESYNC_ACTIONS__REQUIRE": "ticket, description"},
                             cwd=tmp_path, system_dir=tmp_path)
    assert settings.actions.enabled is True
    assert settings.actions.require == ("ticket", "description")
    shown = "\n".join(explain_settings(settings))
    assert 'actions.require = ["ticket", "description"]' in shown
    assert "RESYNC_ACTIONS__REQUIRE" in shown


def test_an_unknown_justification_field_is_refused_with_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[actions]\nrequire = ["description", "reason"]\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(path, env={})
    [problem] = caught.value.problems
    assert "actions.require" in problem and "category, description, ticket" in problem
