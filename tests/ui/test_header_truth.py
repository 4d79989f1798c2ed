"""The header and the wall tell the truth: old data is STALE, causes are named, the band
says how the batch is doing and, apart, whether the data is fresh."""

from __future__ import annotations

import asyncio
import dataclasses

from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.model.overall import stale_after
from resync_tui.model.status import FAILED_STATUSES
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.dashboard import WallState
from resync_tui.ui.widgets.workstations_pane import WorkstationsPane
from tests.ui.dashboard_support import (
    DEADLINE,
    SteppedClock,
    make_app,
    make_settings,
    ready,
    screen_text,
    sim,
)

__all__ = ["sim"]


async def test_data_older_than_a_few_intervals_is_stale_even_if_no_poll_failed(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        d = app.dashboard
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "OK"
        interval = app.runners["jobs"].interval
        clock.advance(stale_after(interval) - 1)
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "OK"
        clock.advance(2)  # a poll hangs (slow body): nothing failed, the data just ages
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "STALE"
        assert "job data from 06:30:00" in d.header.overall.reason
        text = screen_text(app)
        assert "✔ OK" not in text
        assert "⚠ STALE" in text and "data from 06:30:00" in text  # the jobs pane says it too
        # The workstations and Redis panes polled no better: their data is as old.
        for pane in ("#workstations", "#redis"):
            widget = app.query_one(pane)
            shown = (widget.text() if isinstance(widget, WorkstationsPane)
                     else str(widget.render()))
            assert "⚠ STALE, data from 06:30:00" in shown, shown
            assert "✔" not in shown and "● UP" not in shown
        # The next good poll makes it fresh again.
        await asyncio.wait_for(app.poll_now("engine", "jobs"), DEADLINE)
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "OK"


async def test_old_job_data_marks_the_jobs_and_critical_tabs_whatever_label_wins(
        sim: Simulator, redis_url: str) -> None:
    # Seen in tmux with slow bodies: the engine probe failed, so the header said ENGINE
    # UNREACHABLE and "51s old", while the job poll still hung on its body and had not
    # failed: the Jobs tab showed no ⚠ and the pane no stale line for a minute more.
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await asyncio.wait_for(app.poll_now("critical"), DEADLINE)
        d = app.dashboard
        d.update_overall()
        await pilot.pause()
        assert not d.tab_marks()["jobs"].startswith("⚠")
        assert not d.tab_marks()["critical"].startswith("⚠")
        clock.advance(5)
        sim.set_faults(Faults(outage="refused", paths=["/engine/info"]))
        await asyncio.wait_for(app.poll_now("engine"), DEADLINE)
        clock.advance(stale_after(app.runners["jobs"].interval))  # the job poll hangs
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "ENGINE UNREACHABLE"
        jobs = d.states["jobs"]
        assert isinstance(jobs, JobsState) and jobs.health.ok  # no job poll has failed
        marks = d.tab_marks()
        assert marks["jobs"].startswith("⚠"), marks
        assert marks["critical"].startswith("⚠"), marks
        assert "data from 06:30:00" in screen_text(app)  # the jobs pane's stale line
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("engine", "jobs", "critical"), DEADLINE)
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "OK"
        marks = d.tab_marks()
        assert not marks["jobs"].startswith("⚠") and not marks["critical"].startswith("⚠")


