"""The job table at 200,000 jobs against textual-fastdatatable, same rows, same run.

The rows: the simulator's plan (a subprocess, seed 1), read with the app's own client
(``HwaClient.fetch_plan``) and mapped with the app's own ``job_row_from_model``, once,
before anything is timed. Both tables run in a headless Textual app at 120x40.

Ours, through the path the app takes (``feeds/jobs.py`` then ``show_jobs``). First paint:
the view is empty, so the rows go through ``feeds.jobs.load_plan`` (what ``JobsFeed.poll``
calls for a first read: entries, counts and the sorted order built in a worker thread,
installed on the loop at once) and are handed to ``JobsPane.update_jobs(view, change)``,
the call the dashboard makes. Two figures, honestly: ``ours_first_paint_ms`` is the
total from the rows handed over to the painted frame (the thread's build included);
``ours_first_paint_on_loop_ms`` is the loop's share of it (the loop thread's CPU during
``load_plan`` plus ``update_jobs`` plus the paint): all of theirs is on the loop.
1% refresh: the rows are diffed against the view in a worker thread
(``asyncio.to_thread(view.diff, rows)``), applied on the loop (``view.apply_changes``) and
handed to ``update_jobs``.

Theirs (textual-fastdatatable, the fastest public Textual table, Arrow-backed) at its
fastest: the Arrow table is built once from the same rows, untimed (its docs: hand it
an Arrow table), with the same seven columns (stream, job, workstation, status,
substatus/RC, start, duration), and a ``DataTable(backend=ArrowBackend(table))`` is
mounted. Its table cannot be refilled in place (``clear()`` raises "Unmount this table
and mount a new one instead"), and ``update_cell`` rebuilds a whole 200k column from
Python values on every call. So its 1% refresh is: the changed cells written into the
Arrow table column by column with one vectorised ``pyarrow.compute.replace_with_mask``
each (the positions of the changed rows are given to it for free), then the old table
unmounted and a new one mounted on the new Arrow table. ``update_cell`` is timed on a
few cells and extrapolated to the cells that changed, for reference.

First paint: from handing the rows over until the frame that shows them has been
painted. Painted: the pilot's wait for the screen's pending messages, then the screen's
update (``screen._on_timer_update()``: layout and the compositor's render of every dirty
widget, what the 60 Hz update timer does; ``pilot.pause()`` does the same after sleeping
at least 20 ms, which would be timed too), repeated until the table's first data line on
screen shows the expected row (the check itself is not timed). A headless app skips only
the last step, turning the compositor's update into terminal bytes.
1% refresh: 2,000 jobs change status (and return code), the same jobs for both tables.

Ours is also split where its time goes (``ours_*_diff_in_thread_ms``,
``_apply_changes_ms``, ``_update_jobs_ms``, ``_paint_ms``), and ``ours_refresh_1pct_on_loop_ms``
is the part that holds the event loop (all of theirs does). Last figures (2 cores, load
5-10): first paint ours 2.0-3.4 s, of it ``JobsView.apply_changes`` 1.5-2.7 s, theirs
0.25-0.46 s (1.06-1.71 s with the Arrow build); 1% refresh ours 0.37-0.85 s (0.30-0.72 s
the diff in the thread, 44-137 ms on the loop), theirs 0.55-0.68 s. The 3x is not met:
the time is in the model (``model/jobs_view.py``), not in the table widget.
Then (load 2-3), with the first read applied on the loop in slices: first paint ours
911-1,033 ms, of it ``JobsView.apply_changes`` 710-825 ms, theirs 86-114 ms (357-474 ms
with its Arrow build); 1% refresh ours 158-176 ms (37-55 ms on the loop), theirs 168 ms.
Now (the bulk load, ``--rounds 2``): at load 14-18, first paint ours 823 ms in all, of
it ``load_plan`` 719 ms (1.3 ms of loop CPU), ``update_jobs`` 84 ms, paint 13 ms: 98 ms
on the loop, theirs 138 ms (600 ms with the Arrow build): 1.4x on the loop, 0.17x in
all; 1% refresh ours 328 ms (84 ms on the loop), theirs 657 ms. At load 1.2-1.4
(``--rounds 3``): first paint ours 708 ms in all (the old path in the same run,
``ours_first_paint_before_bulk_load_ms``: 758 ms, nearly all on the loop), of it
``load_plan`` 568 ms (1.2 ms of loop CPU), ``update_jobs`` 112 ms, paint 8 ms: 122 ms
on the loop; theirs 138 ms (368 ms with the Arrow build): 1.13x on the loop, 0.19x in
all; 1% refresh ours 174 ms (54 ms on the loop), theirs 165 ms. Still not 3x: the
build in the thread costs ~2-3 us a job (rank, late instant, key, entry) plus the sort,
and on the loop ``update_jobs`` spends most of its 84-112 ms (~64% in a profile) on the
table's first look at 200k new jobs (``model/new_since.py``'s baseline walks every row).
Then (README, load 1.2; the baseline taken in a thread): first paint 630 ms in all, 87
ms on the loop, theirs 90 ms (322 ms with the Arrow build); 1% refresh 149 ms, 41 ms on
the loop, theirs 201 ms. A profile of the 87 ms: a full collection of the new plan's
containers ran inside ``update_jobs`` (~65 ms: this bench did not freeze the plan as the
app does, and the app froze it only after drawing), and the table diffed each of its
first rows against the blank line it replaced before painting it again (~20 ms). Now
the bench freezes as the app does (``freeze_long_lived(collect=False)``, before the
first ``update_jobs``; ``ours_first_paint_freeze_ms``) and the table repaints its first
rows whole. At load 2.0 (``--rounds 3``, two other benches running): first paint ours
670 ms in all (602 ms the build in the thread), 69 ms on the loop (freeze 10 ms, since
made O(1); ``update_jobs`` 20 ms, paint 37 ms), theirs 96 ms (305 ms with the Arrow
build): 1.39x on the loop, 0.14x in all; 1% refresh ours 227 ms (132 ms the diff in the
thread), 58 ms on the loop, theirs 154 ms: 2.64x on the loop, 0.68x in all. Not 3x, and
no change to the table makes it so: in all, ours is the plan's model (the attention rank,
late instant and sort key of 200k jobs, ~2.7 us a job in Python, and the diff's look-up of
each job), which an Arrow table, built beforehand and never sorted, does not have.
Quiet (load 0.3-0.4, old code run just after in the same window, ``--rounds 3``): first
paint old 663 ms in all, 109 ms on the loop (``update_jobs`` 89 ms) vs theirs 114 ms;
new 678 ms in all, 63 ms on the loop (``update_jobs`` 24 ms, paint 37 ms) vs theirs 92
ms: 1.04x -> 1.46x on the loop; 1% refresh old 208 / 73 ms on the loop vs 159 ms, new
226 / 73 ms vs 228 ms (theirs moves 159-228 ms between runs: 2.2x -> 3.1x on the loop).
Then, profiled (cProfile of the loop's part): of ``update_jobs``' 24 ms, ~16 were the
new-since baseline (``rows_snapshot`` of 200k rows, ~10 ms, and starting its thread),
and that thread then walked the 200k rows during the paint, competing for the GIL (most
of the 37 ms "paint" was waiting for it: without that thread it took 11-15 ms; a row
renders in ~25 us). Now the baseline is built by the bulk load's thread
(``JobsView.bulk_baseline``), one drawing pass reads the widget's style once (not per
line: ~30 us a read), and a line's changed
cells are found from its style runs (~140 -> ~20 us a line). In the refresh, 2,000 jobs
turning new cost a look-up each to find the ~40 visible ones (~25-50 ms): now the visible
rows are looked up in them. Two fixes to this bench, in both the old and the new runs
below: the ready check reads a row past the table's gutter (a new job at the top shows
``●`` first, and the check waited, 0.5-1 s, until a look cleared it), and the refresh's
plan is loaded as the app loads it (``load_plan``; before, the baseline's thread was still
walking it during the first round). New figures: ``python_floor_ms`` (its parts: an index
by id, one key a job, one sort) is the least per-job Python any row model of these rows
must run before a first paint, and ``python_floor_diff_ms`` the least a refresh must (a
look-up and a compare a row): 3x "in all" needs the whole first paint within
``first_paint_in_all_3x_budget_ms``. Old (the branch point) and new, this bench, the same
window, ``--rounds 3``, load 1.1-2.0: first paint on the loop old 60 / 57 ms
(``update_jobs`` 29 / 23, paint 38 / 37) vs theirs 141 / 115 ms (2.35x / 2.02x); new 22.7
/ 21.0 ms (``update_jobs`` 1.3 / 1.8, paint 20 / 19) vs theirs 152 / 106 ms (6.7x /
5.0x). In all: old 848 / 839 ms, new 718 / 694 ms (the build in the thread 704 / 674 ms)
vs theirs 152 / 106 ms (386 / 438 ms with its Arrow build): 0.21x / 0.15x. The floor:
200 / 163 ms (index 105 / 71, keys 62 / 61, sort 33 / 29), more than theirs whole (0.76x /
0.65x): 3x in all (a first paint within 51 / 35 ms) is out of reach of any pure-Python row
model, by 4-5x before a row is ranked or painted. 1% refresh on the loop: old 57 / 92 ms
(``apply_changes`` 21 / 33, ``update_jobs`` 29 / 48, paint 7 / 11) vs theirs 217 / 246 ms
(3.8x / 2.7x); new 47 / 34 ms (``apply_changes`` 30 / 21, ``update_jobs`` 7.4 / 4.6, paint
9.5 / 6.9) vs theirs 196 / 273 ms (4.2x / 8.0x). In all: new 223 / 160 ms (the diff in the
thread 176 / 126 ms) vs 196 / 273 ms; the floor's diff 113 / 73 ms, so 3x in all (65 / 91
ms) is out of reach too. What holds the loop in a refresh now is ``apply_changes`` (2,000
re-keyed entries moved in the sorted blocks: bisections over key strings spread through a
200k-row heap, cache misses at ~2 us each), which this change does not touch.
At load 3.4-4.6 (two pairs, same window): first paint on the loop old 81 / 82 ms vs theirs
155 / 127 (1.9x / 1.5x), new 26 / 24 ms vs 131 / 149 (5.1x / 6.3x); refresh on the loop
old 54 / 73 ms vs 197 / 238 (3.6x / 3.3x), new 53 / 86 ms vs 447 / 305 (8.4x / 3.6x; of
the 86 ms, ``apply_changes`` 51).

Then (2026-12-02, load 0.5-0.8, ``--rounds 3``): a re-read that comes in the view's order
(an engine lists its plan the same way each read) is diffed entry by entry against the
view's index, with no look-up by id and no record of the ids seen (``PlanDiff``); the
first row out of that order switches the rest to the diff by id. And the bulk build ranks
in one call a row (``attention.late_and_rank``; the build alone, timed alternately with the
old one: 502-537 vs 478-597 ms, no change beyond the noise). Refresh in all: 182 / 275 ms
before (the diff in the thread 132 / 225 ms) -> 115 / 98 / 98 ms (the diff 55 / 46 / 54 ms), theirs
296 / 253 / 273 ms: 1.61x / 1.17x -> 2.58x / 2.60x / 2.78x; on the loop 46-54 ms
(``apply_changes`` 27-29). First paint in all 798 / 853 ms -> 705 / 692 / 609 ms, theirs
159-202 ms (0.18-0.29x): within the noise. Tried and not kept: the diff as C-level passes
per part (ids with ``map``, look-ups with ``map(entries.get)``, ``map(operator.ne)``, ``compress``):
slower, 203 vs 184 ms, because each pass touches every object again (memory-bound: the
look-ups alone took 43 ms, the pops 41); per part of 1,000, 53-65 vs 31 ms entry by entry.
``python_floor_diff_ms`` is now that entry-by-entry compare over two lists (8 ms: this
bench hands the view's own objects back for the unchanged rows, so each compare is an
identity test; the app's re-read maps fresh objects, compared field by field), and
``python_diff_by_id_ms`` the look-up way (87-96 ms), the floor before.

Then (2026-12-03): the first frame with data no longer waits for the whole build. For
20,000 jobs or more, ``load_plan`` first finds the plan's most urgent rows
(``JobsView.preview``: the whole plan's counts, then only the rows whose status can rank
that high, ranked) and the table shows those 200 while the rest is built
(``ours_first_frame_ms``: rows handed over to that frame painted; ``_preview_found``,
``_paint``, ``_whole`` the full table after it). ``_read_path``: as the app does, the
counts and the failed rows are taken while the read arrives (``FirstReadTally``, a few
ms a slice, ``_tally_during_read_ms`` in all, spent during the network read), so the
preview is found in ~8 ms, not ~40. The same window, load 0.4-0.6, ``--rounds 3``: old
code (``7ef590c``, no preview: the first frame with data is the whole first paint) 624
ms vs theirs 181 ms (0.29x); new, two runs: first frame 47 / 66 ms (preview found 35 /
50, paint 12 / 13) vs theirs 203 / 184 ms (4.3x / 2.8x), the read path 21.5 / 20.7 ms
(preview 7.1 / 7.5, the tally 29 / 32 ms during the read): 9.4x / 8.9x; the whole table
after it 581 / 683 ms (plain first paint 636 / 675 ms, 0.32x / 0.27x). 1% refresh (no
change in this step): old 122 ms vs 300 (2.45x), new 197 / 99 ms vs 354 / 301 (1.8x /
3.05x): the diff in the thread moves 54-124 ms between runs at the same load. Tried for
it and not kept: the in-order diff as C-level passes a part at a time (``map`` of rows
and ids, ``compress`` of ``ne``): 58 vs 48 ms with the view's own objects, 81 vs 75 ms
with fresh ones, as before, memory-bound. ``ours_refresh_1pct_read_path_ms``: the
refresh as the app takes it, each slice of the re-read diffed on the loop as it arrives
(``PlanDiff.add``; ``_diff_during_read_ms``, spent while the read was arriving), timed
from the last slice to the painted frame. A preview is not found for a plan whose top
would rank over a tenth of it (a 20k plan with few failures ranked 17k rows, 84 ms, about
the whole build): ``ours_first_frame_previewed_rounds`` says how many rounds had one, a
round without is the whole first paint. At load 1.1, ``--rounds 3``: first frame 82 ms
vs 189 (2.3x; the preview found in 68), the read path 42 ms (4.5x); the refresh on the
read path 65.5 ms (the last slice's diff 8.6, ``apply_changes`` 32, ``update_jobs`` 11,
paint 12; 50 ms of diff during the read) vs 264 ms: 4.0x; the refresh diffed whole after
the read 116 ms (2.3x).

Calm plans (``ours_first_frame_calm{100,20}_*``: the busy plan with only its first 100 or
20 failed jobs failed), read path, alternating old and new code, load 0.4-0.9: before the
tally kept the stuck, running and dated rows (``e41b1b2``) calm100 112 / 123 ms vs 98 /
116 (0.9x); with it 42-50 ms (2.0-3.1x); then a screenful sure to top the order and the
critical-late top picked by name from the tally, and the build waiting for the preview's
frame (``on_preview`` returns the wait for it, as the dashboard's does; started at once,
the build's thread took the GIL every 5 ms from the paint): 31.4 / 34.3 ms vs 115 / 146
(3.7x / 4.3x); calm20 11.6 / 16.4 ms (8.5x / 7.1x); busy 29.1 / 26.2 ms (3.6x / 4.6x).

Median of ``--rounds`` rounds (a fresh app each first paint), ratios theirs/ours in the
same run. One figure per line, the last line one JSON object. Target (issue 13): first
paint and 1% refresh each at least 3x faster than textual-fastdatatable.

    .venv/bin/python bench/bench_table_vs_fastdatatable.py [--jobs 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from bench_plan_fetch import read_plan
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widget import Widget
from textual_fastdatatable import ArrowBackend, DataTable

from resync_tui.feeds.jobs import load_plan
from resync_tui.gcpolicy import freeze_long_lived
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import FirstReadTally, JobsView
from resync_tui.model.status import FAILED_STATUSES
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.jobs_table import MARK_SYMBOL, NEW_SYMBOL, JobsTable

SIZE = (120, 40)
CHANGED_FRACTION = 0.01
TARGET_RATIO = 3.0
CALM_FAILED = (100, 20)
"""Failed jobs kept in the calm plans (``calm_plan``): 100, the top goes on to the
stuck, late and dated jobs; 20, on to a sea of late HOLD, too big to rank."""
COLUMNS = ("stream", "job", "workstation", "status", "info", "started", "duration")
NEW_STATUSES = ("ABEND", "EXEC", "SUCC", "HOLD", "READY", "FAIL")


# ----------------------------------------------------------------------------- rows

def change_rows(rows: list[JobRow], count: int, rnd: random.Random) -> list[int]:
    """Give ``count`` jobs a new status (and return code) in place: their positions."""
    picked = sorted(rnd.sample(range(len(rows)), count))
    for index in picked:
        row = rows[index]
        status = rnd.choice([s for s in NEW_STATUSES if s != row.status])
        code = rnd.choice((0, 4, 8, 12)) if status in ("ABEND", "SUCC", "FAIL") else None
        rows[index] = msgspec.structs.replace(row, status=status, return_code=code)
    return picked


def info_cell(row: JobRow) -> str:
    return f"RC {row.return_code}" if row.return_code is not None else row.substatus


CELL: dict[str, Callable[[JobRow], Any]] = {
    "stream": lambda r: r.stream,
    "job": lambda r: r.job,
    "workstation": lambda r: r.workstation,
    "status": lambda r: r.status,
    "info": info_cell,
    "started": lambda r: r.started,
    "duration": lambda r: r.duration,
}


def arrow_table(rows: Sequence[JobRow]) -> pa.Table:
    """The same rows as an Arrow table, column by column (its fastest form)."""
    return pa.table({name: [CELL[name](r) for r in rows] for name in COLUMNS})


def arrow_with_changes(table: pa.Table, rows: Sequence[JobRow],
                       positions: list[int]) -> pa.Table:
    """``table`` with the rows at ``positions`` rewritten: one vectorised pass a column."""
    mask = [False] * table.num_rows
    for position in positions:
        mask[position] = True
    mask_array = pa.array(mask, type=pa.bool_())
    for index, name in enumerate(COLUMNS):
        column = table.column(index)
        values = pa.array([CELL[name](rows[p]) for p in positions], type=column.type)
        table = table.set_column(index, name, pc.replace_with_mask(column, mask_array, values))
    return table


# ------------------------------------------------------------------------- painting

def screen_lines(app: App[Any]) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def painted(pilot: Pilot[Any], ready: Callable[[], bool]) -> float:
    """perf_counter() once a frame showing the data has been painted (the check untimed)."""
    app = pilot.app
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        await pilot._wait_for_screen()
        app.screen._on_timer_update()
        at = time.perf_counter()
        if ready():
            return at
        await asyncio.sleep(0)
    raise RuntimeError("the table never showed its rows")


_GUTTER = f" {MARK_SYMBOL}{NEW_SYMBOL}"
"""What may precede a row's first cell: padding, and our table's gutter of marks."""


def first_line_shows(app: App[Any], widget: Widget, text: str) -> Callable[[], bool]:
    """The widget's first data line on screen (below its header) starts with ``text``
    (after our table's gutter: a row new since the last look shows ``●`` first; before,
    such a row was never "shown" until a look cleared its mark, 0.5-1 s later)."""
    def check() -> bool:
        if not widget.is_mounted or widget.region.height < 2:
            return False
        region = widget.region
        line = screen_lines(app)[region.y + 1][region.x:region.right]
        return line.lstrip(_GUTTER).startswith(text)
    return check


def prefix(text: str) -> str:
    return text[:8]


# ------------------------------------------------------------------------- the apps

class OursApp(App[None]):
    last_top = ""
    """The first row's stream of the last whole first paint (what a preview must show)."""

    def __init__(self) -> None:
        super().__init__()
        self.view = JobsView()

    def compose(self) -> ComposeResult:
        yield JobsPane(self.view)


