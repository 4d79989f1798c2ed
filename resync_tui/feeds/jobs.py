"""Jobs feed: the plan's jobs as a :class:`JobsView` diff, cheap when nothing changed.

Each poll first asks the engine for counts per status (``job_counts``, one small
call). If they equal the last ones and the last full read is recent, the 200k-job
plan is not read again; only the clock is re-applied (jobs that became late move
up). Otherwise the plan is read (``read_plan``, paged by the client, each job
decoded as a ``PlanJob``: only the fields of a row) and each slice of 200 jobs is
mapped to rows and diffed against the view as soon as its page is decoded
(``JobsView.plan_diff``): a row equal to the view's is dropped at once, so the
decoded plan and a second copy of the rows are never held whole, and the loop gets
a turn between slices. Nothing of a re-read lives longer than its slice but the
rows it keeps: the read remembers the ids it saw as the view's own strings
(``read_plan(canonical=...)``) and maps without a table of values (the rows kept
are settled onto the view's equal values, ``RowMapper.settle``). Before, a re-read
of 200k jobs held ~20 MB of ids and times until it ended, and pymalloc kept the
arenas they had filled: RSS stepped up ~20 MB at the first re-read, for good.
The changes are then applied on the loop, where the cost follows their number;
the first read of a plan (an empty view: at start, after an engine switch) is a
bulk load instead: entries, counts and the sorted order are built in a worker
thread (``JobsView.bulk_load``) and installed on the loop at once
(``JobsView.adopt``), so the loop only waits for the frame, not for 200k inserts.
A failed poll keeps the view as it was and marks the state stale.

A job is never removed on the word of a read that may have skipped it: when the
client says a read was not ``complete`` (the plan moved between its pages), a job
missing from it is removed only if ``GET /plan/job/{id}`` answers 404 (up to
``_CONFIRM_MAX`` ids a poll), or if it is missing again from the next read.
Records the engine sent but that could not be decoded are published in
``JobsState.unreadable`` (from the last full read).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

import msgspec

from resync_tui.allocator import trim_off_loop
from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.gcpolicy import collections_paused
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.errors import NotFound
from resync_tui.hwa.models import PlanJob, PlanRead, UnreadableRecord
from resync_tui.loop_turns import next_turn
from resync_tui.model.job_row import JobRow, RowMapper, job_row_from_model
from resync_tui.model.jobs_view import ChangeSet, FirstReadTally, JobsView, PlanDiff

__all__ = ["PREVIEW_FROM", "PREVIEW_ROWS", "JobsFeed", "JobsState", "apply_sliced", "load_plan"]

_TRIM_AFTER_JOBS = 20_000
"""After reading a plan this big, free heap pages go back to the system (``_trim_heap``)."""

_APPLY_SLICE = 200
"""Changes applied to the view per loop turn (~10 µs each: a few ms a slice); the first
read of a 200k plan is 200k changes, a re-read of a moving plan thousands."""

_CONFIRM_MAX = 20
"""Missing jobs checked one by one after an incomplete read; more wait for the next read."""


class JobsState(msgspec.Struct, frozen=True, eq=False):
    """``view`` is the feed's live view (mutated only on the event loop by the feed)."""

    view: JobsView
    change: ChangeSet = msgspec.field(default_factory=ChangeSet)
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)
    full_read: bool = False
    """Whether this poll read the whole plan (False: counts unchanged, read skipped)."""
    unreadable: tuple[UnreadableRecord, ...] = ()
    """Records of the last full read that could not be decoded (raw text: sanitize)."""


def _signature(counts: Any) -> Hashable:
    """A comparable digest of whatever ``job_counts`` returns."""
    grouped = getattr(counts, "grouped_count", None)
    if isinstance(grouped, dict):
        return (getattr(counts, "count", None), tuple(sorted(grouped.items())))
    if isinstance(counts, dict):
        return tuple(sorted((str(k), repr(v)) for k, v in counts.items()))
    try:
        hash(counts)
    except TypeError:
        return repr(counts)
    return counts  # type: ignore[no-any-return]


PREVIEW_FROM = 20_000
"""A first read this big shows its most urgent rows before the whole order is built
(``load_plan``'s ``on_preview``): at 200k jobs, ~40 ms against ~0.7 s."""

PREVIEW_ROWS = 200
"""Rows in that preview: more than a wall screen's table shows."""

PREVIEW_PAINT_WAIT = 0.25
"""Seconds the whole build waits at most for the preview's frame: started at once, its
thread took the GIL every 5 ms from the loop painting the preview, and the frame came
10-20 ms later than the preview."""

Shown = Awaitable[object] | None
"""What showing a preview returns: something to await until its frame is painted."""


