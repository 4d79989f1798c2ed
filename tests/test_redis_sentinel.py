"""Redis behind Sentinel: a real primary, replica and sentinel (the bundled redis-server);
the dashboard's Redis, its pane and the shared feed's election survive a failover."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from resync_tui.feeds.redis_health import RedisFeed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.feeds.shared import Share
from resync_tui.redis_server import EmbeddedRedis, free_port, redis_server_binary
from resync_tui.resilience.redis_pool import parse_sentinel_url, redact_url
from resync_tui.settings import SettingsError, load_settings
from resync_tui.share.lease import Role

DEADLINE = 40.0


@dataclass
class SentinelSet:
    primary: EmbeddedRedis
    replica: EmbeddedRedis
    sentinel_port: int
    replica_port: int


def _until(check: object, what: str, deadline: float = DEADLINE) -> None:
    import time

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    p_port, r_port, s_port = free_port(), free_port(), free_port()
    tcp = ("--bind", "127.0.0.1")
    primary = EmbeddedRedis(extra_args=("--port", str(p_port), *tcp))
    replica = EmbeddedRedis(extra_args=("--port", str(r_port), *tcp,
                                        "--replicaof", "127.0.0.1", str(p_port)))
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {s_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {p_port} 1\n"
                    "sentinel down-after-milliseconds mymaster 1000\n"
                    "sentinel failover-timeout mymaster 4000\n", encoding="utf-8")
    with primary, replica:
        proc = subprocess.Popen([redis_server_binary(), str(conf), "--sentinel"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ask = redis.Redis(port=s_port, socket_timeout=2)
            _until(lambda: any(r.get("flags") == "slave"
                               for r in ask.sentinel_slaves("mymaster")), "replica seen")
            rep = redis.Redis(port=r_port, socket_timeout=2)
            _until(lambda: rep.info("replication").get("master_link_status") == "up",
                   "replica in sync")
            yield SentinelSet(primary, replica, s_port, r_port)
        finally:
            proc.kill()
            proc.wait(10)


def test_sentinel_settings_are_checked_and_end_as_one_url() -> None:
    s = load_settings(None, env={"RESYNC_REDIS__SENTINELS": "10.0.0.1:26379,[::1]:26380",
                                 "RESYNC_REDIS__SENTINEL_MASTER": "hwa"})
    assert s.redis.url == "redis+sentinel://10.0.0.1:26379,::1:26380/hwa/0"
    assert parse_sentinel_url("redis+sentinel://u:pw@a:1,b/mm/2") == (
        (("a", 1), ("b", 26379)), "mm", 2)
    assert redact_url("redis+sentinel://u:pw@a:1,b/mm/2") == "redis+sentinel://u:***@a:1,b/mm/2"
    with pytest.raises(SettingsError, match=r"redis.sentinels.*HOST:PORT"):
        load_settings(None, env={"RESYNC_REDIS__SENTINELS": "host:notaport"})
    with pytest.raises(SettingsError, match="no master name"):
        load_settings(None, env={"RESYNC_REDIS__URL": "redis+sentinel://a:1"})


async def test_the_dashboards_redis_survives_a_sentinel_failover(
        sentinels: SentinelSet) -> None:
    settings = load_settings(None, env={
        "RESYNC_REDIS__SENTINELS": f"127.0.0.1:{sentinels.sentinel_port}",
        "RESYNC_REDIS__SOCKET_TIMEOUT": "1", "RESYNC_REDIS__CONNECT_TIMEOUT": "1",
        "RESYNC_HWA__URL": "https://engine.example:31116"})
    rt = build_runtime(settings)
    try:
        r = rt.redis
        await r.set("before", "1")
        share = Share(rt, owner="noc:1:x")
        assert await share.election.step() is Role.LEADER
        feed = RedisFeed(rt.redis, rt.redis_breaker, rt.clock, timeout=2.0)
        assert (await feed.poll()).health.ok
        sentinels.primary.stop()  # the primary dies; the sentinel promotes the replica
        promoted = redis.Redis(port=sentinels.replica_port, socket_timeout=2)
        _until(lambda: promoted.info("replication")["role"] == "master", "failover")
        written = False
        for _ in range(int(DEADLINE / 0.2)):  # commands go to the new primary
            try:
                await r.set("after", "2")
                written = True
                break
            except redis.RedisError:
                await asyncio.sleep(0.2)
        assert written
        assert promoted.get("after") == b"2" and promoted.get("before") == b"1"
        state = None
        for _ in range(int(DEADLINE / 0.2)):
            state = await feed.poll()
            if state.health.ok:
                break
            await asyncio.sleep(0.2)
        assert state is not None and state.health.ok  # the Redis pane is green again
        roles = [await share.election.step() for _ in range(3)]
        assert roles[-1] is Role.LEADER  # the lease replicated, or was taken again
    finally:
        await rt.aclose()
