"""Record a minute of the dashboard against the simulator and Redis, replay it with neither."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from resync_tui.record.format import FORMAT, MAGIC, RecordingError, read_recording
from resync_tui.record.replay import parse_at
from resync_tui.settings import Settings
from resync_tui.ui.replay import DERIVED_FEEDS, ReplayApp
from tests.record.conftest import (
    NOWHERE_HWA,
    NOWHERE_REDIS,
    STEP,
    STEPS,
    Recorded,
    counts_of,
    without_polls,
)
from tests.ui.dashboard_support import DEADLINE, make_settings, screen_text


def nowhere() -> Settings:
    """Settings whose engine and Redis do not exist: a replay must not need them."""
    return make_settings(NOWHERE_HWA, NOWHERE_REDIS)


class StoppedClock:
    """A monotonic clock that never moves: the timeline moves only when told to."""

    def __call__(self) -> float:
        return 1000.0


async def test_replay_shows_what_was_recorded_at_every_moment(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    assert not recording.torn
    assert {"engine", "jobs", "workstations", "breakers", "cache", "redis",
            "streams"} <= set(recording.feeds())
    changed = sum(1 for a, b in zip(recorded.moments, recorded.moments[1:], strict=False)
                  if a.jobs != b.jobs)
    assert changed >= 3, "the simulated plan should have moved during the minute"
    app = ReplayApp(recording, nowhere(), monotonic=StoppedClock())
    async with app.run_test(size=(160, 48)) as pilot:
        # Forward, then backward, then forward again: seeking either way lands exactly.
        order = [*recorded.moments, *reversed(recorded.moments[:-1]), recorded.moments[-1]]
        for moment in order:
            app.timeline.seek(moment.engine)
            await asyncio.wait_for(app.replay_now(), DEADLINE)
            await pilot.pause()
            jobs = frozenset(app.view.all_rows())
            assert jobs == moment.jobs
            assert counts_of(jobs) == moment.counts
            for name, state in moment.states.items():
                if name in DERIVED_FEEDS:  # made from the jobs compared above, live
                    continue
                assert without_polls(app.runners[name].last) == state, name
        # No engine and no Redis: yet every pane has its recorded data, and the redis pane
        # says Redis was up, as it was when recorded.
        assert app.missing_data() == {}
        assert app.runners["redis"].last.up
        text = screen_text(app)
        assert "REPLAY" in text
        assert recording.local(recorded.moments[-1].engine).strftime("%H:%M:%S") in text


async def moved(app: ReplayApp) -> None:
    """Until the feeds caught up with the last key pressed."""
    assert app.moving is not None
    await asyncio.wait_for(app.moving.wait(), DEADLINE)


async def test_keys_move_the_timeline(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    app = ReplayApp(recording, nowhere(), monotonic=StoppedClock())
    first, last = recorded.moments[0], recorded.moments[-1]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("space")  # pause (the clock given never moves anyway)
        assert not app.timeline.playing
        await pilot.press("end")
        await moved(app)
        assert frozenset(app.view.all_rows()) == last.jobs
        await pilot.press("left_square_bracket")  # a minute back: the start
        await moved(app)
        assert app.timeline.position() == app.timeline.start
        assert frozenset(app.view.all_rows()) == first.jobs
        await pilot.press("right")  # one recorded moment on
        await moved(app)
        assert frozenset(app.view.all_rows()) == recorded.moments[1].jobs
        await pilot.press("home")
        await moved(app)
        assert frozenset(app.view.all_rows()) == first.jobs


async def test_at_starts_at_the_moment_asked(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    middle = recorded.moments[STEPS // 2]
    at = parse_at(recording.local(middle.engine).strftime("%H:%M:%S"), recording)
    assert at == middle.engine
    iso = parse_at(recording.local(middle.engine).isoformat(), recording)
    assert iso == middle.engine
    app = ReplayApp(recording, nowhere(), at=at, monotonic=StoppedClock())
    async with app.run_test(size=(160, 48)):
        await asyncio.wait_for(app.wait_for_data(app.recorded), DEADLINE)
        assert frozenset(app.view.all_rows()) == middle.jobs
        assert app.clock() == recording.local(middle.engine)


def test_at_refuses_what_it_cannot_read(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_at("yesterday", recording)


def test_playing_moves_through_the_recording_at_the_speed_asked(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    ticks = [0.0]
    app = ReplayApp(recording, nowhere(), speed=10.0, monotonic=lambda: ticks[0])
    timeline = app.timeline
    assert timeline.playing and timeline.position() == timeline.start
    ticks[0] = 3.0  # 3 s at 10x: 30 recorded seconds
    assert timeline.position() == timeline.start + 30.0
    ticks[0] = 100.0
    assert timeline.position() == timeline.end and not timeline.playing


def test_a_newer_format_is_refused_not_misread(recorded: Recorded, tmp_path: Path) -> None:
    data = recorded.path.read_bytes()
    newer = tmp_path / "newer.rec"
    newer.write_bytes(MAGIC + struct.pack(">H", FORMAT + 1) + data[len(MAGIC) + 2:])
    with pytest.raises(RecordingError) as caught:
        read_recording(newer)
    assert str(caught.value) == (f"recorded by a newer resync-tui (format {FORMAT + 1}); "
                                 f"this one reads up to {FORMAT}")


def test_a_torn_last_frame_is_ignored(recorded: Recorded, tmp_path: Path) -> None:
    whole = read_recording(recorded.path)
    data = recorded.path.read_bytes()
    torn = tmp_path / "torn.rec"
    torn.write_bytes(data[:-7])  # the crash came while the last frame was being written
    cut = read_recording(torn)
    assert cut.torn
    assert 0 < len(cut.entries) < len(whole.entries)
    assert cut.entries == whole.entries[:len(cut.entries)]


def test_corruption_in_the_middle_says_where_it_stops(recorded: Recorded,
                                                      tmp_path: Path) -> None:
    """A byte changed in a frame with frames after it (a bad last frame reads as a write
    cut short by a crash, and is dropped: ``torn``). Which frame the file's middle byte
    fell in depended on how the recording's frames came out."""
    from resync_tui.record.format import _frames

    data = bytearray(recorded.path.read_bytes())
    frames = [offset for offset, _, _ in _frames(bytes(data), len(MAGIC) + 2)]
    assert len(frames) >= 3, "the recording has a frame in the middle"
    middle = frames[len(frames) // 2] + 12  # inside that frame's body (after its head)
    data[middle] ^= 0xFF
    bad = tmp_path / "bad.rec"
    bad.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match=r"corrupt at byte \d+ .*readable up to there"):
        read_recording(bad)


def test_not_a_recording_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(RecordingError, match="not a resync-tui recording"):
        read_recording(other)


def test_the_recording_holds_no_secret(recorded: Recorded) -> None:
    recording = read_recording(recorded.path)
    assert recording.meta["format"] == FORMAT
    assert recording.meta["settings_digest"]
    assert b"demo" not in recorded.path.read_bytes()[:200]


def test_steps_recorded(recorded: Recorded) -> None:
    assert len(recorded.moments) == STEPS + 1
    assert recorded.moments[-1].engine - recorded.moments[0].engine == STEPS * STEP
