"""When the cyclic garbage collector may pause the dashboard, and what it rescans.

A full (generation 2) collection visits every tracked object and each item of every
tracked container: in a dashboard holding a 200k-job plan that is ~50k objects (the
UI's widgets, Textual's and Rich's caches) plus ~750k container items (the jobs view's
sorted blocks of rows and of keys), 85-90 ms on the event loop, longer under load; the
rows themselves (msgspec ``gc=False`` Structs) are not tracked.

``freeze_long_lived`` moves what is alive now into the permanent generation
(``gc.freeze``), which no collection scans again. ``resync-tui demo`` already does it once
the UI is imported; the plain dashboard should too (at start, where ``cli.py`` starts
it), and once more when the first read of the plan has been applied: what exists then
(widgets, the view's blocks) lives as long as the process. Objects frozen are still
freed by reference counting; only a cycle among them that dies later is kept, so this
is done twice, not after every collection (a NOC screen runs for days).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator

__all__ = ["collections_paused", "freeze_long_lived", "hold_collections",
           "release_collections"]

log = logging.getLogger(__name__)

_held = False
"""``hold_collections`` turned the collector off and nothing has turned it back on yet."""


def freeze_long_lived(*, collect: bool = True) -> None:
    """Freeze every object alive now out of the collector's reach. Idempotent enough to
    call at start and after the first read; O(1) (``gc.get_freeze_count`` walks every
    frozen object: 10 ms at 200k jobs, so it is only counted for a debug log).

    ``collect``: a young collection first (a few ms at start), so the cyclic garbage of
    the moment is not kept. Right after a 200k-job first read the young generations
    hold the new plan's containers (the view's dict and blocks, the read's row list):
    that collection would visit ~1M items, 35-65 ms on the loop, to find a few cycles.
    There ``collect=False`` freezes them as they are: what dies by reference count is
    still freed, only cyclic garbage of that instant is kept (once: a bounded cost)."""
    if collect:
        gc.collect(1)
    gc.freeze()
    if log.isEnabledFor(logging.DEBUG):
        log.debug("garbage collector: %d objects frozen", gc.get_freeze_count())


def hold_collections() -> None:
    """No collection from here to the dashboard's first frame (``release_collections``).

    Until then the process only builds what it keeps: the imports' modules and classes,
    the settings, the first read's rows, the mounted widgets. The collector would walk
    them ~130 times to free almost nothing (~20 ms of the ~0.65 s of CPU a ``demo``
    takes to its first frame). Does nothing if the collector is already off (someone
    else owns that choice)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collections() -> None:
    """The collector back on, what lives now frozen out of its reach first (so the
    first collections do not rescan the start's objects); only undoes what
    ``hold_collections`` did, and only once. Called after the first frame, and when the
    command ends whatever happened (an app that stopped before drawing)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No collection while the block runs; at its end what lives is frozen (O(1)) and the
    collector is back on. For a first read's build in a worker thread (``BulkLoad``):
    it allocates nothing the collector tracks (the rows and entries are ``gc=False``), so
    its containers (the ids, their set, the entries to sort, the sort's chunks: 200k
    items each) stay young while they grow, and a young collection that the loop's own
    allocations started walked them all, 25-28 ms with the GIL at 200k jobs. What the
    build made lives as long as the plan, which is frozen after its first read anyway.
    Does nothing if the collector is off already (the start's hold, another build)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        freeze_long_lived(collect=False)
        gc.enable()