class TheirsApp(App[None]):
    # The table fills the screen (in a plain Vertical it would be given no height).
    CSS = "#holder { height: 1fr; } DataTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Vertical(id="holder")


async def feed_update(app: OursApp, rows: list[JobRow],
                      parts: dict[str, list[float]] | None = None) -> None:
    """The feed's path for a big plan, then the dashboard's call (show_jobs).

    ``parts`` collects where the time went: diff (worker thread), apply, update_jobs.
    """
    view = app.view
    begin = time.perf_counter()
    changed, removed = await asyncio.to_thread(view.diff, rows)
    diffed = time.perf_counter()
    change = view.apply_changes(changed, removed)
    applied = time.perf_counter()
    app.query_one(JobsPane).update_jobs(view, change)
    if parts is not None:
        parts.setdefault("diff_in_thread", []).append(diffed - begin)
        parts.setdefault("apply_changes", []).append(applied - diffed)
        parts.setdefault("update_jobs", []).append(time.perf_counter() - applied)


READ_SLICE = 200
"""Rows a re-read hands the diff at a time (``HwaClient.read_plan``'s sink slices)."""


async def feed_update_read_path(app: OursApp, rows: list[JobRow],
                                parts: dict[str, list[float]]) -> float:
    """The app's path for a re-read: ``JobsFeed`` diffs each slice of the read on the loop
    as it arrives (``PlanDiff.add``, a loop turn between slices), so when the last slice
    comes only it is left to diff; then ``apply_changes`` and the dashboard's call.

    Returns the instant the last slice arrived (what the figure is timed from); ``parts``:
    ``diff_during_read`` (all the slices before it, spent while the read was arriving),
    ``last_slice_diff`` (it and ``result``), ``apply_changes``, ``update_jobs``.
    """
    view = app.view
    diff = view.plan_diff()
    last = max(len(rows) - READ_SLICE, 0)
    spent = 0.0
    for start in range(0, last, READ_SLICE):
        begin = time.perf_counter()
        diff.add(rows[start : start + READ_SLICE])
        spent += time.perf_counter() - begin
        await asyncio.sleep(0)
    arrived = time.perf_counter()
    diff.add(rows[last:])
    changed, removed = diff.result()
    diff.release()
    diffed = time.perf_counter()
    change = view.apply_changes(changed, removed)
    applied = time.perf_counter()
    app.query_one(JobsPane).update_jobs(view, change)
    parts.setdefault("diff_during_read", []).append(spent)
    parts.setdefault("last_slice_diff", []).append(diffed - arrived)
    parts.setdefault("apply_changes", []).append(applied - diffed)
    parts.setdefault("update_jobs", []).append(time.perf_counter() - applied)
    return arrived


