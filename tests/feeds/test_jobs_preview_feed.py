"""The first read of a big plan hands its most urgent rows on before the whole order is
built, and the feed's own view is never seen half-filled."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from resync_tui.feeds import jobs as jobs_feed
from resync_tui.feeds.jobs import JobsFeed, load_plan
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import ChangeSet, FirstReadTally, JobRow, JobsView
from tests.preview_support import big_sim, preview_any_share
from tests.ui.dashboard_support import frozen_clock, make_settings

__all__ = ["big_sim", "preview_any_share"]


@pytest.fixture(autouse=True)
def _no_share_cap(preview_any_share: None) -> None:
    """Every test here previews a small plan."""


def _ids(view: JobsView, limit: int) -> list[str]:
    return [row.job_id for row in view.rows_in(0, limit)]


async def test_a_first_read_shows_its_top_first_then_the_whole(
        big_sim: Simulator, redis_url: str) -> None:
    rt = build_runtime(make_settings(big_sim.base_url, redis_url), clock=frozen_clock)
    try:
        feed = JobsFeed(rt)
        feed.preview_from = 1000
        previews: list[tuple[JobsView, int]] = []
        feed.on_preview = lambda preview, _bad: previews.append((preview, feed.view.total))
        state = await feed.poll()
        assert state.health.ok and state.view.total == 1500
        assert len(previews) == 1
        preview, total_then = previews[0]
        assert total_then == 0  # the feed's view was still empty: nobody read a part
        assert preview.partial_of == 1500 and preview is not state.view
        shown = len(preview)
        assert 0 < shown <= 200
        assert _ids(preview, shown) == _ids(state.view, shown)
        assert dict(preview.counts) == dict(state.view.counts)
        # A re-read is a diff of the whole view: no preview.
        feed.force_full_read()
        big_sim.tick(3600)
        assert (await feed.poll()).full_read
        assert len(previews) == 1
    finally:
        await rt.aclose()


async def test_only_a_previewed_read_tallies_as_it_reads(
        big_sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's first read hands its preview the tally taken during the read (the
    top found without a pass over the plan); a feed nobody previews (``poller``,
    ``snapshot``) takes none."""
    handed: list[FirstReadTally | None] = []
    real = jobs_feed.load_plan

    async def spied(view: JobsView, rows: list[JobRow], *args: Any, **kwargs: Any
                    ) -> ChangeSet:
        handed.append(kwargs.get("tally"))
        return await real(view, rows, *args, **kwargs)

    monkeypatch.setattr(jobs_feed, "load_plan", spied)
    rt = build_runtime(make_settings(big_sim.base_url, redis_url), clock=frozen_clock)
    try:
        previewed = JobsFeed(rt)
        previewed.preview_from = 1000
        previewed.on_preview = lambda preview, bad: None
        assert (await previewed.poll()).view.total == 1500
        plain = JobsFeed(rt)
        assert (await plain.poll()).view.total == 1500
    finally:
        await rt.aclose()
    tally, none = handed
    assert tally is not None and tally.rows == 1500 and none is None
    assert sum(tally.counts.values()) == 1500
    assert all(row.status in ("ABEND", "FAIL", "ABENP", "ERROR") for row in tally.urgent)


async def test_a_small_first_read_gives_no_preview() -> None:
    rows = [JobRow(job_id=f"j{i}", status="ABEND" if i % 9 == 0 else "SUCC")
            for i in range(900)]
    seen: list[JobsView] = []
    change = await load_plan(JobsView(), rows, seen.append, preview_from=1000)
    assert not seen and len(change.added) == 900
    view = JobsView()
    await load_plan(view, rows, seen.append, preview_from=900)
    assert len(seen) == 1 and _ids(seen[0], 100) == _ids(view, 100)


def _plan(count: int) -> list[JobRow]:
    return [JobRow(job_id=f"j{i}", status="ABEND" if i % 9 == 0 else "SUCC")
            for i in range(count)]


async def test_the_whole_build_starts_once_the_previews_frame_is_painted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Started at once, the build's thread took the GIL every 5 ms from the loop while it
    # painted the preview: the frame came 10-20 ms later at 200k jobs.
    painted = asyncio.Event()
    seen: list[bool] = []
    view = JobsView()
    real = view.bulk_load

    def bulk_load(rows: Any, now: Any = None) -> Any:
        seen.append(painted.is_set())
        return real(rows, now)

    monkeypatch.setattr(view, "bulk_load", bulk_load)

    def on_preview(preview: JobsView) -> Any:
        asyncio.get_running_loop().call_later(0.05, painted.set)  # the frame, soon after
        return painted.wait()

    change = await load_plan(view, _plan(1200), on_preview, preview_from=1000)
    assert seen == [True] and len(change.added) == 1200


async def test_a_frame_that_never_comes_holds_the_build_only_a_moment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_feed, "PREVIEW_PAINT_WAIT", 0.05)
    never = asyncio.Event()
    started = time.monotonic()
    change = await asyncio.wait_for(
        load_plan(JobsView(), _plan(1200), lambda preview: never.wait(), preview_from=1000),
        5.0)
    assert len(change.added) == 1200 and time.monotonic() - started < 5.0
