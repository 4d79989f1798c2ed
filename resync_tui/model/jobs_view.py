"""The job-status state behind the jobs pane, built for plans of 100k-300k jobs.

Pure Python (no Textual), so the feed can own it and tests can drive it directly.

Public API (stable; the app and ``resync_tui.ui.widgets.jobs_table`` use it):

- ``JobRow`` (``model/job_row.py``): one job of the plan, immutable.
- ``ChangeSet``: what one update did (``added``, ``changed``, ``removed`` job ids) and
  whether the visible order may have moved (``order_changed``).
- ``JobsView(rows=(), *, policy=AttentionPolicy(), clock=None)``:
    - ``apply(rows, now=None) -> ChangeSet``: replace the whole plan, diffing in O(n).
    - ``diff(rows) -> (changed_rows, removed_ids)``: read-only, for a worker thread.
    - ``apply_changes(changed, removed_ids=(), now=None) -> ChangeSet``: incremental update
      on the event loop; cost follows the number of changes (~20 ms for 2,000 of 200k).
    - ``refresh_clock(now=None) -> ChangeSet``: re-rank jobs that became late (long-running
      EXEC, HOLD past its scheduled time) without new data.
    - ``bulk_load(rows, now=None) -> BulkLoad`` (an empty view only), then
      ``load.build()`` in a worker thread, then ``adopt(load) -> ChangeSet | None`` on the
      loop: the first read of a plan built off the loop and installed in O(1) (None: the
      view was written meanwhile, use ``apply_changes``). ``feeds/jobs.py:load_plan``.
      The build also takes the "new since you last looked" baseline of the plan
      (``model/new_since.py``), which ``bulk_baseline() -> Baseline | None`` gives until
      the next write: the job table's first update then walks no row on the loop.
    - ``counts`` (status -> count, kept incrementally), ``version`` (bumped on each change).
    - the current view: ``len(view)``, ``view.row_at(i)``, ``view.rows_in(start, stop)``,
      ``view.position_of(job_id)``, ``view.get(job_id)``, ``view.total``.
    - ``set_filter(text)``, ``set_status_filter(statuses | None)``,
      ``set_attention_filter(on)``, ``set_sort(column | None, descending=False)``
      (``None`` = attention order), ``next_failure(after_index)``, ``is_late(row)``;
      each setter returns True if the view changed.
- ``job_row_from_model(job) -> JobRow``: mapping from the HWA model ``JobInPlan``.

Why it is fast: each row keeps a cached sort key (one string) in a small mutable entry,
and a lowercase haystack while a text filter is active (built for every row at its first
keystroke, dropped when it is cleared: ~94 B a job that nothing else reads). The order is
a blocked sorted list of those entries, so a text filter is one comprehension of ``in``
tests and a refresh touching 1% of rows moves only those entries (C-level bisection on
key strings), never re-sorting 200k.
"""

from __future__ import annotations

import heapq
import operator
import time
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from itertools import accumulate, chain, compress, islice, repeat
from typing import Any, Final, Literal, TypeVar

import msgspec

from resync_tui.model.attention import (
    RANK_CRITICAL_LATE,
    RANK_LATE_EXEC,
    RANK_LATE_HOLD,
    AttentionPolicy,
    attention_rank,
    late_and_rank,
    late_at,
    rank_floor,
    status_rank,
)
from resync_tui.model.critical import due_at
from resync_tui.model.job_row import JobRow, RowMapper, aware, job_row_from_model
from resync_tui.model.new_since import Baseline, BaselineBuilder
from resync_tui.model.query import Query, Term, haystack, parse_query
from resync_tui.model.status import FAILED_STATUSES, KNOWN_STATUSES, group

__all__ = [
    "SORT_COLUMNS",
    "AttentionPolicy",
    "BulkLoad",
    "ChangeSet",
    "FirstReadTally",
    "JobRow",
    "JobsView",
    "PlanDiff",
    "SortColumn",
    "attention_rank",
    "job_row_from_model",
    "paced",
    "parse_sort",
]


SortColumn = Literal[
    "stream", "job", "workstation", "folder", "status", "info", "started", "ended", "duration"
]
SORT_COLUMNS: Final[tuple[SortColumn, ...]] = (
    "stream", "job", "workstation", "folder", "status", "info", "started", "ended", "duration"
)


def _column_key(row: JobRow, column: SortColumn) -> str:
    """A sort key for one column as a string; missing values sort last in ascending order.

    Keys are single strings, not tuples, because one ``memcmp`` per comparison makes the
    bisections of an update about twice as fast on a 200k-job plan.
    """
    if column in ("stream", "job", "workstation", "folder", "status"):
        return str(getattr(row, column)).lower()
    if column == "info":
        if row.return_code is not None:
            return f"0{row.return_code + 2**31:011d}{row.substatus}"
        return f"1{row.substatus}"
    if column == "duration":
        if row.duration is None:
            return "1"
        return f"0{max(row.duration, 0.0):020.3f}"
    value = aware(row.started if column == "started" else row.ended)
    return "1" if value is None else "0" + value.astimezone(UTC).isoformat()


_RANKS: Final = 100
_RANK_PREFIX: Final = tuple(f"{rank:02d}\x00" for rank in range(_RANKS))
"""The key's rank part, formatted once: a first read keys 200k rows."""


def _sort_key(row: JobRow, rank: int, column: SortColumn | None) -> str:
    """The entry's cached sort key: the column's key (if sorted by one), then the rank,
    stream, job and job id. ``\x00`` separates the parts, so "AB" sorts after "A" as with
    tuples; the job id at the end makes every key unique."""
    prefix = _RANK_PREFIX[rank] if 0 <= rank < _RANKS else f"{rank:02d}\x00"
    base = f"{prefix}{row.stream}\x00{row.job}\x00{row.job_id}"
    if column is None:
        return base
    return f"{_column_key(row, column)}\x00{base}"


class _Entry(msgspec.Struct, gc=False, eq=False):
    """Mutable holder of one row and what is derived from it (key, haystack, rank).

    Four fields, 48 bytes: the instant a row becomes late is not kept (it is cheap to
    derive from the row, and a fifth field would make each entry a 64-byte block).

    ``gc=False``: 200k of these hold only strings, ints, datetimes and an untracked
    JobRow, so they can never form a cycle; keeping them out of the cycle collector
    spares the event loop an ~80 ms full collection after a big plan is loaded.
    """

    row: JobRow
    hay: str
    """Lowercase haystack (``model/query.py``) while the view has a text query, else ""
    (a real one is never empty: it holds separators)."""
    rank: int
    key: str


_haystack = haystack  # \x00 between fields: a search never matches across two of them


_ENTRY_KEY = operator.attrgetter("key")
_ENTRY_ROW = operator.attrgetter("row")


