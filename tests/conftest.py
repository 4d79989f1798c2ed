"""Shared fixtures: a private real redis-server per test worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from resync_tui.redis_server import EmbeddedRedis


@pytest.fixture(scope="session", autouse=True)
def _private_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Nothing a test starts (the demo's persistent Redis, the audit spool, children)
    writes in the real ``~/.local/state``."""
    state = tmp_path_factory.mktemp("xdg-state")
    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    yield state
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One real redis-server for this pytest worker (private Unix socket, no TCP port);
    tests may stop/start it: the socket path, hence ``redis_url``, stays the same."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """URL of a running, empty Redis (restarted if an earlier test killed it)."""
    redis_server.start()
    yield redis_server.url
    if redis_server.running:
        import redis

        redis.Redis.from_url(redis_server.url).flushall()
