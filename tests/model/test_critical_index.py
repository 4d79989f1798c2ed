"""``CriticalIndex`` kept from listing to listing gives exactly ``critical_view`` of the
whole: after jobs are added, change status, end (in time or late), start, get or lose a
deadline, leave the plan, and as the engine's clock alone makes open ones late."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import msgspec

from resync_tui.model.critical import CriticalIndex, critical_view, is_watched
from resync_tui.model.jobs_view import JobRow, JobsView
from tests.ui.dashboard_support import FROZEN, SteppedClock

M = timedelta(minutes=1)
STATUSES = ("HOLD", "READY", "EXEC", "SUCC", "ABEND", "CANCL", "WAIT")


def _job(rng: random.Random, job_id: str) -> JobRow:
    kind = rng.randrange(5)
    fields: dict[str, object] = {}
    if kind == 0:
        fields["deadline"] = FROZEN + rng.randrange(-180, 180) * M
    elif kind == 1:
        fields["critical"] = True
        fields["critical_start"] = FROZEN + rng.randrange(-60, 120) * M
    elif kind == 2:
        fields["critical"] = True  # critical, no time known
    elif kind == 3:
        fields["critical"] = True
        fields["deadline"] = FROZEN + rng.randrange(-60, 240) * M
    return JobRow(job_id=job_id, stream=f"S{rng.randrange(4)}", job=f"J{rng.randrange(30)}",
                  status=rng.choice(STATUSES), **fields)  # type: ignore[arg-type]


def _mutate(rng: random.Random, row: JobRow, now: datetime) -> JobRow:
    """A new version of a row as a re-read brings it: status, start, end, deadline."""
    change = rng.randrange(5)
    if change == 0:
        return msgspec.structs.replace(row, status="EXEC", started=now - rng.randrange(90) * M)
    if change == 1:
        return msgspec.structs.replace(row, status="SUCC", ended=now - rng.randrange(200) * M)
    if change == 2:
        return msgspec.structs.replace(row, status=rng.choice(STATUSES))
    if change == 3:
        return msgspec.structs.replace(row, deadline=None, critical=False, critical_start=None)
    return msgspec.structs.replace(row, deadline=now + rng.randrange(-30, 30) * M)


def _listing(view: JobsView) -> dict[str, JobRow]:
    return {row.job_id: row for row in view.all_rows() if is_watched(row)}


def test_kept_across_changes_it_is_the_whole_recomputation() -> None:
    rng = random.Random(13)
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply([_job(rng, f"J{i:04d}") for i in range(600)])
    index = CriticalIndex()
    index.sync(_listing(view))
    assert list(index.ordered(clock())) == critical_view(view.all_rows(), clock())
    next_id = 600
    for step in range(60):
        ids = [row.job_id for row in view.all_rows()]
        changed = [_mutate(rng, row, clock()) for row in
                   (view.get(i) for i in rng.sample(ids, rng.randrange(1, 12))) if row]
        added = [_job(rng, f"J{next_id + k:04d}") for k in range(rng.randrange(4))]
        next_id += len(added)
        removed = rng.sample(ids, rng.randrange(3))
        view.apply_changes([*changed, *added], removed)
        placed = index.sync(_listing(view))
        assert placed <= len(changed) + len(added) + len(removed)  # only those re-placed
        if step % 3 == 0:
            clock.advance(rng.randrange(1, 40) * 60)  # the engine's clock alone moves
        now = clock()
        assert list(index.ordered(now)) == critical_view(view.all_rows(), now), step


def test_an_open_job_becomes_late_by_the_clock_alone_and_moves_past_ended_late_ones() -> None:
    clock = SteppedClock()
    rows = [
        JobRow(job_id="SOON", stream="S", job="SOON", status="HOLD", deadline=FROZEN + 10 * M),
        JobRow(job_id="LATE_END", stream="S", job="LATE_END", status="SUCC",
               deadline=FROZEN - 20 * M, ended=FROZEN - 5 * M),  # missed by 15 minutes
    ]
    index = CriticalIndex()
    index.sync({row.job_id: row for row in rows})
    assert [e.row.job_id for e in index.ordered(clock())] == ["LATE_END", "SOON"]
    clock.advance(30 * 60)  # SOON is now 20 minutes past its deadline: more overdue
    entries = list(index.ordered(clock()))
    assert [e.row.job_id for e in entries] == ["SOON", "LATE_END"]
    assert entries[0].slack == -20 * M and entries[0].missed
    assert entries == critical_view(rows, clock())


def test_a_job_that_ends_in_time_or_leaves_the_plan_is_no_longer_listed() -> None:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply([JobRow(job_id=i, stream="S", job=i, status="EXEC", deadline=FROZEN + 5 * M)
                for i in ("A", "B", "C")])
    index = CriticalIndex()
    index.sync(_listing(view))
    a = view.get("A")
    assert a is not None
    view.apply_changes([msgspec.structs.replace(a, status="SUCC", ended=FROZEN)], ["C"])
    index.sync(_listing(view))
    assert [e.row.job_id for e in index.ordered(clock())] == ["B"]
    assert len(index) == 1