async def load_plan(view: JobsView, rows: list[JobRow],
                    on_preview: Callable[[JobsView], Shown] | None = None, *,
                    preview_from: int = PREVIEW_FROM,
                    tally: FirstReadTally | None = None) -> ChangeSet:
    """The first read of a plan into an empty view, built off the loop (``BulkLoad``):
    applied in slices on the loop, 200k rows held it ~0.8 s in all. If the view was
    written while the thread built (``adopt`` refuses), the rows are applied the
    incremental way, which merges them with what was written.

    ``on_preview``: for ``preview_from`` rows or more, called on the loop first with
    ``view.preview`` (the top of the order and the plan's counts, found in a worker
    thread; a small view of its own, ``partial_of`` set), so the table can show the jobs
    that need an operator while the rest is ranked; what it returns is awaited (at most
    ``PREVIEW_PAINT_WAIT``) before the build starts, so that frame is painted with the
    loop to itself. ``view`` itself is written only by
    ``adopt``: what reads it (counts, streams, the wall) never sees a part of the plan.
    ``tally``: the one the read of ``rows`` took (``PlanDiff.first_read_tally``): with
    enough failed jobs in it, the preview is found in a few ms, not ~40.
    """
    now = view.now()
    if on_preview is not None and len(rows) >= preview_from:
        preview = await asyncio.to_thread(view.preview, rows, PREVIEW_ROWS, now, tally)
        if preview is not None and (shown := on_preview(preview)) is not None:
            # A busy loop: the build does not wait any longer for the frame.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_awaited(shown), PREVIEW_PAINT_WAIT)
    load = view.bulk_load(rows, now)
    try:
        with collections_paused():  # no young collection walks what the build grows
            await asyncio.to_thread(load.build)
    finally:
        load.cancel()  # a cancelled poll: the thread stops at its next pause
    change = view.adopt(load)
    if change is None:
        return await apply_sliced(view, rows, [])
    return change


async def _awaited(shown: Awaitable[object]) -> None:
    await shown


async def apply_sliced(view: JobsView, changed: list[JobRow], removed: list[str]
                        ) -> ChangeSet:
    """``view.apply_changes`` a slice at a time with a loop turn between, one ChangeSet for
    the whole: applied at once, 200k rows held the loop for over a second."""
    if len(changed) + len(removed) <= _APPLY_SLICE:
        return view.apply_changes(changed, removed)
    now = view.now()
    parts: list[ChangeSet] = []
    for start in range(0, len(changed), _APPLY_SLICE):
        parts.append(view.apply_changes(changed[start : start + _APPLY_SLICE], (), now))
        await next_turn()
    for start in range(0, len(removed), _APPLY_SLICE):
        parts.append(view.apply_changes((), removed[start : start + _APPLY_SLICE], now))
        await next_turn()
    added = tuple(itertools.chain.from_iterable(part.added for part in parts))
    updated = tuple(itertools.chain.from_iterable(part.changed for part in parts))
    gone = tuple(itertools.chain.from_iterable(part.removed for part in parts))
    return ChangeSet(added=added, changed=updated, removed=gone,
                     order_changed=any(part.order_changed for part in parts),
                     version=view.version,
                     changed_ids=frozenset((*added, *updated, *gone)))


async def _trim_heap() -> None:
    """Give the memory a plan read used back to the system (``allocator.trim_off_loop``:
    in a thread, the loop keeps running).

    A read holds a few pages in flight (bodies, one decoded page) and the ids it has
    seen; once freed, glibc keeps much of it (holes between the rows that stay), so the
    process would stay tens of MB above what it holds after each re-read.
    """
    await trim_off_loop()


class _PlanReader:
    """One whole-plan read mapped and diffed as it arrives; a new one for every attempt
    (a retried read must not count the jobs its failed attempt had seen)."""

    __slots__ = ("_client", "_tally", "_view", "diff")

    def __init__(self, client: HwaClient, view: JobsView, *, tally: bool = False) -> None:
        """``tally``: a first read keeps the tally its preview is found from."""
        self._client = client
        self._tally = tally
        self._view = view
        self.diff: PlanDiff | None = None

    async def __call__(self) -> PlanRead:
        view = self._view
        to_row: Callable[[PlanJob], JobRow]
        if view.total:
            # A re-read: most rows equal the view's and are dropped at once; only those
            # kept share values (the view's, then each other's), so the read holds no
            # table of its 200k times.
            diff = self.diff = view.plan_diff(RowMapper())
            to_row = job_row_from_model
        else:
            diff = self.diff = view.plan_diff()
            if self._tally:
                diff.tally_for_preview()
            to_row = RowMapper()  # every row is kept: equal times shared as they come

        def take(jobs: Sequence[PlanJob]) -> None:
            diff.add(map(to_row, jobs))

        return await self._client.read_plan(take, canonical=diff.canonical_id)


