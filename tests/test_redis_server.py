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


def test_supervised_embedded_redis_comes_back_on_the_same_port_after_a_crash() -> None:
    import os
    import signal
    import time

    import redis

    with EmbeddedRedis() as server:
        server.supervise(interval=0.05)
        assert server._proc is not None
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
        server.stop()  # a deliberate stop stays stopped
        time.sleep(0.3)
        assert not server.running
