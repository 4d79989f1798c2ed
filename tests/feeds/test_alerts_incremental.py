"""The alert rules' job facts kept from each jobs state's ChangeSet are the facts a pass
over the whole view gives: after jobs fail, recover, are added or leave the plan, and as
the engine's clock alone makes critical jobs late."""

from __future__ import annotations

import random
from datetime import timedelta

import msgspec

from resync_tui.alerts.rules import rules_from_settings
from resync_tui.feeds.alerts import AlertCenter, JobFactsIndex, _job_facts
from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.status import FeedHealth
from resync_tui.model.jobs_view import ChangeSet, JobRow, JobsView
from resync_tui.settings import AlertSettings
from tests.ui.dashboard_support import FROZEN, SteppedClock

M = timedelta(minutes=1)
STATUSES = ("HOLD", "EXEC", "SUCC", "ABEND", "FAIL", "WAIT", "CANCL")
HEALTH = FeedHealth(last_success=FROZEN)


def _job(rng: random.Random, job_id: str) -> JobRow:
    critical = rng.random() < 0.4
    fields: dict[str, object] = {}
    if rng.random() < 0.5:
        fields["deadline"] = FROZEN + rng.randrange(-60, 240) * M
    elif critical and rng.random() < 0.5:
        fields["critical_start"] = FROZEN + rng.randrange(-30, 180) * M
    return JobRow(job_id=job_id, stream="S", job=job_id, workstation=f"W{rng.randrange(3)}",
                  status=rng.choice(STATUSES), critical=critical, **fields)  # type: ignore[arg-type]


def _state(view: JobsView, change: ChangeSet) -> JobsState:
    return JobsState(view, change, HEALTH)


def test_kept_from_changes_the_facts_are_those_of_the_whole_view() -> None:
    rng = random.Random(13)
    clock = SteppedClock()
    view = JobsView(clock=clock)
    index = JobFactsIndex()
    change = view.apply([_job(rng, f"J{i:04d}") for i in range(400)])
    assert index.update(_state(view, change)) == _job_facts(_state(view, change))
    next_id = 400
    for step in range(80):
        ids = [row.job_id for row in view.all_rows()]
        changed = []
        for job_id in rng.sample(ids, rng.randrange(0, 10)):
            row = view.get(job_id)
            assert row is not None
            changed.append(msgspec.structs.replace(
                row, status=rng.choice(STATUSES), started=clock() if rng.random() < .3
                else row.started))
        added = [_job(rng, f"J{next_id + k:04d}") for k in range(rng.randrange(3))]
        next_id += len(added)
        change = view.apply_changes([*changed, *added], rng.sample(ids, rng.randrange(3)))
        state = _state(view, change)
        assert index.update(state) == _job_facts(state), step
        if step % 4 == 0:  # a poll with no new data: the clock alone makes some late
            clock.advance(rng.randrange(1, 30) * 60)
            state = _state(view, view.refresh_clock())
            assert index.update(state) == _job_facts(state), step


def test_a_critical_job_becomes_late_by_the_clock_alone_without_a_change() -> None:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    index = JobFactsIndex()
    change = view.apply([
        JobRow("c1", status="EXEC", critical=True, started=FROZEN, deadline=FROZEN + 10 * M),
        JobRow("c2", status="ABEND", critical=True, started=FROZEN, deadline=FROZEN + 20 * M),
    ])
    facts = index.update(_state(view, change))
    assert set(facts) == {"c2"} and not facts["c2"].late
    clock.advance(25 * 60)
    facts = index.update(_state(view, view.refresh_clock()))
    assert facts["c1"].late and facts["c2"].late  # the failed one is late too now


def test_a_state_without_its_change_is_read_whole() -> None:
    view = JobsView(clock=lambda: FROZEN)
    index = JobFactsIndex()
    index.update(_state(view, view.apply([JobRow("a", status="SUCC")])))
    view.apply_changes([JobRow("a", status="ABEND")])  # not published with this change
    assert set(index.update(_state(view, ChangeSet()))) == {"a"}


def test_a_job_failing_after_the_first_state_fires_once_and_a_recovered_one_re_arms() -> None:
    rules = rules_from_settings([AlertSettings(name="any", on="job_failed")])
    center = AlertCenter(rules)
    view = JobsView(clock=lambda: FROZEN)
    center.observe("jobs", _state(view, view.apply([JobRow(f"j{i}", status="SUCC")
                                                     for i in range(50)])))
    events = center.observe("jobs", _state(view, view.apply_changes(
        [JobRow("j7", status="ABEND")])))
    assert [e.subject for e in events] == ["j7"]
    assert center.observe("jobs", _state(view, view.apply_changes(
        [JobRow("j8", status="EXEC")]))) == []  # j7 still failing: not again
    center.observe("jobs", _state(view, view.apply_changes([JobRow("j7", status="SUCC")])))
    events = center.observe("jobs", _state(view, view.apply_changes(
        [JobRow("j7", status="FAIL")])))
    assert [e.subject for e in events] == ["j7"]


def test_failed_jobs_the_change_does_not_name_are_read_again() -> None:
    """Switching engines empties the view without a published state; the next state names
    only the new plan's jobs: the old plan's failed ones must not stay failing."""
    view = JobsView(clock=lambda: FROZEN)
    index = JobFactsIndex()
    index.update(_state(view, view.apply([JobRow("old", status="ABEND"),
                                          JobRow("ok", status="SUCC")])))
    view.apply([])  # the engine switch (ui/app.py): no state published for it
    state = _state(view, view.apply_changes([JobRow("new", status="FAIL")]))
    assert set(index.update(state)) == {"new"} == set(_job_facts(state))


def test_a_job_an_action_re_read_as_failed_fires_at_the_next_state() -> None:
    """The app writes an action's re-read of a job into the view itself (``_show_job_row``)
    and tells the alert rules; the next poll reads the same row again, so its change does
    not name the job: the rules must still see it fail."""
    rules = rules_from_settings([AlertSettings(name="any", on="job_failed")])
    center = AlertCenter(rules)
    view = JobsView(clock=lambda: FROZEN)
    center.observe("jobs", _state(view, view.apply([JobRow(f"j{i}", status="EXEC")
                                                     for i in range(20)])))
    written = view.apply_changes([JobRow("j3", status="ABEND")])  # the action's re-read
    center.jobs_written(written.changed_ids)
    later = view.apply_changes([JobRow("j9", status="SUCC")])  # the next poll's change
    events = center.observe("jobs", _state(view, later))
    assert [e.subject for e in events] == ["j3"]
