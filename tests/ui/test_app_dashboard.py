"""The dashboard against the simulator and a real Redis: panes, layout, keys, quitting."""

from __future__ import annotations

import asyncio

from textual.widgets import Tabs

from resync_tui.hwa.simulator import Simulator
from resync_tui.ui.screens.help import HelpScreen
from resync_tui.ui.screens.job_detail import JobDetailScreen
from tests.ui.dashboard_support import DEADLINE, make_app, ready, screen_text, sim

__all__ = ["sim"]


async def test_every_pane_shows_data_in_the_wide_grid(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        await pilot.pause()
        text = screen_text(app)
        assert "✔ OK" in text
        assert "10.1.0.1" in text  # engine version from GET /engine/info
        for title in ("Jobs", "Circuit breakers", "Cache", "Redis", "Workstations"):
            assert f"─ {title} ─" in text
        for breaker in ("hwa_api", "hwa_job_status", "redis"):
            assert breaker in text
        assert "llm_api" not in text  # nothing here calls an LLM: no breaker guards one
        assert "● UP" in text
        assert "L1 memory" in text and "L2 Redis" in text
        assert "ABEND" in text
        assert not any(tabs.display for tabs in app.query("#pane-tabs").results(Tabs))


def sim_url(sim: Simulator) -> str:
    return sim.base_url


async def test_small_terminal_shows_one_pane_behind_tabs_and_regrids_on_resize(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        d = app.dashboard
        assert app.query_one("#pane-tabs", Tabs).display
        assert d.jobs.display and not d.redis.display
        await pilot.press("4")
        assert d.redis.display and not d.jobs.display
        assert "● UP" in screen_text(app)
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert d.wide
        assert all(p.display for p in (d.jobs, d.breakers, d.cache, d.redis, d.workstations))


async def test_a_grid_shrunk_to_tabs_shows_them_on_the_pane_picked_with_their_marks(
        sim: Simulator, redis_url: str) -> None:
    """A terminal wide enough for the grid mounts no tab bar; shrunk, the tabs appear
    on the pane last picked, each with its mark, and the keys still pick tabs."""
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        d = app.dashboard
        await pilot.press("4")  # in the grid: the Redis pane is the active one
        marks = d.tab_marks()
        assert marks["jobs"]  # the demo plan has failures: the Jobs tab carries a mark
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        tabs = app.query_one("#pane-tabs", Tabs)
        assert tabs.display and tabs.active == "tab-redis"
        assert d.redis.display and not d.jobs.display
        text = screen_text(app)
        assert f"Jobs {marks['jobs']}" in text and "● UP" in text
        await pilot.press("2")
        await pilot.pause()
        assert tabs.active == "tab-breakers" and d.breakers.display and not d.redis.display


async def test_refresh_key_polls_at_once_and_shows_plan_changes(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)  # intervals of an hour: only "r" can poll
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        before = dict(app.view.counts)
        polls = app.runners["jobs"].results
        sim.tick(3 * 3600)
        await pilot.press("r")
        await asyncio.wait_for(app.runners["jobs"].wait_results(polls + 1), DEADLINE)
        assert dict(app.view.counts) != before


async def test_pause_holds_polls_until_resumed(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await ready(app)
        await pilot.press("p")
        assert app.paused
        assert "PAUSED" in screen_text(app)
        polls = app.runners["jobs"].results
        await pilot.press("r")  # asked for: one poll now, and it says so; still paused
        await asyncio.wait_for(app.runners["jobs"].wait_results(polls + 1), DEADLINE)
        await pilot.pause()
        assert app.paused
        said = [n.message for n in app._notifications]
        assert len(said) == 1 and said[0].startswith("refreshing once; polling stays paused")
        polls = app.runners["jobs"].results
        app.runners["jobs"].kick(refresh=True)  # a poll that is due waits for the resume
        for _ in range(5):
            await pilot.pause()
        assert app.runners["jobs"].results == polls
        await pilot.press("p")
        await asyncio.wait_for(app.runners["jobs"].wait_results(polls + 1), DEADLINE)
        assert "PAUSED" not in screen_text(app)


async def test_plus_and_minus_change_the_job_poll_interval(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url, interval=10.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("plus")
        assert app.runners["jobs"].interval == 15.0
        await pilot.press("minus", "minus")
        assert app.runners["jobs"].interval == 5.0
        await pilot.pause()
        assert "every 5s" in screen_text(app)


async def test_t_toggles_between_a_dark_and_a_light_theme(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_theme.dark
        await pilot.press("t")
        assert not app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark


async def test_question_mark_opens_help_and_escape_closes_it(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_enter_on_a_job_opens_its_details(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app)
        # No click, no Tab: the job table has the keyboard from the start.
        first = app.view.row_at(1)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, JobDetailScreen)
        assert app.screen.job.job_id == first.job_id

        async def shown() -> None:
            while first.job not in screen_text(app) or "loading" in screen_text(app):
                await pilot.pause(0.05)

        await asyncio.wait_for(shown(), DEADLINE)
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_q_quits_and_closes_the_client_and_redis(sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.runtime.closed
    assert not [w for w in app.workers if w.group == "feeds" and not w.is_finished]


async def test_command_palette_offers_pause_refresh_interval_and_theme(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url)
    async with app.run_test(size=(120, 40)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Pause / resume refresh" in titles
        assert "Refresh now" in titles
        assert "Toggle dark / light theme" in titles
        assert any(t.startswith("Job poll interval") for t in titles)


async def test_notifications_replace_each_other_instead_of_piling_up(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim_url(sim), redis_url, interval=10.0)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await pilot.press(*["minus"] * 7)
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said == ["job list every 1s"]
