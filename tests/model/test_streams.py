"""The job streams view: counts from the jobs the app holds, worst job, sort and filter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import msgspec

from resync_tui.hwa.models import JobStreamInPlan
from resync_tui.model.jobs_view import JobRow, JobsView
from resync_tui.model.status import ALL_GROUPS, KNOWN_STATUSES, group_of
from resync_tui.model.streams import (
    STREAM_SORT_COLUMNS,
    StreamInfo,
    StreamsView,
    all_jobs,
    build_stream_rows,
    stream_info_from_model,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _job(job_id: str, stream: str, status: str, job: str = "", **fields: object) -> JobRow:
    return JobRow(job_id=job_id, stream=stream, job=job or f"JOB_{job_id}", status=status,
                  **fields)  # type: ignore[arg-type]


def _info(name: str, status: str = "EXEC", **fields: object) -> StreamInfo:
    return StreamInfo(stream_id=f"ID_{name}", name=name, status=status,
                      **fields)  # type: ignore[arg-type]


def test_every_job_is_counted_in_exactly_one_group_and_counts_add_up() -> None:
    rng = random.Random(4)
    statuses = [*sorted(KNOWN_STATUSES), "NEWFANGLED", "", "ZZZ"]
    streams = [_info(f"S{i:03d}") for i in range(40)]
    jobs = [_job(f"J{i}", f"S{rng.randrange(42):03d}", rng.choice(statuses))
            for i in range(3000)]
    rows = build_stream_rows(streams, jobs, NOW)
    assert [r.name for r in rows] == [s.name for s in streams]
    for row in rows:
        mine = [j for j in jobs if j.stream == row.name]
        assert row.jobs == len(mine) == sum(row.counts)
        assert len(row.counts) == len(ALL_GROUPS) == 7
        for name, count in zip(ALL_GROUPS, row.counts, strict=True):
            assert count == sum(1 for j in mine if group_of(j.status).name == name)
    # Jobs of streams the engine does not list (S040, S041) are nowhere.
    assert sum(r.jobs for r in rows) == sum(1 for j in jobs if j.stream < "S040")


def test_unknown_status_counts_as_other_never_vanishes() -> None:
    rows = build_stream_rows([_info("A")], [_job("1", "A", "BRANDNEW"),
                                            _job("2", "A", "SUCC")], NOW)
    assert rows[0].count("other") == 1 and rows[0].count("done") == 1


def test_worst_job_follows_the_attention_order() -> None:
    jobs = [
        _job("1", "A", "SUCC", "Z_DONE"),
        _job("2", "A", "EXEC", "RUNNING", started=NOW - timedelta(minutes=5),
             estimated_duration=3600.0),
        _job("3", "A", "HOLD", "LATE_HOLD", scheduled=NOW - timedelta(hours=1)),
        _job("4", "B", "SUCC", "ONLY_DONE"),
        _job("5", "C", "STUCK", "B_STUCK"),
        _job("6", "C", "ABEND", "Y_FAILED"),
    ]
    rows = {r.name: r for r in build_stream_rows([_info("A"), _info("B"), _info("C"),
                                                  _info("EMPTY", "HOLD")], jobs, NOW)}
    assert rows["A"].worst_job == "LATE_HOLD"  # held past its time beats running on time
    assert rows["B"].worst_job == "ONLY_DONE"
    assert (rows["C"].worst_job, rows["C"].worst_status) == ("Y_FAILED", "ABEND")
    assert rows["EMPTY"].worst_job == "" and rows["EMPTY"].jobs == 0


def test_a_job_past_its_deadline_makes_its_stream_as_urgent_as_the_jobs_pane_says() -> None:
    """A READY job past its deadline is "critical late" in the jobs pane's attention
    order (above stuck and late jobs); its stream's worst job and place must say the
    same, whatever its status (only running and held jobs were judged on the clock)."""
    jobs = [
        _job("1", "A", "READY", "MISSED", deadline=NOW - timedelta(minutes=10)),
        _job("2", "A", "HOLD", "LATE_HOLD", scheduled=NOW - timedelta(hours=1)),
        _job("3", "B", "STUCK", "B_STUCK"),
        _job("4", "C", "READY", "ON_TIME", deadline=NOW + timedelta(hours=1)),
    ]
    view = JobsView(jobs, clock=lambda: NOW)
    assert [view.row_at(i).job for i in range(2)] == ["MISSED", "B_STUCK"]
    rows = build_stream_rows([_info("A"), _info("B"), _info("C")], jobs, NOW)
    by_name = {r.name: r for r in rows}
    assert by_name["A"].worst_job == "MISSED"
    assert by_name["A"].worst_rank < by_name["B"].worst_rank < by_name["C"].worst_rank
    streams = StreamsView(rows)
    assert [streams.row_at(i).name for i in range(3)] == ["A", "B", "C"]


def test_default_order_puts_streams_with_failed_jobs_first() -> None:
    jobs = [_job("1", "CALM", "SUCC"), _job("2", "BROKEN", "ABEND"),
            _job("3", "BUSY", "EXEC"), _job("4", "BROKEN", "SUCC")]
    view = StreamsView(build_stream_rows(
        [_info("CALM", "SUCC"), _info("BUSY"), _info("BROKEN")], jobs, NOW))
    assert [r.name for r in view.rows_in(0, 10)] == ["BROKEN", "BUSY", "CALM"]


def test_sort_by_each_column_and_reverse() -> None:
    rows = build_stream_rows(
        [_info("B", "SUCC", workstation="W2"), _info("A", "ABEND", workstation="W3"),
         _info("C", "HOLD", workstation="W1")],
        [_job("1", "A", "ABEND"), _job("2", "A", "ABEND"), _job("3", "B", "SUCC")], NOW)
    view = StreamsView(rows)
    for column in STREAM_SORT_COLUMNS:
        assert view.set_sort(column)
        assert len(view) == 3
    view.set_sort("stream")
    assert [r.name for r in view.rows_in(0, 3)] == ["A", "B", "C"]
    view.set_sort("stream", descending=True)
    assert [r.name for r in view.rows_in(0, 3)] == ["C", "B", "A"]
    view.set_sort("failed", descending=True)
    assert view.row_at(0).name == "A"
    view.set_sort("workstation")
    assert [r.info.workstation for r in view.rows_in(0, 3)] == ["W1", "W2", "W3"]
    assert not view.set_sort("workstation")


def test_filter_is_a_substring_over_name_folder_workstation_and_worst_job() -> None:
    rows = build_stream_rows(
        [_info("PAYROLL_001", folder="/HR/"), _info("LEDGER_002", workstation="FTA_AIX_04"),
         _info("BILLING_003")],
        [_job("1", "BILLING_003", "ABEND", "SEND_INVOICES_01")], NOW)
    view = StreamsView(rows)
    assert view.set_filter("payroll")
    assert [r.name for r in view.rows_in(0, 9)] == ["PAYROLL_001"]
    view.set_filter("aix")
    assert [r.name for r in view.rows_in(0, 9)] == ["LEDGER_002"]
    view.set_filter("invoices")
    assert [r.name for r in view.rows_in(0, 9)] == ["BILLING_003"]
    view.set_filter("/hr/")
    assert view.position_of("ID_PAYROLL_001") == 0 and view.position_of("ID_LEDGER_002") is None
    view.set_filter("")
    assert len(view) == view.total == 3
    # A new read keeps the filter and the order.
    view.set_sort("stream", descending=True)
    view.set_filter("_00")
    view.set_rows(rows[:2])
    assert [r.name for r in view.rows_in(0, 9)] == ["PAYROLL_001", "LEDGER_002"]


def test_all_jobs_reads_the_whole_view_whatever_its_filter() -> None:
    view = JobsView([_job(str(i), "S", "SUCC" if i % 2 else "ABEND") for i in range(50)])
    view.set_filter("nothing matches this")
    view.set_group_filter("failed")
    assert len(view) == 0
    assert sorted(r.job_id for r in all_jobs(view)) == sorted(str(i) for i in range(50))


def test_stream_info_from_the_engine_model() -> None:
    raw = {"id": "S1", "name": "PAYROLL", "folder": "/HR/", "workstation": "MASTER",
           "compositeStatus": {"status": "STUCK"}, "jobStreamStats": {"numberOfJob": 4},
           "jsDefinitionFlags": {"carriedForward": True},
           "timeInfo": {"actualStartTime": "2026-11-25T01:00:00Z"}}
    info = stream_info_from_model(msgspec.json.decode(msgspec.json.encode(raw),
                                                      type=JobStreamInPlan))
    assert (info.stream_id, info.name, info.status, info.engine_jobs) == (
        "S1", "PAYROLL", "STUCK", 4)
    assert info.carried_forward and info.started == datetime(2026, 11, 25, 1, tzinfo=UTC)


def test_failing_counts_the_streams_the_engine_says_failed_or_stuck() -> None:
    view = StreamsView(build_stream_rows(
        [_info("A", "ABEND"), _info("B", "STUCK"), _info("C", "EXEC"), _info("D", "SUCC")],
        [_job("1", "C", "ABEND")], NOW))
    view.set_filter("D")
    assert view.failing == 2


def test_a_read_prepared_off_the_loop_follows_a_sort_changed_meanwhile() -> None:
    rows = build_stream_rows([_info("B"), _info("A"), _info("C")], [], NOW)
    view = StreamsView()
    prepared = view.prepare(rows)  # what the feed's worker thread does
    view.set_sort("stream", descending=True)  # the operator pressed keys meanwhile
    view.set_filter("a")
    view.adopt(prepared)
    assert [r.name for r in view.rows_in(0, 9)] == ["A"]
    view.set_filter("")
    assert [r.name for r in view.rows_in(0, 9)] == ["C", "B", "A"]
