"""The command line as a script or a NOC kiosk sees it: ``--wall`` reaches the wall
layout, ``snapshot`` fails with one line when it gets no data, and settings above their
maximum are refused with one line naming the key."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from resync_tui import cli
from resync_tui.settings import Settings, SettingsError, load_settings
from resync_tui.ui.app import ResyncApp


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _config(tmp_path: Path, hwa_url: str, redis_url: str) -> Path:
    cfg = tmp_path / "settings.toml"
    cfg.write_text(
        f'[hwa]\nurl = "{hwa_url}"\nuser = "ops"\nconnect_timeout = 1\nread_timeout = 2\n'
        'call_deadline = 3\n'
        f'[redis]\nurl = "{redis_url}"\n'
        '[retry]\nmax_attempts = 1\ndeadline = 3\n'
        f'[logging]\nfile = "{tmp_path / "resync.log"}"\n', encoding="utf-8")
    return cfg


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``main`` sends logging to its file (as it must); give pytest its handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.parametrize(("argv", "wall"), [
    (["--wall"], True),
    ([], False),
    (["demo", "--jobs", "10", "--wall"], True),
], ids=["wall", "no-wall", "demo-wall"])
def test_wall_flag_reaches_the_wall_layout(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch, keep_logging: None,
        argv: list[str], wall: bool) -> None:
    built: list[ResyncApp] = []

    # The terminal belongs to pytest: record, do not run (the demo passes its loop).
    def run(self: ResyncApp, **_: object) -> int:
        built.append(self)
        return 0

    monkeypatch.setattr(ResyncApp, "run", run)
    monkeypatch.setenv("RESYNC_HWA__PASSWORD", "secret")
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    assert cli.main(["--config", str(cfg), *argv]) == 0
    assert len(built) == 1
    app = built[0]
    assert app.wall is wall and app.dashboard.wall is wall


def test_demo_aims_the_dashboard_at_its_simulator_and_leaves_nothing_behind(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
        keep_logging: None) -> None:
    """The demo's engine runs in a process of its own, started before the settings are
    read: the dashboard reads its plan, its Redis answers, and both end with the demo."""
    import httpx
    import redis

    seen: list[tuple[int, bool]] = []

    # The terminal belongs to pytest: look, do not run (the demo passes its loop).
    def run(self: ResyncApp, **_: object) -> int:
        hwa = self.settings.hwa
        with httpx.Client(base_url=hwa.url + "/twsd/api/v2", timeout=30.0,
                          auth=(hwa.user, hwa.password.reveal())) as client:
            answer = client.get("/plan/job", params={"limit": "100"})
        pinged = redis.Redis.from_url(self.settings.redis.url, socket_timeout=5).ping()
        seen.append((len(answer.json()["results"]), bool(pinged)))
        return 0

    monkeypatch.setattr(ResyncApp, "run", run)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    before = _children()
    assert cli.main(["--config", str(cfg), "demo", "--jobs", "12", "--no-faults"]) == 0
    assert seen == [(12, True)]
    assert _children() <= before  # no simulator, no redis-server left running


@pytest.mark.parametrize("where", ["demo --record", "--record demo"])
def test_demo_record_writes_what_the_demo_shows_to_the_file(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
        keep_logging: None, where: str) -> None:
    """``demo --record FILE`` (the README's command) records, as ``--record`` does for the
    dashboard: it used to start the demo and record nothing at all."""
    from resync_tui.record.format import read_recording

    built: list[ResyncApp] = []

    def run(self: ResyncApp, **_: object) -> int:
        built.append(self)
        return 0

    monkeypatch.setattr(ResyncApp, "run", run)
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    out = tmp_path / "night.rec"
    argv = (["demo", "--jobs", "5", "--record", str(out)] if where == "demo --record"
            else ["--record", str(out), "demo", "--jobs", "5"])
    assert cli.main(["--config", str(cfg), *argv]) == 0
    assert built[0].recorder is not None
    assert read_recording(out).torn is False  # a recording with its header, closed whole


def test_demo_record_to_a_file_it_cannot_create_says_so_in_one_line(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
        keep_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    started: list[ResyncApp] = []
    monkeypatch.setattr(ResyncApp, "run", lambda self, **_: started.append(self) or 0)
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    (tmp_path / "file").write_text("x")
    code = cli.main(["--config", str(cfg), "demo", "--jobs", "5", "--record",
                     str(tmp_path / "file" / "night.rec")])
    assert code == 1 and not started  # before the screen is taken
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot record to" in lines[0], lines


def _children() -> set[int]:
    """This process's live children (zombies are gone processes)."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE}


def test_snapshot_without_data_exits_non_zero_with_one_line(
        tmp_path: Path, redis_url: str) -> None:
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    out = tmp_path / "shot.svg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESYNC_")}
    env["RESYNC_HWA__PASSWORD"] = "secret"
    result = subprocess.run(
        [sys.executable, "-m", "resync_tui", "snapshot", "--config", str(cfg), "--out", str(out),
         "--size", "80x24", "--timeout", "20"],
        capture_output=True, text=True, timeout=90, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("resync-tui snapshot: ")
    assert "unreachable" in lines[0]  # why: the engine refused the connection
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()  # no picture of an empty dashboard


@pytest.mark.parametrize(("toml", "env", "key"), [
    ("[hwa]\nmax_connections = 257\n", {}, "hwa.max_connections"),  # int
    ("[hwa]\npoll_interval = 3600.5\n", {}, "hwa.poll_interval"),  # float
    ("[breakers.hwa_api]\nfailure_rate_threshold = 101\n", {},
     "breakers.hwa_api.failure_rate_threshold"),  # nested table
    ("", {"RESYNC_REDIS__SOCKET_TIMEOUT": "61"}, "redis.socket_timeout"),  # environment
], ids=["int", "float", "breaker", "environment"])
def test_a_value_above_the_maximum_is_refused_naming_the_key(
        tmp_path: Path, toml: str, env: dict[str, str], key: str) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env=env)
    message = str(caught.value)
    assert "\n" not in message
    assert f"key '{key}'" in message and "allowed:" in message and " to " in message


