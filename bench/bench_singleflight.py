"""Stampede: 10,000 concurrent gets of one cold key; how many times does the loader run?

LocalCache.get_or_load must run it once. The baseline is the usual cache-aside
pattern (get; on miss load and set) on aiocache's SimpleMemoryCache, which has
no single-flight. The loader takes 10 ms, like a fast HWA call.
Usage: .venv/bin/python bench/bench_singleflight.py [concurrent_gets]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiocache import SimpleMemoryCache

from resync_tui.resilience.cache import LocalCache

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


async def main() -> dict[str, float]:
    calls = {"resync": 0, "cache_aside": 0}

    async def load(which: str) -> str:
        calls[which] += 1
        await asyncio.sleep(0.01)
        return "plan"

    cache: LocalCache[str] = LocalCache()
    start = time.perf_counter()
    results = await asyncio.gather(*(cache.get_or_load("plan:today", lambda: load("resync"))
                                     for _ in range(N)))
    ours_s = time.perf_counter() - start
    assert set(results) == {"plan"}

    aio = SimpleMemoryCache()

    async def cache_aside() -> str:
        value = await aio.get("plan:today")
        if value is None:
            value = await load("cache_aside")
            await aio.set("plan:today", value)
        return str(value)

    start = time.perf_counter()
    await asyncio.gather(*(cache_aside() for _ in range(N)))
    aside_s = time.perf_counter() - start

    return {
        "concurrent_gets": N,
        "resync_loader_calls": calls["resync"],
        "cache_aside_loader_calls": calls["cache_aside"],
        "resync_total_ms": ours_s * 1e3,
        "cache_aside_total_ms": aside_s * 1e3,
        "resync_us_per_get": ours_s / N * 1e6,
    }


if __name__ == "__main__":
    figures = asyncio.run(main())
    for name, value in figures.items():
        print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
    if figures["resync_loader_calls"] != 1:
        raise SystemExit("single-flight broken: loader ran more than once")
