"""What the header and the wall say in each state an operator must tell apart.

The header leaves OK when a feed fails (5xx, malformed answers) or a breaker is open;
the data age moves with the clock; the wall's figures move with the plan (FAIL, ERROR,
STUCK), its band says the batch state and, on its second line, each overall state.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest
from textual.widgets import Digits

from resync_tui.hwa.simulator import Faults, Simulator
from resync_tui.hwa.simulator.plan import Job
from resync_tui.model.overall import stale_after
from resync_tui.model.status import FAILED_STATUSES, STUCK_STATUSES
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.panes import PANES as PANE_ENTRIES
from resync_tui.ui.screens.dashboard import WallState
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, screen_text, sim

__all__ = ["sim"]


def set_status(simulator: Simulator, job: Job, status: str) -> None:
    """Move a job as the engine would: its run, the plan's counts and its JSON follow."""
    plan = simulator.plan
    with plan.lock:
        plan.set_status(job, status)


def jobs_in(simulator: Simulator, *statuses: str) -> list[Job]:
    return [job for job in simulator.plan.jobs if job.status in statuses]


def wall_band(app: ResyncApp) -> tuple[str, str, WallState]:
    band = app.dashboard.query_one("#wall-state", WallState)
    head, tail = str(band.render()).split("\n")
    return head, tail, band


def digits(app: ResyncApp, key: str) -> str:
    return str(app.query_one(f"#wall-{key}", Digits).value)


async def poll(app: ResyncApp, *names: str) -> None:
    await asyncio.wait_for(app.poll_now(*names), DEADLINE)


# -- header ------------------------------------------------------------------------------

