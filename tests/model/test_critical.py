"""Critical jobs by slack on the engine's clock, and their own rank in the attention order."""

from __future__ import annotations

from datetime import timedelta

from resync_tui.model.attention import attention_rank
from resync_tui.model.critical import critical_view
from resync_tui.model.jobs_view import JobRow, JobsView
from tests.ui.dashboard_support import FROZEN, SteppedClock

H = timedelta(hours=1)
M = timedelta(minutes=1)


def job(name: str, status: str = "HOLD", **fields: object) -> JobRow:
    return JobRow(job_id=name, stream="S", job=name, status=status, **fields)  # type: ignore[arg-type]


ROWS = [
    job("SOON", deadline=FROZEN + 10 * M),
    job("LATER", deadline=FROZEN + 2 * H, critical=True),
    job("PAST_LONG", deadline=FROZEN - 2 * H),
    job("PAST_JUST", deadline=FROZEN - 1 * M, critical=True),
    job("START_BY", critical=True, critical_start=FROZEN + 30 * M),
    job("MET", "SUCC", deadline=FROZEN - H, ended=FROZEN - 2 * H),
    job("ENDED_LATE", "SUCC", deadline=FROZEN - 2 * H, ended=FROZEN - H),
    job("STARTED_IN_TIME", "EXEC", critical=True, critical_start=FROZEN + H,
        started=FROZEN - M),
    job("PLAIN"),
]


def test_past_deadline_first_then_by_slack() -> None:
    view = critical_view(ROWS, FROZEN)
    assert [e.row.job for e in view] == [
        "PAST_LONG", "ENDED_LATE", "PAST_JUST", "SOON", "START_BY", "LATER"]
    assert [e.missed for e in view] == [True, True, True, False, False, False]
    assert view[0].slack == -2 * H and view[1].slack == -H and view[1].done
    assert view[3].slack == 10 * M and view[4].kind == "start"


def test_the_order_follows_the_engine_clock() -> None:
    clock = SteppedClock()
    assert [e.row.job for e in critical_view(ROWS, clock())][3] == "SOON"
    clock.advance(15 * 60)  # SOON's deadline has passed: it moves up among the missed
    view = critical_view(ROWS, clock())
    assert [e.row.job for e in view][:4] == ["PAST_LONG", "ENDED_LATE", "PAST_JUST", "SOON"]
    assert view[3].missed and view[3].slack == -5 * M
    assert view[4].row.job == "START_BY" and view[4].slack == 15 * M


def test_a_job_past_its_deadline_has_its_own_rank_between_failed_and_stuck() -> None:
    failed = attention_rank(job("F", "ABEND", deadline=FROZEN - H), FROZEN)
    past = attention_rank(job("P", "HOLD", deadline=FROZEN - H), FROZEN)
    stuck = attention_rank(job("K", "STUCK"), FROZEN)
    late_hold = attention_rank(job("L", "HOLD", scheduled=FROZEN - H), FROZEN)
    waiting = attention_rank(job("W", "HOLD", deadline=FROZEN + H), FROZEN)
    assert failed < past < stuck < late_hold < waiting
    assert waiting == attention_rank(job("W2", "HOLD"), FROZEN)  # not yet due: as before


def test_the_jobs_view_puts_a_missed_deadline_after_failures_and_before_stuck() -> None:
    clock = SteppedClock()
    view = JobsView(clock=clock)
    view.apply([job("A_STUCK", "STUCK"), job("B_FAILED", "ABEND"),
                 job("C_CRIT", "HOLD", critical=True, deadline=FROZEN + 5 * M),
                 job("D_CALM", "SUCC")])
    order = [view.row_at(i).job for i in range(len(view))]
    assert order == ["B_FAILED", "A_STUCK", "C_CRIT", "D_CALM"]
    clock.advance(6 * 60)
    view.refresh_clock()
    order = [view.row_at(i).job for i in range(len(view))]
    assert order == ["B_FAILED", "C_CRIT", "A_STUCK", "D_CALM"]