class ChangeSet(msgspec.Struct, frozen=True):
    """What one update did; empty when nothing changed. Read-only for whoever gets it: a
    bulk load's ``added`` is a list it built a part at a time off the loop (a tuple of 200k
    ids is one C call holding the GIL), its ``changed_ids`` a ``_LoadedIds`` over it."""

    added: Sequence[str] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    order_changed: bool = False
    """True when positions in the current view may have moved (rows added, removed,
    re-ranked or re-filtered)."""
    version: int = 0
    changed_ids: AbstractSet[str] = frozenset()
    """All ids touched (added, changed or removed), for cheap membership tests."""

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.order_changed)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Every field but ``changed_ids``: the ids of the three tuples again, up to 200k
        of them, which a debug log of a ChangeSet must not dump."""
        return [(name, getattr(self, name)) for name in self.__struct_fields__
                if name != "changed_ids"]

    def __repr__(self) -> str:
        """The generated repr, without ``changed_ids`` (see ``__rich_repr__``)."""
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__qualname__}({shown})"


class _LoadedIds(AbstractSet[str]):
    """The ids a bulk load added, i.e. the whole plan it installed: iterated from its list,
    looked up in the view's index while nothing has written to the view since (the same
    ids), else in a set made once. A set of them built in the load took 8 MB and, as it
    grew, rehashed ~130k ids into fresh pages in one call (30 ms holding the GIL)."""

    __slots__ = ("_ids", "_index", "_set", "_view", "_writes")

    def __init__(self, ids: Sequence[str], view: JobsView) -> None:
        self._ids = ids
        self._view = view
        self._index = view._entries
        self._writes = view._writes
        self._set: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __contains__(self, job_id: object) -> bool:
        held = self._set
        if held is None:
            view = self._view
            if view._writes == self._writes and view._entries is self._index:
                return job_id in self._index
            held = self._set = frozenset(self._ids)  # the view moved on: once
        return job_id in held


class _SortedEntries:
    """Entries sorted by ``entry.key`` in blocks of ~1000 (the layout of sortedcontainers).

    Adding or removing one entry costs two C-level bisections and a small memmove,
    whatever the size: a refresh touching k of n rows costs O(k log n), not O(n).
    Each block keeps a parallel list of keys so that bisection never calls Python code.
    """

    __slots__ = ("_blocks", "_keys", "_len", "_maxes", "_starts")

    _LOAD: Final = 1000

    def __init__(self, ordered: list[_Entry] | None = None) -> None:
        """``ordered`` must already be sorted by key."""
        self._blocks: list[list[_Entry]] = []
        self._keys: list[list[str]] = []
        self._maxes: list[str] = []
        self._starts: list[int] | None = None
        self._len = 0
        if ordered:
            load = self._LOAD
            for start in range(0, len(ordered), load):
                block = ordered[start : start + load]
                keys = list(map(_ENTRY_KEY, block))  # C-level: 200k keys in ~5 ms
                self._blocks.append(block)
                self._keys.append(keys)
                self._maxes.append(keys[-1])
            self._len = len(ordered)

    @classmethod
    def from_blocks(cls, blocks: list[list[_Entry]]) -> _SortedEntries:
        """Adopt blocks already sorted by key, in order, none empty or over ``2 * _LOAD``
        (``_sorted_blocks``): one small C call a block, never one over the whole plan."""
        made = cls()
        for block in blocks:
            keys = list(map(_ENTRY_KEY, block))
            made._blocks.append(block)
            made._keys.append(keys)
            made._maxes.append(keys[-1])
            made._len += len(block)
        return made

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[_Entry]:
        return chain.from_iterable(self._blocks)

    def _offsets(self) -> list[int]:
        starts = self._starts
        if starts is None:
            starts = list(accumulate((len(block) for block in self._blocks), initial=0))
            self._starts = starts
        return starts

    def at(self, index: int) -> _Entry:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        starts = self._offsets()
        block = bisect_right(starts, index) - 1
        return self._blocks[block][index - starts[block]]

    def slice(self, start: int, stop: int) -> list[_Entry]:
        """Entries at positions ``[start, stop)`` (already clipped by the caller)."""
        if start >= stop:
            return []
        starts = self._offsets()
        block = bisect_right(starts, start) - 1
        offset = start - starts[block]
        out: list[_Entry] = []
        wanted = stop - start
        blocks = self._blocks
        while wanted > 0 and block < len(blocks):
            part = blocks[block][offset : offset + wanted]
            out += part
            wanted -= len(part)
            block += 1
            offset = 0
        return out

    def _locate(self, entry: _Entry, key: str) -> tuple[int, int] | None:
        block = bisect_left(self._maxes, key)
        if block == len(self._maxes):
            return None
        position = bisect_left(self._keys[block], key)
        entries = self._blocks[block]
        if position < len(entries) and entries[position] is entry:
            return block, position
        return None

    def index(self, entry: _Entry) -> int | None:
        found = self._locate(entry, entry.key)
        if found is None:
            return None
        block, position = found
        return self._offsets()[block] + position

    def remove(self, entry: _Entry, key: str) -> bool:
        """Remove ``entry`` stored under ``key``; False if it is not here."""
        found = self._locate(entry, key)
        if found is None:
            return False
        block, position = found
        keys = self._keys[block]
        del self._blocks[block][position]
        del keys[position]
        if keys:
            self._maxes[block] = keys[-1]
        else:
            del self._blocks[block], self._keys[block], self._maxes[block]
        self._len -= 1
        self._starts = None
        return True

    def add(self, entry: _Entry) -> None:
        key = entry.key
        maxes = self._maxes
        if not maxes:
            self._blocks.append([entry])
            self._keys.append([key])
            maxes.append(key)
        else:
            block = bisect_left(maxes, key)
            if block == len(maxes):
                block -= 1
                maxes[block] = key
            keys = self._keys[block]
            position = bisect_left(keys, key)
            keys.insert(position, key)
            entries = self._blocks[block]
            entries.insert(position, entry)
            if len(entries) > 2 * self._LOAD:
                half = len(entries) // 2
                self._blocks[block : block + 1] = [entries[:half], entries[half:]]
                self._keys[block : block + 1] = [keys[:half], keys[half:]]
                maxes[block : block + 1] = [keys[half - 1], keys[-1]]
        self._len += 1
        self._starts = None


_T = TypeVar("_T")

_BULK_CHUNK: Final = 2000
"""Items a worker thread sorts or copies in one C call during a bulk load: a C call
holds the GIL throughout (the loop cannot run), and 2,000 items take well under 1 ms."""
_SAMPLE_EVERY: Final = 20
"""One key in this many is a sample from which ``_sorted_blocks`` picks its splitters."""


_PAUSE_EVERY: Final = 2
"""Steps of ``_BULK_CHUNK`` items between two ``_pause`` calls in a loop of them."""
_ROWS_PER_PAUSE: Final = 1000
"""Rows the build turns into entries between two pauses (~2-3 ms of Python)."""


def _pause(step: int = _PAUSE_EVERY - 1) -> None:
    """Let go of the GIL for a moment (``time.sleep(0)`` releases it) every
    ``_PAUSE_EVERY`` steps: the event loop, if waiting for it, runs at once instead of
    after the 5 ms switch interval. Not at every step: on a busy machine each sleep(0)
    also yields the CPU to other processes (~0.4 ms at a load of 5)."""
    if step % _PAUSE_EVERY == _PAUSE_EVERY - 1:
        time.sleep(0)


def paced(items: Sequence[_T], every: int = _ROWS_PER_PAUSE) -> Iterator[_T]:
    """``items`` one by one, for a worker thread's loop over them, letting go of the GIL
    (``time.sleep(0)``) every ``every`` items. A thread looping over 200k rows in pure
    Python otherwise keeps the GIL for the whole 5 ms switch interval each time it has
    it, and the event loop waits that long after each of its system calls: a 200k-job
    stream count in a thread stalled the loop 17-41 ms; paced, 9-20 ms. Never on the
    loop itself (the pauses would be its own)."""
    for start in range(0, len(items), every):
        yield from items[start : start + every]
        time.sleep(0)


def _sorted_blocks(items: list[_T], key: Callable[[_T], object] | None,
                   load: int = 1000) -> list[list[_T]]:
    """``sorted(items, key=key)`` cut in blocks of about ``load`` (none empty, none over
    ``2 * load``), for a worker thread, without a C call over more than a few thousand
    items: one ``list.sort`` of 200k entries holds the GIL for 150-300 ms, stalling the
    event loop as long.

    A sample sort: chunks of ``_BULK_CHUNK`` are sorted, splitters picked from a sample
    of their keys, every sorted chunk cut at the splitters by bisection (C-level, a few
    calls a chunk), and each bucket (the pieces of every chunk between two splitters,
    about ``load`` items) sorted on its own: timsort merges its already sorted runs.
    """
    size = len(items)
    if size <= 2 * load:
        return [sorted(items, key=key)] if items else []  # type: ignore[type-var, arg-type]
    chunks: list[list[_T]] = []
    chunk_keys: list[list[object]] = []
    sample: list[object] = []
    for step, start in enumerate(range(0, size, _BULK_CHUNK)):
        chunk = items[start : start + _BULK_CHUNK]
        chunk.sort(key=key)  # type: ignore[arg-type]
        keys: list[object] = list(map(key, chunk)) if key is not None else list(chunk)
        chunks.append(chunk)
        chunk_keys.append(keys)
        sample += keys[_SAMPLE_EVERY // 2 :: _SAMPLE_EVERY]
        _pause(step)
    sample.sort()
    per_bucket = max(load // _SAMPLE_EVERY, 1)
    splitters = sample[per_bucket::per_bucket]
    buckets: list[list[_T]] = [[] for _ in range(len(splitters) + 1)]
    for step, (chunk, keys) in enumerate(zip(chunks, chunk_keys, strict=True)):
        start = 0
        for bucket, splitter in zip(buckets, splitters, strict=False):
            stop = bisect_left(keys, splitter)  # type: ignore[call-overload]
            bucket += chunk[start:stop]
            start = stop
        buckets[-1] += chunk[start:]
        _pause(step)
    del chunks, chunk_keys
    blocks: list[list[_T]] = []
    for step, bucket in enumerate(buckets):
        if not bucket:
            continue
        bucket.sort(key=key)  # type: ignore[arg-type]
        if len(bucket) > 2 * load:
            blocks += [bucket[at : at + load] for at in range(0, len(bucket), load)]
        else:
            blocks.append(bucket)
        _pause(step)
    return blocks


_ROW_STATUS: Final = operator.attrgetter("status")
_ROW_ID: Final = operator.attrgetter("job_id")


class BulkLoad:
    """A whole plan put into an empty view with the work off the event loop.

    ``JobsView.bulk_load`` snapshots on the loop what the build reads (the policy, the
    sort column, the filters, the clock); ``build`` runs in a worker thread: it is pure
    (rows are immutable, it writes only to this object) and cuts its work so that no
    C call holds the GIL for long; ``JobsView.adopt`` installs the result on the loop in
    O(1). A sort or filter changed meanwhile is redone on the loop (what the setter
    would have cost); a view written meanwhile is not touched (``adopt`` returns None:
    apply the rows the incremental way).
    """

    __slots__ = ("_cancelled", "_column", "_filter", "_hays", "_policy", "_query",
                 "_writes", "base", "baseline", "counts", "done", "entries", "ids",
                 "late_heap", "now", "order", "rows", "visible")

    def __init__(self, view: JobsView, rows: Sequence[JobRow], now: datetime) -> None:
        self.rows = rows
        self.now = now
        self._policy = view._policy
        self._column = view._sort_column
        self._hays = view._hays
        self._query = view._query
        self._filter = view._filter_state()
        self._writes = view._writes
        self._cancelled = False
        self.done = False
        self.entries: dict[str, _Entry] = {}
        self.counts: dict[str, int] = {}
        self.late_heap: list[tuple[datetime, str]] = []
        self.order = _SortedEntries()
        self.visible: _SortedEntries | None = None
        self.base: tuple[object, list[_Entry]] | None = None
        self.ids: Sequence[str] = ()
        self.baseline: Baseline | None = None
        """What needs a look in the plan at ``now`` (``model/new_since.py``): built here,
        off the loop, so the job table's first update does not walk 200k rows."""

    def cancel(self) -> None:
        """Stop a running ``build`` at its next pause (the poll that wanted it is gone)."""
        self._cancelled = True

    def _stopped(self) -> bool:
        return self._cancelled

    def build(self) -> None:
        """Entries, counts, late watch and order for ``rows`` (a worker thread may run
        it). A job id given twice keeps its last row, as ``apply_changes`` does."""
        policy, now, column = self._policy, self.now, self._column
        baseline = BaselineBuilder(now)
        given_twice = False
        hays = self._hays
        entries = self.entries
        tally: Counter[str] = Counter()
        watch: list[tuple[datetime, str]] = []
        prefixes = _RANK_PREFIX
        rows = self.rows
        # What the load hands on (the ids, the entries to sort) is built a part at a time:
        # a single call making one of them from 200k ids or entries touches every object
        # once, scattered over the plan's heap (~one cache miss each), and held the GIL,
        # so the loop, 20-60 ms inside the app (``frozenset(ids)`` alone). No set of the
        # ids either: growing, it rehashed ~130k of them into fresh pages in one call
        # (30 ms); the view's index answers for them (``_LoadedIds``).
        ids: list[str] = []
        order_list: list[_Entry] = []
        keep = order_list.append
        for start in range(0, len(rows), _ROWS_PER_PAUSE):
            if self._stopped():
                return
            part = rows[start : start + _ROWS_PER_PAUSE]
            tally.update(map(_ROW_STATUS, part))  # C-level, 1,000 at a time
            held = len(entries)
            for row in part:
                job_id = row.job_id
                late, rank = late_and_rank(row, policy, now)
                if late is not None and late >= now:
                    watch.append((late, job_id))
                key = (f"{prefixes[rank]}{row.stream}\x00{row.job}\x00{job_id}"
                       if column is None and 0 <= rank < _RANKS
                       else _sort_key(row, rank, column))
                # A job given twice: the last row wins, in the first one's place.
                entry = entries[job_id] = _Entry(row, _haystack(row) if hays else "", rank, key)
                keep(entry)
            if len(entries) - held != len(part):
                given_twice = True
            if not given_twice:
                baseline.add(part)
                ids += map(_ROW_ID, part)
            _pause()
        if given_twice:  # counted once each, as the rows that won
            tally = Counter(map(_ROW_STATUS, map(_ENTRY_ROW, entries.values())))
        self.counts = {status: count for status, count in tally.items() if count}
        if self._stopped():
            return
        if given_twice:  # rare: the baseline, ids and order are taken from the rows that won
            baseline = BaselineBuilder(now)
            ids, order_list = [], []
            winners = iter(entries.values())
            while won := list(islice(winners, _ROWS_PER_PAUSE)):
                part = list(map(_ENTRY_ROW, won))
                baseline.add(part)
                ids += map(_ROW_ID, part)
                order_list += won
                _pause()
        self.baseline = baseline.result()
        # A sorted list is a heap: the late watch is sorted the same cut-up way.
        self.late_heap = list(chain.from_iterable(_sorted_blocks(watch, None)))
        del watch
        _pause()
        self.order = _SortedEntries.from_blocks(
            _sorted_blocks(order_list, _ENTRY_KEY, _SortedEntries._LOAD))
        del order_list
        if self._stopped():
            return
        query, statuses, negate, attention = self._query, *self._filter[1:]
        if query or statuses is not None or attention:
            key_of_base = _base_key(query, statuses, negate, attention)
            kept = _narrow(list(self.order), statuses, negate, attention, query.terms[:-1])
            self.base = (key_of_base, kept)
            self.visible = _SortedEntries(JobsView._apply_terms(kept, query.terms[-1:]))
        self.ids = ids
        self.done = True


