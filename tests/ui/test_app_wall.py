"""Wall (kiosk) mode for a NOC, and NO_COLOR: the batch's state first and large, the
newest failures next, stale data never healthy-looking; no key needed."""

from __future__ import annotations

import asyncio

import pytest
from textual.color import Color
from textual.widgets import Digits, Footer, Label

from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.plan import Job
from resync_tui.model.overall import stale_after
from resync_tui.model.status import FAILED_STATUSES, STUCK_STATUSES
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.dashboard import WallState
from resync_tui.ui.widgets.wall import FIGURES, BigFigure
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, screen_text, sim

__all__ = ["sim"]

SIZES = [(200, 60), (120, 30)]


def figure(app: ResyncApp, key: str) -> str:
    return str(app.query_one(f"#wall-{key}", Digits).value)


def caption(app: ResyncApp, key: str) -> Label:
    return app.query_one(f"#wall-caption-{key}", Label)


def late_critical(app: ResyncApp) -> int:
    """What the model says: critical jobs the view calls late on its (the engine's) clock."""
    view = app.view
    return sum(1 for row in view.all_rows() if row.critical and view.is_late(row))


def set_status(simulator: Simulator, job: Job, status: str) -> None:
    with simulator.plan.lock:
        simulator.plan.set_status(job, status)


async def poll(app: ResyncApp, *names: str) -> None:
    await asyncio.wait_for(app.poll_now(*names), DEADLINE)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_four_figures_are_the_models_counts_at_both_sizes(
        sim: Simulator, redis_url: str, size: tuple[int, int]) -> None:
    plan = sim.plan
    for ws in plan.workstations:  # the plan clock is stopped: they stay as set here
        ws.linked = True
    next(ws for ws in plan.workstations if ws.type == "FTA").linked = False
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=size) as pilot:
        await ready(app)
        late_before = late_critical(app)
        # One more of each: a failure, a stuck job, a critical job held past its time.
        done = [job for job in plan.jobs if job.status == "SUCC"]
        set_status(sim, done[0], "ABEND")
        set_status(sim, done[1], "STUCK")
        held = next(job for job in done[2:] if job.sched_time < plan.now and not job.critical)
        held.critical = True
        set_status(sim, held, "HOLD")
        await poll(app, "jobs", "workstations")
        await pilot.pause()
        counts = app.view.counts
        failed = sum(counts.get(s, 0) for s in FAILED_STATUSES)
        stuck = sum(counts.get(s, 0) for s in STUCK_STATUSES)
        late = late_critical(app)
        assert late == late_before + 1
        assert figure(app, "failed") == f"{failed:,}" and failed > 0
        assert figure(app, "stuck") == f"{stuck:,}" and stuck > 0
        assert figure(app, "late") == f"{late:,}"
        down = len(app.dashboard.workstations.state.problems)  # type: ignore[union-attr]
        assert figure(app, "ws") == str(down) and down >= 1
        text = screen_text(app)
        for key, name, _severity in FIGURES:  # each figure named, on screen, large
            assert name in text
            big = app.query_one(f"#wall-{key}", BigFigure)
            assert big.region.height >= 5 and big.region.width >= 12
            assert big.region.bottom <= size[1]
        # Above zero: the severity's colour; zero: calm.
        assert rgb(app, "failed") == theme_rgb(app, "error")
        assert rgb(app, "stuck") == theme_rgb(app, "warning")
        if late == 0:
            assert rgb(app, "late") == theme_rgb(app, "success")
        else:
            assert rgb(app, "late") == theme_rgb(app, "error")
        assert not app.dashboard.query(Footer)  # no key hints: nobody types at a wall
        assert not any(tabs.display for tabs in app.dashboard.query("#pane-tabs"))


def rgb(app: ResyncApp, key: str) -> tuple[int, int, int]:
    colour = app.query_one(f"#wall-{key}", BigFigure).rich_style.color
    assert colour is not None
    triplet = colour.get_truecolor()
    return triplet.red, triplet.green, triplet.blue


def theme_rgb(app: ResyncApp, name: str) -> tuple[int, int, int]:
    return Color.parse(app.theme_variables[name]).rgb


