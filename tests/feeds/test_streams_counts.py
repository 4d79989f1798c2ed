"""The streams feed's count of a big plan (past 5,000 jobs: listed and grouped off the
loop, the last read's rows let go a slice at a time) shows what counting inline shows,
read after read, in the sort and filter the pane set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from resync_tui.feeds.streams import count_streams
from resync_tui.feeds.workstations import count_jobs_by_workstation
from resync_tui.hwa.models import JobStreamInPlan, JobStreamRead
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.streams import StreamsView, build_stream_rows, stream_info_from_model

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
DEADLINE = 10.0


def _read(count: int, tag: str) -> JobStreamRead:
    return JobStreamRead([JobStreamInPlan(id=f"S{i}", name=f"STREAM_{i:05d}",
                                          folder=f"/{tag}/") for i in range(count)])


def _jobs(count: int, streams: int, shift: int) -> JobsView:
    return JobsView([JobRow(job_id=f"J{i}", stream=f"STREAM_{i % streams:05d}",
                            job=f"JOB_{i}", status=("SUCC", "ABEND", "HOLD", "EXEC")[
                                (i + shift) % 4]) for i in range(count)], clock=lambda: NOW)


def _inline(read: JobStreamRead, jobs: JobsView) -> StreamsView:
    view = StreamsView()
    view.set_sort("stream", descending=True)
    view.set_filter("STREAM_0")
    view.set_rows(build_stream_rows([stream_info_from_model(s) for s in read.streams],
                                    jobs.rows_in(0, len(jobs)), NOW))
    return view


async def test_each_read_of_a_big_plan_replaces_the_streams_shown_whole() -> None:
    view = StreamsView()
    view.set_sort("stream", descending=True)
    view.set_filter("STREAM_0")
    kept = None
    for tag, streams, shift in (("FIRST", 6_000, 0), ("SECOND", 5_500, 1), ("THIRD", 6_100, 2)):
        read, jobs = _read(streams, tag), _jobs(12_000, streams, shift)
        counted = await asyncio.wait_for(count_streams(view, read, jobs, NOW), DEADLINE)
        assert counted == 12_000
        expected = _inline(read, jobs)
        assert len(view) == len(expected) > 0
        assert view.rows_in(0, len(view)) == expected.rows_in(0, len(expected))
        assert {row.info.folder for row in view.all_rows()} == {f"/{tag}/"}
        assert view.failing == expected.failing
        if kept is not None:  # a row of the last read someone still holds stays whole
            assert kept.info.folder != f"/{tag}/" and kept.name.startswith("STREAM_")
        kept = view.row_at(0)


async def _grow(jobs: JobsView, stop: asyncio.Event) -> int:
    """Jobs added on the loop, one a turn, until ``stop``: the view changes size while a
    worker thread counts it."""
    added = 0
    while not stop.is_set():
        jobs.apply_changes([JobRow(job_id=f"NEW{added}", stream="STREAM_00000",
                                   job=f"NEW_{added}", status="HOLD")])
        added += 1
        await asyncio.sleep(0)
    return added


async def test_a_count_while_the_plan_grows_counts_every_job_once() -> None:
    """The count reads the jobs view itself, a part at a time, while the loop may add
    jobs: what it reports is one consistent plan, no job twice, none missed."""
    read, jobs = _read(6_000, "LIVE"), _jobs(12_000, 6_000, 0)
    view = StreamsView()
    stop = asyncio.Event()
    grower = asyncio.create_task(_grow(jobs, stop))
    try:
        counted = await asyncio.wait_for(count_streams(view, read, jobs, NOW), DEADLINE)
    finally:
        stop.set()
        added = await grower
    assert added > 0  # the view did change under the count
    assert 12_000 <= counted <= 12_000 + added
    assert sum(row.jobs for row in view.all_rows()) == counted


async def test_a_workstation_count_while_the_plan_grows_counts_every_job_once() -> None:
    jobs = JobsView([JobRow(job_id=f"J{i}", workstation=f"WS_{i % 40:02d}", status="SUCC")
                     for i in range(12_000)], clock=lambda: NOW)
    stop = asyncio.Event()
    grower = asyncio.create_task(_grow(jobs, stop))
    try:
        per_ws, counted = await asyncio.wait_for(count_jobs_by_workstation(jobs), DEADLINE)
    finally:
        stop.set()
        added = await grower
    assert added > 0
    assert 12_000 <= counted <= 12_000 + added
    assert sum(sum(groups) for groups in per_ws.values()) == counted
