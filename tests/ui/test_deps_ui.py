"""The Dependencies tab against the simulator: neighbours as rows with their live status,
Enter opens a predecessor's detail, ``w`` lists the root cause with its chain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import TabbedContent

from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.model import Job
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.job_detail import JobDetailScreen
from resync_tui.ui.widgets.deps_list import DepsList
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


async def until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Wait (on the app's loop, never on a clock assertion) until ``condition`` holds."""
    async def wait() -> None:
        while not condition():
            await pilot.pause(0.02)
    await asyncio.wait_for(wait(), DEADLINE)


def held_chain(sim: Simulator, length: int) -> list[Job]:
    """[job, its only predecessor, that one's only predecessor, ...], all still HOLD."""
    for job in sim.plan.jobs:
        chain = [job]
        while (len(chain) <= length and len(chain[-1].preds) == 1
               and chain[-1].status == "HOLD" and chain[-1].preds[0].status == "HOLD"):
            chain.append(chain[-1].preds[0])
        if len(chain) > length:
            return chain
    raise AssertionError("no held chain in the plan")


async def open_detail(app: ResyncApp, pilot: Pilot[None], job_id: str) -> JobDetailScreen:
    row = app.view.get(job_id)
    assert row is not None
    screen = JobDetailScreen(row, app.loader)
    app.push_screen(screen)
    await pilot.pause()
    screen.query_one(TabbedContent).active = "tab-deps"
    deps = screen.query_one(DepsList)
    await until(pilot, lambda: bool(deps.nodes))
    return screen


async def test_move_to_a_predecessor_and_open_it(sim: Simulator, redis_url: str) -> None:
    chain = held_chain(sim, 3)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        screen = await open_detail(app, pilot, chain[1].id)
        deps = screen.query_one(DepsList)
        # Row 0 is its predecessor (chain[2]), then its successors (chain[0] among them).
        assert deps.nodes[0].id == chain[2].id and deps.nodes[0].status == "HOLD"
        assert chain[0].id in [n.id for n in deps.nodes[1:]]
        deps.table.focus()
        await pilot.press("down")
        assert deps.table.cursor_row == 1
        await pilot.press("up", "enter")
        await until(pilot, lambda: app.screen is not screen)
        opened = app.screen
        assert isinstance(opened, JobDetailScreen) and opened.job.job_id == chain[2].id
        await until(pilot, lambda: chain[2].name in screen_text(app))
        await pilot.press("escape")
        assert app.screen is screen


async def test_neighbour_status_is_live_not_cached(sim: Simulator, redis_url: str) -> None:
    chain = held_chain(sim, 2)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        screen = await open_detail(app, pilot, chain[0].id)
        deps = screen.query_one(DepsList)
        assert deps.nodes[0].status == "HOLD"
        sim.plan.set_status(chain[1], "ABEND")
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await pilot.press("r")
        await until(pilot, lambda: deps.nodes[0].status == "ABEND")
        # The list's new state is drawn on a later refresh (under load, after the check).
        await until(pilot, lambda: "✖ ABEND" in screen_text(app))


async def test_w_lists_the_root_cause_with_its_chain(sim: Simulator, redis_url: str) -> None:
    chain = held_chain(sim, 3)
    sim.plan.set_status(chain[3], "ABEND")
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        screen = await open_detail(app, pilot, chain[0].id)
        deps = screen.query_one(DepsList)
        await pilot.press("w")
        await until(pilot, lambda: deps.report is not None)
        assert deps.report is not None
        failed = [c for c in deps.report.causes if c.kind == "failed"]
        assert [c.node.id for c in failed] == [chain[3].id]
        text = screen_text(app)
        assert "Why is this waiting" in text
        line = next(line for line in text.splitlines() if "✖ failed" in line)
        assert chain[3].name in line and "(ABEND)" in line
        via = f"via {chain[1].name} ← {chain[2].name}"
        assert via in text


async def test_after_w_enter_opens_the_root_cause_itself(sim: Simulator, redis_url: str) -> None:
    """Chasing an ABEND: the walk puts the keyboard on the failed job three levels up,
    and Enter opens it (no climbing predecessor by predecessor)."""
    chain = held_chain(sim, 3)
    sim.plan.set_status(chain[3], "ABEND")
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        screen = await open_detail(app, pilot, chain[0].id)
        deps = screen.query_one(DepsList)
        neighbours = len(deps.nodes)
        await pilot.press("w")
        await until(pilot, lambda: deps.report is not None and len(deps.nodes) > neighbours)
        assert deps.table.has_focus
        assert deps.nodes[deps.table.cursor_row].id == chain[3].id
        assert "✖ cause" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not screen)
        opened = app.screen
        assert isinstance(opened, JobDetailScreen) and opened.job.job_id == chain[3].id
        await pilot.press("escape")
        assert app.screen is screen


async def test_a_second_walk_reads_the_structure_from_the_cache_not_the_engine(
        sim: Simulator, redis_url: str) -> None:
    """Statuses come from the live jobs view, the structure from the cache: asking again
    costs the engine nothing, and the view's newer status is what the walk sees."""
    chain = held_chain(sim, 3)
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(160, 48)):
        await ready(app)

        def pred_reads() -> int:
            return sum(n for name, n in sim.stats()["requests"].items()
                       if name.endswith("/predecessors"))

        first = await asyncio.wait_for(app.loader.why_waiting(chain[0].id), DEADLINE)
        assert chain[3].id not in [c.node.id for c in first.causes if c.kind == "failed"]
        before = pred_reads()
        sim.plan.set_status(chain[3], "ABEND")
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        again = await asyncio.wait_for(app.loader.why_waiting(chain[0].id), DEADLINE)
        assert chain[3].id in [c.node.id for c in again.causes if c.kind == "failed"]
        assert pred_reads() == before
