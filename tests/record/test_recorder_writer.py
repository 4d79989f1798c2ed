"""The recorder's writer thread: a big frame is encoded and written off the event loop,
frames stay in the order published, and the file reads back as what was shown."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import zstandard

from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.status import FeedHealth
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.record.format import Entry, encode_frame, read_recording, rows_in_zone
from resync_tui.record.recorder import Recorder, encode_frame_chunked
from tests.ui.dashboard_support import DEADLINE, FROZEN, SteppedClock

STATUSES = ("SUCC", "EXEC", "HOLD", "ABEND", "WAIT")


def plan(count: int) -> list[JobRow]:
    """Rows with random ids (they do not compress away: a frame larger than a pipe's
    buffer) and every kind of field, None ones too."""
    rows = []
    for i in range(count):
        started = FROZEN - timedelta(minutes=i % 600) if i % 3 else None
        rows.append(JobRow(f"{uuid.uuid4().hex}-{i}", stream=f"S{i % 97}", job=f"J{i}",
                           workstation=f"FTA_{i % 13}", folder="/F/",
                           status=STATUSES[i % len(STATUSES)],
                           return_code=i % 5 if i % 2 else None, started=started,
                           duration=float(i % 100) if i % 4 else None,
                           critical=i % 50 == 0))
    return rows


def test_chunked_frames_are_the_bytes_of_a_plain_frame() -> None:
    """Whatever the writer produces reads back as ``format.encode_frame`` would write it:
    the same bytes, so every reader of the format stays right."""
    rows = plan(2_345)
    entries = [
        Entry("jobs", "jobs", 1.5, 2.5, rows=rows, full=True, state=b"{}", offset=3600.0),
        Entry("state", "engine", 3.0, 4.0, state=b'{"x":1}'),
        Entry("jobs", "jobs", 5.0, 6.0, rows=rows[:3], removed=["a", "b"], state=b"{}"),
        Entry("jobs", "jobs", 7.0, 8.0, rows=rows[:1001]),  # just past a chunk, all defaults
    ]
    compressor = zstandard.ZstdCompressor(level=3)
    assert encode_frame_chunked(entries, compressor) == encode_frame(entries, compressor)


async def test_a_stalled_disk_never_stalls_the_dashboard_and_frames_stay_in_order(
        tmp_path: Path) -> None:
    """The recording goes to a pipe nobody reads yet (a disk that hangs): publishing the
    whole plan and the deltas after it still returns at once; once the pipe drains,
    the file holds every publication in order and replays to what the view held."""
    fifo = tmp_path / "stalled.rec"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    clock = SteppedClock()
    recorder = Recorder(fifo, clock, flush_seconds=0.0)
    recorder.open()
    view = JobsView(plan(20_000), clock=clock)
    expected: list[frozenset[JobRow]] = []

    def publish_a_morning() -> None:
        recorder.observe("jobs", JobsState(view, health=FeedHealth(last_success=clock()),
                                           full_read=True))
        expected.append(frozenset(view.all_rows()))
        for step in range(8):
            clock.advance(5.0)
            row = view.row_at(step * 11)
            failed = JobRow(row.job_id, stream=row.stream, job=row.job, status="ABEND",
                            return_code=8, started=datetime(2026, 11, 25, 6, step, tzinfo=UTC))
            gone = [view.row_at(500 + step).job_id]
            change = view.apply_changes([failed], gone)
            recorder.observe("jobs", JobsState(view, change=change,
                                               health=FeedHealth(last_success=clock())))
            expected.append(frozenset(view.all_rows()))

    received = bytearray()

    def drain() -> None:
        os.set_blocking(reader, True)
        while chunk := os.read(reader, 1 << 20):
            received.extend(chunk)

    drainer = threading.Thread(target=drain, daemon=True)
    try:
        # Old recorder: the first flush writes megabytes into the full pipe, on the loop,
        # and never returns: this deadline fails the test instead of hanging it.
        await asyncio.wait_for(asyncio.to_thread(publish_a_morning), DEADLINE)
        assert recorder.recording
    finally:
        drainer.start()
        await asyncio.wait_for(asyncio.to_thread(recorder.close), DEADLINE)
        await asyncio.wait_for(asyncio.to_thread(drainer.join), DEADLINE)
        os.close(reader)
    assert not recorder.stopped
    assert len(received) == recorder.bytes_written
    copy = tmp_path / "copy.rec"
    copy.write_bytes(bytes(received))
    recording = read_recording(copy)
    assert not recording.torn
    jobs = [e for e in recording.entries if e.feed == "jobs"]
    assert [e.engine for e in jobs] == sorted(e.engine for e in jobs)
    assert jobs[0].full and not any(e.full for e in jobs[1:])
    # Applied in file order, the entries give back what the view held at each moment.
    held: dict[str, JobRow] = {}
    for entry, shown in zip(jobs, expected, strict=True):
        if entry.full:
            held = {}
        for row in rows_in_zone(entry.rows, entry.offset):
            held[row.job_id] = row
        for job_id in entry.removed:
            held.pop(job_id, None)
        assert frozenset(held.values()) == shown