class JobsFeed:
    name = "jobs"

    def __init__(self, runtime: Runtime, view: JobsView | None = None, *,
                 full_read_every: float = 60.0) -> None:
        self._rt = runtime
        self.view = view if view is not None else JobsView()
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self._signature: Hashable | None = None
        self._last_full = -float("inf")
        self._full_read_every = full_read_every
        # A whole-plan read (all pages, retries included) may take one call's deadline
        # (hwa.call_deadline), not more: a plan read hanging on a slow body must fail
        # and say so within a minute, not after three attempts of a minute each. A 200k
        # plan reads in a few seconds.
        self._plan_retry = msgspec.structs.replace(
            runtime.retry,
            deadline_seconds=max(runtime.retry.deadline_seconds,
                                 runtime.settings.hwa.call_deadline))
        self._unreadable: tuple[UnreadableRecord, ...] = ()
        self._missing: set[str] = set()
        """Jobs an incomplete read did not show and that are still kept: removed if missed again."""
        self.on_preview: Callable[[JobsView, tuple[UnreadableRecord, ...]], Shown] | None = (
            None)
        """Given the top of a big first read before the whole is built (``load_plan``),
        and the read's records that could not be decoded (the preview lacks them too):
        the app shows it in the jobs table only, and returns what to await until its
        frame is painted (None: nothing)."""
        self.preview_from = PREVIEW_FROM

    def refresh(self) -> None:
        """The next poll reads the whole plan (the operator pressed refresh)."""
        self.force_full_read()

    def force_full_read(self) -> None:
        """Make the next poll read the whole plan (the operator pressed refresh)."""
        self._signature = None

    def _state(self, change: ChangeSet, health: FeedHealth, full_read: bool) -> JobsState:
        return JobsState(self.view, change, health, full_read=full_read,
                         unreadable=self._unreadable)

    async def _confirm_removals(self, removed: list[str], read: PlanRead) -> list[str]:
        """The ids to remove now: all of them after a complete read, else only the proven.

        Proven: missing from the previous read too, or 404 on a direct look-up. The
        rest stay in the view (an incomplete read may have skipped them) and are
        remembered for the next read.
        """
        previously = self._missing
        if read.complete or not removed:
            self._missing = set()
            return removed
        confirmed: list[str] = []
        unsure: list[str] = []
        for job_id in removed:
            (confirmed if job_id in previously else unsure).append(job_id)
        still: set[str] = set()
        rt = self._rt
        for job_id in unsure[:_CONFIRM_MAX]:
            try:
                await hwa_call(rt, functools.partial(rt.client.get_job, job_id),
                               breaker=rt.hwa_api, operation="get_job")
            except NotFound:
                confirmed.append(job_id)
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # cannot tell: keep it, the next read decides
                pass
            still.add(job_id)
        still.update(unsure[_CONFIRM_MAX:])
        self._missing = still
        return confirmed

    async def poll(self) -> JobsState:
        rt = self._rt
        breaker = rt.hwa_job_status
        try:
            counts = await hwa_call(rt, rt.client.plan_signature, breaker=breaker,
                                    operation="plan_signature")
            signature = _signature(counts)
            recent = time.monotonic() - self._last_full < self._full_read_every
            if (signature == self._signature and recent and self._tracker.health.ok
                    and not self._missing):
                change = self.view.refresh_clock()
                return self._state(change, self._tracker.success(), full_read=False)
            # A 200k-job plan takes longer than one call may: the client bounds the whole
            # read (plan_timeout), and retries get a deadline to match.
            reader = _PlanReader(rt.client, self.view, tally=self.on_preview is not None)
            read: PlanRead = await hwa_call(rt, reader, breaker=breaker,
                                            operation="fetch_plan", attempt_timeout=None,
                                            retry=self._plan_retry)
            diff = reader.diff
            assert diff is not None
            del reader
            changed, removed = diff.result()
            tally = diff.first_read_tally
            diff.release()
            del diff
            removed = await self._confirm_removals(removed, read)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.view.total > _TRIM_AFTER_JOBS:
                await _trim_heap()  # a read that failed part-way used memory too
            return self._state(ChangeSet(), self._tracker.failure(exc), full_read=False)
        if not self.view.total and not removed and len(changed) > _APPLY_SLICE:
            show, unreadable = self.on_preview, read.unreadable
            change = await load_plan(
                self.view, changed,
                None if show is None else (lambda preview: show(preview, unreadable)),
                preview_from=self.preview_from, tally=tally)
        else:
            change = await apply_sliced(self.view, changed, removed)
        del changed, tally
        if read.received > _TRIM_AFTER_JOBS:
            await _trim_heap()
        self._signature = signature
        self._last_full = time.monotonic()
        self._unreadable = read.unreadable
        return self._state(change, self._tracker.success(), full_read=True)
