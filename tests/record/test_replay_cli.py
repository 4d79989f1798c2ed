"""The command line of recording: ``--record``, ``replay``, ``snapshot --replay``."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from resync_tui.cli import main
from resync_tui.record.format import FORMAT, MAGIC, read_recording
from tests.record.conftest import NOWHERE_HWA, NOWHERE_REDIS, STEPS, Recorded


def settings_file(tmp_path: Path) -> Path:
    """Settings of an engine and a Redis that do not exist."""
    path = tmp_path / "settings.toml"
    path.write_text(f'[hwa]\nurl = "{NOWHERE_HWA}"\nuser = "demo"\n\n'
                    f'[redis]\nurl = "{NOWHERE_REDIS}"\n', encoding="utf-8")
    return path


def test_snapshot_of_a_replay_shows_the_moment_asked(
        recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = read_recording(recorded.path)
    moment = recorded.moments[STEPS // 3]
    at = recording.local(moment.engine).strftime("%H:%M:%S")
    out = tmp_path / "incident.svg"
    code = main(["snapshot", "--replay", str(recorded.path), "--at", at, "--out", str(out),
                 "--size", "120x36", "--config", str(settings_file(tmp_path))])
    assert code == 0, capsys.readouterr().err
    svg = out.read_text(encoding="utf-8")
    assert "REPLAY" in svg
    assert at in svg.replace("&#160;", " ")
    assert "paused" in svg.replace("&#160;", " ")


def test_snapshot_of_a_replay_with_an_embedded_redis_in_settings_starts_none(
        recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``redis.url = "embedded"`` (the default) is no Redis URL: a replay must not use it."""
    config = tmp_path / "embedded.toml"
    config.write_text('[redis]\nurl = "embedded"\n', encoding="utf-8")
    out = tmp_path / "moment.svg"
    code = main(["snapshot", "--replay", str(recorded.path), "--out", str(out),
                 "--config", str(config)])
    assert code == 0, capsys.readouterr().err
    assert "REPLAY" in out.read_text(encoding="utf-8")


def test_replay_of_a_newer_format_says_so(recorded: Recorded, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    newer = tmp_path / "newer.rec"
    newer.write_bytes(MAGIC + struct.pack(">H", FORMAT + 3) + b"\0" * 64)
    code = main(["replay", str(newer), "--config", str(settings_file(tmp_path))])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"resync-tui: recorded by a newer resync-tui (format {FORMAT + 3}); "
        f"this one reads up to {FORMAT}")


def test_replay_at_a_time_it_cannot_read(recorded: Recorded, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(recorded.path), "--at", "noon",
                 "--config", str(settings_file(tmp_path))])
    assert code == 2
    assert "HH:MM[:SS]" in capsys.readouterr().err


def test_record_to_a_place_that_cannot_be_written_fails_before_the_screen(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["--config", str(settings_file(tmp_path)), "--record",
                 str(blocker / "x.rec")])
    assert code == 1
    assert f"cannot record to {str(blocker / 'x.rec')!r}" in capsys.readouterr().err
