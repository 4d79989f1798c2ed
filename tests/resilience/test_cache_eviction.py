"""L1 eviction is second-chance (CLOCK), an approximate LRU: what stays cached.

A hit only sets the entry's read bit (no reordering: the hit path is the app's hot
read); an insert into a full shard passes over the oldest entries read since they were
stored or last passed over, and evicts the first unread one. What a user notices is
which job details, logs and dependencies are still answered without asking the engine.
"""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest

from resync_tui.resilience.cache import LocalCache
from tests.resilience.helpers import FakeClock


async def test_entries_read_since_they_were_stored_outlive_unread_ones(
        clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(max_entries=4, shards=1, clock=clock)
    for key in "abcd":
        cache.set(key, key.upper())
    assert cache.get_nowait("a") == "A" and cache.get_nowait("c") == "C"
    cache.set("e", "E")
    cache.set("f", "F")  # full twice: the unread b and d go, a and c are passed over
    assert [cache.get_nowait(k) for k in "bd"] == [None, None]
    assert cache.stats().evictions == 2
    assert [cache.contains(k) for k in "acef"] == [True, True, True, True]


async def test_a_passed_over_entry_not_read_again_goes_at_the_next_pass(
        clock: FakeClock) -> None:
    cache: LocalCache[int] = LocalCache(max_entries=3, shards=1, clock=clock)
    for i in range(3):
        cache.set(f"k{i}", i)
    assert cache.get_nowait("k0") == 0
    cache.set("k3", 3)  # k0 passed over (to the end, unread), k1 goes
    cache.set("k4", 4)  # k2 goes
    cache.set("k5", 5)  # k0 was not read again: it goes now
    assert [cache.contains(f"k{i}") for i in range(6)] == [False] * 3 + [True] * 3


async def test_with_every_entry_read_the_oldest_stored_goes(clock: FakeClock) -> None:
    """The documented difference from a strict LRU (which would evict k2, read first)."""
    cache: LocalCache[int] = LocalCache(max_entries=3, shards=1, clock=clock)
    for i in range(3):
        cache.set(f"k{i}", i)
    for key in ("k2", "k1", "k0"):
        assert cache.get_nowait(key) is not None
    cache.set("k3", 3)
    assert [cache.contains(f"k{i}") for i in range(4)] == [False, True, True, True]


async def test_a_read_entry_past_its_window_is_not_passed_over_but_expired(
        clock: FakeClock) -> None:
    cache: LocalCache[str] = LocalCache(max_entries=2, shards=1, clock=clock)
    cache.set("short", "s", ttl=1)
    cache.set("long", "l", ttl=100)
    assert cache.get_nowait("short") == "s"
    clock.advance(2)
    cache.set("new", "n")
    stats = cache.stats()
    assert (stats.expirations, stats.evictions, stats.size) == (1, 0, 2)
    assert cache.get_nowait("long") == "l" and cache.get_nowait("new") == "n"


class SecondChanceModel:
    """The documented policy, written plainly: per shard, keys oldest first with a bit."""

    def __init__(self, max_entries: int, shards: int) -> None:
        n = 1 << (min(shards, max_entries) - 1).bit_length()
        self.mask = n - 1
        self.per_shard = -(-max_entries // n)
        self.shards: list[OrderedDict[str, list[object]]] = [OrderedDict() for _ in range(n)]
        self.evictions = 0

    def set(self, key: str, value: int) -> None:
        shard = self.shards[hash(key) & self.mask]
        if key in shard:
            del shard[key]
        elif len(shard) >= self.per_shard:
            while True:
                old_key, old = shard.popitem(last=False)
                if old[1]:
                    shard[old_key] = [old[0], False]
                    continue
                self.evictions += 1
                break
        shard[key] = [value, False]

    def get(self, key: str) -> int | None:
        cell = self.shards[hash(key) & self.mask].get(key)
        if cell is None:
            return None
        cell[1] = True
        return cell[0]  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        self.shards[hash(key) & self.mask].pop(key, None)

    def __len__(self) -> int:
        return sum(len(shard) for shard in self.shards)


@pytest.mark.parametrize(("max_entries", "shards", "seed"),
                         [(8, 1, 1), (8, 1, 2), (50, 4, 3), (100, 16, 4), (5, 8, 5)])
async def test_every_read_matches_the_documented_policy(
        clock: FakeClock, max_entries: int, shards: int, seed: int) -> None:
    """A random mix of writes, reads (both read paths), deletes and clears, checked
    read by read against the model: the dict every read uses and the shards that
    evict never disagree."""
    rng = random.Random(seed)
    cache: LocalCache[int] = LocalCache(max_entries=max_entries, shards=shards,
                                        default_ttl=3600, clock=clock)
    model = SecondChanceModel(max_entries, shards)
    keys = [f"job:{i}" for i in range(3 * max_entries)]
    for step in range(4000):
        key = rng.choice(keys)
        op = rng.random()
        if op < 0.4:
            cache.set(key, step)
            model.set(key, step)
        elif op < 0.7:
            assert cache.get_nowait(key) == model.get(key), (step, key)
        elif op < 0.9:
            assert await cache.get(key) == model.get(key), (step, key)
        elif op < 0.998:
            cache.delete(key)
            model.delete(key)
        else:
            cache.clear()
            model = SecondChanceModel(max_entries, shards)
            model.evictions = cache.stats().evictions
        assert len(cache) == len(model)
    assert cache.stats().evictions == model.evictions > 0
    assert len(cache) <= cache.stats().max_size  # type: ignore[operator]
