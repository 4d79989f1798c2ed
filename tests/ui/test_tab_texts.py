"""The tab bar on a small terminal: every tab's mark whole, whatever the width asks of
the names (a bar cuts what does not fit at its right edge, with no ellipsis)."""

from __future__ import annotations

import asyncio

import pytest
from rich.cells import cell_len
from textual.widgets import Tabs

from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.faults import Faults
from resync_tui.model.overall import stale_after
from resync_tui.ui.panes import PANES
from resync_tui.ui.tab_texts import TAB_PADDING, TabText, fit_tab_texts
from tests.ui.dashboard_support import DEADLINE, SteppedClock, make_app, ready, screen_text, sim

__all__ = ["sim"]

#: A plan in trouble everywhere: the widest marks each pane can carry.
TROUBLE = {"jobs": "⚠✖1,234 ●12 new", "breakers": "✖1", "cache": "⚠", "redis": "✖",
           "workstations": "⚠✖2", "streams": "⚠✖91", "critical": "⚠✖139"}


def _tabs(marks: dict[str, str]) -> list[TabText]:
    return [TabText(e.label, e.short or e.label, str(n), marks.get(e.id, ""))
            for n, e in enumerate(PANES, 1)]


def _width(texts: list[str]) -> int:
    return sum(cell_len(t) + TAB_PADDING for t in texts)


def test_a_wide_bar_shows_every_name_in_full() -> None:
    texts = fit_tab_texts(_tabs(TROUBLE), 200)
    assert texts[0] == "Jobs ⚠✖1,234 ●12 new"
    assert texts[PANES.index(next(e for e in PANES if e.id == "critical"))] == "Critical ⚠✖139"
    assert "Workstations ⚠✖2" in texts and "Cache ⚠" in texts


@pytest.mark.parametrize("width", [80, 70, 60])
def test_a_narrow_bar_shortens_names_and_keeps_every_mark(width: int) -> None:
    texts = fit_tab_texts(_tabs(TROUBLE), width)
    assert _width(texts) <= width
    for text, e in zip(texts, PANES, strict=True):
        symbols = TROUBLE[e.id].removesuffix(" new")
        assert symbols in text, (text, symbols)  # the figures whole, in their own tab


def test_names_give_way_in_steps_the_same_for_every_tab() -> None:
    at_80 = fit_tab_texts(_tabs(TROUBLE), 80)
    assert at_80 == ["Jobs ⚠✖1,234 ●12 new", "Brk ✖1", "Cache ⚠", "Redis ✖", "WS ⚠✖2",
                     "Strm ⚠✖91", "Crit ⚠✖139"]
    at_60 = fit_tab_texts(_tabs(TROUBLE), 60)
    assert at_60 == ["1 ⚠✖1,234 ●12", "2 ✖1", "3 ⚠", "4 ✖", "5 ⚠✖2", "6 ⚠✖91", "7 ⚠✖139"]
    calm_but_two = fit_tab_texts(_tabs({"jobs": "⚠✖1,234 ●12 new", "critical": "⚠✖139"}), 48)
    assert calm_but_two == ["Jobs ⚠✖1,234 ●12", "2", "3", "4", "5", "6", "Crit ⚠✖139"]


def test_a_pane_without_a_single_key_keeps_its_short_name() -> None:
    tabs = [tab._replace(key="") if tab.label == "Cache" else tab
            for tab in _tabs({"jobs": "⚠✖1,234 ●12 new", "critical": "⚠✖139"})]
    assert fit_tab_texts(tabs, 48)[2] == "Cache"


def test_a_calm_plan_keeps_the_full_names_at_80_columns() -> None:
    texts = fit_tab_texts(_tabs({"jobs": "✖92", "streams": "✖91", "critical": "✖152"}), 80)
    assert texts == ["Jobs ✖92", "Breakers", "Cache", "Redis", "Workstations", "Streams ✖91",
                     "Critical ✖152"]


async def test_at_80_columns_every_tab_shows_its_whole_mark_when_everything_is_wrong(
        sim: Simulator, redis_url: str) -> None:
    # Found at 80x24 in tmux: with the engine gone, the bar ended in `Critical ✖1` while
    # 139 jobs were past due (the rest of the figure cut at the edge, with no ellipsis).
    clock = SteppedClock()
    app = make_app(sim.base_url, redis_url, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        sim.set_faults(Faults(outage="refused"))
        for _ in range(6):  # enough failures in a row to open the engine's breakers
            await asyncio.wait_for(
                app.poll_now("engine", "jobs", "workstations", "streams", "critical"), DEADLINE)
        await asyncio.wait_for(app.poll_now("breakers"), DEADLINE)
        clock.advance(stale_after(app.runners["jobs"].interval) * 2)
        d = app.dashboard
        d.update_overall()
        await pilot.pause()
        marks = d.tab_marks()
        marked = [pane for pane, mark in marks.items() if mark]
        assert {"jobs", "workstations", "streams", "critical"} <= set(marked), marks
        full = sum(cell_len(f"{e.label} {marks[e.id]}".strip()) + TAB_PADDING for e in PANES)
        assert full > 80  # the full names would not fit: the bar must give way
        shown = screen_text(app).splitlines()[1].split()  # the bar: name mark name...
        for e in PANES:
            name = next(n for n in (e.label, e.short, str(PANES.index(e) + 1)) if n in shown)
            if marks[e.id]:  # right after its name, whole (``●N new`` may lose its word)
                at = shown.index(name) + 1
                mark = marks[e.id].removesuffix(" new").split()
                assert shown[at:at + len(mark)] == mark, (e.id, marks[e.id], shown)
        assert app.query_one("#pane-tabs", Tabs).display
        await pilot.resize_terminal(200, 60)  # wide: the grid, no bar
        await pilot.resize_terminal(100, 24)  # a wider bar: the full names come back
        await pilot.pause()
        bar = screen_text(app).splitlines()[1]
        assert f"Critical {marks['critical']}" in bar, bar
