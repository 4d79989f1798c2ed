"""The job streams view: one row per stream of the plan, its jobs counted by status group.

Pure Python (no Textual, no I/O), so the feed builds it and tests drive it directly.

A stream row joins two reads the app already has: the engine's stream list
(``GET /plan/jobstream``: name, status, times, carry forward) and the jobs the jobs feed
holds (``JobRow``), matched by stream name (``JobRow.stream`` is the job's
``jobStreamName``). The counts come from those jobs, not from a second read of the plan:
every job lands in exactly one of the seven groups of ``model/status.py``, so a row's
counts add up to the jobs the app holds for it. The worst job is the one first in the
attention order (``model/attention.py``: failed, then stuck and late, ...).

Public API:
    ``StreamRow`` (immutable), ``StreamInfo`` (what the stream read says of one stream),
    ``build_stream_rows(streams, jobs, now, policy=None) -> list[StreamRow]``,
    ``StreamsView(rows=())``: ``set_rows``, ``set_filter``, ``set_sort``, ``len``,
    ``row_at``, ``rows_in``, ``position_of``, ``total``, ``version``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Literal

import msgspec

from resync_tui.hwa.models import JobStreamInPlan
from resync_tui.model.attention import AttentionPolicy, late_and_rank, rank_at
from resync_tui.model.critical import is_watched
from resync_tui.model.job_row import JobRow, aware
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.status import ALL_GROUPS, RUNNING_STATUSES, GroupName, group_of

__all__ = [
    "STREAM_SORT_COLUMNS",
    "PreparedStreams",
    "StreamInfo",
    "StreamRow",
    "StreamSortColumn",
    "StreamsView",
    "all_jobs",
    "build_stream_rows",
    "stream_info_from_model",
    "stream_rank",
]

_GROUP_INDEX: Final[Mapping[GroupName, int]] = {name: i for i, name in enumerate(ALL_GROUPS)}
_NO_JOB_RANK: Final = 99
_TIMED: Final = RUNNING_STATUSES | {"HOLD"}
"""Statuses the clock can make late by themselves (``attention.late_at``; a deadline or
critical start can make any job late): their rank needs ``now``."""


class StreamInfo(msgspec.Struct, frozen=True, gc=False):
    """What the engine's stream list says of one stream (strings raw: sanitize to show)."""

    stream_id: str
    name: str
    folder: str = ""
    workstation: str = ""
    status: str = ""
    """``JobStreamInPlanStatus`` as sent (SUCC, ABEND, EXEC, HOLD...); unknown values kept."""
    scheduled: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    carried_forward: bool = False
    engine_jobs: int | None = None
    """``jobStreamStats.numberOfJob``: how many jobs the engine says the stream has."""


class StreamRow(msgspec.Struct, frozen=True, gc=False):
    """One stream as the Streams pane shows it; replaced, never mutated."""

    info: StreamInfo
    counts: tuple[int, ...]
    """Jobs per status group, in ``ALL_GROUPS`` order (failed, stuck, running, ...)."""
    worst_job: str = ""
    """Name of the job first in the attention order ("" when the app holds none)."""
    worst_status: str = ""
    worst_rank: int = _NO_JOB_RANK
    """Attention rank of the worst job (0 failed ... 14 SUCC; 99: no job held)."""

    @property
    def stream_id(self) -> str:
        return self.info.stream_id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def jobs(self) -> int:
        """Jobs the app holds for this stream (the counts add up to it)."""
        return sum(self.counts)

    def count(self, name: GroupName) -> int:
        return self.counts[_GROUP_INDEX[name]]


def stream_info_from_model(stream: JobStreamInPlan) -> StreamInfo:
    """Map a ``JobStreamInPlan`` (spec ``JobStreamInPlanV2``); absent fields give empty ones."""
    stats = stream.job_stream_stats
    return StreamInfo(
        stream_id=stream.id or stream.display_name,
        name=stream.name or stream.original_job_stream_name or "",
        folder=stream.folder or "",
        workstation=stream.workstation or "",
        status=stream.status or stream.common_status or "",
        scheduled=stream.sched_time,
        started=stream.started_at,
        ended=stream.ended_at,
        carried_forward=stream.carried_forward,
        engine_jobs=stats.number_of_job if stats is not None else None,
    )


def all_jobs(view: JobsView) -> list[JobRow]:
    """Every job the view holds, whatever its filter (on the event loop: the view's thread;
    a worker thread may try, and gets ``RuntimeError`` if the view changed meanwhile).

    One C-level copy of the view's rows (``JobsView.all_rows``): listing 200k jobs through
    ``diff(())`` and a look-up per id took 0.1 s of CPU, paid at every stream count.
    """
    return view.rows_snapshot()


