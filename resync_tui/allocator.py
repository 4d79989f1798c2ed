"""How the C allocator (glibc malloc) should treat a dashboard that re-reads a big plan.

Why: with a 200k-job plan each re-read allocates and frees tens of MB in buffers of a
few MB (page bodies, decoded pages, lists of rows) between rows that stay. glibc's
defaults suit short programs, not this:

* its mmap threshold starts at 128 KiB but rises (up to 32 MiB) each time a mmapped
  chunk is freed, so after the first read the multi-MB buffers come from the heap
  instead, and the heap fragments around the rows that outlive them;
* each thread that allocates gets its own arena (up to 8 per core), a heap of its own
  that stays mostly empty between the worker thread's bulk builds.

``apply_policy`` fixes the thresholds (which also stops glibc moving them) and caps the
arenas; ``trim`` gives freed heap pages back (``malloc_trim``), off the event loop after
a big read. Measured in ``bench/bench_app_growth.py --no-trace`` at 200k jobs: with glibc's
defaults the heap held 32-36 MB of free chunks, which each trim gave back and the next
seconds' allocations faulted in again (RSS a saw-tooth 258-276 MB, mean 268); with this
policy the heap holds 3-5 MB free, RSS 249-254 MB (mean 251) and a trim takes ~2 ms
instead of ~21. pymalloc's arenas (most of the rest) are not glibc's: no setting here
reaches them. On a C library that is not glibc (musl, macOS) both do nothing. A
``MALLOC_*`` environment variable or ``GLIBC_TUNABLES`` the operator set wins over the
policy's value for that setting.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sys
import time
from typing import Final

import msgspec

__all__ = ["DASHBOARD_POLICY", "MallocPolicy", "apply_policy", "glibc", "trim",
           "trim_off_loop"]

log = logging.getLogger(__name__)

# mallopt(3) parameter numbers, from glibc's <malloc.h>.
M_TRIM_THRESHOLD: Final = -1
M_TOP_PAD: Final = -2
M_MMAP_THRESHOLD: Final = -3
M_ARENA_MAX: Final = -8

_PARAMS: Final = {
    # field: (mallopt number, the environment variable that sets it, its tunable name)
    "mmap_threshold": (M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    "trim_threshold": (M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
    "top_pad": (M_TOP_PAD, "MALLOC_TOP_PAD_", "glibc.malloc.top_pad"),
    "arena_max": (M_ARENA_MAX, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
}


class MallocPolicy(msgspec.Struct, frozen=True):
    """glibc mallopt settings; None leaves glibc's default (and its dynamic behaviour)."""

    mmap_threshold: int | None = None
    """Bytes from which a request is mmapped (and unmapped at free); fixed, it no longer rises."""
    trim_threshold: int | None = None
    """Free bytes at the heap's top from which free() gives memory back."""
    top_pad: int | None = None
    """Extra bytes asked of the system whenever the heap grows."""
    arena_max: int | None = None
    """Most malloc arenas (the main one included) the process's threads share."""


DASHBOARD_POLICY: Final = MallocPolicy(mmap_threshold=256 * 1024, trim_threshold=1024 * 1024,
                                      arena_max=1)
"""What the dashboard applies at start: buffers of 256 KiB and more (page bodies, the
read's id sets, big lists) are mmapped and given back whole when freed; the heap's top
is given back past 1 MiB free; the worker threads share the main arena (they hold the
GIL while they allocate, so there is little to contend for; their own arena cost 8-10 MB
steady)."""


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """The process's C library if it is glibc (it has ``gnu_get_libc_version``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        libc.mallopt  # noqa: B018
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    return libc


def _set_by_operator(env: str, tunable: str) -> bool:
    return env in os.environ or tunable in os.environ.get("GLIBC_TUNABLES", "")


def apply_policy(policy: MallocPolicy = DASHBOARD_POLICY) -> dict[str, bool]:
    """Apply ``policy`` with ``mallopt``; returns, for each setting applied, whether
    mallopt accepted it. Empty when the C library is not glibc. Call it at start, before
    the worker threads exist (an arena cap binds only arenas not yet made)."""
    libc = glibc()
    if libc is None:
        return {}
    applied: dict[str, bool] = {}
    for name, (param, env, tunable) in _PARAMS.items():
        value = getattr(policy, name)
        if value is None or _set_by_operator(env, tunable):
            continue
        applied[name] = libc.mallopt(param, int(value)) == 1
    log.debug("malloc policy applied: %s", applied)
    return applied


def trim() -> bool:
    """``malloc_trim(0)``: free pages of every arena go back to the system; True if any
    did. Blocks while it walks the heap, holding the arena's lock (a malloc on the loop
    waits for it meanwhile): call it off the loop, after big reads only. With the policy
    the heap is small and a trim takes a few ms (tens of ms with glibc's defaults)."""
    libc = glibc()
    if libc is None:
        return False
    started = time.perf_counter()
    released = bool(libc.malloc_trim(0))
    log.debug("malloc_trim: %.1f ms, released=%s", (time.perf_counter() - started) * 1e3,
              released)
    return released


async def trim_off_loop() -> bool:
    """``trim`` in a worker thread (ctypes lets go of the GIL: the loop keeps running)."""
    import asyncio  # here: the policy is applied before the UI's imports, asyncio among them

    if glibc() is None:
        return False
    return await asyncio.to_thread(trim)