async def test_newest_failure_first(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        before = d.failures.failures
        assert before and [f.at for f in before] == sorted((f.at for f in before), reverse=True)
        plan = sim.plan
        job = next(job for job in plan.jobs if job.status == "SUCC")
        with plan.lock:
            job.last_run.end = plan.now  # it fails now: newer than every other failure
            job.last_run.return_code = 12
        set_status(sim, job, "ABEND")
        await poll(app, "jobs")
        await pilot.pause()
        shown = d.failures.failures
        assert shown[0].job_id == job.id and shown[1:] == before
        lines = [line for line in screen_text(app).splitlines() if "✖ ABEND" in line]
        assert job.name in lines[0] and "RC 12" in lines[0] and job.stream.name in lines[0]
        assert before[0].job in lines[1]
        assert f"{len(shown)} failed jobs, newest first" in screen_text(app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_stale_data_greys_the_figures_and_says_stale_with_the_time(
        sim: Simulator, redis_url: str, size: tuple[int, int]) -> None:
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0, clock=clock)
    async with app.run_test(size=size) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        band = d.query_one("#wall-state", WallState)
        assert band.has_class("-failures") and rgb(app, "failed") == theme_rgb(app, "error")
        clock.advance(stale_after(app.runners["jobs"].interval) + 1)
        d.update_overall()
        await pilot.pause()
        for key, name, _severity in FIGURES:
            assert rgb(app, key) != theme_rgb(app, "error")  # greyed, whatever the value
            assert rgb(app, key) != theme_rgb(app, "success")
            assert str(caption(app, key).render()) == f"{name} · data from 06:30:00"
        assert figure(app, "failed") != "0"  # the last known figures stay, greyed
        assert band.has_class("-stale") and not band.has_class("-failures")
        tail = str(band.render()).split("\n")[1]
        assert tail.startswith("data ⚠ STALE") and "job data from 06:30:00" in tail
        assert "STALE" in screen_text(app)
        await poll(app, "jobs")  # fresh again: colours back
        d.update_overall()
        await pilot.pause()
        assert rgb(app, "failed") == theme_rgb(app, "error")
        assert str(caption(app, "failed").render()) == "FAILED"
        assert band.has_class("-failures") and not band.has_class("-stale")


async def test_small_wall_rotates_the_side_panes_and_keeps_the_failures(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        assert not d.wide
        assert d.breakers.display and not d.cache.display  # one side pane at a time
        assert d.failures.display and not d.jobs.display
        d.rotate()
        await pilot.pause()
        assert d.cache.display and not d.breakers.display and d.failures.display
        assert "NEWEST FAILURES" in screen_text(app)


async def test_a_wall_that_shows_every_pane_does_not_rotate(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        d = app.dashboard
        assert d.wide
        assert all(pane.display for pane in (d.breakers, d.cache, d.redis, d.workstations))
        assert "hwa_job_status" in screen_text(app)
        before = d.active_pane
        d.rotate()
        await pilot.pause()
        assert d.active_pane == before  # nothing to bring into view: no full repaint


async def test_wall_without_colour_marks_figures_above_zero_in_reverse(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        assert app.no_color
        assert figure(app, "failed") != "0" and figure(app, "stuck") == "0"
        assert caption(app, "failed").rich_style.reverse
        assert not caption(app, "stuck").rich_style.reverse


async def test_no_color_keeps_every_state_in_words(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        assert app.no_color  # Textual applies its monochrome filter
        text = screen_text(app)
        assert "✔ OK" in text
        assert "CLOSED" in text and "● UP" in text
        assert "ABEND" in text


async def test_an_idle_wall_repaints_none_of_its_own_widgets(
        sim: Simulator, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every second the state is judged again and every poll publishes: with nothing
    new, the band, the figures, their captions and the failures send nothing."""
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, wall=True, wall_rotate_seconds=0.0, clock=clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(app)
        await pilot.pause()
        d = app.dashboard
        watched = [d.wall_state, d.failures, *d.figures.query(BigFigure),
                   *d.figures.query(Label)]
        refreshes: dict[int, int] = {}
        for widget in watched:
            def counted(*args: object, _w: object = widget, _orig: object = widget.refresh,
                        **kwargs: object) -> object:
                refreshes[id(_w)] = refreshes.get(id(_w), 0) + 1
                return _orig(*args, **kwargs)  # type: ignore[operator]
            monkeypatch.setattr(widget, "refresh", counted)
        for _second in range(3):
            clock.advance(1)
            d.update_overall()
            await poll(app, "jobs")
            await pilot.pause()
        assert refreshes == {}
        job = next(job for job in sim.plan.jobs if job.status == "SUCC")
        set_status(sim, job, "FAIL")  # one new failure: the failed figure and the list
        await poll(app, "jobs")
        await pilot.pause()
        assert refreshes.get(id(d.query_one("#wall-failed"))) and refreshes.get(id(d.failures))
        assert not refreshes.get(id(d.query_one("#wall-ws")))
