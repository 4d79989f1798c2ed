"""Memory follows what is live even when the cache is written rarely.

The amortised sweep counted writes per shard (every ``max(16, shard size // 2)``), so a
cache written a few times a minute with keys that are never read again (the
workstations feed's time-bucketed key, every 15 s) kept every expired value: a NOC
dashboard grew by each read it ever made, up to ``max_entries`` reads.
"""

from __future__ import annotations

from resync_tui.resilience.cache import LocalCache
from tests.resilience.helpers import FakeClock


async def test_rarely_written_keys_never_read_again_do_not_pile_up(clock: FakeClock) -> None:
    # The app's L1 shape: 10k entries over 16 shards, a 300 s stale window.
    cache: LocalCache[bytes] = LocalCache(max_entries=10_000, shards=16, stale_ttl=300.0,
                                          clock=clock)
    for bucket in range(2_000):  # a poll every 15 s for 8 hours and more
        cache.set(f"plan:p:workstations:{bucket}", b"x" * 100, ttl=15.0)
        clock.advance(15.0)
    # Alive (fresh or in their stale window) are the last 21 reads; a sweep may lag a
    # little, never by hundreds of reads.
    assert len(cache) <= 2 * (15 + 300) // 15 + 16
    assert cache.stats().size == len(cache)


async def test_a_sweep_keeps_what_is_still_fresh_or_stale(clock: FakeClock) -> None:
    cache: LocalCache[int] = LocalCache(max_entries=1_000, shards=16, stale_ttl=10.0,
                                        clock=clock)
    cache.set("long", 1, ttl=10_000.0)
    for i in range(200):
        clock.advance(5.0)
        cache.set(f"short{i}", i, ttl=1.0)
    assert cache.get_nowait("long") == 1
    assert cache.contains("short199")
    assert len(cache) < 20