def stream_rank(status: str) -> int:
    """Where a stream's own status ranks when no job says more (its group's order)."""
    return _GROUP_INDEX[group_of(status).name] if status else len(ALL_GROUPS)


def build_stream_rows(
    streams: Iterable[StreamInfo],
    jobs: Iterable[JobRow],
    now: datetime,
    policy: AttentionPolicy | None = None,
) -> list[StreamRow]:
    """One row per stream, counts and worst job from ``jobs`` (matched by stream name).

    Jobs of a stream the list does not name are not shown here (the list is the
    engine's word on which streams exist); a stream without jobs held has zero counts.
    """
    policy = policy or AttentionPolicy()
    now = aware(now)
    groups = len(ALL_GROUPS)
    # Per status, once: its group's slot and its rank while not late (200k jobs, ~20
    # statuses); only running and held jobs and those with a deadline or critical start
    # can be late (``attention.late_at``), so only they pay for the clock.
    slot_of: dict[str, int] = {}
    static_rank: dict[str, int] = {}
    per_stream: dict[str, list[int]] = {}
    worst: dict[str, JobRow] = {}
    worst_rank: dict[str, int] = {}
    for row in jobs:
        name = row.stream
        status = row.status
        slot = slot_of.get(status)
        if slot is None:
            slot = slot_of[status] = _GROUP_INDEX[group_of(status).name]
            static_rank[status] = rank_at(JobRow(job_id="", status=status), None, now)
        counts = per_stream.get(name)
        if counts is None:
            counts = per_stream[name] = [0] * groups
        counts[slot] += 1
        rank = static_rank[status]
        if status in _TIMED or is_watched(row):  # the clock can make it late
            rank = late_and_rank(row, policy, now)[1]
        best = worst_rank.get(name, _NO_JOB_RANK + 1)
        if rank < best or (rank == best and row.job < worst[name].job):
            worst_rank[name] = rank
            worst[name] = row
    rows: list[StreamRow] = []
    zero = (0,) * groups
    for info in streams:
        counts = per_stream.get(info.name)
        job = worst.get(info.name)
        if job is None:
            rows.append(StreamRow(info, tuple(counts) if counts else zero))
            continue
        rows.append(StreamRow(info, tuple(counts) if counts else zero, worst_job=job.job,
                              worst_status=job.status, worst_rank=worst_rank[info.name]))
    return rows


StreamSortColumn = Literal[
    "stream", "status", "jobs", "failed", "workstation", "folder", "started", "ended", "worst"]
STREAM_SORT_COLUMNS: Final[tuple[StreamSortColumn, ...]] = (
    "stream", "status", "jobs", "failed", "workstation", "folder", "started", "ended", "worst")


def _time_key(value: datetime | None) -> str:
    value = aware(value)
    return "1" if value is None else "0" + value.astimezone(UTC).isoformat()


def _sort_key(row: StreamRow, column: StreamSortColumn | None) -> str:
    """One string per row (ties broken by name then id); missing values sort last."""
    info = row.info
    tail = f"{info.name.lower()}\x00{info.stream_id}"
    if column is None:  # attention: the worst job, then the stream's own status
        return f"{row.worst_rank:02d}\x00{stream_rank(info.status):02d}\x00{tail}"
    if column == "stream":
        return tail
    if column == "status":
        return f"{stream_rank(info.status):02d}\x00{info.status}\x00{tail}"
    if column == "jobs":
        return f"{row.jobs:09d}\x00{tail}"
    if column == "failed":
        return f"{row.count('failed'):09d}\x00{tail}"
    if column == "workstation":
        return f"{info.workstation.lower()}\x00{tail}"
    if column == "folder":
        return f"{info.folder.lower()}\x00{tail}"
    if column == "started":
        return f"{_time_key(info.started)}\x00{tail}"
    if column == "ended":
        return f"{_time_key(info.ended)}\x00{tail}"
    return f"{row.worst_rank:02d}\x00{row.worst_job.lower()}\x00{tail}"


def _haystack(row: StreamRow) -> str:
    info = row.info
    # \x00 between fields: a search never matches across two of them.
    return f"{info.name}\x00{info.folder}\x00{info.workstation}\x00{row.worst_job}".lower()


class PreparedStreams(msgspec.Struct, frozen=True, eq=False):
    """A new stream read, indexed and sorted off the loop (``StreamsView.prepare``)."""

    rows: list[StreamRow]
    by_id: dict[str, StreamRow]
    hay: dict[str, str]
    failing: int
    order: list[StreamRow]
    column: StreamSortColumn | None
    descending: bool


