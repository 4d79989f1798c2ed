"""Codec format and the Redis client's settings."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import BlockingConnectionPool

from resync_tui.resilience.codec import CodecError, MsgpackCodec
from resync_tui.resilience.redis_pool import RedisClientConfig, make_redis_client, redact_url


class Job(msgspec.Struct):
    id: str
    status: str


def test_codec_round_trips_typed_values_behind_a_version_byte() -> None:
    codec: MsgpackCodec[Job] = MsgpackCodec(Job)
    data = codec.encode(Job("JS1", "SUCC"))
    assert data[0] == 1
    assert codec.decode(data) == Job("JS1", "SUCC")
    untyped: MsgpackCodec[object] = MsgpackCodec()
    assert untyped.decode(untyped.encode({"a": [1, 2]})) == {"a": [1, 2]}


@pytest.mark.parametrize("data", [b"", b"\x02whatever", b"\x01\xc1", b"\x01\x81\xa1x\x01"])
def test_codec_rejects_unknown_versions_and_wrong_shapes(data: bytes) -> None:
    with pytest.raises(CodecError):
        MsgpackCodec(Job).decode(data)


async def test_client_uses_a_bounded_blocking_pool_with_explicit_timeouts() -> None:
    cfg = RedisClientConfig(url="redis://:pw@127.0.0.1:6399/2", max_connections=4,
                            socket_timeout=0.3, socket_connect_timeout=0.2, pool_timeout=0.1,
                            health_check_interval=7, retries=1)
    client = make_redis_client(cfg)
    try:
        pool = client.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert pool.max_connections == 4 and pool.timeout == 0.1
        kwargs = pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.3, 0.2)
        assert kwargs["health_check_interval"] == 7
        assert kwargs["retry"].get_retries() == 1
    finally:
        await client.aclose()


async def test_password_never_shows_in_repr() -> None:
    cfg = RedisClientConfig(url="redis://user:hunter2@cache:6379/0")
    assert "hunter2" not in repr(cfg)
    client = make_redis_client(cfg)
    try:
        assert "hunter2" not in repr(client) and "hunter2" not in repr(client.connection_pool)
    finally:
        await client.aclose()
    assert cfg.safe_url == "redis://user:***@cache:6379/0"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
