"""The Cache pane's per-kind rows count the L1 hits the feeds take through peek."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from resync_tui.feeds.cache_stats import CacheFeed, cached_lookup, cached_read
from resync_tui.feeds.runtime import Runtime, build_runtime
from resync_tui.settings import Settings


@pytest.fixture
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    settings = Settings()
    rt = build_runtime(dataclasses.replace(
        settings, redis=dataclasses.replace(settings.redis, url=redis_url)))
    yield rt
    await rt.aclose()


async def test_peek_hits_show_in_the_kind_rows_and_the_l1_hit_rate(runtime: Runtime) -> None:
    cache = runtime.cache
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        return "details"

    key = "job:JS1:run1:SUCC"
    assert await cached_read(cache, "job details", key, load, ttl=600) == "details"  # engine
    assert cache.peek(key, "job details") == "details"  # what detail.py does first
    assert await cached_read(cache, "job details", key, load, ttl=600) == "details"  # L1
    assert await cached_lookup(cache, "job details", key) == "details"  # L1
    assert loads == 1

    state = await CacheFeed.of(cache, lambda: 0.0).poll()
    row = next(r for r in state.kinds if r.kind == "job details")
    assert (row.l1_hits, row.l2_hits, row.misses) == (3, 0, 1)
    assert row.hit_rate == 75.0
    l1 = next(r for r in state.levels if r.level == "l1")
    assert l1.hits == 3 and l1.lookups == 4  # one miss (the first read), three hits
