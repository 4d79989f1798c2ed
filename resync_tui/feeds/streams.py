"""Job streams feed: the plan's streams, each with its jobs counted from the jobs feed's view.

Each poll reads the stream list (``HwaClient.job_streams``, paged by the client) through
the ``hwa_api`` breaker with the runtime's retry policy, every ``ui.workstations_interval``
seconds. Job counts and the worst job come from the ``JobsView`` the jobs feed keeps (no
second read of 200k jobs): the view's rows are listed on the event loop (the only thread
that writes it) and grouped in a worker thread for big plans; the rows a new count
replaces are let go a slice at a time (``_adopt``). A failed poll keeps the last rows and
marks the state stale, like every other pane.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import msgspec

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.hwa.models import JobStreamRead, UnreadableRecord
from resync_tui.loop_turns import next_turn
from resync_tui.model.jobs_view import JobsView, paced
from resync_tui.model.streams import (
    PreparedStreams,
    StreamRow,
    StreamsView,
    all_jobs,
    build_stream_rows,
    stream_info_from_model,
)

__all__ = ["StreamsFeed", "StreamsState", "count_streams"]

_THREAD_THRESHOLD = 5000
"""Jobs beyond which the listing and grouping run off the event loop."""
_LIST_ATTEMPTS = 3
_RELEASE_SLICE = 2_000
"""Replaced stream rows freed per loop turn (each frees its info, strings and counts)."""


class StreamsState(msgspec.Struct, frozen=True, eq=False):
    """``view`` is the feed's live view (rows replaced only on the event loop by the feed;
    the pane sets its sort and filter)."""

    view: StreamsView
    health: FeedHealth = msgspec.field(default_factory=FeedHealth)
    jobs_counted: int = 0
    """Jobs of the jobs view the counts were made from."""
    unreadable: tuple[UnreadableRecord, ...] = ()
    """Stream records of the last read that could not be decoded (raw text: sanitize)."""
    interval: float = 0.0
    """Seconds between polls: data older than a few of them is stale."""


class StreamsFeed:
    name = "streams"

    def __init__(self, runtime: Runtime, jobs: JobsView, interval: float,
                 now: Callable[[], datetime] | None = None) -> None:
        self._rt = runtime
        self._jobs = jobs
        self.interval = interval
        self._now = now or jobs.now
        self._tracker = HealthTracker(runtime.clock, what="engine")
        self.view = StreamsView()
        self._last = StreamsState(self.view, interval=interval)
        self.last_read: JobStreamRead | None = None
        """The engine's last good stream list (the shared feed's leader publishes it)."""

    def refresh(self) -> None:
        """Nothing cached here: every poll reads the engine."""

    async def poll(self) -> StreamsState:
        rt = self._rt
        try:
            read = await hwa_call(rt, rt.client.job_streams, breaker=rt.hwa_api,
                                  operation="job_streams")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._last = StreamsState(self.view, self._tracker.failure(exc),
                                      self._last.jobs_counted, self._last.unreadable,
                                      self.interval)
            return self._last
        self.last_read = read
        counted = await count_streams(self.view, read, self._jobs, self._now())
        self._last = StreamsState(self.view, self._tracker.success(), counted,
                                  read.unreadable, self.interval)
        return self._last

    @property
    def jobs_version(self) -> int:
        """The jobs view's version (counts made at another one may be out of date)."""
        return self._jobs.version

    @property
    def jobs_total(self) -> int:
        return self._jobs.total

    async def show_rows(self, rows: list[StreamRow], health: FeedHealth,
                        jobs_counted: int) -> StreamsState:
        """Streams another process counted (the shared feed's leader, from a jobs view
        that holds what this one does): shown as they are, no count of our own."""
        if len(rows) > _THREAD_THRESHOLD:
            await _adopt(self.view, await asyncio.to_thread(self.view.prepare, rows))
        else:
            self.view.set_rows(rows)
        self._last = StreamsState(self.view, health, jobs_counted, (), self.interval)
        return self._last

    async def show_read(self, read: JobStreamRead, health: FeedHealth) -> StreamsState:
        """A stream list read by another process (the shared feed's leader), counted from
        this process's own jobs view, with that read's health."""
        counted = await count_streams(self.view, read, self._jobs, self._now())
        self._last = StreamsState(self.view, health, counted, read.unreadable, self.interval)
        return self._last


async def count_streams(view: StreamsView, read: JobStreamRead, jobs: JobsView,
                        now: datetime) -> int:
    """A stream read into ``view``, each stream's jobs counted from ``jobs``; returns how
    many jobs were counted. (The poll's whole model step; the bench times this.)"""
    if jobs.total <= _THREAD_THRESHOLD and len(read.streams) <= _THREAD_THRESHOLD:
        infos = [stream_info_from_model(stream) for stream in read.streams]
        held = all_jobs(jobs)
        view.set_rows(build_stream_rows(infos, held, now))
        return len(held)
    listed, prepared = await asyncio.to_thread(_list_and_count, read, view, jobs, now)
    if prepared is None:  # the job list kept moving under the thread: list it on the loop
        held = all_jobs(jobs)
        listed = len(held)
        infos = [stream_info_from_model(stream) for stream in read.streams]
        prepared = await asyncio.to_thread(
            lambda: view.prepare(build_stream_rows(infos, paced(held), now)))
    await _adopt(view, prepared)
    return listed


async def _adopt(view: StreamsView, prepared: PreparedStreams) -> None:
    """``view.adopt(prepared)`` on the loop (the table reads the view there), the rows it
    replaces freed a slice at a time with loop turns between: let go at once, the last
    read's rows (each with its info, strings and counts) were freed in one go, 20-30 ms
    on the loop at 200k jobs. Held here, the view's old lists and dicts only drop
    references; the rows themselves go ``_RELEASE_SLICE`` at a time."""
    retired = view.all_rows()
    view.adopt(prepared)
    while retired:
        del retired[-_RELEASE_SLICE:]
        await next_turn()


def _list_and_count(read: JobStreamRead, view: StreamsView, jobs: JobsView,
                    now: datetime) -> tuple[int, PreparedStreams | None]:
    """In a worker thread: list the jobs view, then count. The jobs feed may apply a
    change on the loop meanwhile (a dict changing size under the listing raises): tried
    a few times, then None (the caller lists on the loop, where nothing moves under it).
    A change that lands between two rows read only shifts counts by a poll's worth."""
    infos = [stream_info_from_model(stream) for stream in read.streams]
    for _ in range(_LIST_ATTEMPTS):
        listed = jobs.total
        try:
            # Paced, from the view itself: a count of 200k jobs keeps the GIL from the
            # loop otherwise, and a snapshot of them is walked by young collections.
            rows = build_stream_rows(infos, jobs.rows_paced(), now)
        except RuntimeError:
            continue
        return listed, view.prepare(rows)
    return 0, None

