"""Success-path overhead of a circuit breaker per call, against the bare call.

What each does per success: ours reads the monotonic clock and updates a rolling
time window; aiobreaker and pybreaker take locks/listeners; purgatory (breaker
held) only resets a consecutive-failure counter, no clock and no window.

Same run, same loop: a bare ``await noop()`` is the baseline; each breaker's
overhead is (its time - baseline) per call, best of several interleaved rounds.
pybreaker is sync only, so it is measured against a bare sync call.
Usage: .venv/bin/python bench/bench_breaker.py [calls_per_round]
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable

import aiobreaker
import pybreaker
from purgatory import AsyncCircuitBreakerFactory

from resync_tui.resilience.breaker import BreakerConfig, CircuitBreaker

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ROUNDS = 7


async def noop() -> int:
    return 1


def sync_noop() -> int:
    return 1


async def time_async(body: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await body()
    return (time.perf_counter() - start) / N


async def main() -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    ours = CircuitBreaker("bench", BreakerConfig())
    aio = aiobreaker.CircuitBreaker()
    factory = AsyncCircuitBreakerFactory()
    await factory.initialize()
    purg = await factory.get_breaker("bench")
    pyb = pybreaker.CircuitBreaker()

    async def bare() -> None:
        for _ in range(N):
            await noop()

    async def ours_call() -> None:
        call = ours.call
        for _ in range(N):
            await call(noop)

    async def ours_guard() -> None:
        for _ in range(N):
            async with ours.guard():
                await noop()

    async def aiobreaker_call() -> None:
        call = aio.call_async
        for _ in range(N):
            await call(noop)

    async def purgatory_with() -> None:
        for _ in range(N):
            async with purg:
                await noop()

    async def purgatory_documented() -> None:
        # The README's form: the breaker is looked up by name on each call.
        for _ in range(N):
            async with await factory.get_breaker("bench"):
                await noop()

    async def bare_sync() -> None:
        for _ in range(N):
            sync_noop()

    async def pybreaker_call() -> None:
        call = pyb.call
        for _ in range(N):
            call(sync_noop)

    cases = {"bare_await": bare, "resync_call": ours_call, "resync_guard": ours_guard,
             "aiobreaker": aiobreaker_call, "purgatory": purgatory_with,
             "purgatory_documented": purgatory_documented,
             "bare_sync_call": bare_sync, "pybreaker": pybreaker_call}
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(ROUNDS):
        for name, body in cases.items():
            best[name] = min(best[name], await time_async(body))

    ns = 1e9
    out = {
        "baseline_await_ns": best["bare_await"] * ns,
        "resync_call_overhead_ns": (best["resync_call"] - best["bare_await"]) * ns,
        "resync_guard_overhead_ns": (best["resync_guard"] - best["bare_await"]) * ns,
        "aiobreaker_overhead_ns": (best["aiobreaker"] - best["bare_await"]) * ns,
        "purgatory_overhead_ns": (best["purgatory"] - best["bare_await"]) * ns,
        "purgatory_get_breaker_each_call_overhead_ns": (
            best["purgatory_documented"] - best["bare_await"]) * ns,
        "pybreaker_overhead_ns": (best["pybreaker"] - best["bare_sync_call"]) * ns,
    }
    best_other = min(out["aiobreaker_overhead_ns"], out["purgatory_overhead_ns"],
                     out["pybreaker_overhead_ns"])
    out["aiobreaker_over_resync_call"] = out["aiobreaker_overhead_ns"] / out[
        "resync_call_overhead_ns"]
    out["pybreaker_over_resync_call"] = out["pybreaker_overhead_ns"] / out[
        "resync_call_overhead_ns"]
    out["best_other_over_resync_call"] = best_other / out["resync_call_overhead_ns"]
    out["best_other_over_resync_guard"] = best_other / out["resync_guard_overhead_ns"]
    assert ours.snapshot().successful_calls_total == 2 * N * ROUNDS
    return out


if __name__ == "__main__":
    figures = asyncio.run(main())
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
