"""Success-path overhead of the breaker as the app uses it, against the bare call.

Headline: ``with breaker.guard():`` around an awaited call (the form of
``call_resilient`` and ``TieredCache``: guard() takes the permit and never suspends,
so a plain ``with`` inside the coroutine) on a breaker built exactly as the app builds
``hwa_job_status``: ``breaker_config(Settings().breakers["hwa_job_status"],
record=counts_as_failure)``. That config times slow calls (``slow_call_seconds``), so
each call reads the clock twice and updates the rolling window. Secondary: ``async
with breaker.guard():`` (still supported; feeds/redis_health uses it), ``breaker.call``
on the same breaker, and both forms on a default ``BreakerConfig()`` (no slow-call
timing), to show what the app's settings cost.

Competitors, each at its fastest form (the best of the forms tried, per round):
aiobreaker (``call_async`` or the decorator), purgatory (breaker held, ``async
with``; also the README's look-up by name per call), pybreaker (sync only: ``call``,
``calling()`` or the decorator, against a bare sync call).

Same run, same loop, ROUNDS interleaved rounds: overhead = (best time - best bare
time) per call, each at its own best over the rounds (best-of: other processes share
the two cores, so many short rounds; take the best of a few runs too). The load
average when the run ends is printed beside the figures.
Targets: guard overhead <= 400 ns and >= 3x below aiobreaker.
With ``--old REV`` the guard of ``resync_tui/resilience/breaker.py`` as it was at git
revision REV runs beside it in the same rounds (same config): the old figure beside
the new one (``old_guard_overhead_ns``, ``new_guard_over_old``).
Usage: .venv/bin/python bench/bench_breaker.py [calls_per_round] [--old REV]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Awaitable, Callable

import aiobreaker
import pybreaker
from purgatory import AsyncCircuitBreakerFactory

from resync_tui.feeds.runtime import breaker_config, counts_as_failure
from resync_tui.resilience.breaker import BreakerConfig, CircuitBreaker
from resync_tui.settings import Settings

_parser = argparse.ArgumentParser(description="guard() against aiobreaker and others")
_parser.add_argument("calls", nargs="?", type=int, default=5_000, help="calls per round")
_parser.add_argument("--old", metavar="REV", help="also the guard of breaker.py at REV")
_args = _parser.parse_args()
N: int = _args.calls
OLD_REV: str | None = _args.old

def old_breaker_module(rev: str) -> types.ModuleType:
    """breaker.py as it was at ``rev`` (git show), loaded as a module of its own."""
    root = pathlib.Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{rev}:resync_tui/resilience/breaker.py"], cwd=root, check=True,
        capture_output=True, text=True, timeout=30).stdout
    path = pathlib.Path(tempfile.mkdtemp()) / "old_breaker.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_breaker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_breaker"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
ROUNDS = 120
TARGET_GUARD_NS = 400.0
TARGET_RATIO_AIOBREAKER = 3.0


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
    app_config = breaker_config(Settings().breakers["hwa_job_status"], record=counts_as_failure)
    app = CircuitBreaker("hwa_job_status", app_config)
    lean = CircuitBreaker("lean", BreakerConfig())
    aio = aiobreaker.CircuitBreaker()
    aio_decorated = aio(noop)
    factory = AsyncCircuitBreakerFactory()
    await factory.initialize()
    purg = await factory.get_breaker("bench")
    pyb = pybreaker.CircuitBreaker()
    pyb_decorated = pyb(sync_noop)

    async def bare() -> None:
        for _ in range(N):
            await noop()

    def guard_of(breaker: CircuitBreaker) -> Callable[[], Awaitable[None]]:
        # The app's form (call_resilient, TieredCache): guard() never suspends, so a
        # plain `with` inside the coroutine.
        async def body() -> None:
            for _ in range(N):
                with breaker.guard():
                    await noop()
        return body

    def async_guard_of(breaker: CircuitBreaker) -> Callable[[], Awaitable[None]]:
        async def body() -> None:
            for _ in range(N):
                async with breaker.guard():
                    await noop()
        return body

    def call_of(breaker: CircuitBreaker) -> Callable[[], Awaitable[None]]:
        async def body() -> None:
            call = breaker.call
            for _ in range(N):
                await call(noop)
        return body

    async def aiobreaker_call_async() -> None:
        call = aio.call_async
        for _ in range(N):
            await call(noop)

    async def aiobreaker_decorator() -> None:
        for _ in range(N):
            await aio_decorated()

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

    async def pybreaker_calling() -> None:
        for _ in range(N):
            with pyb.calling():
                sync_noop()

    async def pybreaker_decorator() -> None:
        for _ in range(N):
            pyb_decorated()

    cases = {"bare_await": bare,
             "app_guard": guard_of(app), "app_async_guard": async_guard_of(app),
             "app_call": call_of(app),
             "lean_guard": guard_of(lean), "lean_call": call_of(lean),
             "aiobreaker_call_async": aiobreaker_call_async,
             "aiobreaker_decorator": aiobreaker_decorator,
             "purgatory": purgatory_with, "purgatory_documented": purgatory_documented,
             "bare_sync_call": bare_sync, "pybreaker_call": pybreaker_call,
             "pybreaker_calling": pybreaker_calling, "pybreaker_decorator": pybreaker_decorator}
    if OLD_REV is not None:
        mod = old_breaker_module(OLD_REV)
        fields = {f: getattr(app_config, f) for f in app_config.__struct_fields__}
        old_app = mod.CircuitBreaker("hwa_job_status", mod.BreakerConfig(**fields))
        cases["old_guard"] = guard_of(old_app)
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(ROUNDS):
        for name, body in cases.items():
            best[name] = min(best[name], await time_async(body))
    assert app.snapshot().successful_calls_total == 3 * N * ROUNDS
    assert app.config.slow_call_seconds, "the app's hwa_job_status breaker times slow calls"

    ns = 1e9
    base = best["bare_await"]
    base_sync = best["bare_sync_call"]
    out = {
        "baseline_await_ns": base * ns,
        "resync_guard_overhead_ns": (best["app_guard"] - base) * ns,
        "resync_async_with_guard_overhead_ns": (best["app_async_guard"] - base) * ns,
        "resync_call_overhead_ns": (best["app_call"] - base) * ns,
        "resync_guard_lean_config_overhead_ns": (best["lean_guard"] - base) * ns,
        "resync_call_lean_config_overhead_ns": (best["lean_call"] - base) * ns,
        "aiobreaker_overhead_ns": (min(best["aiobreaker_call_async"],
                                       best["aiobreaker_decorator"]) - base) * ns,
        "purgatory_overhead_ns": (best["purgatory"] - base) * ns,
        "purgatory_get_breaker_each_call_overhead_ns": (
            best["purgatory_documented"] - base) * ns,
        "baseline_sync_call_ns": base_sync * ns,
        "pybreaker_overhead_ns": (min(best["pybreaker_call"], best["pybreaker_calling"],
                                      best["pybreaker_decorator"]) - base_sync) * ns,
    }
    if OLD_REV is not None:
        out["old_guard_overhead_ns"] = (best["old_guard"] - base) * ns
        out["new_guard_over_old"] = out["resync_guard_overhead_ns"] / out["old_guard_overhead_ns"]
        out["aiobreaker_over_old_guard"] = (out["aiobreaker_overhead_ns"]
                                            / out["old_guard_overhead_ns"])
    guard = out["resync_guard_overhead_ns"]
    best_other = min(out["aiobreaker_overhead_ns"], out["purgatory_overhead_ns"],
                     out["pybreaker_overhead_ns"])
    out["aiobreaker_over_resync_guard"] = out["aiobreaker_overhead_ns"] / guard
    out["purgatory_over_resync_guard"] = out["purgatory_overhead_ns"] / guard
    out["pybreaker_over_resync_guard"] = out["pybreaker_overhead_ns"] / guard
    out["best_other_over_resync_guard"] = best_other / guard
    out["aiobreaker_over_resync_call"] = out["aiobreaker_overhead_ns"] / out[
        "resync_call_overhead_ns"]
    out["load_avg_1m"] = os.getloadavg()[0]
    out["target_guard_ns"] = TARGET_GUARD_NS
    out["guard_target_met"] = float(guard <= TARGET_GUARD_NS)
    out["aiobreaker_3x_target_met"] = float(out["aiobreaker_over_resync_guard"]
                                            >= TARGET_RATIO_AIOBREAKER)
    return out


if __name__ == "__main__":
    figures = asyncio.run(main())
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
