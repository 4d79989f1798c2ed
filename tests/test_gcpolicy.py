"""``freeze_long_lived``: what is alive when it runs is no longer rescanned by the
collector (a full collection at 200k jobs paused the dashboard 85-145 ms), while new
cyclic garbage is still collected."""

from __future__ import annotations

import gc
import weakref

from resync_tui.gcpolicy import freeze_long_lived


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_objects_alive_then_are_out_of_the_collectors_reach_and_new_garbage_still_goes() -> None:
    kept = [[i] for i in range(100)]
    try:
        freeze_long_lived()
        assert gc.get_freeze_count() >= len(kept)
        tracked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(obj) in tracked for obj in kept)  # no collection scans them
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None  # a cycle made after the freeze is collected as before
    finally:
        gc.unfreeze()


def test_freezing_right_after_a_big_read_runs_no_collection() -> None:
    """``collect=False`` (after the first read of a plan) freezes without visiting the
    young generations, which then hold the whole new plan's containers; the default
    collects them first, so the garbage of the moment is not kept."""
    runs: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(record)
    try:
        freeze_long_lived(collect=False)
        assert runs == []
        freeze_long_lived()
        assert runs == [1]
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()
