"""The critical feed, listing the view a slice at a time and keeping its order from one
change to the next, publishes what ordering the whole view would: after adds, status
changes and removals, and as the engine's clock alone moves (no new data)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec

from resync_tui.feeds.critical import CriticalFeed, CriticalState
from resync_tui.model.critical import critical_view
from resync_tui.model.jobs_view import JobRow, JobsView
from tests.ui.dashboard_support import FROZEN, SteppedClock

M = timedelta(minutes=1)
DEADLINE = 10.0


def _rows(count: int) -> list[JobRow]:
    rows = []
    for i in range(count):
        fields: dict[str, object] = {}
        if i % 7 == 0:
            fields["deadline"] = FROZEN + (i % 180 - 60) * M
        if i % 11 == 0:
            fields["critical"] = True
            fields["critical_start"] = FROZEN + (i % 90 - 30) * M
        rows.append(JobRow(job_id=f"J{i:05d}", stream=f"S{i % 13}", job=f"JOB{i % 97}",
                           status=("HOLD", "EXEC", "SUCC", "ABEND")[i % 4],
                           **fields))  # type: ignore[arg-type]
    return rows


async def test_each_poll_is_the_whole_view_ordered_by_slack_on_the_engine_clock() -> None:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply(_rows(5_000))  # more than one slice
    feed = CriticalFeed(view, clock, first_wait=0.0)

    async def check() -> None:
        state = await asyncio.wait_for(feed.poll(), DEADLINE)
        assert list(state.rows) == critical_view(view.all_rows(), clock())
        assert state.jobs_seen == view.total and state.now == clock()

    await check()
    rows = list(view.all_rows())
    view.apply_changes(
        [msgspec.structs.replace(rows[0], status="SUCC", ended=FROZEN + 5 * M),  # ended late
         msgspec.structs.replace(rows[7], status="EXEC", deadline=FROZEN - M),
         msgspec.structs.replace(rows[11], started=FROZEN + 200 * M),  # started late
         JobRow(job_id="NEW", stream="S", job="NEW", status="HOLD", critical=True,
                deadline=FROZEN + 3 * M)],
        removed_ids=[rows[14].job_id, rows[22].job_id])
    await check()
    assert any(e.row.job_id == "NEW" and not e.missed for e in (await feed.poll()).rows)
    clock.advance(10 * 60)  # the engine clock alone: NEW is now 7 minutes past due
    await check()
    state = await feed.poll()
    new = next(e for e in state.rows if e.row.job_id == "NEW")
    assert new.missed and new.slack == -7 * M
    feed.refresh()
    await check()


async def test_a_view_changed_while_it_is_listed_is_listed_again() -> None:
    """The listing spans loop turns: a refresh applied meanwhile (a job added, one
    removed, one ended late) is in the state, not a listing half before, half after."""
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply(_rows(9_000))  # several slices
    feed = CriticalFeed(view, clock, first_wait=0.0)
    polling = asyncio.ensure_future(feed.poll())
    for _ in range(2):
        await asyncio.sleep(0)  # the listing has read a slice or two
    assert not polling.done()
    first = view.get("J00000")
    assert first is not None
    view.apply_changes([JobRow(job_id="LATE", stream="S", job="LATE", status="HOLD",
                               critical=True, deadline=FROZEN - M),
                        msgspec.structs.replace(first, status="SUCC", ended=FROZEN)],
                       removed_ids=["J00007"])
    state = await asyncio.wait_for(polling, DEADLINE)
    assert list(state.rows) == critical_view(view.all_rows(), clock())
    assert state.rows[0].row.job_id != "J00007" and state.jobs_seen == view.total
    assert any(e.row.job_id == "LATE" and e.missed for e in state.rows)

    # A change of rows alone (no job added or removed): read again all the same.
    view.apply_changes([JobRow(job_id="PLAIN", status="HOLD")])  # the view moved: listed
    polling = asyncio.ensure_future(feed.poll())
    for _ in range(2):
        await asyncio.sleep(0)
    assert not polling.done()
    row = view.get("J00028")
    assert row is not None
    view.apply_changes([msgspec.structs.replace(row, status="SUCC", ended=FROZEN - 200 * M)])
    state = await asyncio.wait_for(polling, DEADLINE)
    assert list(state.rows) == critical_view(view.all_rows(), clock())
    assert not any(e.row.job_id == "J00028" for e in state.rows)  # ended in time


async def test_the_past_due_count_is_every_missed_job_as_the_clock_moves() -> None:
    """The count the Critical tab and pane show (``✖N``, "N past due"), made once per
    state: the jobs past due, those that ended or started late included, and no more
    as the engine's clock alone makes more of them late; a state made from other rows
    counts those."""
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply(_rows(3_000))
    view.apply_changes([  # ended after its deadline / started after its critical start
        JobRow(job_id="ENDED", status="SUCC", deadline=FROZEN - 90 * M, ended=FROZEN - M),
        JobRow(job_id="STARTED", status="EXEC", critical=True,
               critical_start=FROZEN - 3 * M, started=FROZEN - M)])
    feed = CriticalFeed(view, clock, first_wait=0.0)
    for _ in range(3):
        state = await asyncio.wait_for(feed.poll(), DEADLINE)
        late = [e for e in state.rows if e.missed]
        assert 0 < state.missed == len(late) < len(state.rows)
        assert any(e.done for e in late) and any(not e.done for e in late)
        clock.advance(40 * 60)
    fewer = msgspec.structs.replace(state, rows=state.rows[len(late) - 2:])
    assert fewer.missed == 2
    assert CriticalState().missed == 0
