"""Logs go to a rotating file, secrets are masked, nothing goes to the terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from resync_tui.logging_setup import configure_logging, register_secret


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_logs_reach_the_file_with_secrets_masked_and_not_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_root_logger: None) -> None:
    path = configure_logging(str(tmp_path / "sub" / "app.log"), "INFO")
    register_secret("correct-horse-battery")
    log = logging.getLogger("resync_tui.test")
    log.info("login as %s with %s", "ops", "correct-horse-battery")
    try:
        raise RuntimeError("auth failed for correct-horse-battery")
    except RuntimeError:
        log.exception("call failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "login as ops with ***" in text
    assert "auth failed for ***" in text
    assert "correct-horse-battery" not in text
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_log_file_rotates_at_the_configured_size(tmp_path: Path,
                                                 restore_root_logger: None) -> None:
    path = configure_logging(str(tmp_path / "app.log"), "INFO", max_bytes=10_000, backups=2)
    log = logging.getLogger("resync_tui.rotation")
    for i in range(500):
        log.info("line %d %s", i, "x" * 80)
    assert (tmp_path / "app.log.1").exists()
    assert not (tmp_path / "app.log.3").exists()
    assert path.stat().st_size <= 10_000