async def test_since_is_the_time_of_the_last_good_data_not_of_the_failure(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        clock.advance(600)  # 06:40:00
        sim.set_faults(Faults(outage="refused"))
        await asyncio.wait_for(app.poll_now("engine", "jobs"), DEADLINE)
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "ENGINE UNREACHABLE"
        assert "job data from 06:30:00" in overall.reason
        text = screen_text(app)
        assert "data from 06:30:00" in text
        assert "data 10m 00s old" in text


def _quick_timeouts(sim: Simulator, redis_url: str, clock: SteppedClock) -> ResyncApp:
    """An app whose reads time out after 0.3 s (a fault's 2 s latency times them out)."""
    settings = make_settings(sim.base_url, redis_url)
    settings = settings.replace(hwa=dataclasses.replace(settings.hwa, read_timeout=0.3))
    return ResyncApp(build_runtime(settings, clock=clock), settings)


async def test_one_read_timing_out_beside_a_fresh_job_list_is_degraded_not_unreachable(
        sim: Simulator, redis_url: str) -> None:
    # Seen in tmux: the workstation list timed out while every job poll answered, and the
    # header said ENGINE UNREACHABLE beside "data 0s old".
    clock = SteppedClock()
    app = _quick_timeouts(sim, redis_url, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        sim.set_faults(Faults(latency=2.0, paths=["/plan/workstation"]))
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        await pilot.pause()
        # Nothing else has answered since: for all the dashboard knows, the engine is gone.
        assert app.dashboard.header.overall.label == "ENGINE UNREACHABLE"
        clock.advance(5)
        await asyncio.wait_for(app.poll_now("engine", "jobs"), DEADLINE)
        app.dashboard.update_overall()
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "DEGRADED"
        assert "workstations: engine not answering (timeout) since 06:30:00" in overall.reason
        text = screen_text(app)
        assert "UNREACHABLE" not in text.splitlines()[0]
        assert "⚠ DEGRADED" in text and "data 0s old" in text
        sim.set_faults(Faults())
        await asyncio.wait_for(app.poll_now("workstations"), DEADLINE)
        app.dashboard.update_overall()
        await pilot.pause()
        assert app.dashboard.header.overall.label == "OK"


async def test_a_job_read_timing_out_while_the_engine_answers_is_not_called_unreachable(
        sim: Simulator, redis_url: str) -> None:
    # Seen in tmux with slow bodies: the job read timed out, the engine and its
    # workstations went on answering (and the fault was off), and the header said ENGINE
    # UNREACHABLE until the next job poll. The engine is there: the job list is what is old.
    clock = SteppedClock()
    app = _quick_timeouts(sim, redis_url, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        d = app.dashboard
        clock.advance(5)
        sim.set_faults(Faults(latency=2.0, paths=["/plan/job"]))
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        d.update_overall()
        await pilot.pause()
        # Nothing has answered since: for all the dashboard knows, the engine is gone.
        assert d.header.overall.label == "ENGINE UNREACHABLE"
        sim.set_faults(Faults())
        clock.advance(5)
        await asyncio.wait_for(app.poll_now("engine", "workstations"), DEADLINE)
        d.update_overall()
        await pilot.pause()
        overall = d.header.overall
        assert overall.label == "DEGRADED", overall
        assert "jobs: engine not answering (timeout) since 06:30:05" in overall.reason
        assert "UNREACHABLE" not in screen_text(app).splitlines()[0]
        clock.advance(stale_after(app.runners["jobs"].interval))  # no job list since
        d.update_overall()
        await pilot.pause()
        overall = d.header.overall
        assert overall.label == "STALE" and "job data from 06:30:00" in overall.reason
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        d.update_overall()
        await pilot.pause()
        assert d.header.overall.label == "OK"


async def test_paused_long_enough_is_stale_and_says_paused(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.press("p")
        clock.advance(stale_after(app.runners["jobs"].interval) + 1)
        app.dashboard.update_overall()
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "STALE" and overall.reason.startswith("refresh paused")


async def test_header_labels_the_engine_version(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert "127.0.0.1 · HWA 10.1.0.1" in screen_text(app)


async def test_wall_band_says_the_batch_state_and_data_freshness_apart(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        failed = sum(app.view.counts.get(s, 0) for s in FAILED_STATUSES)
        assert failed > 0
        band = str(app.dashboard.query_one("#wall-state", WallState).render())
        head, tail = band.split("\n")
        assert head.startswith("✖ FAILURES") and f"{failed:,} FAILED" in head
        assert "OK" not in head
        assert tail.startswith("data ✔ OK")
        sim.set_faults(Faults(outage="refused"))
        await asyncio.wait_for(app.poll_now("engine", "jobs"), DEADLINE)
        await pilot.pause()
        band = str(app.dashboard.query_one("#wall-state", WallState).render())
        head, tail = band.split("\n")
        assert head.startswith("✖ FAILURES")  # the batch is still known to be failing
        assert tail.startswith("data ✖ ENGINE UNREACHABLE")
