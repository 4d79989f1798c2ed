from resync_tui.redis_server import EmbeddedRedis


def test_embedded_redis_answers_and_restarts_on_same_port() -> None:
    import redis

    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url, socket_timeout=1)
        client.set("k", "v")
        assert client.get("k") == b"v"
        port = server.port
        server.stop()
        assert not server.running
        server.start()
        assert server.port == port
        assert client.ping()
        assert client.get("k") is None  # no persistence: a restart is a clean server


def test_embedded_redis_dies_with_the_process_that_started_it() -> None:
    """A killed dashboard (SIGKILL, dropped SSH) must not leave redis-server behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

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
