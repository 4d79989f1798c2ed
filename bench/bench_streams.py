"""Bench: the Streams pane with 20,000 job streams and 200,000 jobs, headless at 120x40.

The real path, from the engine's answer to the first frame:
  decode_ms      20,000 streams as the simulator's wire sends them (two 10,000-stream
                 pages of JobStreamInPlanV2) decoded by the client's decoder;
  model_ms       the feed's model step on that read (``feeds.streams.count_streams``:
                 every job of a 200,000-job JobsView listed, grouped per stream, worst
                 job found, the view sorted) - event loop and worker thread together;
  loop_stall_ms  the longest the event loop waited for a turn meanwhile (a 1 ms ticker's
                 worst lag: the listing and counting run in a worker thread, which shares
                 the GIL with the loop);
  first_paint_ms the pane given the new state until its first frame is rendered;
  filter_ms      one keystroke of the ``/`` filter over 20,000 streams, then repaint;
  sort_ms        ``s`` (next sort column) over 20,000 streams, then repaint.
Baselines in the same run: stock ``DataTable`` loading the same 20,000 rows (add_rows
+ first paint), and the model step with no jobs held (what the 200k jobs cost).
  gc_in_model_ms, gc_longest_in_model_ms: garbage collections during the model step
                 (either thread holds the GIL through one): summed and longest, medians.
The jobs view is frozen out of the collector's reach first, as the app freezes its plan.

2026-12-02 (load 1.3, 7 rounds, alternating): the view's snapshot as a tuple instead of
a list (the collector untracks a tuple of untracked rows the first time it sees it, where
it walks a list's 200k items at every young collection it lives through) did not pay:
collections summed 10.4 / 11.6 -> 11.3 / 11.5 ms, the longest 4.1 / 4.7 -> 6.4 / 6.7 ms
(the first collection also walks the tuple to untrack it); not kept. Current code: model
294 ms, loop stall median 12.2 / max 15.2 ms, collections 12.6 ms (longest 5.3).
Then the count reads the jobs view itself a part at a time (``JobsView.rows_paced``: its
index is a dict of untracked entries, which no collection walks) instead of a 200k-row
snapshot list: ``5ecf4e5`` -> new, alternating, ``--rounds 7``, load 0.6-0.7:
collections in the model step 12.2 / 15.9 -> 3.9 / 4.0 ms, the longest 4.5 / 6.2 -> 0.8 /
0.8 ms; loop stall max 9.8 / 10.5 -> 7.8 / 6.0 ms; model 273 / 307 -> 261 / 266 ms.
Then a job with a deadline or critical start is ranked on the clock whatever its status
(a READY job past its deadline made its stream's worst job and place disagree with the
jobs pane), in one call a job (``attention.late_and_rank``): ``387a390`` -> new, three
pairs alternating, ``--rounds 5``, load 0.5-0.8, a whole-app RSS run beside: model 505 /
378 / 262 -> 388 / 287 / 307 ms; loop stall max 9.4 / 10.7 / 8.1 -> 16.4 / 7.8 / 7.9 ms;
collections 7.2 / 6.8 / 4.4 -> 8.3 / 4.6 / 6.0 ms: no change beyond the noise.
Run: .venv/bin/python bench/bench_streams.py [--streams N] [--jobs N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsState, count_streams
from resync_tui.hwa.models import JobStreamPage, JobStreamRead
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.streams import StreamsView
from resync_tui.ui.widgets.streams_pane import StreamsPane

SIZE = (120, 40)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUSES = ["SUCC"] * 12 + ["HOLD"] * 5 + ["READY", "EXEC", "EXEC", "ABEND", "INTRO", "FAIL"]
STREAM_STATUSES = ["SUCC"] * 5 + ["HOLD"] * 3 + ["EXEC", "EXEC", "ABEND", "STUCK", "READY"]


def stream_pages(count: int, page: int = 10_000) -> list[bytes]:
    """The stream list as the engine sends it: PaginatedResponseV217 pages."""
    rnd = random.Random(2)
    pages = []
    for start in range(0, count, page):
        results = []
        for i in range(start, min(start + page, count)):
            status = rnd.choice(STREAM_STATUSES)
            results.append({
                "flowNodeType": "JOBSTREAM", "id": f"S{i:08X}", "name": f"STREAM_{i:05d}",
                "originalJobStreamName": f"STREAM_{i:05d}", "folder": f"/PROD/D{i % 40:02d}/",
                "workstation": f"WS{i % 300:03d}", "schedTime": "2026-11-25T06:00:00Z",
                "compositeStatus": {"status": status, "started": status != "HOLD"},
                "commonStatus": "RUNNING",
                "jobStreamStats": {"numberOfJob": 10},
                "jsDefinitionFlags": {"carriedForward": i % 40 == 13},
                "timeInfo": {"actualStartTime": "2026-11-25T06:00:10Z"},
            })
        pages.append(msgspec.json.encode({"count": count, "results": results}))
    return pages


def job_rows(jobs: int, streams: int) -> list[JobRow]:
    rnd = random.Random(1)
    rows = []
    for i in range(jobs):
        status = rnd.choice(STATUSES)
        rows.append(JobRow(
            job_id=f"J{i:07d}", stream=f"STREAM_{i % streams:05d}", job=f"JOB_{i:07d}",
            workstation=f"WS{i % 300:03d}", folder="/PROD/", status=status,
            started=None if status == "HOLD" else NOW - timedelta(minutes=rnd.randint(1, 300)),
            estimated_duration=600.0,
            scheduled=NOW - timedelta(minutes=rnd.randint(-300, 300))))
    return rows


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamsPane(id="streams")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def painted(app: App[Any], pilot: Any) -> None:
    """Until the screen has rendered what is there now (one compositor pass)."""
    await pilot.pause()
    app.screen._compositor.render_update(full=True)


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


class Collections:
    """Garbage collections while it is on (either thread): their summed and longest pause.
    The model step's snapshot of the jobs view (200k rows) is walked by each young
    collection it lives through while it is tracked: what it costs the loop."""

    def __init__(self) -> None:
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.total += pause
        self.longest = max(self.longest, pause)

    def __enter__(self) -> Collections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


async def loop_time_of(action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(wall time, longest event-loop stall during ``action``) via a 1 ms ticker's lag."""
    held = 0.0
    running = True

    async def ticker() -> None:
        nonlocal held
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            held = max(held, now - last - 0.001)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    held = 0.0
    wall = await timed(action)
    running = False
    await task
    return wall, held


