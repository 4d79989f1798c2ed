"""A big first read shows its most urgent jobs while the rest of the plan is ranked: the
table says it is a preview, the counts are the whole plan's, what acts on every row
waits, and when the whole plan comes nothing is called new that was there at start.
Real simulator, real Redis; the build is held so the preview can be looked at."""

from __future__ import annotations

import asyncio
import threading

import pytest

from resync_tui.feeds import jobs as jobs_feed
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.jobs_view import BulkLoad
from resync_tui.ui.screens.export import ExportScreen
from tests.preview_support import big_sim, preview_any_share
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text

__all__ = ["big_sim", "preview_any_share"]

SIZE = (140, 40)


@pytest.fixture(autouse=True)
def _no_share_cap(preview_any_share: None) -> None:
    """Every test here previews a small plan."""


def _hold_the_build(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, asyncio.Event]:
    """A 1500-job read is previewed (5 rows: fewer than the plan's failures, the others
    come with the whole plan) and the whole build waits for the first event to be set;
    the second is set once the build starts, after the preview was handed on."""
    monkeypatch.setattr(jobs_feed, "PREVIEW_FROM", 1000)
    monkeypatch.setattr(jobs_feed, "PREVIEW_ROWS", 5)
    release = threading.Event()
    building = asyncio.Event()
    loop = asyncio.get_running_loop()
    build = BulkLoad.build

    def held_build(load: BulkLoad) -> None:
        loop.call_soon_threadsafe(building.set)
        release.wait(DEADLINE)
        build(load)

    monkeypatch.setattr(BulkLoad, "build", held_build)
    return release, building


async def test_the_top_of_a_big_first_read_shows_first_then_the_whole_plan(
        big_sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    release, building = _hold_the_build(monkeypatch)
    big_sim.set_faults(Faults(bad_records=2))  # records the preview lacks too
    app = make_app(big_sim.base_url, redis_url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pane = app.dashboard.jobs
        await asyncio.wait_for(building.wait(), DEADLINE)
        await pilot.pause()
        assert 1490 <= pane.view.partial_of < 1500
        unread = 1500 - pane.view.partial_of
        preview = pane.view
        text = screen_text(app)
        assert f"RANKING {1500 - unread:,} jobs — the 5 most urgent shown" in text
        assert f"5 most urgent of {1500 - unread:,} jobs" in text
        # What the read could not decode is said with the preview, not only after it.
        assert f"⚠ {unread} job records unreadable, not shown" in text
        first = preview.row_at(0)
        assert first.job in text and first.status in ("ABEND", "FAIL")
        # The counts are the whole plan's (not the 5 shown).
        assert sum(preview.counts.values()) == 1500 - unread
        assert f"{preview.counts['SUCC']:,}" in text
        # Nothing else takes the preview for the plan: the header still waits, and says
        # what for (not "no data yet" above rows read from the engine).
        assert "CONNECTING" in text
        assert f"ranking {1500 - unread:,} jobs" in text and "no data yet" not in text
        # What acts on every row waits for the whole plan.
        pane.table.focus()
        await pilot.press("e")
        await pilot.pause()
        said = " ".join(n.message for n in app._notifications)
        assert "cannot export yet: the plan is still being ranked" in said
        assert not isinstance(app.screen, ExportScreen)

        release.set()
        await ready(app)
        await pilot.pause()
        assert not pane.previewing
        whole = pane.view
        assert whole is app.view and whole.total == 1500 - unread
        assert [whole.row_at(i) for i in range(5)] == [preview.row_at(i) for i in range(5)]
        assert sum(1 for row in whole.rows_in(0, 1500) if row.status in ("ABEND", "FAIL")) > 5
        text = screen_text(app)
        assert "RANKING" not in text and "most urgent" not in text
        assert "ranking" not in text and "data 0s old" in text
        assert f"{1500 - unread:,} of {1500 - unread:,} jobs" in text
        assert f"⚠ {unread} job records unreadable, not shown" in text
        # What failed before the start is the baseline: not "new" (a baseline taken
        # from the preview's 5 rows would call every other failure new).
        assert not pane.table.new_jobs
        assert "new" not in str(pane.query_one("#jobs-filter-line").render())


async def test_a_fixed_password_is_not_still_called_rejected_above_the_preview(
        big_sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header judged the jobs feed's last poll (a 401) until the whole plan came: it
    said CREDENTIALS REJECTED above rows the engine had just answered with."""
    release, building = _hold_the_build(monkeypatch)
    big_sim.set_credentials(password="rotated")
    app = make_app(big_sim.base_url, redis_url)
    async with app.run_test(size=SIZE) as pilot:
        header = app.dashboard.header

        def label() -> str:
            return header.overall.label

        await asyncio.wait_for(app.wait_for_data(), DEADLINE)
        await pilot.pause()
        assert label() == "CREDENTIALS REJECTED"
        big_sim.set_credentials(password="demo")  # the engine's admin puts it back
        app.set_paused(True)  # only r polls now
        await pilot.press("r")
        try:
            await asyncio.wait_for(building.wait(), DEADLINE)

            async def engine_answered() -> None:
                while header.engine is None or not header.engine.health.ok:
                    await pilot.pause(0.05)

            await asyncio.wait_for(engine_answered(), DEADLINE)
            await pilot.pause()
            assert app.dashboard.jobs.previewing
            text = screen_text(app)
            assert "REJECTED" not in text and "credentials rejected" not in text
            assert label() == "CONNECTING"
            assert "ranking 1,5" in text
        finally:
            release.set()
        await asyncio.wait_for(app.wait_for_data(), DEADLINE)

        async def whole() -> None:
            while app.dashboard.jobs.previewing or label() != "OK":
                await pilot.pause(0.05)

        await asyncio.wait_for(whole(), DEADLINE)
