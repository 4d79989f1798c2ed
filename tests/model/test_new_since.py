"""What counts as "new since you last looked", on the jobs view alone (no Textual)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import ChangeSet, JobsView
from resync_tui.model.new_since import NewSince, baseline_of

FROZEN = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


class SteppedClock:
    """The view's clock (the engine's), moved only by the test."""

    def __init__(self) -> None:
        self.now = FROZEN

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def start(*rows: JobRow) -> tuple[JobsView, NewSince, SteppedClock]:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    tracker = NewSince()
    assert not tracker.update(view, view.apply_changes(rows))
    return view, tracker, clock


def test_failures_at_start_are_the_baseline_later_ones_are_new() -> None:
    view, tracker, _ = start(JobRow("old", status="ABEND"), JobRow("calm", status="SUCC"),
                             JobRow("slow", status="EXEC"))
    assert not tracker.new
    assert tracker.update(view, view.apply_changes([JobRow("calm", status="FAIL"),
                                                    JobRow("slow", status="STUCK")]))
    assert tracker.new == {"calm", "slow"}
    # The same failure again is nothing new; a new row arriving failed is.
    assert not tracker.update(view, view.apply_changes([JobRow("calm", status="FAIL")]))
    tracker.update(view, view.apply_changes([JobRow("late-comer", status="ERROR")]))
    assert tracker.new == {"calm", "slow", "late-comer"}


def test_recovered_removed_looked_at_or_cleared_is_no_longer_new() -> None:
    view, tracker, _ = start(*(JobRow(f"j{i}", status="SUCC") for i in range(4)))
    tracker.update(view, view.apply_changes([JobRow(f"j{i}", status="ABEND")
                                             for i in range(4)]))
    assert tracker.update(view, view.apply_changes([JobRow("j0", status="SUCC")]))
    assert tracker.update(view, view.apply_changes([], ["j1"]))
    assert tracker.looked(["j2", "nobody"]) == ["j2"]
    assert tracker.new == {"j3"}
    assert tracker.clear() == 1 and not tracker.new
    # Seen, then recovered, then failing again: new again.
    tracker.update(view, view.apply_changes([JobRow("j3", status="SUCC")]))
    tracker.update(view, view.apply_changes([JobRow("j3", status="ABEND")]))
    assert tracker.new == {"j3"}


def test_a_deadline_passing_makes_a_job_new_without_new_data() -> None:
    due = FROZEN + timedelta(minutes=10)
    view, tracker, clock = start(
        JobRow("due-later", status="WAIT", deadline=due),
        JobRow("late-at-start", status="WAIT", deadline=FROZEN - timedelta(minutes=1)),
        JobRow("long-exec", status="EXEC", started=FROZEN - timedelta(hours=3)))
    assert not tracker.new  # already late at start: baseline
    clock.advance(5 * 60)
    assert not tracker.update(view, view.refresh_clock())
    clock.advance(6 * 60)
    assert tracker.update(view, view.refresh_clock())
    # Late EXEC moves up the attention order but is slow, not broken: not marked.
    assert tracker.new == {"due-later"}
    # Ended (late): no longer in an attention state.
    tracker.update(view, view.apply_changes([JobRow("due-later", status="SUCC",
                                                    deadline=due)]))
    assert not tracker.new


def test_the_baseline_waits_for_a_plan() -> None:
    """An empty view at start (no data yet) is no baseline: the first plan read is."""
    clock = SteppedClock()
    view = JobsView(clock=clock)
    tracker = NewSince()
    assert not tracker.update(view, None)
    tracker.update(view, view.apply_changes([JobRow("a", status="ABEND")]))
    assert not tracker.new


def _until_baseline_in(view: JobsView, tracker: NewSince, want: str) -> None:
    """Updates without news until ``want`` is marked (the thread's baseline is in)."""
    import time

    deadline = time.monotonic() + 10.0
    while want not in tracker.new and time.monotonic() < deadline:
        time.sleep(0.01)
        tracker.update(view, view.refresh_clock())


def test_a_big_plans_baseline_from_a_thread_still_marks_what_fails_meanwhile() -> None:
    """A plan of ``thread_from`` jobs or more gets its baseline in a thread (the first
    frame does not wait for 200k rows); a job failing before it is in is still new, one
    failing at the start is not, even if its row changes meanwhile."""
    clock = SteppedClock()
    view = JobsView(clock=clock)
    tracker = NewSince(thread_from=10)
    rows = [JobRow(f"j{i:02d}", status="SUCC") for i in range(40)]
    rows[1] = JobRow("j01", status="ABEND")
    rows[2] = JobRow("j02", status="EXEC", critical=True, deadline=FROZEN + timedelta(minutes=5))
    assert not tracker.update(view, view.apply_changes(rows))
    tracker.update(view, view.apply_changes([JobRow("j03", status="FAIL"),
                                             JobRow("j01", status="FAIL")]))
    _until_baseline_in(view, tracker, "j03")
    assert tracker.new == {"j03"}
    clock.advance(600)  # j02's deadline passes with no new data: new, from the due heap
    tracker.update(view, view.refresh_clock())
    assert tracker.new == {"j03", "j02"}


def test_a_baseline_from_a_thread_equals_one_taken_on_the_loop() -> None:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    threaded, inline = NewSince(thread_from=10), NewSince(thread_from=10**9)
    rows = [JobRow(f"j{i:03d}", status=("ABEND", "SUCC", "EXEC", "HOLD")[i % 4],
                   critical=i % 3 == 0, deadline=FROZEN + timedelta(minutes=i - 50))
            for i in range(200)]
    change = view.apply_changes(rows)
    threaded.update(view, change)
    inline.update(view, change)
    change = view.apply_changes([JobRow("j001", status="FAIL", critical=True,
                                        deadline=FROZEN + timedelta(minutes=-49))])
    threaded.update(view, change)
    inline.update(view, change)
    _until_baseline_in(view, threaded, "j001")
    for minutes in (10, 60, 200):
        clock.advance(minutes * 60)
        threaded.update(view, view.refresh_clock())
        inline.update(view, view.refresh_clock())
        assert threaded.new == inline.new and threaded.new


def _bulk_loaded(rows: list[JobRow], clock: SteppedClock) -> tuple[JobsView, ChangeSet]:
    view = JobsView(clock=clock)
    load = view.bulk_load(rows)
    load.build()  # what the feed's worker thread runs
    change = view.adopt(load)
    assert change is not None
    return view, change


def _mixed_plan(count: int) -> list[JobRow]:
    """Failed, stuck, calm and timed jobs (due before and after FROZEN), some given twice
    (the later row wins: j003 fails first, then succeeds)."""
    rows = [JobRow(f"j{i:03d}", status=("ABEND", "SUCC", "EXEC", "HOLD", "STUCK")[i % 5],
                   critical=i % 3 == 0, deadline=FROZEN + timedelta(minutes=i - 50))
            for i in range(count)]
    return [*rows, JobRow("j003", status="SUCC"), JobRow("j001", status="FAIL")]


def test_a_bulk_loaded_plan_brings_its_baseline_built_off_the_loop() -> None:
    """The first read of a big plan is built in a worker thread, its baseline with it: the
    table's first update takes it as is (no walk over the rows, no thread of its own), and
    it is the baseline a walk on the loop finds."""
    clock = SteppedClock()
    view, change = _bulk_loaded(_mixed_plan(200), clock)
    built = view.bulk_baseline()
    assert built is not None
    walked = baseline_of(view.rows_snapshot(), clock())
    assert built == walked and "j001" in built.attention and "j003" not in built.attention
    tracker = NewSince(thread_from=10)  # a walk would go to a thread
    assert not tracker.update(view, change)
    # The baseline is in at once: the very next change is compared with it.
    tracker.update(view, view.apply_changes([JobRow("j003", status="FAIL"),
                                             JobRow("j001", status="ABEND")]))
    assert tracker.new == {"j003"}
    assert view.bulk_baseline() is None  # written since: the load's baseline is out of date


def test_a_bulk_loaded_baseline_marks_the_same_jobs_as_one_taken_on_the_loop() -> None:
    clock = SteppedClock()
    bulk_view, change = _bulk_loaded(_mixed_plan(300), clock)
    loop_view = JobsView(clock=clock)
    bulk, inline = NewSince(), NewSince(thread_from=10**9)
    bulk.update(bulk_view, change)
    inline.update(loop_view, loop_view.apply_changes(_mixed_plan(300)))
    for minutes in (10, 60, 200):
        clock.advance(minutes * 60)
        bulk.update(bulk_view, bulk_view.refresh_clock())
        inline.update(loop_view, loop_view.refresh_clock())
        assert bulk.new == inline.new and bulk.new


def test_a_deadline_passed_before_the_first_look_is_baseline_one_after_is_new() -> None:
    """The baseline is the plan as first shown, as a walk at that instant finds it: a job
    whose deadline passed between the read and the first frame is not new; one whose
    deadline passes later is."""
    clock = SteppedClock()
    soon, later = FROZEN + timedelta(seconds=30), FROZEN + timedelta(minutes=5)
    view, change = _bulk_loaded([JobRow("soon", status="WAIT", deadline=soon),
                                 JobRow("later", status="WAIT", deadline=later),
                                 JobRow("calm", status="SUCC")], clock)
    clock.advance(60)
    tracker = NewSince()
    assert not tracker.update(view, change)
    assert not tracker.new
    clock.advance(5 * 60)
    assert tracker.update(view, view.refresh_clock())
    assert tracker.new == {"later"}


def test_after_the_view_is_emptied_the_next_plan_is_a_baseline_again() -> None:
    """An engine switch empties the view, then the other engine's plan is read: its
    failures were there before the operator looked at it (as for the alert rules, a
    baseline), so they are not new; a job failing after it was read is."""
    clock = SteppedClock()
    view, change = _bulk_loaded([JobRow("a1", status="SUCC"), JobRow("a2", status="SUCC")],
                                clock)
    tracker = NewSince()
    tracker.update(view, change)
    tracker.update(view, view.apply_changes([JobRow("a1", status="ABEND")]))
    assert tracker.new == {"a1"}
    assert tracker.update(view, view.apply([]))  # the switch: the view emptied
    assert not tracker.new
    for other in (_mixed_plan(300), [JobRow("b1", status="ABEND"), JobRow("b2")]):
        load = view.bulk_load(other) if len(other) > 2 else None
        if load is not None:  # the other engine's big plan: a bulk load
            load.build()
            change = view.adopt(load)
            assert change is not None
        else:  # a small one: applied
            change = view.apply_changes(other)
        assert not tracker.update(view, change)
        assert not tracker.new
        tracker.update(view, view.apply_changes([JobRow("j201" if load else "b2",
                                                        status="FAIL")]))
        assert tracker.new == {"j201" if load else "b2"}
        tracker.update(view, view.apply([]))
