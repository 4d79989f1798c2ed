"""What the cache holds for the job detail screen, against the simulator and a real Redis.

A finished job's details and log are read again from L1, and by a second dashboard
(a new L1 over the same Redis) from L2; a neighbour's status is never served from
the cache; a running job's log is always read from the engine.
"""

from __future__ import annotations

import asyncio

from resync_tui.feeds.cache_stats import CacheKindRow, cache_usage
from resync_tui.feeds.detail import FINISHED_STATUSES, RuntimeDetailLoader
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.jobs_view import JobRow
from resync_tui.ui.app import ResyncApp
from tests.ui.dashboard_support import DEADLINE, frozen_clock, make_app, ready, screen_text, sim

__all__ = ["sim"]


def _rows(app: ResyncApp) -> list[JobRow]:
    return [app.view.row_at(i) for i in range(len(app.view))]


def _kind(app: ResyncApp, kind: str) -> CacheKindRow:
    return next(row for row in cache_usage(app.runtime.cache).rows() if row.kind == kind)


async def _open(loader: RuntimeDetailLoader, row: JobRow) -> tuple[object, ...]:
    """What the detail screen asks for when a job is opened, then its log."""
    assert row.run_id is not None
    fields, runs = await asyncio.wait_for(
        asyncio.gather(loader.job(row.job_id), loader.runs(row.job_id)), DEADLINE)
    log = await asyncio.wait_for(loader.job_log(row.run_id), DEADLINE)
    return dict(fields), [dict(run) for run in runs], log


async def test_a_finished_job_reopened_is_served_by_l1_and_a_second_dashboard_by_l2(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)
        finished = next(r for r in _rows(app) if r.status in FINISHED_STATUSES and r.run_id)
        loader = app.loader
        first = await _open(loader, finished)
        assert _kind(app, "job details") == CacheKindRow("job details", misses=1)
        assert _kind(app, "job logs") == CacheKindRow("job logs", misses=1)

        again = await _open(loader, finished)
        assert again == first
        assert _kind(app, "job details") == CacheKindRow("job details", l1_hits=1, misses=1)
        assert _kind(app, "job logs") == CacheKindRow("job logs", l1_hits=1, misses=1)

        # Another dashboard on the same Redis: its own, empty L1.
        other = build_runtime(app.settings, clock=frozen_clock)
        try:
            other_loader = RuntimeDetailLoader(other, jobs=app.view.get)
            assert await _open(other_loader, finished) == first
            usage = {row.kind: row for row in cache_usage(other.cache).rows()}
            assert usage["job details"] == CacheKindRow("job details", l2_hits=1)
            assert usage["job logs"] == CacheKindRow("job logs", l2_hits=1)
            assert other.cache.stats().l2.hits >= 2
        finally:
            await other.aclose()


async def test_the_cache_pane_shows_the_hit_rate_of_each_kind_in_one_explanation_line(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        finished = next(r for r in _rows(app) if r.status in FINISHED_STATUSES and r.run_id)
        await _open(app.loader, finished)
        await _open(app.loader, finished)
        await asyncio.wait_for(app.poll_now("cache"), DEADLINE)
        await pilot.pause()
        text = screen_text(app)
        lines = [line for line in text.splitlines() if "job logs" in line]
        assert len(lines) == 1 and "50.0% hit · 1 of 2 (L1 1)" in lines[0], lines
        assert "dependencies" in text and "not read yet" in text
        assert "Job status is never cached" in text
        assert "few hits" not in text  # the five-line apology is gone


async def test_a_predecessor_cancelled_since_shows_its_new_status_after_one_poll(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)
        rt = app.runtime
        by_id = {row.job_id: row for row in _rows(app)}
        target = pred = None
        for row in by_id.values():
            preds = await asyncio.wait_for(rt.client.predecessors(row.job_id), DEADLINE)
            held = [p for p in preds if p.id in by_id and by_id[p.id].status == "HOLD"]
            if held:
                target, pred = row, by_id[held[0].id or ""]
                break
        assert target is not None and pred is not None, "the plan has a held predecessor"
        before = await asyncio.wait_for(app.loader.predecessors(target.job_id), DEADLINE)
        assert any(f"{pred.job} @ {pred.workstation} [HOLD]" in line for line in before), before

        await asyncio.wait_for(rt.client.job_action(pred.job_id, "cancel"), DEADLINE)
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        after = await asyncio.wait_for(app.loader.predecessors(target.job_id), DEADLINE)
        line = next(line for line in after if f"{pred.job} @ {pred.workstation}" in line)
        assert line.endswith("[CANCL]"), after
        # The structure itself came from the cache: only the status was read live.
        assert _kind(app, "dependencies") == CacheKindRow("dependencies", l1_hits=1, misses=1)


async def test_a_running_jobs_log_is_read_from_the_engine_every_time(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)
        running = next(r for r in _rows(app) if r.status == "EXEC" and r.run_id)
        assert running.run_id is not None
        await asyncio.wait_for(app.loader.job(running.job_id), DEADLINE)
        first = await asyncio.wait_for(app.loader.job_log(running.run_id), DEADLINE)
        assert "killed" not in first
        await asyncio.wait_for(app.runtime.client.job_action(running.job_id, "kill"), DEADLINE)
        again = await asyncio.wait_for(app.loader.job_log(running.run_id), DEADLINE)
        assert "Job killed by operator request" in again
        assert _kind(app, "job logs").lookups == 0