async def feed_first_read(app: OursApp, rows: list[JobRow],
                          parts: dict[str, list[float]]) -> None:
    """The feed's path for the first read of a plan (an empty view: ``load_plan``, the
    call ``JobsFeed.poll`` makes), then the dashboard's call (show_jobs).

    ``parts``: ``load_plan`` (rows handed over to the view installed: the build runs in
    a worker thread), ``load_plan_loop_cpu`` (CPU the loop's thread used meanwhile:
    ``adopt`` and whatever else the app ran), ``update_jobs``.
    """
    view = app.view
    begin, cpu = time.perf_counter(), time.thread_time()
    change = await load_plan(view, rows)
    loaded, loop_cpu = time.perf_counter(), time.thread_time() - cpu
    freeze_long_lived(collect=False)  # as the app does before it draws a first plan
    frozen = time.perf_counter()
    app.query_one(JobsPane).update_jobs(view, change)
    parts.setdefault("load_plan", []).append(loaded - begin)
    parts.setdefault("load_plan_loop_cpu", []).append(loop_cpu)
    parts.setdefault("freeze", []).append(frozen - loaded)
    parts.setdefault("update_jobs", []).append(time.perf_counter() - frozen)


async def ours_first_paint(rows: list[JobRow], parts: dict[str, list[float]]) -> float:
    app = OursApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(JobsTable)
        gc.collect()
        started = time.perf_counter()
        await feed_first_read(app, rows, parts)
        handed = time.perf_counter()
        OursApp.last_top = app.view.row_at(0).stream
        done = await painted(pilot, first_line_shows(
            app, table, prefix(app.view.row_at(0).stream)))
        parts.setdefault("paint", []).append(done - handed)
        # The loop's share: all but the build's wait in the thread.
        parts.setdefault("on_loop", []).append(
            parts["load_plan_loop_cpu"][-1] + parts["freeze"][-1] + parts["update_jobs"][-1]
            + done - handed)
    gc.unfreeze()  # the next round (theirs, or ours again) starts as this one did
    return done - started


