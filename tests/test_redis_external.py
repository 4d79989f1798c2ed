"""An external Redis as operators run it: password, ACL user, TLS, replicas; and what
the Redis pane says when one of those is wrong. Every server here is a real
redis-server (EmbeddedRedis with extra arguments), never a fake."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis

from resync_tui.feeds.redis_health import RedisFeed, RedisHealth
from resync_tui.feeds.runtime import build_runtime
from resync_tui.redis_server import EmbeddedRedis, free_port
from resync_tui.resilience.breaker import BreakerConfig, CircuitBreaker
from resync_tui.resilience.redis_pool import (
    RedisClientConfig,
    describe_redis_error,
    make_redis_client,
)
from resync_tui.settings import SettingsError, load_settings

DEADLINE = 10.0
NOW = datetime(2026, 11, 25, 7, 34, 6, tzinfo=UTC)
NEEDS_PASSWORD = "Redis requires a password: set it in redis.password_env / redis.password_file"


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def protected() -> Iterator[EmbeddedRedis]:
    """``requirepass`` and two ACL users: alice may do anything, bob only PING."""
    with EmbeddedRedis(extra_args=(
            "--requirepass", "default-pw",
            "--user", "alice", "on", ">alice-pw", "~*", "+@all",
            "--user", "bob", "on", ">bob-pw", "~*", "+ping")) as server:
        yield server


def settings_file(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "s.toml"
    cfg.write_text(body)
    return cfg


async def dashboard_ping(cfg: Path, env: dict[str, str]) -> bool:
    """PING through the very client the dashboard builds from these settings."""
    runtime = build_runtime(load_settings(cfg, env=env))
    try:
        async with asyncio.timeout(DEADLINE):
            return bool(await runtime.redis.ping())
    finally:
        await runtime.aclose()


async def feed_reading(client: Redis) -> RedisHealth:
    breaker = CircuitBreaker("redis", BreakerConfig(minimum_calls=1000))
    feed = RedisFeed(client, breaker, clock, timeout=1.0)
    async with asyncio.timeout(DEADLINE):
        return await feed.poll()


@pytest.fixture
async def client_for() -> AsyncIterator[list[Redis]]:
    made: list[Redis] = []
    yield made
    for client in made:
        await client.aclose()


def client(made: list[Redis], url: str, **kwargs: str) -> Redis:
    c = make_redis_client(RedisClientConfig(url=url, socket_timeout=0.5,
                                            socket_connect_timeout=0.5, **kwargs))  # type: ignore[arg-type]
    made.append(c)
    return c


# --- the dashboard's client logs in with a password that is never in the file ---


async def test_password_from_the_environment_opens_a_requirepass_redis(
        protected: EmbeddedRedis, tmp_path: Path) -> None:
    cfg = settings_file(tmp_path, f'[redis]\nurl = "{protected.url}"\n')
    assert await dashboard_ping(cfg, {"RESYNC_REDIS__PASSWORD": "default-pw"})
    named = settings_file(tmp_path, f'[redis]\nurl = "{protected.url}"\npassword_env = "MY_PW"\n')
    assert await dashboard_ping(named, {"MY_PW": "default-pw"})


async def test_acl_user_and_password_from_a_file(protected: EmbeddedRedis, tmp_path: Path) -> None:
    pw = tmp_path / "redis.pw"
    pw.write_text("alice-pw\n")
    cfg = settings_file(tmp_path, f'[redis]\nurl = "{protected.url}"\nuser = "alice"\n'
                                  f'password_env = ""\npassword_file = "{pw}"\n')
    settings = load_settings(cfg, env={})
    assert settings.redis.user == "alice"
    assert "alice-pw" not in repr(settings) and "alice-pw" not in str(settings.redis)
    assert await dashboard_ping(cfg, {})
    with redis.Redis.from_url(protected.url, username="alice", password="alice-pw",
                              socket_timeout=DEADLINE) as admin:
        assert admin.acl_whoami() == "alice"


async def test_a_password_inside_the_url_works_and_is_masked(
        protected: EmbeddedRedis, tmp_path: Path) -> None:
    url = protected.url.replace("unix://", "unix://alice:alice-pw@")
    cfg = settings_file(tmp_path, f'[redis]\nurl = "{url}"\n')
    settings = load_settings(cfg, env={})
    assert "alice-pw" not in settings.redis.url and "alice-pw" not in repr(settings)
    assert settings.redis.user == "alice"
    assert settings.redis.password.reveal() == "alice-pw"
    assert await dashboard_ping(cfg, {})
    bad = settings_file(tmp_path, '[redis]\nurl = "ftp://u:hunter22@cache:6379"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(bad, env={})
    assert "hunter22" not in str(caught.value) and "u:***@cache" in str(caught.value)


def test_a_redis_password_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    cfg = settings_file(tmp_path, '[redis]\nurl = "redis://cache:6379/0"\npassword = "hunter22"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(cfg, env={})
    message = str(caught.value)
    assert "RESYNC_REDIS__PASSWORD" in message and "redis.password_file" in message
    assert "hunter22" not in message


def test_tls_settings_reach_the_client_and_a_ca_file_needs_rediss(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = settings_file(tmp_path, f'[redis]\nurl = "rediss://cache.example:6380/2"\n'
                                  f'ca_file = "{ca}"\n')
    runtime = build_runtime(load_settings(cfg, env={"RESYNC_REDIS__PASSWORD": "pw-123"}))
    kwargs = runtime.redis.connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == str(ca)
    assert kwargs["password"] == "pw-123" and kwargs["db"] == 2
    asyncio.run(runtime.aclose())
    plain = settings_file(tmp_path, f'[redis]\nurl = "redis://cache:6379/0"\nca_file = "{ca}"\n')
    with pytest.raises(SettingsError, match=r"redis\.ca_file'.*rediss://"):
        load_settings(plain, env={})
    missing = settings_file(tmp_path, '[redis]\nurl = "rediss://c:1/0"\nca_file = "/nope.pem"\n')
    with pytest.raises(SettingsError, match=r"redis\.ca_file': bad value '/nope.pem'"):
        load_settings(missing, env={})


# --- what the Redis pane says, each cause on a real server configured that way ---


async def test_no_password_says_which_setting_to_fill_and_logs_the_raw_text_once(
        protected: EmbeddedRedis, client_for: list[Redis],
        caplog: pytest.LogCaptureFixture) -> None:
    feed = RedisFeed(client(client_for, protected.url),
                     CircuitBreaker("redis", BreakerConfig(minimum_calls=1000)), clock,
                     timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="resync_tui.feeds.redis_health"):
        for _ in range(3):
            async with asyncio.timeout(DEADLINE):
                reading = await feed.poll()
    assert not reading.up
    assert reading.health.reason == f"redis down since 07:34:06: {NEEDS_PASSWORD}"
    assert "HELLO" not in reading.health.reason
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1  # once, not at every poll
    assert any(raw in logged[0] for raw in ("HELLO must be called", "Authentication required"))


@pytest.mark.parametrize(("user", "password", "expected"), [
    ("", "not-it", "Redis rejected the user or password (WRONGPASS)"),
    ("alice", "not-it", "Redis rejected the user or password (WRONGPASS)"),
    ("bob", "bob-pw", "Redis user may not run a command the dashboard needs (NOPERM)"),
])
async def test_wrong_password_and_acl_denial_are_told_apart(
        protected: EmbeddedRedis, client_for: list[Redis], user: str, password: str,
        expected: str) -> None:
    reading = await feed_reading(client(client_for, protected.url, username=user,
                                        password=password))
    assert not reading.up
    assert expected in reading.health.reason
    assert "pw" not in reading.health.reason  # never the password itself


async def test_wrong_database_index(redis_url: str, client_for: list[Redis]) -> None:
    reading = await feed_reading(client(client_for, redis_url + "?db=99"))
    assert "Redis has no such database" in reading.health.reason


async def test_connection_refused_and_a_stopped_server_not_answering(
        client_for: list[Redis]) -> None:
    with EmbeddedRedis() as server:
        c = client(client_for, server.url)
        assert (await feed_reading(c)).up
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)  # alive, accepting, never answering
        try:
            stuck = await feed_reading(client(client_for, server.url))
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert "Redis not answering (timeout)" in stuck.health.reason
        server.stop()
        down = await feed_reading(c)
        assert "connection refused: is redis-server running at redis.url?" in down.health.reason


async def test_tls_client_against_a_plain_server_says_tls_failed(
        client_for: list[Redis]) -> None:
    port = free_port()
    with EmbeddedRedis(extra_args=("--port", str(port), "--bind", "127.0.0.1")):
        reading = await feed_reading(client(client_for, f"rediss://127.0.0.1:{port}/0"))
    assert "over TLS" in reading.health.reason and "redis://" in reading.health.reason


async def test_a_read_only_replica_says_point_at_the_primary() -> None:
    port = free_port()
    with EmbeddedRedis(extra_args=("--port", str(port), "--bind", "127.0.0.1")) as primary, \
            EmbeddedRedis() as replica:
        with redis.Redis.from_url(replica.url, socket_timeout=DEADLINE) as admin:
            admin.replicaof("127.0.0.1", port)
        c = make_redis_client(RedisClientConfig(url=replica.url, socket_timeout=DEADLINE))
        try:
            reading = await feed_reading(c)
            assert reading.up and reading.role == "slave"
            with pytest.raises(redis.ReadOnlyError) as caught:
                async with asyncio.timeout(DEADLINE):
                    await c.set("k", "v")
        finally:
            await c.aclose()
        assert primary.running
    assert describe_redis_error(caught.value) == (
        "Redis is a read-only replica (READONLY): point redis.url at the primary")


async def test_a_restart_of_any_redis_is_seen_from_info(client_for: list[Redis]) -> None:
    """Not ours to supervise (an external Redis): INFO's run_id changing still tells."""
    with EmbeddedRedis() as server:
        c = client(client_for, server.url)
        feed = RedisFeed(c, CircuitBreaker("redis", BreakerConfig(minimum_calls=1000)), clock,
                         timeout=1.0)
        async with asyncio.timeout(DEADLINE):
            first = await feed.poll()
            assert first.up and first.events == () and first.recent_restart is None
            server.stop()
            server.start()
            again = await feed.poll()
    assert again.up
    (event,) = again.events
    assert again.recent_restart == event
    assert event.cause == "new run_id" and event.run_id != first.run_id
    assert event.at <= NOW
