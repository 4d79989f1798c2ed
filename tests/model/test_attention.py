"""The attention rank and late instant: the fused call the views use agrees with the two
it replaces, for every kind of job on either side of every instant that matters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from resync_tui.model.attention import (
    RANK_CRITICAL_LATE,
    RANK_LATE_HOLD,
    AttentionPolicy,
    late_and_rank,
    late_at,
    rank_at,
)
from resync_tui.model.job_row import JobRow
from resync_tui.model.status import KNOWN_STATUSES

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 11, 25, 11, 0)  # no offset: taken as UTC


def _instants() -> list[datetime | None]:
    return [None, NAIVE, *(NOW + timedelta(minutes=m) for m in (-120, -1, 0, 1, 120))]


def test_late_and_rank_is_late_at_then_rank_at_for_every_kind_of_job() -> None:
    policies = [AttentionPolicy(), AttentionPolicy(long_running_factor=1.0,
                                                   long_running_after=timedelta(minutes=5))]
    statuses = [*sorted(KNOWN_STATUSES), "NEWFANGLED"]
    checked = 0
    for status, started, scheduled, estimate in itertools.product(
            statuses, _instants()[:4], _instants()[:4], (None, 0.0, 60.0)):
        for critical, deadline, critical_start in itertools.product(
                (False, True), _instants()[::3], _instants()[::3]):
            row = JobRow(job_id="1", status=status, started=started, scheduled=scheduled,
                         estimated_duration=estimate, critical=critical, deadline=deadline,
                         critical_start=critical_start)
            for policy in policies:
                late = late_at(row, policy)
                assert late_and_rank(row, policy, NOW) == (late, rank_at(row, late, NOW)), row
                checked += 1
    assert checked > 10_000


def test_a_held_job_past_its_time_and_a_ready_one_past_its_deadline_move_up() -> None:
    held = JobRow(job_id="1", status="HOLD", scheduled=NAIVE)
    assert late_and_rank(held, AttentionPolicy(), NOW) == (NAIVE.replace(tzinfo=UTC),
                                                           RANK_LATE_HOLD)
    missed = JobRow(job_id="2", status="READY", deadline=NOW - timedelta(minutes=1))
    assert late_and_rank(missed, AttentionPolicy(), NOW)[1] == RANK_CRITICAL_LATE