def read_tally(rows: list[JobRow]) -> tuple[FirstReadTally, float]:
    """The tally a first read takes as its pages come (``PlanDiff`` of an empty view
    feeds each slice of 200 rows to it), and the time it added to the read (seconds)."""
    tally = FirstReadTally()
    spent = 0.0
    for start in range(0, len(rows), 200):
        part = rows[start : start + 200]
        begin = time.perf_counter()
        tally.add(part)
        spent += time.perf_counter() - begin
    return tally, spent


async def ours_first_frame(rows: list[JobRow], expected: str,
                           parts: dict[str, list[float]],
                           tally: FirstReadTally | None = None) -> float:
    """The first frame with data as the app draws it for a big first read: ``load_plan``
    with the dashboard's ``on_preview`` (the top of the attention order found in a worker
    thread, shown by ``JobsPane.show_preview``), painted while the whole order is still
    being built in its thread (which competes for the GIL, as in the app). Then, untimed
    in this figure, the whole view installed and painted (``parts["whole"]``: rows handed
    over to the whole table on screen, the same path as ``ours_first_paint``)."""
    app = OursApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.query_one(JobsPane)
        table = app.query_one(JobsTable)
        shown = asyncio.Event()

        def on_preview(preview: JobsView) -> Coroutine[Any, Any, bool]:
            # The dashboard's show_jobs_preview: shown, and the wait for its frame.
            if not pane.show_preview(preview):
                raise SystemExit("the pane refused the preview")
            parts.setdefault("preview_rows", []).append(preview.total)
            shown.set()
            return pane.wait_for_refresh()

        gc.collect()
        started = time.perf_counter()
        task = asyncio.create_task(load_plan(app.view, rows, on_preview, tally=tally))
        waiting = asyncio.ensure_future(shown.wait())
        await asyncio.wait((waiting, task), return_when=asyncio.FIRST_COMPLETED)
        if not shown.is_set():  # no preview for this plan (``most_urgent``'s cost cap)
            waiting.cancel()
            pane.update_jobs(app.view, task.result())
            first = await painted(pilot, first_line_shows(app, table, prefix(expected)))
            parts.setdefault("previewed", []).append(0.0)
            parts.setdefault("whole", []).append(first - started)
            gc.unfreeze()
            return first - started
        handed = time.perf_counter()
        first = await painted(pilot, first_line_shows(app, table, prefix(expected)))
        # Read into a name, so mypy does not narrow ``pane.previewing`` for the later check.
        previewed = pane.previewing
        if not previewed:
            raise SystemExit("the whole view came before the preview was painted")
        parts.setdefault("previewed", []).append(1.0)
        cpu = time.thread_time()
        change = await task
        loaded = time.perf_counter()
        parts.setdefault("loop_cpu_while_building", []).append(time.thread_time() - cpu)
        freeze_long_lived(collect=False)
        pane.update_jobs(app.view, change)
        whole = await painted(pilot, first_line_shows(app, table, prefix(expected)))
        if pane.previewing or app.view.row_at(0).stream != expected:
            raise SystemExit("the whole view did not replace the preview")
        parts.setdefault("preview_found", []).append(handed - started)
        parts.setdefault("paint", []).append(first - handed)
        parts.setdefault("load_plan", []).append(loaded - started)
        parts.setdefault("whole", []).append(whole - started)
    gc.unfreeze()
    return first - started


