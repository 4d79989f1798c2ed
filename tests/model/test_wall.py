"""What the wall shows: its four figures and the newest failures, as the job list moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.wall import WallCounts, WallTracker, wall_counts

NOW = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _rows() -> list[JobRow]:
    return [
        JobRow("A", job="OLD_FAIL", stream="S", workstation="W1", status="ABEND",
               return_code=8, started=_ago(60), ended=_ago(50)),
        JobRow("B", job="NEW_FAIL", stream="S", workstation="W2", status="FAIL",
               ended=_ago(1)),
        JobRow("C", job="NO_TIME", status="ERROR"),
        JobRow("D", job="CRIT_LONG", status="EXEC", critical=True, started=_ago(90)),
        JobRow("E", job="CRIT_SHORT", status="EXEC", critical=True, started=_ago(5),
               estimated_duration=600.0),
        JobRow("F", job="PLAIN_LONG", status="EXEC", started=_ago(90)),
        JobRow("G", job="CRIT_HELD", status="HOLD", critical=True, scheduled=_ago(10)),
        JobRow("H", job="CRIT_DONE", status="SUCC", critical=True, ended=_ago(2)),
        JobRow("I", job="STUCK", status="STUCK"),
    ]


def test_figures_count_failed_stuck_late_critical_and_workstations_down() -> None:
    view = JobsView(_rows(), clock=lambda: NOW)
    tracker = WallTracker()
    tracker.rescan(view.all_rows())
    late = tracker.late_critical(NOW)
    assert late == 2  # D (running over an hour) and G (held past its time); not F, not E
    assert wall_counts(view.counts, late, 3) == WallCounts(3, 1, 2, 3)
    # E's estimate (10 min x 1.5) passes: one more late critical job, with no new data.
    assert tracker.late_critical(NOW + timedelta(minutes=11)) == 3


def test_no_job_list_yet_is_unknown_not_zero() -> None:
    assert wall_counts(None, None, 2) == WallCounts(None, None, None, 2)


def test_newest_failure_first_and_changes_follow_the_job_list() -> None:
    view = JobsView(_rows(), clock=lambda: NOW)
    tracker = WallTracker()
    tracker.rescan(view.all_rows())
    assert [f.job for f in tracker.newest_failures(10)] == ["NEW_FAIL", "OLD_FAIL", "NO_TIME"]
    assert [f.job for f in tracker.newest_failures(1)] == ["NEW_FAIL"]
    first = tracker.newest_failures(1)[0]
    assert (first.workstation, first.status, first.at) == ("W2", "FAIL", _ago(1))

    # A critical job fails now; the newest failure is confirmed SUCC; a failed job leaves.
    change = view.apply_changes(
        [JobRow("D", job="CRIT_LONG", status="ABEND", critical=True, return_code=12,
                started=_ago(90), ended=NOW),
         JobRow("B", job="NEW_FAIL", stream="S", workstation="W2", status="SUCC",
                ended=_ago(1))],
        removed_ids=["C"])
    tracker.track(view.get, change.changed_ids)
    failures = tracker.newest_failures(10)
    assert [f.job for f in failures] == ["CRIT_LONG", "OLD_FAIL"]
    assert failures[0].return_code == 12
    assert tracker.late_critical(NOW) == 1  # D ended: only G is still late