@pytest.mark.parametrize(("toml", "env", "read", "maximum"), [
    ("[hwa]\nmax_connections = 256\n", {}, lambda s: s.hwa.max_connections, 256),
    ("[hwa]\npoll_interval = 3600\n", {}, lambda s: s.hwa.poll_interval, 3600.0),
    ("[breakers.hwa_api]\nfailure_rate_threshold = 100\n", {},
     lambda s: s.breakers["hwa_api"].failure_rate_threshold, 100.0),
    ("", {"RESYNC_REDIS__SOCKET_TIMEOUT": "60"}, lambda s: s.redis.socket_timeout, 60.0),
], ids=["int", "float", "breaker", "environment"])
def test_the_maximum_itself_is_allowed(tmp_path: Path, toml: str, env: dict[str, str],
                                       read: Callable[[Settings], float],
                                       maximum: float) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(toml, encoding="utf-8")
    assert read(load_settings(cfg, env=env)) == maximum


@pytest.mark.parametrize("argv", [
    ["demo", "--jobs", "12", "--no-such-option"],  # the real parse refuses the line
    ["--engine", "nowhere", "demo", "--jobs", "12"],  # no such engine in the settings
], ids=["bad-option", "unknown-engine"])
def test_a_demo_refused_leaves_no_simulator_behind(
        tmp_path: Path, redis_url: str, argv: list[str]) -> None:
    """The demo's engine is started before the command line is fully parsed (its plan is
    built meanwhile): a line refused after that stops it, rather than leaving it to
    notice its parent is gone."""
    cfg = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", redis_url)
    before = _children()
    try:
        code = cli.main(["--config", str(cfg), *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert _children() <= before