async def run(n_streams: int, n_jobs: int, rounds: int = 3) -> dict[str, float]:
    pages = stream_pages(n_streams)
    decoder = msgspec.json.Decoder(JobStreamPage)
    started = time.perf_counter()
    streams = [s for body in pages for s in (decoder.decode(body).results or ())]
    decode = time.perf_counter() - started
    read = JobStreamRead(streams)
    jobs_view = JobsView(job_rows(n_jobs, n_streams), clock=lambda: NOW)
    empty_view = JobsView(clock=lambda: NOW)
    # The app freezes its first plan out of the collector's reach (``gcpolicy``): what a
    # collection still walks during the step is what the step itself holds.
    gc.collect()
    gc.freeze()

    models, loops, bare, gc_total, gc_longest = [], [], [], [], []
    for _ in range(rounds):
        view = StreamsView()
        with Collections() as collections:
            wall, held = await loop_time_of(
                functools.partial(count_streams, view, read, jobs_view, NOW))
        models.append(wall)
        loops.append(held)
        gc_total.append(collections.total)
        gc_longest.append(collections.longest)
        bare.append(await timed(lambda: count_streams(StreamsView(), read, empty_view, NOW)))
    view = StreamsView()
    counted = await count_streams(view, read, jobs_view, NOW)
    assert counted == n_jobs and view.total == n_streams

    figures: dict[str, float] = {
        "streams": n_streams, "jobs": n_jobs, "decode_ms": ms(decode),
        "model_ms": ms(statistics.median(models)),
        "loop_stall_ms": ms(statistics.median(loops)),
        "loop_stall_max_ms": ms(max(loops)),
        "gc_in_model_ms": ms(statistics.median(gc_total)),
        "gc_longest_in_model_ms": ms(statistics.median(gc_longest)),
        "model_no_jobs_ms": ms(statistics.median(bare)),
    }

    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(StreamsPane)
        await painted(app, pilot)
        state = StreamsState(view, FeedHealth(ok=True, last_success=NOW, polls=1), counted)

        async def show() -> None:
            pane.state = state
            await painted(app, pilot)

        figures["first_paint_ms"] = ms(await timed(show))
        pane.table.focus()

        async def keystroke() -> None:
            pane.apply_filter("stream_01")
            await painted(app, pilot)

        figures["filter_ms"] = ms(await timed(keystroke))
        pane.apply_filter("")

        async def sort() -> None:
            await pilot.press("s")
            app.screen._compositor.render_update(full=True)

        figures["sort_ms"] = ms(await timed(sort))
        assert view.sort_column == "stream"

    table_app = TableApp()
    async with table_app.run_test(size=SIZE) as pilot:
        table = table_app.query_one(DataTable)
        for title in ("Stream", "Status", "Jobs", "Fail", "Worst job", "Workstation"):
            table.add_column(title)
        cells = [(r.name, r.info.status, str(r.jobs), str(r.count("failed")), r.worst_job,
                  r.info.workstation) for r in view.rows_in(0, view.total)]

        async def load() -> None:
            table.add_rows(cells)
            await painted(table_app, pilot)

        figures["datatable_baseline_ms"] = ms(await timed(load))
    paint_path = figures["model_ms"] + figures["first_paint_ms"]
    figures["pane_path_ms"] = round(paint_path, 1)
    figures["ratio_to_datatable"] = round(paint_path / max(figures["datatable_baseline_ms"],
                                                           0.1), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="model steps timed (median)")
    parser.add_argument("--jobs", type=int, default=200_000)
    args = parser.parse_args()
    figures = asyncio.run(run(args.streams, args.jobs, args.rounds))
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
