"""A preview of a big first read (``JobsView.preview``) shows exactly the rows the whole
view will show first, with the whole plan's counts, whatever lifts a row up the order:
failures, deadlines and critical starts passed, long-running EXEC, HOLD past its time."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from resync_tui.model import jobs_view
from resync_tui.model.attention import (
    RANK_LATE_EXEC,
    AttentionPolicy,
    late_and_rank,
    rank_floor,
)
from resync_tui.model.jobs_view import FirstReadTally, JobRow, JobsView, most_urgent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _preview_any_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """These plans are small: a preview may rank any share of them here (the cap on the
    share, a cost guard for big plans, has its own test in tests/model)."""
    monkeypatch.setattr(jobs_view, "_PREVIEW_MAX_SHARE", 1)


def _rows(count: int, seed: int, statuses: list[str]) -> list[JobRow]:
    """Unique ids (a plan read keeps each job once); times that make some rows late now,
    some later; names that tie so the order falls back to the job id."""
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        rows.append(JobRow(
            job_id=f"j{i:06d}", status=rnd.choice(statuses),
            stream=f"S{rnd.randrange(6)}", job=f"JOB{rnd.randrange(4)}",
            started=NOW - timedelta(minutes=rnd.randrange(0, 300)) if i % 3 else None,
            estimated_duration=float(rnd.randrange(60, 7200)) if i % 4 else None,
            scheduled=NOW + timedelta(minutes=rnd.randrange(-30, 90)) if i % 5 else None,
            deadline=NOW + timedelta(minutes=rnd.randrange(-20, 60)) if i % 11 == 0 else None,
            critical_start=(NOW + timedelta(minutes=rnd.randrange(-20, 60))
                            if i % 13 == 0 else None),
            critical=i % 13 == 0))
    return rows


def _whole(rows: list[JobRow]) -> JobsView:
    view = JobsView(clock=lambda: NOW)
    load = view.bulk_load(rows)
    load.build()
    assert view.adopt(load) is not None
    return view


def _ids(view: JobsView, limit: int | None = None) -> list[str]:
    return [row.job_id for row in view.rows_in(0, len(view) if limit is None else limit)]


# Plans where the top is made of failures only; of failures and rows lifted by the
# clock (few failures: a deadline, a late EXEC or HOLD must be looked at); of calm rows
# only (the look goes far down: EXEC, READY, an unknown status).
PLANS = {
    "failures on top": ["SUCC", "SUCC", "HOLD", "EXEC", "ABEND", "FAIL", "READY", "NEWSTAT"],
    "lifted by the clock": ["SUCC"] * 40 + ["HOLD"] * 20 + ["EXEC"] * 10 + ["ABEND"],
    "stuck and long-running": ["SUCC"] * 40 + ["EXEC"] * 10 + ["STUCK"] * 10 + ["ABEND"],
    "late holds": ["SUCC"] * 40 + ["HOLD"] * 20 + ["READY"] * 5 + ["ABEND"],
    "calm": ["SUCC", "SUCC", "HOLD", "EXEC", "READY", "INTRO", "NEWSTAT", "CANCL"],
}


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("limit", [1, 25, 200])
def test_the_preview_shows_the_rows_the_whole_view_shows_first(plan: str, limit: int) -> None:
    rows = _rows(3000, seed=limit, statuses=PLANS[plan])
    whole = _whole(rows)
    preview = JobsView(clock=lambda: NOW).preview(rows, limit)
    assert preview is not None
    assert _ids(preview) == _ids(whole, limit)
    assert [preview.row_at(i) for i in range(len(preview))] == whole.rows_in(0, limit)
    assert dict(preview.counts) == dict(whole.counts) == Counter(r.status for r in rows)
    assert preview.partial_of == len(rows) and whole.partial_of == 0
    assert preview.total == limit


def test_a_plan_smaller_than_the_preview_is_shown_whole() -> None:
    rows = _rows(40, seed=3, statuses=PLANS["calm"])
    preview = JobsView(clock=lambda: NOW).preview(rows, 200)
    assert preview is not None
    assert _ids(preview) == _ids(_whole(rows))


def test_the_clock_decides_who_is_late_in_the_preview_as_in_the_view() -> None:
    """The same rows an hour later: more EXEC run long, more deadlines pass, and the
    preview's top moves as the whole view's does."""
    rows = _rows(2000, seed=9, statuses=PLANS["lifted by the clock"])
    later = NOW + timedelta(hours=1)
    preview = JobsView(clock=lambda: NOW).preview(rows, 60, now=later)
    whole = JobsView(clock=lambda: later)
    load = whole.bulk_load(rows)
    load.build()
    whole.adopt(load)
    assert preview is not None
    assert _ids(preview) == _ids(whole, 60)
    assert _ids(preview) != _ids(_whole(rows), 60)


def test_no_preview_under_a_sort_or_filter_or_when_the_top_is_too_crowded() -> None:
    rows = _rows(500, seed=1, statuses=PLANS["failures on top"])
    setups: list[Callable[[JobsView], bool]] = [
        lambda v: v.set_sort("job"), lambda v: v.set_filter("JOB1"),
        lambda v: v.set_attention_filter(True), lambda v: v.set_group_filter("failed")]
    for setup in setups:
        view = JobsView(clock=lambda: NOW)
        assert setup(view)
        assert view.preview(rows, 20) is None
    # 25,000 EXEC and nothing more urgent: each of them would have to be ranked.
    crowded = [JobRow(job_id=f"x{i}", status="EXEC", started=NOW) for i in range(25_000)]
    assert most_urgent(crowded, 200, AttentionPolicy(), NOW) is None


def test_the_preview_is_its_own_view_and_leaves_the_view_empty() -> None:
    rows = _rows(800, seed=2, statuses=PLANS["failures on top"])
    view = JobsView(clock=lambda: NOW)
    preview = view.preview(rows, 30)
    assert preview is not None and preview is not view
    assert view.total == 0 and not view.counts and view.version == 0


class _Untouchable(list[JobRow]):
    """Rows a preview must not walk (its read's tally already holds what it needs)."""

    def __iter__(self) -> Iterator[JobRow]:
        raise AssertionError("the preview walked the whole plan")


def _sure(rows: list[JobRow]) -> int:
    """How many rows rank late EXEC or nearer the top now (the tally holds them all)."""
    return sum(1 for row in rows
               if late_and_rank(row, AttentionPolicy(), NOW)[1] <= RANK_LATE_EXEC)


def _tally_of(rows: list[JobRow]) -> FirstReadTally:
    """The tally a first read takes: its ``PlanDiff`` fed slice by slice, as the client
    hands the rows on."""
    diff = JobsView(clock=lambda: NOW).plan_diff()
    diff.tally_for_preview()
    for start in range(0, len(rows), 200):
        diff.add(rows[start : start + 200])
    changed, removed = diff.result()
    assert changed == rows and not removed
    tally = diff.first_read_tally
    assert tally is not None
    return tally


@pytest.mark.parametrize("limit", [5, 40])
def test_a_first_reads_tally_gives_the_same_preview_without_walking_the_plan(
        limit: int) -> None:
    rows = _rows(3000, seed=5, statuses=PLANS["lifted by the clock"])
    tally = _tally_of(rows)
    assert dict(tally.counts) == Counter(r.status for r in rows)
    assert len(tally.urgent) >= limit  # ~40 ABEND: enough for these limits
    preview = JobsView(clock=lambda: NOW).preview(_Untouchable(rows), limit, tally=tally)
    assert preview is not None
    assert _ids(preview) == _ids(_whole(rows), limit)
    assert dict(preview.counts) == dict(_whole(rows).counts)


def test_too_few_failures_in_the_tally_and_the_preview_looks_further() -> None:
    """Fewer failed jobs than the preview's rows, and fewer than a screenful of rows
    sure to top the order: late holds come next, and only a look at the whole plan
    finds them."""
    rows = _rows(1000, seed=6, statuses=PLANS["late holds"])
    tally = _tally_of(rows)
    limit = _sure(rows) + 30  # failed and critical late, then late holds
    assert limit < jobs_view._PREVIEW_ENOUGH
    with pytest.raises(AssertionError, match="walked the whole plan"):
        JobsView(clock=lambda: NOW).preview(_Untouchable(rows), limit, tally=tally)
    preview = JobsView(clock=lambda: NOW).preview(rows, limit, tally=tally)
    assert preview is not None and _ids(preview) == _ids(_whole(rows), limit)
    # A re-read (the view holds the plan) takes no tally.
    reread = _whole(rows).plan_diff()
    reread.tally_for_preview()
    assert reread.first_read_tally is None


def test_no_preview_when_its_top_needs_a_big_share_of_the_plan_and_nothing_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No failed job and many dated ones: the top reaches down the order, and finding
    it would rank most of the plan, about what the whole build costs. No preview then
    (the whole table comes about as soon); with failures on top it is found."""
    monkeypatch.undo()  # the real cap, not this module's
    calm = _rows(3000, seed=8, statuses=PLANS["calm"])
    assert JobsView(clock=lambda: NOW).preview(calm, 200) is None
    assert JobsView(clock=lambda: NOW).preview(calm, 200, tally=_tally_of(calm)) is None
    busy = _rows(3000, seed=8, statuses=["ABEND"] * 3 + ["SUCC"] * 40)
    preview = JobsView(clock=lambda: NOW).preview(busy, 25)
    assert preview is not None and _ids(preview) == _ids(_whole(busy), 25)


def test_a_few_failures_under_a_crowded_top_are_previewed_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer failed jobs than the preview's rows, and the rows after them too many to
    rank cheaply (a sea of HOLD whose start passed): the preview shows the failures
    alone, which are the whole view's first rows whatever the clock says. Before, such
    a plan (a calm 200k plan is most often one) had no preview at all. With the read's
    tally its counts say so at once: the plan is not walked."""
    monkeypatch.undo()  # the real cap
    rows = _rows(3000, seed=9, statuses=PLANS["late holds"])
    failed = sum(1 for row in rows if row.status == "ABEND")
    assert 0 < failed < 200
    whole = _whole(rows)
    for preview in (JobsView(clock=lambda: NOW).preview(rows, 200),
                    JobsView(clock=lambda: NOW).preview(_Untouchable(rows), 200,
                                                        tally=_tally_of(rows))):
        assert preview is not None and preview.total == failed
        assert preview.partial_of == len(rows)
        assert _ids(preview) == _ids(whole, failed)
        assert dict(preview.counts) == dict(whole.counts)


@pytest.mark.parametrize("held", [0, 10])
def test_a_top_of_failed_stuck_running_and_dated_jobs_comes_from_the_tally_alone(
        held: int) -> None:
    """Fewer failed jobs than the preview's rows, then held jobs past a deadline (critical
    late), stuck and running ones: the read's tally kept those, so the plan is not walked
    (before, a pass over all 200k rows, ~60 ms more), and the preview is the whole
    view's top."""
    statuses = ["SUCC"] * 40 + ["EXEC"] * 10 + ["STUCK"] * 10 + ["HOLD"] * held + ["ABEND"]
    rows = _rows(3000, seed=10, statuses=statuses)
    tally = _tally_of(rows)
    limit = len(tally.urgent) + 30
    preview = JobsView(clock=lambda: NOW).preview(_Untouchable(rows), limit, tally=tally)
    assert preview is not None and preview.total == limit
    assert _ids(preview) == _ids(_whole(rows), limit)
    shown = {row.status for row in preview.rows_in(0, limit)}
    assert "STUCK" in shown and ("HOLD" in shown) == bool(held)


def test_a_screenful_sure_to_top_the_order_is_previewed_from_the_tally_alone() -> None:
    """Fewer rows ranked late EXEC or nearer the top than the preview asks, but more than
    any terminal shows (failed, stuck, critical late), and a sea of HOLD under them: the
    preview is those rows, the whole view's first ones, found in the read's tally (a
    calm 200k plan walked its 200k rows for the rest, ~40 ms more, off screen anyway)."""
    rows = _rows(6000, seed=11, statuses=["SUCC"] * 40 + ["HOLD"] * 20 + ["STUCK"] * 2
                 + ["ABEND"])
    tally = _tally_of(rows)
    limit = 600
    whole = _whole(rows)
    sure = _sure(rows)
    assert jobs_view._PREVIEW_ENOUGH <= sure < limit, sure
    preview = JobsView(clock=lambda: NOW).preview(_Untouchable(rows), limit, tally=tally)
    assert preview is not None and preview.total == sure
    assert _ids(preview) == _ids(whole, sure)
    assert dict(preview.counts) == dict(whole.counts)
    assert {"ABEND", "STUCK"} <= {row.status for row in preview.rows_in(0, sure)}


@pytest.mark.parametrize("nul", [False, True])
def test_many_critical_late_jobs_under_few_failures_are_picked_by_name_as_the_view_sorts(
        nul: bool) -> None:
    """More jobs past their deadline than the preview needs after the failures (a calm
    200k plan has ~9,000): the tally picks the first by name without keying them all,
    in the view's own order, also when a name holds a NUL (the view's keys join the
    names with NULs, where a tuple of them would sort otherwise)."""
    rows = _rows(3000, seed=12, statuses=["SUCC"] * 40 + ["HOLD"] * 20 + ["STUCK"]
                 + ["ABEND"])
    rows = [JobRow(job_id=row.job_id, status=row.status,
                   # "S" < "S\x00A" as tuples, but "S\x00JOB" > "S\x00A\x00..." as keys
                   stream="S" if i % 2 else ("S\x00A" if nul else "SA"),
                   job=row.job, scheduled=row.scheduled, started=row.started,
                   deadline=NOW - timedelta(minutes=5) if i % 3 == 0 else None)
            for i, row in enumerate(rows)]
    tally = _tally_of(rows)
    assert tally.named_with_nul == nul
    whole = _whole(rows)
    for limit in (len(tally.urgent) + 1, 200):
        preview = JobsView(clock=lambda: NOW).preview(_Untouchable(rows), limit,
                                                      tally=tally)
        assert preview is not None and preview.total == limit
        assert _ids(preview) == _ids(whole, limit)


def test_the_near_statuses_all_rank_as_a_late_exec_at_best() -> None:
    """``most_urgent`` takes the tally's near rows whole once its threshold reaches
    RANK_LATE_EXEC: a near status with another floor would be mis-ranked there."""
    assert jobs_view._NEAR_STATUSES
    assert {rank_floor(status, dated=False) for status in jobs_view._NEAR_STATUSES} == {
        RANK_LATE_EXEC}
