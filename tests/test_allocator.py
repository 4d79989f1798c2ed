"""``resync_tui.allocator``: on this glibc the policy takes effect (a buffer over the fixed
mmap threshold goes back to the system when freed, even after a bigger one raised
glibc's dynamic threshold), a trim gives freed heap pages back, off the event loop; on a
C library that is not glibc both do nothing."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import subprocess
import sys
import threading

import psutil
import pytest

from resync_tui import allocator
from resync_tui.allocator import MallocPolicy, apply_policy, trim, trim_off_loop


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def test_this_is_glibc() -> None:
    """The rest of this file is about glibc: the CI image has it."""
    assert allocator.glibc() is not None


_THRESHOLD_PROBE = """
import ctypes, json, sys
from resync_tui.allocator import MallocPolicy, apply_policy

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

info = ctypes.CDLL(None).mallinfo2
info.restype = Info

def mmapped_when_alive(size):
    before = info().hblkhd
    buffer = ctypes.create_string_buffer(size)
    return info().hblkhd - before >= size

big = ctypes.create_string_buffer(4 * 2**20)  # mmapped; freed, it raises the threshold
del big
out = {"default": mmapped_when_alive(2**20)}
out["applied"] = apply_policy(MallocPolicy(mmap_threshold=256 * 1024))
out["policy"] = mmapped_when_alive(3 * 2**20)  # more than the heap has free
print(json.dumps(out))
"""


def test_after_the_policy_a_freed_buffer_over_the_threshold_is_given_back() -> None:
    """In a fresh process: glibc's default raises its mmap threshold once a 4 MiB buffer
    is freed, so the next 1 MiB buffer comes from the heap (where, freed, it stays);
    with the policy's fixed threshold a 3 MiB one is mmapped (freed, it leaves the
    process) instead of growing the heap."""
    done = subprocess.run([sys.executable, "-c", _THRESHOLD_PROBE], capture_output=True,
                          text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == {"default": False,
                                       "applied": {"mmap_threshold": True}, "policy": True}


def test_the_dashboard_applies_the_policy_where_it_starts() -> None:
    """``cli._import_dashboard`` (the dashboard's start, before the UI's imports) leaves
    the process with the fixed threshold: a buffer past it is mmapped."""
    probe = _THRESHOLD_PROBE.replace(
        'out["applied"] = apply_policy(MallocPolicy(mmap_threshold=256 * 1024))',
        'from resync_tui.cli import _import_dashboard\n_import_dashboard()\n'
        'out["applied"] = "by cli"')
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    assert json.loads(done.stdout) == {"default": False, "applied": "by cli", "policy": True}


def test_the_poller_applies_the_policy_where_it_starts() -> None:
    """``resync-tui poller`` reads the whole plan every poll for days, as the dashboard
    does: its start leaves the process with the fixed threshold too (its loop stubbed)."""
    probe = _THRESHOLD_PROBE.replace(
        'out["applied"] = apply_policy(MallocPolicy(mmap_threshold=256 * 1024))',
        'import argparse\nimport resync_tui.poller\n'
        'async def _idle(settings, metrics_port=None): return 0\n'
        'resync_tui.poller.run_poller = _idle\n'
        'from resync_tui.cli import _poller_command\n'
        'from resync_tui.settings import Settings\n'
        '_poller_command(Settings(), argparse.Namespace(poller_metrics_port=None))\n'
        'out["applied"] = "by poller"')
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True, env={**os.environ, "RESYNC_CONFIG": ""})
    assert json.loads(done.stdout) == {"default": False, "applied": "by poller",
                                       "policy": True}


def test_the_dashboards_policy_is_accepted_by_this_glibc() -> None:
    assert apply_policy() == {"mmap_threshold": True, "trim_threshold": True,
                              "arena_max": True}


def test_a_setting_the_operator_made_in_the_environment_is_left_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")
    applied = apply_policy(MallocPolicy(mmap_threshold=256 * 1024, trim_threshold=2**20,
                                        arena_max=2))
    assert applied == {"trim_threshold": True}


def test_a_trim_gives_freed_heap_pages_back() -> None:
    # ~100 MB of 1 KB buffers (malloc's heap, not pymalloc), one kept after them so the
    # freed space is not at the heap's top, where free() alone would give it back.
    chunks = [ctypes.create_string_buffer(1000) for _ in range(100_000)]
    pin = ctypes.create_string_buffer(1000)
    del chunks
    before = _rss()
    assert trim() is True
    assert _rss() < before - 50 * 2**20
    del pin


async def test_the_trim_runs_in_a_worker_thread_not_on_the_event_loop(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="resync_tui.allocator"):
        await trim_off_loop()
    (record,) = [r for r in caplog.records if r.getMessage().startswith("malloc_trim")]
    assert record.thread != threading.get_ident()


async def test_elsewhere_than_glibc_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    allocator.glibc.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert allocator.glibc() is None
        assert apply_policy() == {}
        assert trim() is False
        assert await trim_off_loop() is False
    finally:
        monkeypatch.undo()
        allocator.glibc.cache_clear()
    assert allocator.glibc() is not None