_PREVIEW_MAX_LOOKS: Final = 20_000
"""A preview ranks at most this many candidate rows (a few ms); a plan whose top rows
need more (thousands of jobs at the same urgent rank) gets no preview."""
_PREVIEW_MAX_SHARE: Final = 10
"""Nor more than a tenth of the plan: a 20k plan with few failed jobs reached down to its
waiting ones (17k rows ranked, 84 ms, about the whole build's cost, for nothing)."""

_PREVIEW_ENOUGH: Final = 100
"""Rows that fill the table of any terminal (200x60 shows ~50): a preview of at least
this many of the order's first rows, found in the read's tally alone, is not worth a
pass over the plan for the rest of ``limit``."""

_TOP_RANK: Final = 1
"""Statuses ranked at most this (failed, ABENP) rank so whatever the clock says: a
``FirstReadTally`` keeps their rows as the read brings them."""
_TOP_STATUSES: Final = frozenset(
    status for status in KNOWN_STATUSES if rank_floor(status, dated=True) <= _TOP_RANK)


_NEAR_STATUSES: Final = frozenset(
    status for status in KNOWN_STATUSES
    if _TOP_RANK < rank_floor(status, dated=False) <= RANK_LATE_EXEC)
"""Statuses next below the top whatever the clock: stuck, running (late EXEC)."""


class FirstReadTally:
    """What a first read's preview needs, taken a slice at a time as the read brings its
    rows (``PlanDiff`` of an empty view): the counts per status, the rows whose rank
    cannot be beaten (failed, ABENP), those of the statuses next below (stuck, running)
    and, with the instant it turns critical late, every other row a deadline or critical
    start may lift (``dated``: (due as a timestamp, row); a stuck or running one too,
    it then ranks above its status), and whether one of these has a NUL in its names
    (``_first_by_name``). ~40 us a slice of 200 (C-level passes over rows just decoded,
    still in the cache, and one look at each row's two dates); then a plan whose top is
    among these needs no pass over its 200k rows for its preview (``most_urgent``)."""

    __slots__ = ("counts", "dated", "named_with_nul", "near", "rows", "urgent")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.urgent: list[JobRow] = []
        self.near: list[JobRow] = []
        self.dated: list[tuple[float, JobRow]] = []
        self.named_with_nul = False
        self.rows = 0

    def add(self, rows: list[JobRow]) -> None:
        statuses = list(map(_ROW_STATUS, rows))
        self.counts.update(statuses)
        top = list(map(_TOP_STATUSES.__contains__, statuses))
        self.urgent += compress(rows, top)
        self.near += compress(rows, map(_NEAR_STATUSES.__contains__, statuses))
        for row in compress(rows, map(operator.not_, top)):
            if (row.deadline is not None or row.critical_start is not None) and (
                    due := due_at(row)) is not None:
                self.dated.append((due.timestamp(), row))
                if "\x00" in row.stream or "\x00" in row.job:
                    self.named_with_nul = True
        self.rows += len(rows)