@pytest.mark.parametrize(("faults", "cause"), [
    (Faults(error_rate=1.0), "engine error HTTP 5"),  # 500, 502 or 503
    (Faults(malformed_json_rate=1.0), "malformed response from GET /plan/job"),
], ids=["5xx", "malformed"])
async def test_header_leaves_ok_while_the_engine_answers_errors(
        sim: Simulator, redis_url: str, faults: Faults, cause: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert app.dashboard.header.overall.label == "OK"
        assert "✔ OK" in screen_text(app)
        sim.set_faults(faults)
        await poll(app, "engine", "jobs")
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "DEGRADED"
        assert cause in overall.reason
        text = screen_text(app)
        assert "✔ OK" not in text and "⚠ DEGRADED" in text
        assert "⚠ STALE — data from 06:30:00" in text  # the jobs pane keeps its last data
        sim.set_faults(Faults())
        await poll(app, "engine", "jobs")
        await pilot.pause()
        assert app.dashboard.header.overall.label == "OK"


async def test_header_leaves_ok_while_a_breaker_is_open(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        app.runtime.breakers.get("hwa_api").force_open()
        await poll(app, "breakers")
        await pilot.pause()
        overall = app.dashboard.header.overall
        assert overall.label == "DEGRADED"
        assert "breaker hwa_api forced-open" in overall.reason
        text = screen_text(app)
        assert "✔ OK" not in text and "⚠ DEGRADED" in text
        app.runtime.breakers.get("hwa_api").reset()
        await poll(app, "breakers")
        await pilot.pause()
        assert app.dashboard.header.overall.label == "OK"


async def test_the_data_age_in_the_header_advances_with_the_clock(
        sim: Simulator, redis_url: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        app.dashboard.update_overall()
        await pilot.pause()
        assert "│ 06:30:00 │ data 0s old" in screen_text(app)
        for step, shown in ((7, "06:30:07 │ data 7s old"), (58, "06:31:05 │ data 1m 05s old"),
                            (3600, "07:31:05 │ data 1h 01m old")):
            clock.advance(step)
            app.dashboard.update_overall()
            await pilot.pause()
            assert shown in screen_text(app)
        await poll(app, "jobs")  # a new job list: young again
        app.dashboard.update_overall()
        await pilot.pause()
        assert "data 0s old" in screen_text(app)


# -- wall --------------------------------------------------------------------------------

async def test_wall_figures_and_band_follow_fail_error_and_stuck_jobs(
        sim: Simulator, redis_url: str) -> None:
    for ws in sim.plan.workstations:  # the plan clock is stopped: they stay linked
        ws.linked = True
    app = make_app(sim.base_url, redis_url, wall=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await poll(app, "workstations")
        await pilot.pause()
        failed = sum(app.view.counts.get(s, 0) for s in FAILED_STATUSES)
        stuck = sum(app.view.counts.get(s, 0) for s in STUCK_STATUSES)
        assert digits(app, "failed") == str(failed)
        assert digits(app, "stuck") == str(stuck)

        done = jobs_in(sim, "SUCC")
        set_status(sim, done[0], "FAIL")
        set_status(sim, done[1], "ERROR")
        set_status(sim, done[2], "STUCK")
        await poll(app, "jobs")
        await pilot.pause()
        assert digits(app, "failed") == str(failed + 2)
        assert digits(app, "stuck") == str(stuck + 1)
        head, _tail, band = wall_band(app)
        assert head == f"✖ FAILURES — {failed + 2:,} FAILED · {stuck + 1:,} STUCK"
        assert band.has_class("-failures")

        for job in jobs_in(sim, *FAILED_STATUSES):  # nothing failed, one stuck job left
            set_status(sim, job, "SUCC")
        for job in jobs_in(sim, *STUCK_STATUSES)[1:]:
            set_status(sim, job, "SUCC")
        await poll(app, "jobs")
        await pilot.pause()
        assert digits(app, "failed") == "0" and digits(app, "stuck") == "1"
        head, _tail, band = wall_band(app)
        assert head == "⚠ ATTENTION — 1 STUCK"
        assert band.has_class("-attention") and not band.has_class("-failures")

        for job in jobs_in(sim, *STUCK_STATUSES):
            set_status(sim, job, "SUCC")
        await poll(app, "jobs")
        await pilot.pause()
        assert digits(app, "stuck") == "0"
        head, _tail, band = wall_band(app)
        assert head == "✔ BATCH OK — no failed or stuck job, every workstation up"
        assert band.has_class("-ok") and not band.has_class("-attention")


async def _stale(app: ResyncApp, sim: Simulator, clock: SteppedClock) -> None:
    clock.advance(stale_after(app.runners["jobs"].interval) + 1)
    app.dashboard.update_overall()


async def _degraded(app: ResyncApp, sim: Simulator, clock: SteppedClock) -> None:
    app.runtime.breakers.get("hwa_api").force_open()
    await poll(app, "breakers")


async def _unreachable(app: ResyncApp, sim: Simulator, clock: SteppedClock) -> None:
    sim.set_faults(Faults(outage="refused"))
    await poll(app, "engine", "jobs")


async def _rejected(app: ResyncApp, sim: Simulator, clock: SteppedClock) -> None:
    sim.set_credentials(password="changed-by-the-engine-admin")
    await poll(app, "engine", "jobs")


async def _nothing(app: ResyncApp, sim: Simulator, clock: SteppedClock) -> None:
    app.dashboard.update_overall()


Change = Callable[[ResyncApp, Simulator, SteppedClock], Awaitable[None]]


@pytest.mark.parametrize(("change", "tail"), [
    (_nothing, "data ✔ OK"),
    (_stale, "data ⚠ STALE — no new job list from the engine: job data from 06:30:00"),
    (_degraded, "data ⚠ DEGRADED — breaker hwa_api forced-open"),
    (_unreachable, "data ✖ ENGINE UNREACHABLE — engine unreachable since 06:30:00"),
    (_rejected, "data ✖ CREDENTIALS REJECTED — credentials rejected (HTTP 401)"),
], ids=["ok", "stale", "degraded", "unreachable", "credentials"])
async def test_wall_band_second_line_says_each_overall_state(
        sim: Simulator, redis_url: str, change: Change, tail: str) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, wall=True, clock=clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await change(app, sim, clock)
        await pilot.pause()
        head, shown, _band = wall_band(app)
        assert shown.startswith(tail), shown
        assert head.startswith("✖ FAILURES")  # the batch state stays the headline
        label = tail.removeprefix("data ").split(" — ")[0]
        assert f" {label} " in screen_text(app).splitlines()[0]  # the header agrees


async def test_small_wall_rotates_the_panes_on_its_timer(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app)
        d = app.dashboard
        seen = [d.active_pane]

        def moved(pane: str) -> None:
            seen.append(pane)

        d.watch(d, "active_pane", moved, init=False)

        async def rotated(times: int) -> None:
            while len(seen) <= times:
                await pilot.pause(0.05)

        await asyncio.wait_for(rotated(2), DEADLINE)  # no key pressed: the timer did it
        # A wall rotates through its side panes (the jobs are on its big figures).
        order = [e.id for e in PANE_ENTRIES if e.side]
        for before, after in itertools.pairwise(seen):  # one pane at a time, in order
            assert order.index(after) == (order.index(before) + 1) % len(order), seen
        shown = d.active_pane  # the pane on screen is the one the timer picked
        assert d.pane_widget(shown).display
        assert d.jobs.display == (shown == "jobs")