class StreamsView:
    """All streams plus the sorted, filtered list the table shows.

    20,000 streams sort in a few ms, so a new read simply re-sorts (keys are cached per
    row object); a filter keystroke is one pass of substring tests over cached haystacks.
    """

    def __init__(self, rows: Iterable[StreamRow] = ()) -> None:
        self._rows: list[StreamRow] = []
        self._by_id: dict[str, StreamRow] = {}
        self._hay: dict[str, str] = {}
        self._order: list[StreamRow] = []
        self._visible: list[StreamRow] = []
        self._positions: dict[str, int] | None = None
        self._column: StreamSortColumn | None = None
        self._descending = False
        self._needle = ""
        self._version = 0
        self._failing = 0
        self.set_rows(rows)

    # -- read side ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._visible)

    @property
    def total(self) -> int:
        """Streams in the plan, ignoring the filter."""
        return len(self._rows)

    @property
    def version(self) -> int:
        """Bumped by every change of data, order or filter."""
        return self._version

    @property
    def failing(self) -> int:
        """Streams the engine says failed or stuck (ABEND, STUCK...; filter ignored).

        The engine's word on the stream, not the jobs held: the tab says it even before
        the job list is read."""
        return self._failing

    @property
    def sort_column(self) -> StreamSortColumn | None:
        """Column sorted by, or None for the attention order (worst job first)."""
        return self._column

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def filter_text(self) -> str:
        return self._needle

    def row_at(self, index: int) -> StreamRow:
        return self._visible[index]

    def all_rows(self) -> list[StreamRow]:
        """Every stream, filter ignored, in the engine's order (a shared feed's leader
        publishes them as counted)."""
        return list(self._rows)

    def rows_in(self, start: int, stop: int) -> list[StreamRow]:
        return self._visible[max(start, 0):max(stop, 0)]

    def get(self, stream_id: str) -> StreamRow | None:
        return self._by_id.get(stream_id)

    def position_of(self, stream_id: str) -> int | None:
        """Index of a stream in the current view, or None if filtered out or gone."""
        if self._positions is None:
            self._positions = {row.info.stream_id: i for i, row in enumerate(self._visible)}
        return self._positions.get(stream_id)

    # -- write side --------------------------------------------------------------------

    def set_rows(self, rows: Iterable[StreamRow]) -> None:
        """Replace every stream (a new read): order and filter are kept."""
        self.adopt(self.prepare(rows))

    def prepare(self, rows: Iterable[StreamRow]) -> PreparedStreams:
        """The costly half of ``set_rows`` (indexes, haystacks, the sort), touching nothing
        the table reads: a worker thread may run it while the loop draws."""
        listed = list(rows)
        column, descending = self._column, self._descending
        return PreparedStreams(
            rows=listed,
            by_id={row.info.stream_id: row for row in listed},
            hay={row.info.stream_id: _haystack(row) for row in listed},
            failing=sum(1 for row in listed
                        if group_of(row.info.status).name in ("failed", "stuck")),
            order=sorted(listed, key=lambda row: _sort_key(row, column), reverse=descending),
            column=column, descending=descending)

    def adopt(self, prepared: PreparedStreams) -> None:
        """Show what ``prepare`` built (on the loop); re-sorted if the order changed since."""
        self._rows = prepared.rows
        self._by_id = prepared.by_id
        self._hay = prepared.hay
        self._failing = prepared.failing
        if (prepared.column, prepared.descending) == (self._column, self._descending):
            self._order = prepared.order
            self._refilter()
        else:
            self._resort()

    def set_filter(self, text: str) -> bool:
        """Case-insensitive substring filter over name, folder, workstation and worst job."""
        needle = text.strip().lower()
        if needle == self._needle:
            return False
        self._needle = needle
        self._refilter()
        return True

    def set_sort(self, column: StreamSortColumn | None, descending: bool = False) -> bool:
        """Sort by a column, or by attention (``None``: the worst job first)."""
        if column is not None and column not in STREAM_SORT_COLUMNS:
            raise ValueError(f"unknown sort column {column!r}")
        if column == self._column and descending == self._descending:
            return False
        self._column = column
        self._descending = descending
        self._resort()
        return True

    # -- internals ---------------------------------------------------------------------

    def _resort(self) -> None:
        column = self._column
        self._order = sorted(self._rows, key=lambda row: _sort_key(row, column),
                             reverse=self._descending)
        self._refilter()

    def _refilter(self) -> None:
        needle = self._needle
        if needle:
            hay = self._hay
            self._visible = [r for r in self._order if needle in hay[r.info.stream_id]]
        else:
            self._visible = self._order
        self._positions = None
        self._version += 1
