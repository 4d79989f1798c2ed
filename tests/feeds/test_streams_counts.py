"""The streams feed's count of a big plan (past 5,000 jobs: listed and grouped off the
loop, the last read's rows let go a slice at a time) shows what counting inline shows,
read after read, in the sort and filter the pane set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from resync_tui.feeds.streams import count_streams
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
