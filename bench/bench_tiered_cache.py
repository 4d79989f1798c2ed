"""Tiered cache throughput against a real redis-server (EmbeddedRedis, loopback).

* tiered_hot: TieredCache.get_or_load over a hot set of 1,000 keys that fits L1;
* tiered_hot_peek: the same reads as the feeds' call sites make them: ``peek`` (a
  synchronous L1 hit), ``get_or_load`` only when it gives None;
* tiered_l2: the same reads with an L1 too small to help: every read is an L2 GET
  through the breaker, timeout and codec;
* redis_get: one plain redis.asyncio GET per read (the baseline).
Reads are sequential (one caller), so the figures are latency-bound gets/s; each is
its best of ROUNDS rounds (other processes share the cores).
Usage: .venv/bin/python bench/bench_tiered_cache.py [reads]
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time

from resync_tui.redis_server import EmbeddedRedis
from resync_tui.resilience.breaker import CircuitBreaker
from resync_tui.resilience.cache import LocalCache
from resync_tui.resilience.redis_pool import RedisClientConfig, make_redis_client
from resync_tui.resilience.tiered import TieredCache

READS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
KEYS = [f"JS{i}" for i in range(1000)]
ROUNDS = 5


async def never_called() -> dict[str, object]:
    raise AssertionError("the origin should not be needed: every key is cached")


async def main(url: str) -> dict[str, float]:
    client = make_redis_client(RedisClientConfig(url=url))
    try:
        breaker = CircuitBreaker("redis")
        hot: TieredCache[dict[str, object]] = TieredCache(
            LocalCache(max_entries=10_000, default_ttl=3600), client, breaker=breaker,
            namespace="bench")
        for key in KEYS:
            await hot.set(key, {"job": key, "status": "SUCC", "rc": 0})
        cold: TieredCache[dict[str, object]] = TieredCache(
            LocalCache(max_entries=1, shards=1, default_ttl=3600), client, breaker=breaker,
            namespace="bench")
        sequence = [KEYS[i % len(KEYS)] for i in range(READS)]

        async def tiered(cache: TieredCache[dict[str, object]], reads: list[str]) -> float:
            start = time.perf_counter()
            for key in reads:
                await cache.get_or_load(key, never_called)
            return len(reads) / (time.perf_counter() - start)

        async def peeked(cache: TieredCache[dict[str, object]], reads: list[str]) -> float:
            start = time.perf_counter()
            peek = cache.peek
            for key in reads:
                if peek(key, "bench") is None:
                    await cache.get_or_load(key, never_called)
            return len(reads) / (time.perf_counter() - start)

        async def raw(reads: list[str]) -> float:
            start = time.perf_counter()
            for key in reads:
                await client.get(hot.l2_key(key))
            return len(reads) / (time.perf_counter() - start)

        slow_reads = sequence[: max(1000, READS // 5)]  # network-bound: fewer reads suffice
        best = {"tiered_hot": 0.0, "tiered_hot_peek": 0.0, "tiered_l2": 0.0, "redis_get": 0.0}
        for _ in range(ROUNDS):
            best["tiered_hot"] = max(best["tiered_hot"], await tiered(hot, sequence))
            best["tiered_hot_peek"] = max(best["tiered_hot_peek"], await peeked(hot, sequence))
            best["tiered_l2"] = max(best["tiered_l2"], await tiered(cold, slow_reads))
            best["redis_get"] = max(best["redis_get"], await raw(slow_reads))
        assert cold.stats().l2.hits > 0 and breaker.snapshot().failed_calls_in_window == 0
    finally:
        await client.aclose()
    return {
        "tiered_hot_gets_per_s": best["tiered_hot"],
        "tiered_hot_peek_gets_per_s": best["tiered_hot_peek"],
        "tiered_l2_gets_per_s": best["tiered_l2"],
        "redis_get_per_s": best["redis_get"],
        "hot_over_redis_get": best["tiered_hot"] / best["redis_get"],
        "hot_peek_over_redis_get": best["tiered_hot_peek"] / best["redis_get"],
        "l2_path_over_redis_get": best["tiered_l2"] / best["redis_get"],
    }


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)
    with EmbeddedRedis() as server:
        figures = asyncio.run(main(server.url))
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
