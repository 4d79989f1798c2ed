"""A bulk-loaded view (the first read, built off the loop) is the view an incremental
apply of the same rows builds: order under every sort, counts, filters, late ranks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from resync_tui.model.jobs_view import SORT_COLUMNS, JobRow, JobsView, SortColumn

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUSES = ["SUCC", "SUCC", "HOLD", "EXEC", "READY", "ABEND", "FAIL", "INTRO", "CANCL",
            "NEWSTAT"]


def _rows(count: int, seed: int) -> list[JobRow]:
    """Random jobs, some of them given twice (a later row for the same id wins), with
    times that make some late now and some late later."""
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        job_id = f"j{rnd.randrange(count * 9 // 10):06d}"  # ~10% of ids repeat
        rows.append(JobRow(
            job_id=job_id, status=rnd.choice(STATUSES),
            stream=f"S{rnd.randrange(40):02d}", job=f"JOB{rnd.randrange(300)}",
            workstation=rnd.choice(["WS1", "CPU_A", "PAYROLL_WS"]), folder="/PROD/",
            return_code=rnd.choice([None, 0, 4, 12]),
            started=NOW - timedelta(minutes=rnd.randrange(0, 300)) if i % 3 else None,
            ended=NOW - timedelta(minutes=rnd.randrange(0, 60)) if i % 5 == 0 else None,
            duration=rnd.choice([None, 5.0, 500.0]),
            estimated_duration=float(rnd.randrange(60, 3600)),
            scheduled=NOW + timedelta(minutes=rnd.randrange(-30, 90)),
            deadline=NOW + timedelta(minutes=rnd.randrange(-10, 200)) if i % 7 == 0 else None))
    return rows


def _ids(view: JobsView) -> list[str]:
    return [row.job_id for row in view.rows_in(0, len(view))]


def _bulk(rows: list[JobRow], *, setup: tuple[SortColumn | None, str] = (None, "")
          ) -> JobsView:
    view = JobsView(clock=lambda: NOW)
    view.set_sort(setup[0])
    view.set_filter(setup[1])
    load = view.bulk_load(rows)
    load.build()
    change = view.adopt(load)
    assert change is not None and len(change.added) == view.total
    assert change.changed_ids == frozenset(row.job_id for row in view.all_rows())
    return view


def _incremental(rows: list[JobRow]) -> JobsView:
    view = JobsView(clock=lambda: NOW)
    for start in range(0, len(rows), 200):
        view.apply_changes(rows[start : start + 200], now=NOW)
    return view


def _same(bulk: JobsView, incremental: JobsView) -> None:
    assert bulk.total == incremental.total
    assert _ids(bulk) == _ids(incremental)
    assert dict(bulk.counts) == dict(incremental.counts)
    for index in (0, 1, len(bulk) // 3, len(bulk) - 1):
        assert bulk.next_failure(index) == incremental.next_failure(index)
        job_id = bulk.row_at(index).job_id
        assert bulk.position_of(job_id) == incremental.position_of(job_id) == index


@pytest.mark.parametrize("count", [150, 7000])
def test_a_bulk_load_gives_the_view_an_incremental_apply_gives(count: int) -> None:
    rows = _rows(count, seed=count)
    bulk, incremental = _bulk(rows), _incremental(rows)
    _same(bulk, incremental)
    for column in (*SORT_COLUMNS, None):
        for descending in (False, True):
            bulk.set_sort(column, descending)
            incremental.set_sort(column, descending)
            _same(bulk, incremental)
    for needle in ("payroll", "s1", "status=ABEND rc>0", "job2"):
        bulk.set_filter(needle)
        incremental.set_filter(needle)
        assert len(bulk) > 0
        _same(bulk, incremental)
    bulk.set_filter("")
    incremental.set_filter("")
    bulk.set_sort(None)
    incremental.set_sort(None)
    bulk.set_attention_filter(True)
    incremental.set_attention_filter(True)
    _same(bulk, incremental)
    later = NOW + timedelta(hours=2)  # EXEC, HOLD and deadlines turn late: re-ranked
    assert bulk.refresh_clock(later).order_changed
    incremental.refresh_clock(later)
    _same(bulk, incremental)


def test_a_bulk_load_under_a_sort_and_filter_set_before_it() -> None:
    rows = _rows(5000, seed=3)
    bulk = _bulk(rows, setup=("workstation", "payroll"))
    incremental = _incremental(rows)
    incremental.set_sort("workstation")
    incremental.set_filter("payroll")
    assert 0 < len(bulk) < bulk.total
    _same(bulk, incremental)
    bulk.apply_changes([JobRow(job_id="new", stream="PAYROLL_X", status="ABEND")], now=NOW)
    incremental.apply_changes([JobRow(job_id="new", stream="PAYROLL_X", status="ABEND")],
                              now=NOW)
    _same(bulk, incremental)  # the installed blocks take later writes like any others


def test_sort_filter_and_writes_made_during_the_build_are_honoured() -> None:
    """The build works from what ``bulk_load`` saw; what changed before ``adopt`` wins."""
    rows = _rows(5000, seed=9)
    reference = _incremental(rows)
    reference.set_sort("started", True)
    reference.set_filter("cpu_a")
    reference.set_status_filter({"SUCC", "ABEND"})

    view = JobsView(clock=lambda: NOW)
    load = view.bulk_load(rows)
    view.set_sort("started", True)
    view.set_filter("cpu_a")
    view.set_status_filter({"SUCC", "ABEND"})
    load.build()
    assert view.adopt(load) is not None
    _same(view, reference)

    filtered = JobsView(clock=lambda: NOW)  # the same sort: only the filter is new
    filtered.set_sort("started", True)
    load = filtered.bulk_load(rows)
    filtered.set_filter("cpu_a")
    filtered.set_status_filter({"SUCC", "ABEND"})
    load.build()
    assert filtered.adopt(load) is not None
    assert 0 < len(filtered) < filtered.total
    _same(filtered, reference)

    written = JobsView(clock=lambda: NOW)
    load = written.bulk_load(rows)
    extra = JobRow(job_id="extra", stream="ZZ", status="FAIL")
    written.apply_changes([extra], now=NOW)
    load.build()
    assert written.adopt(load) is None  # refused: the view is as the write left it
    assert written.total == 1 and written.get("extra") == extra
    written.apply_changes(rows, now=NOW)  # what the feed does then
    reference.apply_changes([extra], now=NOW)
    reference.set_sort(None)
    reference.set_filter("")
    reference.set_status_filter(None)
    _same(written, reference)


def test_a_cancelled_build_is_never_installed_and_a_full_view_is_never_bulk_loaded() -> None:
    rows = _rows(5000, seed=4)
    view = JobsView(clock=lambda: NOW)
    load = view.bulk_load(rows)
    load.cancel()
    load.build()
    assert view.adopt(load) is None and view.total == 0
    view.apply_changes(rows[:10], now=NOW)
    with pytest.raises(ValueError):
        view.bulk_load(rows)


def test_the_ids_a_bulk_load_reports_stay_those_of_the_load_after_the_view_moves_on() -> None:
    """A consumer may hold the load's ChangeSet while the next poll writes to the view:
    its ``changed_ids`` must still be the plan as loaded (the view's index answers for
    them only while nothing has written to it)."""
    rows = _rows(3000, seed=3)
    view = JobsView(clock=lambda: NOW)
    load = view.bulk_load(rows)
    load.build()
    change = view.adopt(load)
    assert change is not None
    loaded = {row.job_id for row in rows}
    assert len(change.changed_ids) == len(loaded)
    assert set(change.changed_ids) == loaded
    some = next(iter(loaded))
    assert some in change.changed_ids and "nope" not in change.changed_ids
    view.apply_changes([JobRow(job_id="later", status="HOLD")], (some,), now=NOW)
    assert "later" not in change.changed_ids  # added after the load
    assert some in change.changed_ids  # removed after it: it was loaded all the same
    assert change.changed_ids == frozenset(loaded)
