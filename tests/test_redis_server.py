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
