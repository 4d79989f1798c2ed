"""Which jobs need a look the operator has not given them yet ("new since you last looked").

A job is *new* when it enters an attention state after the dashboard started: the
failed group (ABEND, FAIL, ERROR, ABENP), the stuck group (STUCK, INTRPT, SUSP,
UNDCDED), or a deadline / critical start passed while it has not ended (the attention
order's "critical late", on the view's clock, the engine's). Long-running EXEC and HOLD
past its time move up the attention order but are not marked: they are slow, not broken.

The first plan seen is the baseline (as for the alert rules): what already failed then
is not new; so is the first plan after the view was emptied (an engine switch). A new
job stops being new when the operator looked at it (the table says when:
:meth:`NewSince.looked`), when all are cleared, or when it leaves the attention
state (recovered, rerun) or the plan.

Cost follows the change, not the plan: each update looks only at the rows its
``ChangeSet`` names; a deadline passing with no new data is found by a heap of due
times, checked at each update (each poll: when the attention order moves the job up
too) or by :meth:`NewSince.tick`. Pure: no Textual, no I/O.

The baseline of a plan that came through a bulk load (the first read of a big plan,
``JobsView.bulk_load``) is computed by the load's worker thread (``BaselineBuilder``) and
read from the view (``JobsView.bulk_baseline``): nothing per job runs on the loop, and no
thread of this module competes with the first paint for the GIL. The baseline of any
other big plan (``thread_from`` jobs and more) is taken in a thread from a snapshot of its
rows, so the first frame with data does not wait for it (200k rows held the loop 70-110
ms in the job table's first update); the changes that arrive meanwhile are compared once
it is in, so a job failing right after the start is still new.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Sequence, Set
from datetime import datetime
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

from resync_tui.model.critical import due_at
from resync_tui.model.job_row import JobRow, aware
from resync_tui.model.status import group

if TYPE_CHECKING:  # jobs_view imports this module (its bulk load builds a Baseline)
    from resync_tui.model.jobs_view import ChangeSet

__all__ = ["NEEDS_LOOK_STATUSES", "Baseline", "BaselineBuilder", "NewSince", "baseline_of",
           "needs_look"]

NEEDS_LOOK_STATUSES: Final = group("failed").statuses | group("stuck").statuses
"""Statuses that always need a look, whatever the clock says."""


class _View(Protocol):
    """What the tracker reads of a ``JobsView``."""

    @property
    def total(self) -> int: ...
    def get(self, job_id: str) -> JobRow | None: ...
    def all_rows(self) -> Iterable[JobRow]: ...
    def rows_snapshot(self) -> list[JobRow]: ...
    def bulk_baseline(self) -> Baseline | None: ...
    def now(self) -> datetime: ...


def _timed(row: JobRow) -> bool:
    return row.critical or row.deadline is not None or row.critical_start is not None


def needs_look(row: JobRow, now: datetime, due: datetime | None = None) -> bool:
    """Failed, stuck, or past its deadline / critical start and not ended (``due``:
    ``due_at(row)`` when the caller has it). The attention order's "critical late"
    (``RANK_CRITICAL_LATE``) is exactly that: ``due_at`` passed."""
    if row.status in NEEDS_LOOK_STATUSES:
        return True
    if not _timed(row):
        return False
    due = due if due is not None else due_at(row)
    return due is not None and now > aware(due)


_Due = tuple[datetime, str]


class Baseline(NamedTuple):
    """What needs a look in a plan at one instant, and the due instants still to come.

    Shared read-only (a view keeps the one its bulk load built): ``NewSince`` copies both
    before it changes them."""

    attention: frozenset[str]
    due: tuple[_Due, ...]
    """A heap (sorted): the earliest due instant first."""


class BaselineBuilder:
    """``baseline_of`` fed a slice of rows at a time, so a worker thread can pause between
    slices (``JobsView``'s bulk load builds one beside its entries). Pure."""

    __slots__ = ("_attention", "_now", "_timed")

    def __init__(self, now: datetime) -> None:
        self._now = aware(now)
        self._attention: set[str] = set()
        self._timed: list[JobRow] = []

    def add(self, rows: Sequence[JobRow]) -> None:
        """Rows of the plan (each job once over all calls)."""
        needs = NEEDS_LOOK_STATUSES
        # Comprehensions, no call per row: 200k rows are read once.
        self._attention.update([r.job_id for r in rows if r.status in needs])
        self._timed += [r for r in rows if r.status not in needs and (
            r.critical or r.deadline is not None or r.critical_start is not None)]

    def result(self) -> Baseline:
        """The baseline of every row added (call once: it consumes the builder)."""
        now = self._now
        attention = self._attention
        due: list[_Due] = []
        for row in self._timed:
            at = due_at(row)
            if at is None:
                continue
            at = aware(at)
            if now > at:
                attention.add(row.job_id)
            else:
                due.append((at, row.job_id))
        due.sort()  # a sorted list is a heap
        return Baseline(frozenset(attention), tuple(due))


def baseline_of(rows: Sequence[JobRow], now: datetime) -> Baseline:
    """What needs a look in ``rows`` (each job once) at ``now``; pure, so a thread may
    compute it from a snapshot."""
    builder = BaselineBuilder(now)
    builder.add(rows)
    return builder.result()


class _PendingBaseline:
    """A baseline computed in a thread; the ids the view changed meanwhile."""

    __slots__ = ("attention", "changed", "done", "due", "view")

    def __init__(self, view: object, rows: list[JobRow], now: datetime) -> None:
        self.view = view
        self.changed: set[str] = set()
        self.attention: set[str] = set()
        self.due: list[_Due] = []
        self.done = threading.Event()
        threading.Thread(target=self._run, args=(rows, now), name="new-since-baseline",
                         daemon=True).start()

    def _run(self, rows: list[JobRow], now: datetime) -> None:
        try:
            baseline = baseline_of(rows, now)
            self.attention, self.due = set(baseline.attention), list(baseline.due)
        finally:
            self.done.set()


class NewSince:
    """The "new" set of the job table, kept from each update of the view."""

    def __init__(self, *, thread_from: int = 20_000) -> None:
        self._thread_from = thread_from
        self._pending: _PendingBaseline | None = None
        self._attention: set[str] = set()
        """Jobs in an attention state now (new or not)."""
        self._new: set[str] = set()
        self._due: list[tuple[datetime, str]] = []
        """(due instant, job id) of jobs that may become critical late with no new data."""
        self._due_of: dict[str, datetime] = {}
        """The due instant pushed for each job (a row changing again pushes no copy)."""
        self._view: object | None = None
        """The view the baseline was taken from (a new view object is compared whole)."""

    @property
    def new(self) -> Set[str]:
        """The job ids marked new (read-only)."""
        return self._new

    def __len__(self) -> int:
        return len(self._new)

    def update(self, view: _View, change: ChangeSet | None) -> bool:
        """Take the rows ``change`` names (None: a filter or sort moved, or another view
        object came: compared whole then); True if the new set changed.

        A view emptied (an engine switch clears it before the other engine's plan is
        read) starts over: the next plan is a baseline, as for the alert rules, not 200k
        jobs compared on the loop with every failure of the other engine marked new."""
        if not view.total and (self._view is not None or self._pending is not None):
            return self._start_over()
        if self._view is None:
            return self._take_baseline(view, change)
        if view is not self._view:
            self._view = view
            return self._compare(view, (row.job_id for row in view.all_rows()),
                                 whole=True)
        if change is None or not change.changed_ids:
            return self.tick(view)
        return self._compare(view, change.changed_ids) | self.tick(view)

    def tick(self, view: _View) -> bool:
        """Jobs whose deadline passed since the last look at the clock; True if any
        became new."""
        due = self._due
        if not due:
            return False
        now = aware(view.now())
        ripe: list[str] = []
        while due and due[0][0] < now:
            at, job_id = heapq.heappop(due)
            if self._due_of.get(job_id) == at:
                del self._due_of[job_id]
                ripe.append(job_id)
        return self._compare(view, ripe, now=now) if ripe else False

    def looked(self, job_ids: Iterable[str]) -> list[str]:
        """The operator saw these jobs: no longer new. Returns those that were."""
        seen = [i for i in job_ids if i in self._new]
        self._new.difference_update(seen)
        return seen

    def clear(self) -> int:
        """Every mark cleared (the operator's key); how many there were."""
        count = len(self._new)
        self._new.clear()
        return count

    # -- internals ---------------------------------------------------------------------

    def _take_baseline(self, view: _View, change: ChangeSet | None) -> bool:
        """What needs a look at start is known already: not new. A bulk-loaded plan's
        baseline was built with it (off the loop); another big plan's comes from a
        thread; until it is in, changes are only noted."""
        pending = self._pending
        if pending is None:
            if not view.total:
                return False
            built = view.bulk_baseline()
            if built is not None:  # the plan as its load installed it: nothing since
                self._adopt(view, set(built.attention), list(built.due))
                self._absorb_due(aware(view.now()))
                return False
            now = aware(view.now())
            rows = view.rows_snapshot()
            if len(rows) < self._thread_from:
                baseline = baseline_of(rows, now)
                self._adopt(view, set(baseline.attention), list(baseline.due))
                return False
            self._pending = _PendingBaseline(view, rows, now)
            return False
        if pending.view is view and change is not None:
            pending.changed.update(change.changed_ids)
        if not pending.done.is_set():
            return False
        self._pending = None
        self._adopt(pending.view, pending.attention, pending.due)
        if view is not pending.view:  # another view came meanwhile: compared whole
            return self.update(view, None)
        moved = self._compare(view, pending.changed) if pending.changed else False
        return moved | self.tick(view)

    def _start_over(self) -> bool:
        """No plan, no baseline (a thread's still running is dropped); True if any job
        was new."""
        had = bool(self._new)
        self._pending = None
        self._view = None
        self._attention = set()
        self._new.clear()
        self._due = []
        self._due_of = {}
        return had

    def _adopt(self, view: object, attention: set[str], due: list[_Due]) -> None:
        self._view = view
        self._attention = attention
        self._due = due
        self._due_of = {job_id: at for at, job_id in due}

    def _absorb_due(self, now: datetime) -> None:
        """Deadlines passed between the baseline's instant and ``now`` (no write since, so
        those jobs still wait): part of the baseline, as a walk at ``now`` would find."""
        due = self._due
        while due and due[0][0] < now:
            at, job_id = heapq.heappop(due)
            if self._due_of.get(job_id) == at:
                del self._due_of[job_id]
                self._attention.add(job_id)

    def _watch(self, row: JobRow, now: datetime, due: datetime | None) -> None:
        if due is None or aware(due) < now or self._due_of.get(row.job_id) == aware(due):
            return
        self._due_of[row.job_id] = aware(due)
        heapq.heappush(self._due, (aware(due), row.job_id))

    def _compare(self, view: _View, job_ids: Iterable[str], *, now: datetime | None = None,
                 whole: bool = False) -> bool:
        now = aware(now or view.now())
        attention, new = self._attention, self._new
        before = len(new)
        moved = False
        seen: set[str] | None = set() if whole else None
        for job_id in job_ids:
            if seen is not None:
                seen.add(job_id)
            row = view.get(job_id)
            due = due_at(row) if row is not None and _timed(row) else None
            if row is not None and needs_look(row, now, due):
                if job_id not in attention:
                    attention.add(job_id)
                    new.add(job_id)
            else:
                attention.discard(job_id)
                if job_id in new:
                    new.discard(job_id)
                    moved = True
                if row is not None:
                    self._watch(row, now, due)
        if seen is not None:
            gone = [i for i in attention if i not in seen]
            attention.difference_update(gone)
            moved |= bool(new.intersection(gone))
            new.difference_update(gone)
        return moved or len(new) != before