async def ours_first_paint_before(rows: list[JobRow]) -> float:
    """The first paint as it was before the bulk load (the diff in a thread, then one
    ``apply_changes`` of every row on the loop), for the figure beside the new one."""
    app = OursApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(JobsTable)
        gc.collect()
        started = time.perf_counter()
        await feed_update(app, rows)
        done = await painted(pilot, first_line_shows(
            app, table, prefix(app.view.row_at(0).stream)))
        return done - started


async def theirs_first_paint(rows: list[JobRow], table: pa.Table) -> float:
    app = TheirsApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gc.collect()
        started = time.perf_counter()
        widget = DataTable(backend=ArrowBackend(table), show_row_labels=False)
        await app.query_one("#holder").mount(widget)
        done = await painted(pilot, first_line_shows(app, widget, prefix(rows[0].stream)))
        return done - started


async def theirs_refreshes(rows_by_round: list[list[JobRow]], changes: list[list[int]],
                           table: pa.Table) -> tuple[list[float], list[float]]:
    app = TheirsApp()
    times: list[float] = []
    cell_writes: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        holder = app.query_one("#holder")
        widget = DataTable(backend=ArrowBackend(table), show_row_labels=False)
        await holder.mount(widget)
        await pilot.pause()
        # update_cell, for reference: a few cells timed (each rebuilds its whole column).
        for column in (COLUMNS.index("status"), COLUMNS.index("info")):
            for position in changes[0][:3]:
                begin = time.perf_counter()
                widget.update_cell(position, column, "EXEC")
                cell_writes.append(time.perf_counter() - begin)
        for rows, positions in zip(rows_by_round, changes, strict=True):
            gc.collect()
            started = time.perf_counter()
            table = arrow_with_changes(table, rows, positions)
            await widget.remove()
            widget = DataTable(backend=ArrowBackend(table), show_row_labels=False)
            await holder.mount(widget)
            done = await painted(pilot, first_line_shows(app, widget, prefix(rows[0].stream)))
            times.append(done - started)
            status = COLUMNS.index("status")
            for p in positions:  # untimed: the new table holds every change
                if widget.get_cell_at(Coordinate(p, status)) != rows[p].status:
                    raise SystemExit(f"fastdatatable missed the change of row {p}")
    return times, cell_writes


