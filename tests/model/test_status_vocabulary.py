"""One status vocabulary: every status in exactly one group, used alike by every view of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from textual.app import App, ComposeResult

from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.status import (
    ALL_GROUPS,
    ATTENTION_STATUSES,
    FAILED_STATUSES,
    GROUPS,
    count_by_group,
    group_of,
    symbol_of,
)
from resync_tui.ui.widgets.jobs_pane import JobsPane
from resync_tui.ui.widgets.status_counts import StatusCounts

SPEC = Path(__file__).resolve().parents[3] / "shared" / "hwa" / "openapi-v2.json"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _spec_statuses() -> list[str]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    values: list[str] = spec["components"]["schemas"]["JobInPlanStatus"]["enum"]
    return values


def test_every_status_of_the_spec_is_in_exactly_one_known_group() -> None:
    statuses = _spec_statuses()
    for status in statuses:
        owners = [g.name for g in GROUPS if status in g.statuses]
        assert len(owners) == 1, (status, owners)
        assert group_of(status).name != "other"
        assert symbol_of(status) != "?", status


def test_an_unknown_status_falls_in_other_and_is_counted() -> None:
    assert group_of("NEWSTATUS").name == "other"
    totals = count_by_group({"ABEND": 2, "NEWSTATUS": 3, "SUCC": 5})
    assert totals["other"] == 3 and totals["failed"] == 2 and totals["done"] == 5
    assert sum(totals.values()) == 10


def _rows() -> list[JobRow]:
    statuses = [*_spec_statuses(), "NEWSTATUS"]
    return [JobRow(job_id=f"J{i}", stream="S", job=f"JOB{i}", status=status)
            for i, status in enumerate(statuses)]


def test_group_filters_partition_the_plan() -> None:
    view = JobsView(_rows(), clock=lambda: NOW)
    seen: list[str] = []
    for name in ALL_GROUPS:
        view.set_group_filter(name)
        ids = [view.row_at(i).job_id for i in range(len(view))]
        assert all(group_of(view.get(j).status).name == name for j in ids if view.get(j))
        seen += ids
    assert sorted(seen) == sorted(r.job_id for r in _rows())
    view.set_group_filter("other")
    assert [view.row_at(i).status for i in range(len(view))] == ["NEWSTATUS"]


def test_next_failure_stops_at_abenp_like_every_failed_status() -> None:
    rows = [JobRow(job_id="A", job="A", status="SUCC"),
            JobRow(job_id="B", job="B", status="ABENP")]
    view = JobsView(rows, clock=lambda: NOW)
    view.set_sort("job")
    assert view.next_failure(0) == 1
    assert "ABENP" in FAILED_STATUSES


def test_attention_filter_is_exactly_the_failed_and_stuck_groups() -> None:
    view = JobsView(_rows(), clock=lambda: NOW)
    view.set_attention_filter(True)
    shown = {view.row_at(i).status for i in range(len(view))}
    assert shown == set(ATTENTION_STATUSES)


async def test_counts_line_adds_up_to_the_total_and_names_other() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusCounts()

    app = Host()
    async with app.run_test(size=(200, 5)) as pilot:
        widget = app.query_one(StatusCounts)
        counts = {status: 1 for status in _spec_statuses()} | {"NEWSTATUS": 4}
        widget.set_counts(counts)
        await pilot.pause()
        shown = dict(widget.counts)
        total = shown.pop("total")
        assert total == sum(counts.values())
        assert sum(shown.values()) == total
        assert shown["other"] == 4
        assert "? other 4" in str(widget.render())


async def test_f_cycles_through_every_group_and_the_filter_line_names_it() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield JobsPane(JobsView(_rows(), clock=lambda: NOW))

    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(JobsPane)
        pane.table.focus()
        names = []
        for _ in ALL_GROUPS:
            await pilot.press("f")
            names.append(pane.view.group_filter)
            line = str(app.query_one("#jobs-filter-line").render())
            assert f"status: {pane.view.group_filter}" in line
        assert names == list(ALL_GROUPS)
        await pilot.press("f")
        assert pane.view.group_filter is None and len(pane.view) == len(_rows())
