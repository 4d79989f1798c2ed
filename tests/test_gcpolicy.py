"""``freeze_long_lived``: what is alive when it runs is no longer rescanned by the
collector (a full collection at 200k jobs paused the dashboard 85-145 ms), while new
cyclic garbage is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path

from resync_tui.cli import main
from resync_tui.gcpolicy import (
    collections_paused,
    freeze_long_lived,
    hold_collections,
    release_collections,
)


def _collections_seen() -> tuple[list[int], Callable[[str, dict[str, int]], None]]:
    """A ``gc.callbacks`` entry and the generations of the collections it saw start."""
    runs: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    return runs, record


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
    runs, record = _collections_seen()
    gc.callbacks.append(record)
    try:
        freeze_long_lived(collect=False)
        assert runs == []
        freeze_long_lived()
        assert runs == [1]
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()


def test_the_collector_held_for_a_start_comes_back_once_and_frozen() -> None:
    """``hold_collections`` at a dashboard's start, ``release_collections`` after its first
    frame: what the start built is frozen out of reach, new garbage collected again."""
    kept = [[i] for i in range(100)]
    try:
        hold_collections()
        assert not gc.isenabled()
        release_collections()
        assert gc.isenabled()
        tracked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(obj) in tracked for obj in kept)
        gc.disable()  # someone else's choice: a later release does not undo it
        release_collections()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_collector_already_off_is_left_off() -> None:
    gc.disable()
    try:
        hold_collections()
        release_collections()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_dashboard_refused_before_it_starts_leaves_the_collector_on(tmp_path: Path) -> None:
    """``resync-tui`` holds the collector from its first line; a settings file it refuses
    ends it before any frame, and the collector is on again."""
    bad = tmp_path / "settings.toml"
    bad.write_text("[hwa]\nurl = 42\n", encoding="utf-8")
    try:
        assert main(["--config", str(bad)]) == 2
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_no_collection_while_a_build_grows_its_containers_and_they_end_frozen() -> None:
    """``collections_paused`` around a first read's build: a build that allocates nothing
    tracked never triggers a collection itself, so without it the loop's allocations
    started young collections that walked the build's 200k-item lists (25-28 ms)."""
    runs, record = _collections_seen()
    gc.callbacks.append(record)
    try:
        with collections_paused():
            grown = [[i] for i in range(5_000)]  # far past generation 0's threshold
            assert not gc.isenabled()
        assert runs == []  # neither during the block nor at its end
        assert gc.isenabled()
        tracked = {id(obj) for obj in gc.get_objects()}
        assert id(grown) not in tracked  # what the build made: out of every collection's reach
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None
    finally:
        gc.callbacks.remove(record)
        gc.enable()
        gc.unfreeze()


def test_a_build_that_fails_gives_the_collector_back_and_one_already_off_stays_off() -> None:
    try:
        try:
            with collections_paused():
                raise RuntimeError("cancelled")
        except RuntimeError:
            pass
        assert gc.isenabled()
        gc.disable()  # the start's hold, or another build's
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
