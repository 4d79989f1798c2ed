"""The jobs view: diffs, counts, attention order, filters, sorts, next failure."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import msgspec

from resync_tui.hwa.models import JobInPlan
from resync_tui.model.jobs_view import JobRow, JobsView, job_row_from_model, paced

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUSES = ["SUCC", "SUCC", "HOLD", "EXEC", "READY", "ABEND", "FAIL", "INTRO", "CANCL", "NEWSTAT"]


def _row(job_id: str, status: str = "SUCC", **fields: object) -> JobRow:
    defaults: dict[str, object] = {
        "stream": f"S_{job_id}",
        "job": f"J_{job_id}",
        "workstation": "WS1",
        "folder": "/PROD/",
    }
    defaults.update(fields)
    return JobRow(job_id=job_id, status=status, **defaults)  # type: ignore[arg-type]


def _ids(view: JobsView) -> list[str]:
    return [row.job_id for row in view.rows_in(0, len(view))]


def _view(rows: list[JobRow]) -> JobsView:
    view = JobsView(clock=lambda: NOW)
    view.apply(rows)
    return view


def test_apply_reports_added_changed_and_removed() -> None:
    view = _view([_row("a"), _row("b"), _row("c")])
    change = view.apply([_row("a"), _row("b", "ABEND"), _row("d")])
    assert change.added == ("d",)
    assert change.changed == ("b",)
    assert change.removed == ("c",)
    assert view.total == 3


def test_apply_with_equal_rows_reports_nothing() -> None:
    rows = [_row(str(i)) for i in range(50)]
    view = _view(rows)
    version = view.version
    change = view.apply([msgspec.structs.replace(row) for row in rows])
    assert not change
    assert view.version == version


def test_attention_order_puts_failures_then_late_jobs_then_the_rest() -> None:
    late_exec = _row(
        "late-exec", "EXEC", started=NOW - timedelta(minutes=30), estimated_duration=600
    )
    fresh_exec = _row(
        "exec", "EXEC", started=NOW - timedelta(minutes=1), estimated_duration=600
    )
    late_hold = _row("late-hold", "HOLD", scheduled=NOW - timedelta(minutes=5))
    hold = _row("hold", "HOLD", scheduled=NOW + timedelta(hours=1))
    view = _view(
        [
            _row("succ"),
            hold,
            _row("ready", "READY"),
            fresh_exec,
            late_hold,
            _row("stuck", "STUCK"),
            late_exec,
            _row("fail", "FAIL"),
            _row("abend", "ABEND"),
        ]
    )
    assert _ids(view) == [
        "abend", "fail", "late-exec", "stuck", "late-hold", "exec", "ready", "hold", "succ"
    ]


def test_exec_becomes_late_as_time_passes() -> None:
    clock = [NOW]
    view = JobsView(clock=lambda: clock[0])
    running = _row("run", "EXEC", started=NOW, estimated_duration=60)
    view.apply([_row("a", "READY"), running])
    assert _ids(view) == ["run", "a"]
    view.apply_changes([_row("b", "READY")])
    assert view.position_of("run") == 0
    view.apply([_row("a", "READY"), _row("b", "READY", stream="AAA"), running])
    assert _ids(view)[0] == "run"
    clock[0] = NOW + timedelta(minutes=2)
    change = view.refresh_clock()
    assert change.order_changed
    assert view.is_late(running)
    assert view.set_attention_filter(True)
    assert _ids(view) == ["run"]


def test_counts_follow_incremental_changes() -> None:
    rnd = random.Random(7)
    rows = {str(i): _row(str(i), rnd.choice(STATUSES)) for i in range(300)}
    view = _view(list(rows.values()))
    for _ in range(20):
        changed = [
            _row(job_id, rnd.choice(STATUSES)) for job_id in rnd.sample(sorted(rows), 15)
        ]
        removed = rnd.sample(sorted(rows), 3)
        new = [_row(f"n{rnd.random()}", rnd.choice(STATUSES)) for _ in range(4)]
        for row in [*changed, *new]:
            rows[row.job_id] = row
        for job_id in removed:
            rows.pop(job_id, None)
        view.apply_changes([*changed, *new], [job_id for job_id in removed if job_id])
        assert dict(view.counts) == dict(Counter(row.status for row in rows.values()))


def test_incremental_updates_give_the_same_order_as_a_fresh_view() -> None:
    rnd = random.Random(11)

    def random_row(job_id: str) -> JobRow:
        return _row(
            job_id,
            rnd.choice(STATUSES),
            stream=f"STREAM{rnd.randint(0, 20)}",
            job=f"Job{rnd.randint(0, 500)}",
            started=NOW - timedelta(minutes=rnd.randint(0, 200)) if rnd.random() < 0.5 else None,
            estimated_duration=rnd.choice([None, 600.0, 6000.0]),
            duration=rnd.choice([None, 5.0, 500.0]),
            scheduled=NOW + timedelta(minutes=rnd.randint(-100, 100)),
        )

    rows = {str(i): random_row(str(i)) for i in range(400)}
    view = _view(list(rows.values()))
    settings = [
        (None, False, "", None),
        ("job", True, "", None),
        ("started", False, "stream1", None),
        (None, False, "", frozenset({"ABEND", "HOLD"})),
        ("duration", True, "job4", frozenset({"SUCC", "EXEC"})),
    ]
    for column, descending, needle, statuses in settings:
        view.set_sort(column, descending)  # type: ignore[arg-type]
        view.set_filter(needle)
        view.set_status_filter(statuses)
        for _ in range(6):
            changed = [random_row(job_id) for job_id in rnd.sample(sorted(rows), 12)]
            removed = rnd.sample(sorted(rows), 2)
            added = [random_row(f"x{rnd.randint(0, 10**9)}") for _ in range(3)]
            for row in [*changed, *added]:
                rows[row.job_id] = row
            for job_id in removed:
                del rows[job_id]
            view.apply_changes([*changed, *added], removed)
            fresh = _view(list(rows.values()))
            fresh.set_sort(column, descending)  # type: ignore[arg-type]
            fresh.set_filter(needle)
            fresh.set_status_filter(statuses)
            assert _ids(view) == _ids(fresh)
            for index in (0, len(view) // 2, len(view) - 1):
                if len(view):
                    assert view.position_of(view.row_at(index).job_id) == index


def test_diff_then_apply_changes_matches_apply() -> None:
    old = [_row(str(i)) for i in range(100)]
    new = [*old[:50], *(_row(str(i), "ABEND") for i in range(50, 60)), _row("new")]
    view = _view(old)
    changed, removed = view.diff(new)
    assert {row.job_id for row in changed} == {*(str(i) for i in range(50, 60)), "new"}
    assert sorted(removed) == sorted(str(i) for i in range(60, 100))
    view.apply_changes(changed, removed)
    assert sorted(_ids(view)) == sorted(row.job_id for row in new)


def test_text_filter_is_case_insensitive_over_four_fields_not_across_them() -> None:
    view = _view(
        [
            _row("1", stream="PAYROLL", job="DAILY"),
            _row("2", workstation="Mainframe01"),
            _row("3", folder="/FINANCE/Q4/"),
            _row("4", stream="OTHER", job="LLORYAP"),
        ]
    )
    view.set_filter("payroll")
    assert _ids(view) == ["1"]
    view.set_filter("MAINFRAME")
    assert _ids(view) == ["2"]
    view.set_filter("finance/q")
    assert _ids(view) == ["3"]
    view.set_filter("rolldaily")
    assert _ids(view) == []
    view.set_filter("")
    assert len(view) == 4


def test_narrowing_filter_as_you_type_keeps_status_filter() -> None:
    view = _view([_row("a1", "ABEND"), _row("a2", "SUCC"), _row("b1", "ABEND")])
    view.set_status_filter({"ABEND"})
    for typed in ("j", "j_", "j_a"):
        view.set_filter(typed)
    assert _ids(view) == ["a1"]


def test_sort_by_column_both_ways_with_missing_values_last() -> None:
    view = _view(
        [
            _row("a", duration=30.0),
            _row("b"),
            _row("c", duration=10.0),
        ]
    )
    view.set_sort("duration")
    assert _ids(view) == ["c", "a", "b"]
    view.set_sort("duration", descending=True)
    assert _ids(view) == ["b", "a", "c"]
    view.set_sort(None)
    assert view.sort_column is None


def test_next_failure_wraps_around_and_skips_other_statuses() -> None:
    view = _view([_row("a", "ABEND"), _row("b", "FAIL"), _row("c"), _row("d", "ERROR")])
    view.set_sort("job")  # J_a, J_b, J_c, J_d
    assert view.next_failure(-1) == 0
    assert view.next_failure(0) == 1
    assert view.next_failure(1) == 3
    assert view.next_failure(3) == 0
    assert _view([_row("x")]).next_failure(0) is None


def test_unknown_status_is_kept() -> None:
    view = _view([_row("a", "BRANDNEW")])
    assert view.row_at(0).status == "BRANDNEW"
    assert view.counts == {"BRANDNEW": 1}


def test_job_row_from_model_reads_the_last_run() -> None:
    payload = {
        "id": "JOB1",
        "name": "PAYROLL_CALC",
        "folder": "/HR/",
        "workstation": "CPU1",
        "jobStreamName": "PAYROLL",
        "schedTime": "2026-11-25T06:00:00Z",
        "lastRunCompositeStatus": {"status": "ABEND", "substatus": "NONE"},
        "lastRunCommonStatus": "ERROR",
        "jobruns": [
            {"id": "RUN1", "returnCode": 0},
            {
                "id": "RUN2",
                "returnCode": 12,
                "timeInfo": {
                    "actualStartTime": "2026-11-25T06:01:00Z",
                    "actualEndTime": "2026-11-25T06:03:30Z",
                    "elapsedTime": "PT2M30S",
                    "estimatedDuration": "PT1M",
                },
            },
        ],
    }
    job = msgspec.json.decode(msgspec.json.encode(payload), type=JobInPlan)
    row = job_row_from_model(job)
    assert (row.job_id, row.stream, row.job, row.workstation, row.folder) == (
        "JOB1", "PAYROLL", "PAYROLL_CALC", "CPU1", "/HR/"
    )
    assert (row.status, row.common_status, row.return_code, row.run_id) == (
        "ABEND", "ERROR", 12, "RUN2"
    )
    assert row.duration == 150.0
    assert row.estimated_duration == 60.0
    assert row.started == datetime(2026, 11, 25, 6, 1, tzinfo=UTC)
    assert row.scheduled == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_large_plan_stays_ordered_through_many_small_updates() -> None:
    rnd = random.Random(5)
    rows = {f"{i:05d}": _row(f"{i:05d}", rnd.choice(STATUSES)) for i in range(2500)}
    view = _view(list(rows.values()))
    for step in range(16):  # enough to split the 1000-entry blocks several times
        added = [_row(f"a{step}-{i}", rnd.choice(STATUSES), stream="S") for i in range(300)]
        removed = rnd.sample(sorted(rows), 60)
        kept = sorted(set(rows) - set(removed))
        changed = [_row(job_id, rnd.choice(STATUSES)) for job_id in rnd.sample(kept, 40)]
        for job_id in removed:
            del rows[job_id]
        for row in [*added, *changed]:
            rows[row.job_id] = row
        view.apply_changes([*added, *changed], removed)
    fresh = _view(list(rows.values()))
    assert view.total == len(rows)
    assert _ids(view) == _ids(fresh)
    assert view.rows_in(1990, 2010) == fresh.rows_in(1990, 2010)
    last = view.row_at(len(view) - 1)
    assert view.position_of(last.job_id) == len(view) - 1


def test_text_filter_sees_names_that_changed_while_no_filter_was_set() -> None:
    """Haystacks exist only while a text filter is set: a job renamed, added or moved
    to another workstation in between must be found by the next filter as typed."""
    view = _view([_row("1", stream="PAYROLL"), _row("2", stream="BILLING")])
    view.set_filter("payroll")
    assert _ids(view) == ["1"]
    view.set_filter("")
    view.apply_changes([_row("1", stream="LEDGER"), _row("3", stream="PAYROLL_EU"),
                        _row("2", stream="BILLING", workstation="PAYROLL_WS")], now=NOW)
    view.set_filter("payroll")
    assert sorted(_ids(view)) == ["2", "3"]
    view.set_filter("ws=payroll_ws")
    assert _ids(view) == ["2"]


def test_rows_changed_while_a_text_filter_is_set_are_matched_on_their_new_names() -> None:
    view = _view([_row("1", stream="PAYROLL"), _row("2", stream="BILLING")])
    view.set_filter("payroll")
    view.apply_changes([_row("1", stream="LEDGER"), _row("2", stream="PAYROLL_US"),
                        _row("4", job="PAYROLL_CHECK")], now=NOW)
    assert sorted(_ids(view)) == ["2", "4"]
    view.set_filter("payroll_")
    assert sorted(_ids(view)) == ["2", "4"]
    view.set_filter("")
    assert len(view) == 3
    view.set_status_filter({"SUCC"})
    view.set_filter("ledger")
    assert _ids(view) == ["1"]


def test_rows_changing_every_poll_do_not_grow_the_late_watch() -> None:
    """A HOLD job waiting for its scheduled time changes on every poll (its run id, its
    estimate) while its late instant stays: the view must not remember that instant
    once more each time (a NOC screen polls for days), and still ranks it late."""
    scheduled = NOW + timedelta(hours=2)
    view = _view([_row(f"h{i}", "HOLD", scheduled=scheduled) for i in range(50)])
    watched = len(view._late_heap)
    for poll in range(200):
        view.apply_changes([_row(f"h{i}", "HOLD", scheduled=scheduled, run_id=f"r{poll}")
                            for i in range(50)], now=NOW)
    assert len(view._late_heap) == watched
    view.refresh_clock(now=scheduled + timedelta(minutes=1))
    assert view.set_attention_filter(True)
    assert len(view) == 50


def test_rows_added_at_once_or_one_by_one_give_the_same_view() -> None:
    """A first read adds every row in a few big calls, a re-read a few rows at a time:
    order, counts and the jobs that turn late later must not depend on which."""
    rng = random.Random(7)
    rows = [_row(f"j{i:03d}", rng.choice(STATUSES), stream=f"S{rng.randrange(9)}",
                 scheduled=NOW + timedelta(minutes=rng.randrange(-30, 90)),
                 started=NOW - timedelta(minutes=rng.randrange(0, 300)),
                 estimated_duration=float(rng.randrange(60, 3600)))
            for i in range(300)]
    bulk = JobsView(clock=lambda: NOW)
    bulk.apply_changes(rows, now=NOW)
    single = JobsView(clock=lambda: NOW)
    for row in rows:
        single.apply_changes([row], now=NOW)
    assert _ids(bulk) == _ids(single)
    assert dict(bulk.counts) == dict(single.counts)
    later = NOW + timedelta(hours=2)
    bulk.refresh_clock(later)
    single.refresh_clock(later)
    assert _ids(bulk) == _ids(single)
    bulk.set_attention_filter(True)
    single.set_attention_filter(True)
    assert _ids(bulk) == _ids(single) and len(bulk) > 0


def test_a_job_given_twice_in_one_update_is_counted_and_shown_once() -> None:
    """A read that saw a job on two pages (the plan moved under it) hands both versions
    over in one call: the status counts (the header's, the tabs') counted the second
    version twice and the first one minus once, and the table showed the job twice."""
    view = _view([_row(f"{i:03d}") for i in range(100)])  # a small change of a big view
    view.apply_changes([_row("a", "EXEC"), _row("b", "HOLD"), _row("a", "ABEND")], now=NOW)
    assert view.total == 102 and view.get("a") == _row("a", "ABEND")
    assert dict(view.counts) == {"ABEND": 1, "HOLD": 1, "SUCC": 100}
    assert len(view) == 102 and sorted(_ids(view)) == sorted({*_ids(view)})
    assert _ids(view)[:2] == ["a", "b"]


def test_paced_gives_every_row_once_in_order() -> None:
    """What a worker thread counts through ``paced`` is what it would count without it:
    every item once, in order, whatever the slice (the pauses only let the loop run)."""
    items = list(range(2_345))
    assert list(paced(items, every=1000)) == items
    assert list(paced(items, every=7)) == items
    assert list(paced([], every=10)) == []