def most_urgent(rows: Sequence[JobRow], limit: int, policy: AttentionPolicy,
                now: datetime, tally: FirstReadTally | None = None
                ) -> tuple[list[JobRow], dict[str, int]] | None:
    """The first rows of the attention order of ``rows`` at ``now`` (in no particular
    order), and the plan's counts per status: ``limit`` of them, or, when finding
    ``limit`` would rank more than ``_PREVIEW_MAX_LOOKS`` rows or a tenth of the plan,
    only those whose rank no clock changes (failed, ABENP: every one of them is above
    every other row, so they are the order's first rows all the same); None when there
    is none of those either.

    Why it is cheap (~40 ms for 200k jobs, against ~0.6 s for the whole order): a row
    ranks between ``rank_floor`` and its status's rank, so counting statuses (C-level)
    gives a rank ``limit`` rows are sure to reach, and only rows whose floor is within it
    are ranked and keyed; the others are never looked at one by one. With the ``tally``
    the read took of these very rows, and at least ``limit`` rows it kept, the top is
    among those (nothing ranks above them): a few ms, no pass over ``rows``; with fewer,
    its counts say at once whether finding ``limit`` is too dear.
    """
    tallied = tally is not None and tally.rows == len(rows)
    if tally is not None and tallied and len(tally.urgent) >= limit:
        return _ranked_top(tally.urgent, limit, policy, now), dict(tally.counts)
    cap = min(_PREVIEW_MAX_LOOKS, len(rows) // _PREVIEW_MAX_SHARE)
    if tally is not None and tallied:
        counts = dict(tally.counts)
        threshold = _threshold(counts, limit)
        if threshold is not None and _wanted_rows(counts, threshold) > cap:
            return _only_urgent(tally.urgent, limit, policy, now, counts)
        if threshold is not None:
            top = _tally_top(tally, limit, policy, now, cap)
            if threshold <= RANK_LATE_EXEC:  # every row that can be among the top is here
                return (top, counts) if top is not None else _only_urgent(
                    tally.urgent, limit, policy, now, counts)
            if top is not None and len(top) >= min(limit, _PREVIEW_ENOUGH):
                return top, counts  # a screenful and more: no pass for the rest
    statuses = list(map(_ROW_STATUS, rows))  # C-level passes from here to the ranking
    counts = dict(Counter(statuses))
    threshold = _threshold(counts, limit)
    if threshold is None:  # fewer rows than asked: all of them
        return list(rows), counts
    if _wanted_rows(counts, threshold) > cap:
        urgent = compress(rows, map(_TOP_STATUSES.__contains__, statuses))
        return _only_urgent(list(urgent), limit, policy, now, counts)
    wanted = {status for status in counts if rank_floor(status, dated=False) <= threshold}
    chosen = list(map(wanted.__contains__, statuses))
    picked = list(compress(rows, chosen))
    lifted = []
    if threshold >= RANK_CRITICAL_LATE:  # a deadline or critical start may lift any row
        # ...once it has passed; then it is critical late (its status ranks it lower).
        lifted = [row for row in compress(rows, map(operator.not_, chosen))
                  if (row.deadline is not None or row.critical_start is not None)
                  and _past_due(row, now)]
    if len(picked) + len(lifted) > cap:
        del picked, lifted
        urgent = compress(rows, map(_TOP_STATUSES.__contains__, statuses))
        return _only_urgent(list(urgent), limit, policy, now, counts)
    return _ranked_top(picked, limit, policy, now, lifted), counts


def _tally_top(tally: FirstReadTally, limit: int, policy: AttentionPolicy, now: datetime,
               cap: int) -> list[JobRow] | None:
    """The first rows of the order (at most ``limit``) among those ranked RANK_LATE_EXEC
    or nearer the top now. The tally holds every row that can rank so (failed, ABENP,
    stuck, running, and the dated rows a passed due time makes critical late), so they
    are the whole order's first rows, whatever the rest of the plan holds. None when
    there are more candidates than ``cap`` to rank.

    Failed and critical late rows enough for ``limit``: no stuck or running row ranks
    among them (one past due is critical late itself), and the critical late ones are
    picked by name among themselves, their keys alike but for it (a calm 200k plan has
    ~9,000 of them: ~2 ms, against ~15 to rank and key them all)."""
    at = now.timestamp()
    lifted = [row for due, row in tally.dated if at > due]
    if len(tally.urgent) + len(lifted) >= limit:
        return _ranked_top(tally.urgent, limit, policy, now, _first_by_name(
            lifted, limit - len(tally.urgent), exact=tally.named_with_nul))
    if len(tally.urgent) + len(tally.near) + len(lifted) > cap:
        return None
    late = {id(row) for row in lifted}  # fewer than ``limit``
    keyed = []
    for row in chain(tally.urgent, tally.near):
        if id(row) in late:
            continue
        _, rank = late_and_rank(row, policy, now)
        if rank <= RANK_LATE_EXEC:
            keyed.append((_sort_key(row, rank, None), row))
    keyed += ((_sort_key(row, RANK_CRITICAL_LATE, None), row) for row in lifted)
    return [row for _, row in heapq.nsmallest(limit, keyed, key=operator.itemgetter(0))]


_NAME_ORDER = operator.attrgetter("stream", "job", "job_id")


def _first_by_name(rows: list[JobRow], count: int, *, exact: bool) -> list[JobRow]:
    """The ``count`` first of ``rows`` in the order of their keys at one rank (stream,
    job, job id: what ``_sort_key`` joins with NULs, so the tuples sort alike unless a
    name holds a NUL: ``exact``, the keys themselves then)."""
    if count <= 0:
        return []
    if len(rows) <= count:
        return rows
    if exact:
        return heapq.nsmallest(count, rows,
                               key=lambda row: _sort_key(row, RANK_CRITICAL_LATE, None))
    return heapq.nsmallest(count, rows, key=_NAME_ORDER)


def _past_due(row: JobRow, now: datetime) -> bool:
    """Past its deadline or critical start, and not done: critical late now."""
    due = due_at(row)
    return due is not None and now > due


def _threshold(counts: Mapping[str, int], limit: int) -> int | None:
    """The least rank that ``limit`` rows are sure to reach (None: fewer rows than
    ``limit`` in all)."""
    reached = 0
    for rank, count in sorted((status_rank(status), count) for status, count in counts.items()):
        reached += count
        if reached >= limit:
            return rank
    return None


def _wanted_rows(counts: Mapping[str, int], threshold: int) -> int:
    """How many rows have a status whose floor is within ``threshold`` (all of them are
    ranked to find the top; the dated rows of other statuses come on top of these)."""
    return sum(count for status, count in counts.items()
               if rank_floor(status, dated=False) <= threshold)


def _only_urgent(urgent: list[JobRow], limit: int, policy: AttentionPolicy, now: datetime,
                 counts: dict[str, int]) -> tuple[list[JobRow], dict[str, int]] | None:
    """The first ``limit`` of the rows no clock moves off the top (failed, ABENP); None
    if there is none, or too many to rank cheaply."""
    if not urgent or len(urgent) > _PREVIEW_MAX_LOOKS:
        return None
    return _ranked_top(urgent, min(limit, len(urgent)), policy, now), counts


def _ranked_top(rows: list[JobRow], limit: int, policy: AttentionPolicy, now: datetime,
                critical_late: Iterable[JobRow] = ()) -> list[JobRow]:
    """The ``limit`` rows of ``rows`` and ``critical_late`` first in the attention order
    (the view's key); ``critical_late``: rows known to rank RANK_CRITICAL_LATE now (their
    due time passed, their status ranks them lower), not ranked again (~6 us a row)."""
    keyed = []
    for row in rows:
        _, rank = late_and_rank(row, policy, now)
        keyed.append((_sort_key(row, rank, None), row))
    keyed += ((_sort_key(row, RANK_CRITICAL_LATE, None), row) for row in critical_late)
    return [row for _, row in heapq.nsmallest(limit, keyed, key=operator.itemgetter(0))]


def _base_key(query: Query, statuses: frozenset[str] | None, negate: bool,
              attention: bool) -> tuple[object, ...]:
    """What a filtered view's cached prefix (``JobsView._base``) was computed for."""
    return (tuple(t.text for t in query.terms[:-1]), statuses, negate, attention)


def _narrow(kept: list[_Entry], statuses: frozenset[str] | None, negate: bool,
            attention: bool, terms: Iterable[Term]) -> list[_Entry]:
    """Entries passing the status and attention filters and ``terms`` (in order)."""
    if attention:
        kept = [e for e in kept if e.rank <= RANK_LATE_HOLD]
    if statuses is not None and negate:
        kept = [e for e in kept if e.row.status not in statuses]
    elif statuses is not None:
        kept = [e for e in kept if e.row.status in statuses]
    return JobsView._apply_terms(kept, terms)


class JobsView:
    """All jobs of the plan plus the ordered, filtered index the table shows.

    Internally ``_order`` holds every entry sorted ascending by its cached key (keys end
    with the job id, so they are unique and an entry can be found by bisection);
    ``_visible`` is the filtered subset (the same object when no filter is set), also
    ascending. A descending sort only maps indexes. Small updates remove the moved entries
    under their old key and add them under the new one instead of re-sorting 200k entries.
    """

    def __init__(
        self,
        rows: Iterable[JobRow] = (),
        *,
        policy: AttentionPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._policy = policy or AttentionPolicy()
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._entries: dict[str, _Entry] = {}
        self._order = _SortedEntries()
        self._visible = self._order
        self._counts: dict[str, int] = {}
        self._late_heap: list[tuple[datetime, str]] = []
        self._pending_keys: dict[_Entry, str] = {}
        """New sort keys not yet stored: entries must keep their old key until spliced."""
        self._sort_column: SortColumn | None = None
        self._descending = False
        self._needle = ""
        self._query = Query("")
        self._hays = False
        """Whether every entry holds its haystack (only while a text query is set)."""
        self._base: tuple[object, list[_Entry]] | None = None
        """The rows passing every filter but the query's last term, and what they were
        computed for: typing changes only the last term, so only it scans again."""
        self._status_filter: frozenset[str] | None = None
        self._status_negate = False
        """True: the filter keeps statuses NOT in ``_status_filter`` (the ``other`` group)."""
        self._group_filter: str | None = None
        self._attention_only = False
        self._version = 0
        self._writes = 0
        """Bumped by every change of data (not of sort or filter): a bulk load built
        from a snapshot of the view installs only if nothing wrote in between."""
        self._bulk_baseline: tuple[int, Baseline] | None = None
        """(``_writes`` once installed, the baseline) of the last bulk load."""
        self._partial_of = 0
        self._loaded = False
        if rows:
            self.apply(rows)

    # -- read side ---------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of rows in the current (filtered) view."""
        return len(self._visible)

    @property
    def total(self) -> int:
        """Number of jobs in the plan, ignoring filters."""
        return len(self._entries)

    @property
    def partial_of(self) -> int:
        """0 for a view of the whole plan; for a ``preview``, the number of jobs in the
        plan its few rows were taken from (``counts`` are that plan's)."""
        return self._partial_of

    @property
    def version(self) -> int:
        """Bumped by every change of data, order or filter."""
        return self._version

    @property
    def loaded(self) -> bool:
        """A job list was applied at least once: an empty view is then an empty plan,
        not one still being read (what counts its jobs says nothing before)."""
        return self._loaded

    @property
    def counts(self) -> Mapping[str, int]:
        """Jobs per internal status over the whole plan (filters ignored)."""
        return self._counts

    @property
    def sort_column(self) -> SortColumn | None:
        """Column sorted by, or None for the attention order."""
        return self._sort_column

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def filter_text(self) -> str:
        """The ``/`` filter as typed (stripped): words and terms of ``model/query.py``."""
        return self._needle

    @property
    def query(self) -> Query:
        """The compiled filter; ``query.error`` set means it filters nothing away."""
        return self._query

    @property
    def query_error(self) -> str | None:
        """Why the filter text is not a valid query (shown in the filter line), or None."""
        return self._query.error

    @property
    def status_filter(self) -> frozenset[str] | None:
        return self._status_filter

    @property
    def group_filter(self) -> str | None:
        """Name of the status group shown (``None`` = all), see ``set_group_filter``."""
        return self._group_filter

    @property
    def attention_only(self) -> bool:
        return self._attention_only

    def row_at(self, index: int) -> JobRow:
        """Row at a position of the current view (negative indexes count from the end)."""
        visible = self._visible
        if self._descending:
            return visible.at(-1 - index).row
        return visible.at(index).row

    def rows_in(self, start: int, stop: int) -> list[JobRow]:
        """Rows of the current view in ``[start, stop)``, clipped to the view."""
        visible = self._visible
        size = len(visible)
        start = max(start, 0)
        stop = min(stop, size)
        if start >= stop:
            return []
        if self._descending:
            return [entry.row for entry in reversed(visible.slice(size - stop, size - start))]
        return [entry.row for entry in visible.slice(start, stop)]

    def all_rows(self) -> Iterator[JobRow]:
        """Every row of the plan, filters ignored, in no particular order (copy it before
        awaiting: the view may change in between)."""
        return (entry.row for entry in self._entries.values())

    def rows_paced(self) -> Iterator[JobRow]:
        """Every row of the plan for a worker thread's count, read from the view's own
        index a part at a time, letting go of the GIL between parts (as ``paced``). No
        copy: a 200k-row snapshot list lives as long as the count, and young collections
        walked it meanwhile (13 ms, then 9 ms in generation 1, every streams and
        workstations poll); the index is a dict of untracked entries, which none walks.
        Raises RuntimeError if the view changes size meanwhile (try again, or count a
        ``rows_snapshot``); a row replaced meanwhile is read old or new."""
        entries = iter(self._entries.values())
        while part := list(islice(entries, _ROWS_PER_PAUSE)):
            yield from map(_ENTRY_ROW, part)
            time.sleep(0)

    def rows_snapshot(self) -> list[JobRow]:
        """Every row of the plan as a list, in no particular order: one C-level pass (a
        generator over 200k entries costs ~15 ms on the loop, this ~5 ms). The rows are
        immutable, so a worker thread may read the list while the view moves on."""
        return list(map(_ENTRY_ROW, self._entries.values()))

    def bulk_baseline(self) -> Baseline | None:
        """What needed a look in the plan as the last bulk load installed it (built in its
        worker thread, on the load's clock), while no write came since; else None."""
        held = self._bulk_baseline
        if held is None:
            return None
        if held[0] != self._writes:
            self._bulk_baseline = None  # outdated for good: let it go
            return None
        return held[1]

    def get(self, job_id: str) -> JobRow | None:
        entry = self._entries.get(job_id)
        return entry.row if entry is not None else None

    def position_of(self, job_id: str) -> int | None:
        """Index of a job in the current view, or None if filtered out or gone (O(log n))."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        pos = self._visible.index(entry)
        if pos is None:
            return None
        return len(self._visible) - 1 - pos if self._descending else pos

    def now(self) -> datetime:
        """The view's clock (the engine's, in the app): lateness and elapsed times use it."""
        return aware(self._clock())

    def is_late(self, row: JobRow, now: datetime | None = None) -> bool:
        """True for long-running EXEC and HOLD past its scheduled time."""
        late = late_at(row, self._policy)
        return late is not None and aware(now or self._clock()) > late

    def next_failure(self, after_index: int) -> int | None:
        """Index of the next failed row (the ``failed`` group) after ``after_index``, wrapping."""
        entries = list(self._visible)  # a C-level copy, cheaper than 200k lookups
        if self._descending:
            entries.reverse()
        size = len(entries)
        if not size:
            return None
        start = min(after_index + 1, size) if after_index >= -1 else 0
        for index in chain(range(start, size), range(start)):
            if entries[index].row.status in FAILED_STATUSES:
                return index
        return None

    # -- write side --------------------------------------------------------------------

    def apply(self, rows: Iterable[JobRow], now: datetime | None = None) -> ChangeSet:
        """Replace the plan with ``rows``; returns the diff against the previous plan.

        O(n) on the event loop. For a 200k-job plan prefer ``diff`` in the feed's worker
        thread and ``apply_changes`` on the loop, whose cost follows the number of changes.
        """
        now = aware(now or self._clock())
        old = self._entries
        new: dict[str, _Entry] = {}
        added: list[_Entry] = []
        changed: list[_Entry] = []
        counts: dict[str, int] = {}
        late_heap: list[tuple[datetime, str]] = []
        for row in rows:
            job_id = row.job_id
            if job_id in new:
                continue  # a duplicate id in one answer: the first one wins
            entry = old.get(job_id)
            if entry is None:
                entry, late = self._new_entry(row, now)
                added.append(entry)
            elif entry.row is not row and entry.row != row:
                _, late = self._update_entry(entry, row, now)
                changed.append(entry)
            else:
                late = late_at(entry.row, self._policy)
            new[job_id] = entry
            status = row.status
            counts[status] = counts.get(status, 0) + 1
            if late is not None:
                if late >= now:
                    late_heap.append((late, job_id))
                elif entry.rank > RANK_LATE_HOLD:
                    self._rerank(entry, now)
        removed = (
            [entry for job_id, entry in old.items() if job_id not in new]
            if added or len(new) != len(old)
            else []
        )
        self._entries = new
        self._counts = counts
        heapq.heapify(late_heap)
        self._late_heap = late_heap
        return self._commit(added, changed, removed)

    def diff(self, rows: Iterable[JobRow]) -> tuple[list[JobRow], list[str]]:
        """Rows that are new or differ, and ids no longer present: input for ``apply_changes``.

        Read-only, so the feed may run it in a worker thread (``asyncio.to_thread``) while
        the loop keeps drawing, provided no write to this view runs at the same time.
        """
        plan = self.plan_diff()
        plan.add(rows)
        return plan.result()

    def plan_diff(self, mapper: RowMapper | None = None) -> PlanDiff:
        """A ``diff`` fed a slice at a time while the plan is read (``PlanDiff.add``).

        Rows equal to the view's are dropped as they come, so a re-read of a 200k plan
        holds only what changed, never a second copy of the plan. With ``mapper``, the
        rows kept are settled through it (``RowMapper.settle``): give one when the rows
        were mapped without sharing values (``job_row_from_model``).
        """
        return PlanDiff(self, mapper)

    def bulk_load(self, rows: Sequence[JobRow], now: datetime | None = None) -> BulkLoad:
        """The first read of a plan (an empty view), to be built off the loop: call on the
        loop, run ``load.build()`` in a worker thread, then ``adopt(load)`` on the loop.
        What the build reads of the view is taken now. Raises ValueError if the view
        holds jobs (a re-read is a diff: ``plan_diff`` and ``apply_changes``)."""
        if self._entries:
            raise ValueError("bulk_load needs an empty view")
        return BulkLoad(self, rows, aware(now or self._clock()))

    def preview(self, rows: Sequence[JobRow], limit: int, now: datetime | None = None,
                tally: FirstReadTally | None = None) -> JobsView | None:
        """A small view of the first ``limit`` rows this view would show once it held
        ``rows`` (the top of the attention order), with the counts of all of them, and
        ``partial_of`` = ``len(rows)``: drawn while a first read of a big plan is built
        (``most_urgent``: ~30 ms of 200k jobs against ~0.6 s for the whole). Read-only
        on this view, so a worker thread may run it; ``tally``: the one the read of
        ``rows`` took (``PlanDiff.first_read_tally``). None when this view is sorted by a
        column or filtered (its first rows are not the attention order's) or when the
        top is too crowded to find cheaply and no failed job is sure to head it (fewer
        than ``limit`` failed ones: they alone, see ``most_urgent``)."""
        if self._sort_column is not None or self._filtering:
            return None
        now = aware(now or self._clock())
        found = most_urgent(rows, limit, self._policy, now, tally)
        if found is None:
            return None
        top, counts = found
        view = JobsView(policy=self._policy, clock=self._clock)
        view.apply_changes(top, (), now)
        view._counts = counts
        view._partial_of = len(rows)
        return view

    def adopt(self, load: BulkLoad) -> ChangeSet | None:
        """Install a built ``load`` (on the loop): O(1) when nothing changed since
        ``bulk_load``. A new sort column re-keys and sorts on the loop, a new filter
        filters on the loop (the costs of ``set_sort``/``set_filter``). Returns None,
        leaving the view as it is, if the view was written meanwhile (or the build did
        not finish): then apply the rows with ``apply_changes``, which merges them."""
        if not load.done or load._writes != self._writes or self._entries:
            return None
        self._entries = load.entries
        self._counts = load.counts
        self._late_heap = load.late_heap
        self._loaded = True
        self._pending_keys = {}
        if self._hays != load._hays:  # a text query started or ended meanwhile
            wanted, self._hays = self._hays, load._hays
            self._keep_hays(wanted)
        if load._column != self._sort_column:
            for entry in self._entries.values():
                entry.key = self._key(entry.row, entry.rank)
            self._rebuild()
        else:
            self._order = load.order
            if load._filter == self._filter_state() and load._hays == self._hays:
                self._base = load.base
                self._visible = load.visible if load.visible is not None else self._order
            else:
                self._base = None
                self._refilter()
        ids = load.ids
        load.entries, load.rows = {}, ()  # the load holds no second reference to the plan
        if not ids:
            return ChangeSet(version=self._version)
        self._version += 1
        self._writes += 1
        if load.baseline is not None:
            self._bulk_baseline = (self._writes, load.baseline)
        return ChangeSet(added=ids, order_changed=True, version=self._version,
                         changed_ids=_LoadedIds(ids, self))

    def apply_changes(
        self,
        changed: Iterable[JobRow],
        removed_ids: Iterable[str] = (),
        now: datetime | None = None,
    ) -> ChangeSet:
        """Apply new versions of some rows (unknown ids are added) and remove others."""
        now = aware(now or self._clock())
        entries = self._entries
        added: list[_Entry] = []
        updated: list[_Entry] = []
        new_entry = self._new_entry
        watch: list[tuple[datetime, str]] = []
        added_statuses: list[str] = []
        """Statuses as added (counted after the loop); a later version's move is counted
        like any change's."""
        fresh: set[str] = set()
        """Ids added by this call: a job given twice (a read saw it on two pages) must
        replace its new entry, not move it (it was counted twice and put in the order
        twice: a ghost row)."""
        for row in changed:
            entry = entries.get(row.job_id)
            if entry is None:
                entry, late = new_entry(row, now)
                entries[row.job_id] = entry
                added.append(entry)
                added_statuses.append(row.status)
                fresh.add(row.job_id)
                if late is not None and late >= now:
                    watch.append((late, row.job_id))
            elif row.job_id in fresh:
                if entry.row != row:
                    self._count(entry.row.status, -1)
                    self._count(row.status, 1)
                    again, late = new_entry(row, now)
                    entry.row, entry.hay, entry.rank, entry.key = (
                        again.row, again.hay, again.rank, again.key)
                    if late is not None and late >= now:
                        watch.append((late, row.job_id))
            elif entry.row is not row and entry.row != row:
                if entry.row.status != row.status:
                    self._count(entry.row.status, -1)
                    self._count(row.status, 1)
                before, late = self._update_entry(entry, row, now)
                updated.append(entry)
                if late != before:
                    # Only a new instant: the heap already holds this one (a row that
                    # changes every poll would otherwise add an item each time).
                    self._push_late(late, row.job_id, now)
        if added:
            # New rows counted and watched in one pass each (a first read adds 200k).
            for status, count in Counter(added_statuses).items():
                self._count(status, count)
            heap = self._late_heap
            if len(watch) > len(heap):
                heap += watch
                heapq.heapify(heap)
            else:
                for item in watch:
                    heapq.heappush(heap, item)
        removed: list[_Entry] = []
        for job_id in removed_ids:
            gone = entries.pop(job_id, None)
            if gone is not None:
                self._count(gone.row.status, -1)
                removed.append(gone)
        self._rerank_late(now)
        return self._commit(added, updated, removed)

    def refresh_clock(self, now: datetime | None = None) -> ChangeSet:
        """Move jobs that became late up the attention order (call it every few seconds)."""
        self._rerank_late(aware(now or self._clock()))
        return self._commit([], [], [])

    def set_filter(self, text: str) -> bool:
        """The ``/`` filter: words (case-insensitive substrings of stream, job,
        workstation or folder) and terms (``status=ABEND``, ``rc>0``...), all ANDed;
        see ``resync_tui.model.query``. A bad term filters nothing away (``query_error``).
        """
        needle = text.strip()
        if needle == self._needle:
            return False
        old = self._query
        query = parse_query(needle)
        self._needle = needle
        self._query = query
        self._keep_hays(bool(query))
        if _narrows(old, query):
            self._visible = _SortedEntries(self._apply_terms(list(self._visible),
                                                             query.terms[-1:]))
        else:
            self._refilter()
        self._version += 1
        return True

    def set_status_filter(self, statuses: Iterable[str] | None, *,
                          negate: bool = False) -> bool:
        """Show only these internal statuses (``None`` = all; ``negate``: all but these)."""
        wanted = frozenset(statuses) if statuses is not None else None
        negate = negate and wanted is not None
        if wanted == self._status_filter and negate == self._status_negate:
            return False
        self._status_filter = wanted
        self._status_negate = negate
        self._group_filter = None
        self._refilter()
        self._version += 1
        return True

    def set_group_filter(self, name: str | None) -> bool:
        """Show one status group of ``resync_tui.model.status`` (``None`` = all).

        ``other`` shows every status the vocabulary does not know, so a value from a
        newer engine can always be found.
        """
        if name is None:
            changed = self.set_status_filter(None)
        elif name == "other":
            changed = self.set_status_filter(KNOWN_STATUSES, negate=True)
        else:
            changed = self.set_status_filter(group(name).statuses)
        self._group_filter = name
        return changed

    def set_attention_filter(self, on: bool) -> bool:
        """Show only jobs needing attention: failed, stuck, long-running EXEC, late HOLD."""
        if on == self._attention_only:
            return False
        self._attention_only = on
        self._refilter()
        self._version += 1
        return True

    def set_sort(self, column: SortColumn | None, descending: bool = False) -> bool:
        """Sort by a column, or by attention (``None``, the default order)."""
        if column == self._sort_column and descending == self._descending:
            return False
        if column is not None and column not in SORT_COLUMNS:
            raise ValueError(f"unknown sort column {column!r}")
        self._descending = descending
        if column != self._sort_column:
            self._sort_column = column
            for entry in self._entries.values():
                entry.key = self._key(entry.row, entry.rank)
            self._rebuild()
        self._version += 1
        return True

    # -- internals ---------------------------------------------------------------------

    @property
    def _filtering(self) -> bool:
        return bool(self._query) or self._status_filter is not None or self._attention_only

    def _matches(self, entry: _Entry) -> bool:
        statuses = self._status_filter
        if statuses is not None and (entry.row.status in statuses) == self._status_negate:
            return False
        if self._attention_only and entry.rank > RANK_LATE_HOLD:
            return False
        return self._query.matches(entry.row, entry.hay or None)

    def _key(self, row: JobRow, rank: int) -> str:
        return _sort_key(row, rank, self._sort_column)

    def _new_entry(self, row: JobRow, now: datetime) -> tuple[_Entry, datetime | None]:
        """The entry of a new row, and the instant it becomes late (for the late watch)."""
        late, rank = late_and_rank(row, self._policy, now)
        column = self._sort_column
        key = (f"{_RANK_PREFIX[rank]}{row.stream}\x00{row.job}\x00{row.job_id}"
               if column is None and 0 <= rank < _RANKS else _sort_key(row, rank, column))
        return _Entry(row, _haystack(row) if self._hays else "", rank, key), late

    def _keep_hays(self, wanted: bool) -> None:
        """Build every haystack when a text query starts, drop them all when it ends: a
        200k plan spends ~19 MB on them, and only a text query reads them."""
        if wanted == self._hays:
            return
        self._hays = wanted
        if wanted:
            for entry in self._entries.values():
                entry.hay = _haystack(entry.row)
        else:
            for entry in self._entries.values():
                entry.hay = ""

    def _update_entry(self, entry: _Entry, row: JobRow, now: datetime
                      ) -> tuple[datetime | None, datetime | None]:
        """Store a new version of a row; a moved sort key waits in ``_pending_keys``.
        Returns when the old and the new version become late."""
        old = entry.row
        entry.row = row
        if self._hays and (
            old.stream != row.stream
            or old.job != row.job
            or old.workstation != row.workstation
            or old.folder != row.folder
        ):
            entry.hay = _haystack(row)
        policy = self._policy
        late, entry.rank = late_and_rank(row, policy, now)
        self._set_key(entry, self._key(row, entry.rank))
        return late_at(old, policy), late

    def _set_key(self, entry: _Entry, key: str) -> None:
        if key != entry.key:
            self._pending_keys[entry] = key
        else:
            self._pending_keys.pop(entry, None)

    def _rerank(self, entry: _Entry, now: datetime) -> None:
        """Recompute a rank against the clock."""
        rank = late_and_rank(entry.row, self._policy, now)[1]
        if rank != entry.rank:
            entry.rank = rank
            self._set_key(entry, self._key(entry.row, rank))

    def _count(self, status: str, delta: int) -> None:
        value = self._counts.get(status, 0) + delta
        if value:
            self._counts[status] = value
        else:
            self._counts.pop(status, None)

    def _push_late(self, late: datetime | None, job_id: str, now: datetime) -> None:
        if late is not None and late >= now:
            heapq.heappush(self._late_heap, (late, job_id))

    def _rerank_late(self, now: datetime) -> None:
        """Re-rank rows whose late instant has passed."""
        heap = self._late_heap
        while heap and heap[0][0] < now:
            _, job_id = heapq.heappop(heap)
            entry = self._entries.get(job_id)
            if entry is not None:
                self._rerank(entry, now)

    def _rebuild(self) -> None:
        """Sort every entry again (after a sort change or a large update)."""
        self._base = None
        entries = list(self._entries.values())
        entries.sort(key=_ENTRY_KEY)
        self._order = _SortedEntries(entries)
        self._refilter()

    def _commit(
        self, added: list[_Entry], changed: list[_Entry], removed: list[_Entry]
    ) -> ChangeSet:
        """Bring ``_order`` and ``_visible`` up to date and describe the change."""
        self._loaded = True
        self._base = None  # rows moved in or out: the query's cached prefix is stale
        pending = self._pending_keys
        entries = self._entries
        moved = [e for e in pending if e.row.job_id in entries]
        if len(added) + len(moved) + len(removed) > len(entries) // 8:
            # Many moves: one sort is cheaper than moving entries one by one.
            for entry, key in pending.items():
                entry.key = key
            self._pending_keys = {}
            self._rebuild()
        else:
            order = self._order
            filtering = self._filtering
            visible = self._visible
            # A change of status or name can bring a row in or out of a filtered view.
            touched = [*moved, *(e for e in changed if e not in pending)] if filtering else []
            for entry in removed:
                order.remove(entry, entry.key)
                if filtering:
                    visible.remove(entry, entry.key)
            for entry in moved:
                order.remove(entry, entry.key)
            for entry in touched:
                visible.remove(entry, entry.key)
            for entry, key in pending.items():
                entry.key = key
            self._pending_keys = {}
            for entry in added:
                order.add(entry)
            for entry in moved:
                order.add(entry)
            if filtering:
                matches = self._matches
                for entry in added:
                    if matches(entry):
                        visible.add(entry)
                for entry in touched:
                    if matches(entry):
                        visible.add(entry)
        order_changed = bool(added or removed or moved)
        if added or changed or removed or order_changed:
            self._version += 1
            self._writes += 1
        added_ids = tuple(e.row.job_id for e in added)
        changed_ids = tuple(e.row.job_id for e in changed)
        removed_ids = tuple(e.row.job_id for e in removed)
        return ChangeSet(
            added=added_ids,
            changed=changed_ids,
            removed=removed_ids,
            order_changed=order_changed,
            version=self._version,
            changed_ids=frozenset((*added_ids, *changed_ids, *removed_ids)),
        )

    def _refilter(self) -> None:
        statuses = self._status_filter
        if not self._filtering:
            self._visible = self._order
            return
        terms = self._query.terms
        key = _base_key(self._query, statuses, self._status_negate, self._attention_only)
        if self._base is not None and self._base[0] == key:
            kept = self._base[1]
        else:
            kept = _narrow(list(self._order), statuses, self._status_negate,
                           self._attention_only, terms[:-1])
            self._base = (key, kept)
        self._visible = _SortedEntries(self._apply_terms(kept, terms[-1:]))

    def _filter_state(self) -> tuple[str, frozenset[str] | None, bool, bool]:
        """Everything the filtered view depends on, comparable (the query is its text)."""
        return (self._needle, self._status_filter, self._status_negate, self._attention_only)

    @staticmethod
    def _apply_terms(kept: list[_Entry], terms: Iterable[Term]) -> list[_Entry]:
        """Narrow ``kept`` term by term: one comprehension per term, each inlining the
        cheapest test, beats one Python predicate combining them (200k rows a key)."""
        for term in terms:
            word, statuses, on_hay, on_row = term.word, term.statuses, term.on_hay, term.on_row
            if word is not None:
                kept = [e for e in kept if word in e.hay]
            elif statuses is not None and term.negate:
                kept = [e for e in kept if e.row.status not in statuses]
            elif statuses is not None:
                kept = [e for e in kept if e.row.status in statuses]
            elif on_hay is not None and term.hint:
                hint = term.hint
                kept = [e for e in kept if hint in e.hay and on_hay(e.hay)]
            elif on_hay is not None:
                kept = [e for e in kept if on_hay(e.hay)]
            elif on_row is not None:
                kept = [e for e in kept if on_row(e.row)]
        return kept


_CATCH_UP_AT_ONCE: Final = 40_000
"""At most this many jobs of the view not seen yet when a read leaves its order: they
are copied at once (~10 ms); more, and the index is copied and caught up by parts."""
_CATCH_UP_PER_ADD: Final = 2_000
"""Ids seen in order that each ``PlanDiff.add`` after the switch drops from the copy
(~0.5 ms): a read of 200k in slices of 200 has ~1,000 calls, room for the whole plan."""


class PlanDiff:
    """The diff of one whole plan against a view, built from slices of its rows.

    Read-only on the view (as ``JobsView.diff``): no write to the view may run between
    the first ``add`` and ``result``. Only new or changed rows are kept.

    An engine lists its plan in the same order read after read, and the view's index
    holds its jobs in the order they were first read (new ones at the end). So while
    the read brings the index's jobs in its order, each row is compared with the next
    entry of the index, with no look-up by id and no record of the ids seen: what the
    read did not reach is what the plan no longer has. A 200k re-read diffs in ~0.45 us
    a row this way, ~1.2 us with look-ups (memory-bound: each look-up and each id
    recorded is one more object touched, scattered over the plan's heap).

    At the first row out of that order (a job added to the plan, one given twice, a
    reordered plan), the rest of the read is diffed by id: the view's jobs not seen yet
    are a copy of its index, from which each job the read brings is popped, and what is
    left at the end is what the plan no longer has. The copy is made at full size at
    once (one C call) and popping never resizes; before, a dict of the ids seen grew to
    the plan's size, rehashing every id it held each time it grew (27-46 ms holding the
    loop at 87k and 175k ids). A first read (an empty view) removes nothing, so it keeps
    no ids at all.
    """

    __slots__ = ("_catch_up", "_changed", "_cursor", "_in_order", "_mapper", "_tally",
                 "_unseen", "_view")

    def __init__(self, view: JobsView, mapper: RowMapper | None = None) -> None:
        self._view = view
        self._tally: FirstReadTally | None = None
        """A first read's tally for its preview, once asked (``tally_for_preview``)."""
        self._mapper = mapper
        """Given (a re-read mapped without sharing): each row kept is settled through it
        (``RowMapper.settle``), sharing the view's equal values."""
        self._changed: list[JobRow] = []
        self._cursor: Iterator[_Entry] | None = None
        """The index's next entry while the read keeps its order (made at the first
        ``add``)."""
        self._in_order = 0
        """Rows read in the index's order: its first ``_in_order`` jobs have been seen."""
        self._unseen: dict[str, _Entry] | None = None
        """The view's jobs the read has not brought yet, once it is out of order: its
        keys are the view's own strings, so it holds no string of the new read."""
        self._catch_up: Iterator[str] | None = None
        """Ids seen in order still to drop from ``_unseen`` (``_out_of_order``)."""

    def canonical_id(self, job_id: str) -> str:
        """The view's own string equal to ``job_id`` if it holds that job, else ``job_id``
        (``HwaClient.read_plan(canonical=...)``: the read's record of the ids it saw then
        holds no second copy of the plan's ids)."""
        entry = self._view._entries.get(job_id)
        return job_id if entry is None else entry.row.job_id

    @property
    def in_order(self) -> bool:
        """Whether every row so far came in the view's order (diffed without look-ups)."""
        return self._unseen is None

    def tally_for_preview(self) -> None:
        """Before the first ``add`` of a first read (an empty view: every row it brings
        is new): keep a ``FirstReadTally`` of its rows for ``JobsView.preview``, ~30 ms
        in all at 200k, spent as the read arrives. Only a read that will be previewed
        asks (the dashboard's, not ``poller``'s or ``snapshot``'s); a re-read keeps none."""
        if not self._view._entries and self._cursor is None and self._unseen is None:
            self._tally = FirstReadTally()

    @property
    def first_read_tally(self) -> FirstReadTally | None:
        """The tally ``tally_for_preview`` asked for (None if not asked, or a re-read)."""
        return self._tally

    def add(self, rows: Iterable[JobRow]) -> None:
        if self._tally is not None:
            rows = rows if isinstance(rows, list) else list(rows)
            self._tally.add(rows)
        if self._unseen is None:  # still in the index's order
            if self._cursor is None:
                self._cursor = iter(self._view._entries.values())
            rows = self._add_in_order(rows if isinstance(rows, list) else list(rows))
        if rows:
            self._add_by_id(rows)

    def _add_in_order(self, rows: list[JobRow]) -> list[JobRow]:
        """Diff the rows that come in the index's order; the rest (from the first that
        does not) is returned, for ``_add_by_id``."""
        assert self._cursor is not None
        following = self._cursor.__next__
        changed = self._changed
        mapper = self._mapper
        matched = 0
        for row in rows:
            try:
                entry = following()
            except StopIteration:
                break
            old = entry.row
            if old.job_id != row.job_id:
                break
            matched += 1
            if old is not row and old != row:
                changed.append(row if mapper is None else mapper.settle(row, old))
        self._in_order += matched
        if matched == len(rows):
            return []
        self._out_of_order()
        return rows[matched:]

    def _out_of_order(self) -> None:
        """Switch to the diff by id: the jobs not seen yet are the index after its first
        ``_in_order`` jobs. Few left: copied at once (~0.25 us a job). Else the whole
        index is copied (one C call, a few ms) and the jobs seen in order are dropped
        from the copy ``_CATCH_UP_PER_ADD`` at a time by the following ``add`` calls
        (done whole at once, a switch mid-plan held the loop up to 43 ms at 200k)."""
        self._cursor = None
        entries = self._view._entries
        seen = self._in_order
        if len(entries) - seen <= _CATCH_UP_AT_ONCE:
            self._unseen = dict(islice(entries.items(), seen, None))
        else:
            self._unseen = entries.copy()  # at full size: no rehash as it empties
            self._catch_up = islice(entries, seen)

    def _drop_seen_in_order(self, count: int | None) -> None:
        """Drop from the copy up to ``count`` (None: all) of the jobs seen in order."""
        if self._catch_up is None or self._unseen is None:
            return
        keys = list(islice(self._catch_up, count))
        deque(map(self._unseen.pop, keys, repeat(None)), maxlen=0)
        if count is None or len(keys) < count:
            self._catch_up = None

    def _add_by_id(self, rows: Iterable[JobRow]) -> None:
        entries = self._view._entries
        changed = self._changed
        mapper = self._mapper
        unseen = self._unseen
        assert unseen is not None
        seen = unseen.pop
        for row in rows:
            entry = entries.get(row.job_id)
            if entry is None:
                changed.append(row if mapper is None else mapper.settle(row))
                continue
            seen(row.job_id, None)
            old = entry.row
            if old is not row and old != row:
                changed.append(row if mapper is None else mapper.settle(row, old))
        self._drop_seen_in_order(_CATCH_UP_PER_ADD)

    def result(self) -> tuple[list[JobRow], list[str]]:
        """(new or changed rows, ids of the view the plan no longer has)."""
        if self._unseen is None:  # in order to the end: the rest was not read
            return self._changed, list(islice(self._view._entries, self._in_order, None))
        self._drop_seen_in_order(None)
        return self._changed, list(self._unseen)

    def release(self) -> None:
        """Let go of the copy of the view's index (after ``result``). Only the jobs the
        plan no longer has are left in it by then, and its table is freed in one piece:
        cheap on the loop, where the 200k ids seen, dropped at once, held it 6-10 ms."""
        self._unseen = None
        self._cursor = None
        self._catch_up = None
        self._tally = None


def parse_sort(text: str) -> tuple[SortColumn | None, bool]:
    """A sort as settings and ``resync-tui jobs --sort`` write it: a column of
    ``SORT_COLUMNS``, ``-`` before it for descending; ``attention`` or empty for the
    attention order. Raises ``ValueError`` naming the allowed columns."""
    spec = text.strip().lower()
    descending = spec.startswith("-")
    column = spec.lstrip("-")
    if column in ("", "attention"):
        return None, False
    for known in SORT_COLUMNS:
        if column == known:
            return known, descending
    raise ValueError(f"unknown sort column {text.strip()!r} — known: attention "
                     f"{' '.join(SORT_COLUMNS)} (a leading - reverses)")


def _narrows(old: Query, new: Query) -> bool:
    """True when ``new`` can only keep fewer rows than ``old``: one more term after the
    same ones, or the last plain word typed longer (``pay`` -> ``payr``). Then the new
    last term filters the current result instead of the whole plan."""
    if not old or new.error or not new.terms:
        return False
    before = [t.text for t in old.terms]
    after = [t.text for t in new.terms]
    if len(after) == len(before) + 1 and after[:-1] == before:
        return True
    last_old, last_new = old.terms[-1].word, new.terms[-1].word
    return (len(after) == len(before) and after[:-1] == before[:-1]
            and last_old is not None and last_new is not None
            and last_old in last_new)