# ------------------------------------------------------------------ the Python floor

def python_floor(rows: Sequence[JobRow]) -> dict[str, float]:
    """The cheapest per-job Python any row model of these rows must run for a first paint
    (seconds): an index by job id (to find a job again on the next read), one string key
    a job (stream, job, id: the least a sorted view needs) and one sort of those keys.
    No rank, no lateness, no counts: a floor, not a model."""
    begin = time.perf_counter()
    index = {row.job_id: row for row in rows}
    indexed = time.perf_counter()
    keys = [f"{row.stream}\x00{row.job}\x00{row.job_id}" for row in rows]
    keyed = time.perf_counter()
    keys.sort()
    done = time.perf_counter()
    del index, keys
    return {"index": indexed - begin, "keys": keyed - indexed, "sort": done - keyed,
            "total": done - begin}


def python_floor_diff(previous: Sequence[JobRow], rows: Sequence[JobRow]) -> float:
    """The cheapest per-job Python of a refresh (seconds): each row of the new read
    compared with the one held in the same place (as ``PlanDiff`` does while the read
    keeps the view's order), nothing else."""
    begin = time.perf_counter()
    changed = [row for row, old in zip(rows, previous, strict=True)
               if old is not row and old != row]
    elapsed = time.perf_counter() - begin
    if len(changed) != round(len(rows) * CHANGED_FRACTION):
        raise SystemExit(f"the floor's diff found {len(changed)} changes")
    return elapsed


def python_diff_by_id(index: dict[str, JobRow], rows: Sequence[JobRow]) -> float:
    """A refresh's per-job Python when the read is out of the view's order (seconds):
    each row looked up by id and compared with the one held (``PlanDiff``'s fallback;
    before, its only way)."""
    begin = time.perf_counter()
    get = index.get
    changed = [row for row in rows
               if (old := get(row.job_id)) is None or (old is not row and old != row)]
    elapsed = time.perf_counter() - begin
    if len(changed) != round(len(rows) * CHANGED_FRACTION):
        raise SystemExit(f"the by-id diff found {len(changed)} changes")
    return elapsed


# ---------------------------------------------------------------------------- main

def calm_plan(rows: list[JobRow], kept: int) -> list[JobRow]:
    """The plan with only its first ``kept`` failed jobs failed (the others SUCC): on a
    calm day a 200k plan has fewer failed jobs than the preview's rows, and its top goes
    on to stuck, late and dated jobs, or to a sea of late HOLD too big to rank."""
    seen = 0
    calm = []
    for row in rows:
        if row.status in FAILED_STATUSES:
            seen += 1
            if seen > kept:
                row = msgspec.structs.replace(row, status="SUCC")
        calm.append(row)
    return calm


