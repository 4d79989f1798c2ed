"""Mapping the engine's jobs to rows: the per-read mapper shares values, never alters them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from resync_tui.hwa.models import JobInPlan
from resync_tui.model import jobs_view
from resync_tui.model.job_row import RowMapper, job_row_from_model
from resync_tui.model.jobs_view import JobRow, JobsView


def _job(job_id: str, sched: str, start: str | None = None) -> JobInPlan:
    data: dict[str, object] = {"id": job_id, "name": "LOAD", "jobStreamName": "PAY",
                               "workstation": "WS1", "folder": "/F/", "schedTime": sched}
    if start is not None:
        data["jobruns"] = [{"id": f"r{job_id}", "compositeStatus": {"status": "EXEC"},
                            "timeInfo": {"actualStartTime": start,
                                         "estimatedDuration": "PT1M"}}]
    return msgspec.json.decode(msgspec.json.encode(data), type=JobInPlan)


def test_equal_times_are_one_object_and_offsets_are_kept() -> None:
    mapper = RowMapper()
    a = mapper(_job("a", "2026-11-25T10:00:00Z", "2026-11-25T10:01:00Z"))
    b = mapper(_job("b", "2026-11-25T10:00:00Z", "2026-11-25T10:01:00Z"))
    c = mapper(_job("c", "2026-11-25T12:00:00+02:00"))  # the same instant, another offset
    assert a.scheduled is b.scheduled and a.started is b.started
    assert a.estimated_duration == 60.0
    assert c.scheduled == a.scheduled and c.scheduled is not a.scheduled
    assert c.scheduled is not None and c.scheduled.utcoffset() == timedelta(hours=2)
    assert c.scheduled.tzinfo == timezone(timedelta(hours=2))
    for job in ("a", "b"):
        model = _job(job, "2026-11-25T10:00:00Z", "2026-11-25T10:01:00Z")
        assert mapper(model) == job_row_from_model(model)


def test_a_diff_fed_in_slices_equals_the_whole_diff() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    rows = [JobRow(job_id=str(i), stream="S", job=f"J{i}", status="SUCC") for i in range(50)]
    view = JobsView(rows, clock=lambda: now)
    new = [*rows[5:30], JobRow(job_id="7", stream="S", job="J7", status="ABEND"),
           JobRow(job_id="new", stream="S", job="N", status="HOLD"), *rows[31:]]
    plan = view.plan_diff()
    for start in range(0, len(new), 7):
        plan.add(new[start : start + 7])
    assert plan.result() == view.diff(new)
    changed, removed = plan.result()
    assert [row.job_id for row in changed] == ["7", "new"]
    assert sorted(removed, key=int) == ["0", "1", "2", "3", "4", "30"]
    unchanged = view.plan_diff()
    unchanged.add(rows)
    assert unchanged.result() == ([], [])


def test_a_re_read_mapped_without_sharing_keeps_the_views_values_in_its_changed_rows() -> None:
    """A re-read maps each job on its own (no table of the read's 200k values) and the
    diff settles the rows it keeps: a changed row holds the view's own id and times where
    they are equal, and new times equal between changed rows are one object. Without it,
    every row replaced by a re-read would hold its own copies of times the first read
    shared (a plan where every job runs once a day would creep back to one per job)."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    first = RowMapper()
    rows = [first(_job(str(i), "2026-11-25T10:00:00Z")) for i in range(4)]
    view = JobsView(rows, clock=lambda: now)
    again = [job_row_from_model(_job(str(i), "2026-11-25T10:00:00Z",
                                     "2026-11-25T10:05:00Z" if i in (1, 2) else None))
             for i in range(4)]
    assert again[1].scheduled is not rows[1].scheduled
    diff = view.plan_diff(RowMapper())
    diff.add(again)
    changed, removed = diff.result()
    assert changed == [again[1], again[2]] and removed == []
    one, two = changed
    assert one.job_id is rows[1].job_id and two.job_id is rows[2].job_id
    assert one.scheduled is rows[0].scheduled and two.scheduled is rows[0].scheduled
    assert one.started is two.started and one.started is not None
    assert one.run_id == "r1" and one.status == "EXEC"


def test_a_diff_names_exactly_the_jobs_gone_and_its_result_outlives_release() -> None:
    """A re-read's diff pops each job it sees from a copy of the view's index: what is left
    is removed, in the view's order, however often a job comes (twice here), and the
    rows to apply and ids to remove it gave are not touched when it lets go."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    rows = [JobRow(job_id=str(i), stream="S", job=f"J{i}", status="SUCC") for i in range(50)]
    view = JobsView(rows, clock=lambda: now)
    new = [*rows[3:20], rows[5], *rows[21:], JobRow(job_id="9", stream="S", job="J9",
                                                     status="ABEND"),
           JobRow(job_id="new", stream="S", job="N", status="HOLD")]
    diff = view.plan_diff()
    diff.add(new[:10])
    diff.add(new[10:])
    expected = view.diff(new)
    changed, removed = diff.result()
    assert (changed, removed) == expected
    assert removed == ["0", "1", "2", "20"]
    assert [row.job_id for row in changed] == ["9", "new"]
    diff.release()
    assert (changed, removed) == expected and len(view) == 50


def test_a_first_reads_diff_removes_nothing_and_an_empty_read_removes_all() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    rows = [JobRow(job_id=str(i), stream="S", job=f"J{i}", status="SUCC") for i in range(5)]
    first = JobsView(clock=lambda: now).plan_diff()
    first.add(rows)
    assert first.result() == (rows, [])
    view = JobsView(rows, clock=lambda: now)
    assert view.plan_diff().result() == ([], ["0", "1", "2", "3", "4"])


def _reference_diff(held_rows: list[JobRow], new: list[JobRow]
                    ) -> tuple[list[JobRow], list[str]]:
    """What a diff must give, the slow and obvious way: every row the view has not or
    holds otherwise (in the read's order), every job of the view the read lacks (in the
    order the view first had them, ``held_rows``)."""
    held = {row.job_id: row for row in held_rows}
    read = {row.job_id for row in new}
    changed = [row for row in new if held.get(row.job_id) != row]
    return changed, [job_id for job_id in held if job_id not in read]


@pytest.mark.parametrize("at_once, per_add", [(40_000, 2_000), (10, 3)],
                         ids=["unseen-copied-at-once", "unseen-caught-up-by-parts"])
def test_a_diff_is_exact_whether_the_read_keeps_the_views_order_or_leaves_it(
        monkeypatch: pytest.MonkeyPatch, at_once: int, per_add: int) -> None:
    """A read in the view's order is diffed entry by entry; from its first row out of
    that order (a job added or removed mid-plan, one given twice, a shuffled plan) by id.
    Either way, fed in slices of any size, it names exactly the jobs new, changed and
    gone (the jobs not seen yet copied at once, or the index copied and the jobs seen in
    order dropped from it a part at each slice: a big plan's way)."""
    import random

    monkeypatch.setattr(jobs_view, "_CATCH_UP_AT_ONCE", at_once)
    monkeypatch.setattr(jobs_view, "_CATCH_UP_PER_ADD", per_add)

    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    rows = [JobRow(job_id=str(i), stream="S", job=f"J{i}", status="SUCC") for i in range(300)]
    view = JobsView(rows, clock=lambda: now)
    late = JobRow(job_id="late", stream="A", job="L", status="HOLD")
    view.apply_changes([late])  # added after the first read: last in the view's index
    held = [*rows, late]

    def changed(row: JobRow) -> JobRow:
        return msgspec.structs.replace(row, status="ABEND", return_code=8)

    extra = JobRow(job_id="extra", stream="S", job="X", status="HOLD")
    cases = {
        "same": held,
        "some changed": [changed(r) if i % 37 == 0 else r for i, r in enumerate(held)],
        "fresh objects": [msgspec.structs.replace(r) for r in held],
        "tail gone": held[:250],
        "head gone": held[40:],
        "gone early": [*held[:10], *held[12:]],
        "gone late": [*held[:280], *held[282:]],
        "new at the end": [*held, extra],
        "new mid-plan": [*held[:150], extra, *held[150:]],
        "given twice": [*held[:100], held[50], *held[100:]],
        "shuffled": random.Random(4).sample(held, len(held)),
        "empty": [],
    }
    for name, new in cases.items():
        expected = _reference_diff(held, new)
        for size in (1, 7, 64, 1000):
            diff = view.plan_diff()
            for start in range(0, len(new), size):
                diff.add(iter(new[start : start + size]))
            assert diff.result() == expected, (name, size)
        assert view.diff(new) == expected, name
