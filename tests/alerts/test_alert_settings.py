"""[[alerts]] in settings.toml: loaded into rules, every problem named, webhooks masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from resync_tui.alerts import (
    ALERT_KINDS,
    MATCH_FIELDS,
    AlertEvaluator,
    AlertInput,
    JobFacts,
    rules_from_settings,
)
from resync_tui.settings import ALERT_EVENTS, ALERT_MATCH_FIELDS, SettingsError, load_settings

GOOD = '''
[[alerts]]
name = "payroll failures"
on = "job_failed"
match = { stream = "PAY@" }
webhook = "https://hooks.example.com/services/T000/B000/sEcReTpAtH"
webhook_format = "slack"
rate_limit = 5

[[alerts]]
name = "agents"
on = "workstation_down"
for_seconds = 120
bell = true
'''


def test_the_settings_vocabulary_is_the_evaluators() -> None:
    assert ALERT_EVENTS == ALERT_KINDS
    assert ALERT_MATCH_FIELDS == MATCH_FIELDS


def test_rules_load_in_file_order_and_drive_the_evaluator(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(GOOD)
    rules = rules_from_settings(load_settings(cfg, env={}).alerts)
    assert [(r.name, r.on, r.for_seconds, r.rate_limit) for r in rules] == [
        ("payroll failures", "job_failed", 0.0, 5), ("agents", "workstation_down", 120.0, 10)]
    assert rules[0].match == {"stream": "PAY@"} and rules[1].bell
    assert rules[0].webhook_format == "slack" and rules[1].webhook_format == "generic"
    evaluator = AlertEvaluator(rules)
    evaluator.evaluate(AlertInput(0, {}, workstations_down=[]))
    fired = evaluator.evaluate(AlertInput(1, {"j": JobFacts("ABEND", stream="PAYROLL"),
                                              "k": JobFacts("ABEND", stream="BILLING")}))
    assert [(e.rule, e.subject) for e in fired] == [("payroll failures", "j")]


def test_no_alerts_by_default(tmp_path: Path) -> None:
    assert load_settings(None, env={}, cwd=tmp_path, system_dir=tmp_path).alerts == ()


@pytest.mark.parametrize(("text", "named"), [
    ('[[alerts]]\non = "job_failed"\n', "alerts[0].name"),
    ('[[alerts]]\nname = "a"\non = "job_fail"\n', "alerts[0].on"),
    ('[[alerts]]\nname = "a"\nmatch = { queue = "Q@" }\n', "alerts[0].match"),
    ('[[alerts]]\nname = "a"\nwebhook = "ftp://x"\n', "alerts[0].webhook"),
    ('[[alerts]]\nname = "a"\n[[alerts]]\nname = "a"\n', "alerts[1].name"),
    ('[[alerts]]\nname = "a"\nfor_seconds = -1\n', "alerts[0].for_seconds"),
    ('[[alerts]]\nname = "a"\nrate_limt = 3\n', "alerts[0].rate_limt"),
    ('[alerts]\nname = "a"\n', "[[alerts]] tables"),
])
def test_every_problem_is_named(tmp_path: Path, text: str, named: str) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    assert any(named in problem for problem in caught.value.problems), caught.value.problems


def test_config_show_masks_the_webhook_path(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(GOOD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    result = subprocess.run([sys.executable, "-m", "resync_tui", "config", "show", "--config",
                             str(cfg)], capture_output=True, text=True, timeout=60, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sEcReTpAtH" not in result.stdout
    assert 'alerts[0].webhook = "https://hooks.example.com/***"' in result.stdout