async def calm_first_frames(rows: list[JobRow], kept: int, rounds: int) -> dict[str, float]:
    """``ours_first_frame`` on the read path and their first paint, on a calm plan."""
    calm = calm_plan(rows, kept)
    whole = JobsView()
    load = whole.bulk_load(calm)
    load.build()
    whole.adopt(load)
    expected = whole.row_at(0).stream
    del whole, load
    table = arrow_table(calm)
    ours, theirs = [], []
    parts: dict[str, list[float]] = {}
    for _ in range(rounds):
        tally, spent = read_tally(calm)
        parts.setdefault("tally_during_read", []).append(spent)
        ours.append(await ours_first_frame(calm, expected, parts, tally))
        del tally
        theirs.append(await theirs_first_paint(calm, table))
    name = f"calm{kept}"
    figures = {f"{name}_failed_jobs": float(kept),
               f"ours_first_frame_{name}_read_path_ms": ms(statistics.median(ours)),
               f"ours_first_frame_{name}_previewed_rounds": sum(parts.pop("previewed", [])),
               f"ours_first_frame_{name}_preview_rows": float(
                   statistics.median(parts.pop("preview_rows", [0])))}
    for part, seconds in parts.items():
        figures[f"ours_first_frame_{name}_read_path_{part}_ms"] = ms(statistics.median(seconds))
    figures[f"theirs_first_paint_{name}_ms"] = ms(statistics.median(theirs))
    ratio = round(figures[f"theirs_first_paint_{name}_ms"]
                  / figures[f"ours_first_frame_{name}_read_path_ms"], 2)
    figures[f"first_frame_{name}_read_path_ratio_theirs_over_ours"] = ratio
    figures[f"first_frame_{name}_read_path_3x_met"] = float(ratio >= TARGET_RATIO)
    return figures


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def run(jobs: int, rounds: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    rows = await read_plan(jobs)
    begin = time.perf_counter()
    table = arrow_table(rows)
    figures["theirs_arrow_build_ms"] = ms(time.perf_counter() - begin)

    ours_first, theirs_first, before, frames, read_frames = [], [], [], [], []
    parts: dict[str, list[float]] = {}
    frame_parts: dict[str, list[float]] = {}
    read_frame_parts: dict[str, list[float]] = {}
    floor: dict[str, list[float]] = {}
    expected = ""
    for _ in range(rounds):  # interleaved: all see the same load
        ours_first.append(await ours_first_paint(rows, parts))
        expected = expected or OursApp.last_top
        frames.append(await ours_first_frame(rows, expected, frame_parts))
        tally, spent = read_tally(rows)
        read_frame_parts.setdefault("tally_during_read", []).append(spent)
        read_frames.append(await ours_first_frame(rows, expected, read_frame_parts, tally))
        del tally
        theirs_first.append(await theirs_first_paint(rows, table))
        before.append(await ours_first_paint_before(rows))
        gc.collect()
        for part, floor_seconds in python_floor(rows).items():
            floor.setdefault(part, []).append(floor_seconds)
    figures["ours_first_paint_before_bulk_load_ms"] = ms(statistics.median(before))
    figures["ours_first_paint_ms"] = ms(statistics.median(ours_first))
    for part, seconds in parts.items():
        figures[f"ours_first_paint_{part}_ms"] = ms(statistics.median(seconds))
    figures["theirs_first_paint_ms"] = ms(statistics.median(theirs_first))
    figures["theirs_first_paint_with_arrow_build_ms"] = ms(
        statistics.median(theirs_first) + figures["theirs_arrow_build_ms"] / 1000)
    figures["first_paint_ratio_theirs_over_ours"] = round(
        figures["theirs_first_paint_ms"] / figures["ours_first_paint_ms"], 2)
    figures["first_paint_on_loop_ratio_theirs_over_ours"] = round(
        figures["theirs_first_paint_ms"] / figures["ours_first_paint_on_loop_ms"], 2)
    figures["ours_first_frame_ms"] = ms(statistics.median(frames))
    figures["ours_first_frame_previewed_rounds"] = sum(frame_parts.pop("previewed", []))
    figures["ours_first_frame_read_path_previewed_rounds"] = sum(
        read_frame_parts.pop("previewed", []))
    figures["ours_first_frame_preview_rows"] = float(
        statistics.median(frame_parts.pop("preview_rows", [0])))
    read_frame_parts.pop("preview_rows", None)  # the same rows
    for part, seconds in frame_parts.items():
        figures[f"ours_first_frame_{part}_ms"] = ms(statistics.median(seconds))
    figures["first_frame_ratio_theirs_over_ours"] = round(
        figures["theirs_first_paint_ms"] / figures["ours_first_frame_ms"], 2)
    figures["ours_first_frame_read_path_ms"] = ms(statistics.median(read_frames))
    for part, seconds in read_frame_parts.items():
        figures[f"ours_first_frame_read_path_{part}_ms"] = ms(statistics.median(seconds))
    figures["first_frame_read_path_ratio_theirs_over_ours"] = round(
        figures["theirs_first_paint_ms"] / figures["ours_first_frame_read_path_ms"], 2)
    for kept in CALM_FAILED:  # the same plan with few failed jobs: a calm day
        figures.update(await calm_first_frames(rows, kept, rounds))
    # The floor of "in all": 3x in all needs the whole first paint within a third of
    # theirs; no pure-Python row model gets below the floor, before any paint.
    for part, seconds in floor.items():
        name = "python_floor_ms" if part == "total" else f"python_floor_{part}_ms"
        figures[name] = ms(statistics.median(seconds))
    figures["first_paint_in_all_3x_budget_ms"] = round(figures["theirs_first_paint_ms"]
                                                       / TARGET_RATIO, 2)
    figures["first_paint_ratio_theirs_over_python_floor"] = round(
        figures["theirs_first_paint_ms"] / figures["python_floor_ms"], 2)
    figures["ours_first_paint_over_python_floor"] = round(
        figures["ours_first_paint_ms"] / figures["python_floor_ms"], 2)

    # The same 2,000 changes a round for both: snapshots of the rows after each round.
    rnd = random.Random(7)
    count = int(jobs * CHANGED_FRACTION)
    base = list(rows)
    changes: list[list[int]] = []
    rows_by_round: list[list[JobRow]] = []
    changing = list(base)
    for _ in range(rounds):
        changes.append(change_rows(changing, count, rnd))
        rows_by_round.append(list(changing))
    ours: list[float] = []
    refresh_parts: dict[str, list[float]] = {}
    ours_read: list[float] = []
    read_parts: dict[str, list[float]] = {}
    floor_diff: list[float] = []
    by_id_diff: list[float] = []
    index = {row.job_id: row for row in base}
    app = OursApp()
    async with app.run_test(size=SIZE) as pilot:
        # The plan as the app first reads it (``load_plan``: the bulk load; before, the
        # rows were applied on the loop and the new-since baseline was still being taken
        # in a thread, competing for the GIL, during the first round).
        await feed_first_read(app, list(base), {})
        await pilot.pause()
        table_widget = app.query_one(JobsTable)
        previous = base
        for snapshot, positions in zip(rows_by_round, changes, strict=True):
            gc.collect()
            floor_diff.append(python_floor_diff(previous, snapshot))
            by_id_diff.append(python_diff_by_id(index, snapshot))
            previous = snapshot
            index.update((snapshot[p].job_id, snapshot[p]) for p in positions)
            gc.collect()
            started = time.perf_counter()
            await feed_update(app, snapshot, refresh_parts)
            handed = time.perf_counter()
            top = app.view.row_at(round(table_widget.scroll_y)).stream
            done = await painted(pilot, first_line_shows(app, table_widget, prefix(top)))
            refresh_parts.setdefault("paint", []).append(done - handed)
            ours.append(done - started)
            for p in positions:  # untimed: the view holds every change
                held = app.view.get(snapshot[p].job_id)
                if held is None or held.status != snapshot[p].status:
                    raise SystemExit(f"the view missed the change of {snapshot[p].job_id}")
        # The same again the way the app reads (diffed as the read arrives), each round
        # its own 2,000 changes, timed from the read's last slice to the painted frame.
        for _ in range(rounds):
            positions = change_rows(changing, count, rnd)
            snapshot = list(changing)
            gc.collect()
            arrived = await feed_update_read_path(app, snapshot, read_parts)
            handed = time.perf_counter()
            top = app.view.row_at(round(table_widget.scroll_y)).stream
            done = await painted(pilot, first_line_shows(app, table_widget, prefix(top)))
            read_parts.setdefault("paint", []).append(done - handed)
            ours_read.append(done - arrived)
            for p in positions:
                held = app.view.get(snapshot[p].job_id)
                if held is None or held.status != snapshot[p].status:
                    raise SystemExit(f"the read path missed the change of {snapshot[p].job_id}")
    gc.unfreeze()  # theirs run as before, with no plan of ours frozen
    theirs, cell_writes = await theirs_refreshes(rows_by_round, changes, table)

    figures["changed_rows"] = count
    figures["ours_refresh_1pct_ms"] = ms(statistics.median(ours))
    for part, seconds in refresh_parts.items():
        figures[f"ours_refresh_1pct_{part}_ms"] = ms(statistics.median(seconds))
    on_loop = [total - diff for total, diff in zip(ours, refresh_parts["diff_in_thread"],
                                                     strict=True)]
    figures["ours_refresh_1pct_on_loop_ms"] = ms(statistics.median(on_loop))
    figures["theirs_refresh_1pct_ms"] = ms(statistics.median(theirs))  # all of it on the loop
    figures["refresh_ratio_theirs_over_ours"] = round(
        figures["theirs_refresh_1pct_ms"] / figures["ours_refresh_1pct_ms"], 2)
    figures["refresh_on_loop_ratio_theirs_over_ours"] = round(
        figures["theirs_refresh_1pct_ms"] / figures["ours_refresh_1pct_on_loop_ms"], 2)
    figures["ours_refresh_1pct_read_path_ms"] = ms(statistics.median(ours_read))
    for part, seconds in read_parts.items():
        figures[f"ours_refresh_1pct_read_path_{part}_ms"] = ms(statistics.median(seconds))
    figures["refresh_read_path_ratio_theirs_over_ours"] = round(
        figures["theirs_refresh_1pct_ms"] / figures["ours_refresh_1pct_read_path_ms"], 2)
    figures["python_floor_diff_ms"] = ms(statistics.median(floor_diff))
    figures["python_diff_by_id_ms"] = ms(statistics.median(by_id_diff))
    figures["refresh_in_all_3x_budget_ms"] = round(figures["theirs_refresh_1pct_ms"]
                                                   / TARGET_RATIO, 2)
    figures["refresh_ratio_theirs_over_python_floor"] = round(
        figures["theirs_refresh_1pct_ms"] / figures["python_floor_diff_ms"], 2)
    per_cell = statistics.median(cell_writes)
    figures["theirs_update_cell_ms"] = ms(per_cell)
    # Status and substatus/RC change on every changed row: two cells a row.
    figures["theirs_update_cell_1pct_estimate_ms"] = ms(per_cell * 2 * count)
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    figures["first_paint_3x_met"] = float(figures["first_paint_ratio_theirs_over_ours"]
                                          >= TARGET_RATIO)
    figures["first_frame_3x_met"] = float(figures["first_frame_ratio_theirs_over_ours"]
                                          >= TARGET_RATIO)
    figures["first_frame_read_path_3x_met"] = float(
        figures["first_frame_read_path_ratio_theirs_over_ours"] >= TARGET_RATIO)
    figures["first_paint_on_loop_3x_met"] = float(
        figures["first_paint_on_loop_ratio_theirs_over_ours"] >= TARGET_RATIO)
    figures["refresh_3x_met"] = float(figures["refresh_ratio_theirs_over_ours"] >= TARGET_RATIO)
    figures["refresh_read_path_3x_met"] = float(
        figures["refresh_read_path_ratio_theirs_over_ours"] >= TARGET_RATIO)
    figures["refresh_on_loop_3x_met"] = float(
        figures["refresh_on_loop_ratio_theirs_over_ours"] >= TARGET_RATIO)
    figures["first_paint_in_all_3x_reachable_in_python"] = float(
        figures["first_paint_ratio_theirs_over_python_floor"] >= TARGET_RATIO)
    figures["refresh_in_all_3x_reachable_in_python"] = float(
        figures["refresh_ratio_theirs_over_python_floor"] >= TARGET_RATIO)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = asyncio.run(run(args.jobs, args.rounds))
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
