"""Stampede: 10,000 concurrent gets of one cold key; how many times does the loader run?

A correctness bench: the figure that matters is loader calls (must be 1 for a
single-flight cache); time per get is secondary. The loader takes 10 ms, like a
fast HWA call.

* ``resync``: ``LocalCache.get_or_load``.
* ``resync_tiered``: ``TieredCache.get_or_load`` as the app builds it
  (``build_runtime``) over a real embedded Redis: one L2 GET, then the loader.
* ``textbook``: the usual asyncio single-flight, a dict of futures: the first
  caller of a key runs the loader and resolves a future the others await.
* ``cache_aside``: no single-flight at all (get; on a miss load and set) on
  aiocache's SimpleMemoryCache: every caller loads.

Each is run ROUNDS times on a fresh cold key; times are each one's best round.
Usage: .venv/bin/python bench/bench_singleflight.py [concurrent_gets]
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiocache import SimpleMemoryCache

from resync_tui.feeds.runtime import build_runtime
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.resilience.cache import LocalCache
from resync_tui.settings import Settings

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = 5
WHAT = ("correctness bench: loader calls for concurrent gets of one cold key "
        "(single-flight must give 1); time per get is a secondary figure")


class DictOfFutures:
    """Textbook single-flight: values in a dict, one future per key being loaded."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def get_or_load(self, key: str, loader: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._values:
            return self._values[key]
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await waiting
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await loader()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._inflight[key]
        self._values[key] = value
        future.set_result(value)
        return value


async def main(redis_url: str) -> dict[str, Any]:
    logging.disable(logging.CRITICAL)
    calls = dict.fromkeys(("resync", "resync_tiered", "textbook", "cache_aside"), 0)
    best_s = dict.fromkeys(calls, float("inf"))

    def loader(which: str) -> Callable[[], Awaitable[str]]:
        async def load() -> str:
            calls[which] += 1
            await asyncio.sleep(0.01)
            return "plan"
        return load

    settings = Settings()
    settings = dataclasses.replace(settings,
                                   redis=dataclasses.replace(settings.redis, url=redis_url))
    runtime = build_runtime(settings)
    aio = SimpleMemoryCache()

    async def cache_aside(key: str, load: Callable[[], Awaitable[str]]) -> str:
        value = await aio.get(key)
        if value is None:
            value = await load()
            await aio.set(key, value)
        return str(value)

    async def stampede(which: str, get: Callable[[str, Callable[[], Awaitable[str]]],
                                                  Awaitable[Any]], key: str) -> None:
        load = loader(which)
        start = time.perf_counter()
        results = await asyncio.gather(*(get(key, load) for _ in range(N)))
        best_s[which] = min(best_s[which], time.perf_counter() - start)
        assert set(results) == {"plan"}, which

    per_round: dict[str, list[int]] = {name: [] for name in calls}
    try:
        for round_no in range(ROUNDS):
            key = f"plan:today:{round_no}"
            local: LocalCache[str] = LocalCache()
            textbook = DictOfFutures()
            cases: dict[str, Callable[[str, Callable[[], Awaitable[str]]], Awaitable[Any]]] = {
                "resync": local.get_or_load,
                "resync_tiered": runtime.cache.get_or_load,
                "textbook": textbook.get_or_load,
                "cache_aside": cache_aside,
            }
            for name, get in cases.items():
                before = calls[name]
                await stampede(name, get, key)
                per_round[name].append(calls[name] - before)
            await runtime.cache.flush()
        assert runtime.cache.stats().l2.loads == ROUNDS
    finally:
        await runtime.aclose()

    out: dict[str, Any] = {"what": WHAT, "concurrent_gets": N, "rounds": ROUNDS}
    for name in calls:
        out[f"{name}_loader_calls"] = max(per_round[name])  # worst round
    for name in calls:
        out[f"{name}_us_per_get"] = best_s[name] / N * 1e6
    out["resync_over_textbook_time"] = best_s["resync"] / best_s["textbook"]
    out["resync_tiered_over_textbook_time"] = best_s["resync_tiered"] / best_s["textbook"]
    return out


if __name__ == "__main__":
    with EmbeddedRedis() as redis:
        figures = asyncio.run(main(redis.url))
    for name, value in figures.items():
        print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v
                      for k, v in figures.items()}))
    if figures["resync_loader_calls"] != 1 or figures["resync_tiered_loader_calls"] != 1:
        raise SystemExit("single-flight broken: loader ran more than once")
