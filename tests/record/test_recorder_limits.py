"""What a recording costs and where it stops: the size cap, the flush, the engine's zone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zstandard

from resync_tui.hwa.simulator import Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.record.format import (
    FORMAT,
    Entry,
    encode_frame,
    preamble,
    read_recording,
    rows_in_zone,
)
from tests.record.conftest import STEPS, record_minute


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=300, seed=7, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()


async def test_the_size_cap_stops_the_recording_and_the_dashboard_goes_on(
        sim: Simulator, redis_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "capped.rec"
    cap = 25_000
    with caplog.at_level(logging.WARNING, logger="resync_tui.record.recorder"):
        moments, recorder = await record_minute(sim, redis_url, path, max_bytes=cap)
    assert "size cap" in recorder.stopped
    assert any("recording stopped" in r.getMessage() and "size cap" in r.getMessage()
               for r in caplog.records)
    assert path.stat().st_size <= cap
    # The dashboard kept polling after the recording stopped (every step was shown) ...
    assert len(moments) == STEPS + 1
    # ... and the file is whole up to where it stopped: it replays, nothing torn.
    recording = read_recording(path)
    assert not recording.torn
    last = max(e.engine for e in recording.entries)
    assert moments[0].engine <= last < moments[-1].engine


async def test_every_publication_is_in_the_file_one_whole_plan_then_deltas(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "open.rec"
    moments, recorder = await record_minute(sim, redis_url, path)
    recording = read_recording(path)
    assert recorder.entries == len(recording.entries)
    jobs = [e for e in recording.entries if e.feed == "jobs"]
    assert len(jobs) == len(moments) and jobs[0].full and not any(e.full for e in jobs[1:])


def test_job_times_come_back_in_the_engines_offset(tmp_path: Path) -> None:
    """msgpack keeps an instant, not its offset: the table must show 03:12 as the engine
    wrote it (+02:00), not 01:12 UTC."""
    zone = timezone(timedelta(hours=2))
    started = datetime(2026, 12, 1, 3, 12, tzinfo=zone)
    row = JobRow("J1", stream="S", job="J", status="ABEND", started=started)
    path = tmp_path / "zone.rec"
    compressor = zstandard.ZstdCompressor()
    head = Entry("header", offset=7200.0, meta={"format": FORMAT})
    jobs = Entry("jobs", "jobs", engine=started.timestamp(), rows=[row], full=True,
                 offset=7200.0, state=b"{}")
    path.write_bytes(preamble() + encode_frame([head], compressor)
                     + encode_frame([jobs], compressor))
    recording = read_recording(path)
    (back,) = rows_in_zone(recording.entries[0].rows, recording.entries[0].offset)
    assert back == row
    assert back.started is not None and f"{back.started:%H:%M%z}" == "03:12+0200"
    assert f"{recording.local(started.timestamp()):%H:%M}" == "03:12"
