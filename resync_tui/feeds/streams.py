"""Job streams feed: the plan's streams, each with its jobs counted from the jobs feed's view.

Each poll reads the stream list (``HwaClient.job_streams``, paged by the client) through
the ``hwa_api`` breaker with the runtime's retry policy, every ``ui.workstations_interval``
seconds. Job counts and the worst job come from the ``JobsView`` the jobs feed keeps (no
second read of 200k jobs): the view's rows are listed on the event loop (the only thread
that writes it) and grouped in a worker thread for big plans. A failed poll keeps the last
rows and marks the state stale, like every other pane.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth, HealthTracker
from resync_tui.hwa.models import UnreadableRecord
from resync_tui.model.jobs_view import JobsView
from resync_tui.model.streams import (
    StreamsView,
    all_jobs,
    build_stream_rows,
    stream_info_from_model,
)

__all__ = ["StreamsFeed", "StreamsState"]

_THREAD_THRESHOLD = 5000
"""Jobs beyond which the grouping runs off the event loop."""


@dataclass(frozen=True, slots=True, eq=False)
class StreamsState:
    """``view`` is the feed's live view (rows replaced only on the event loop by the feed;
    the pane sets its sort and filter)."""

    view: StreamsView
    health: FeedHealth = field(default_factory=FeedHealth)
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
        infos = [stream_info_from_model(stream) for stream in read.streams]
        jobs = all_jobs(self._jobs)  # on the loop: the jobs feed writes the view here
        now = self._now()
        if len(jobs) > _THREAD_THRESHOLD:
            rows = await asyncio.to_thread(build_stream_rows, infos, jobs, now)
        else:
            rows = build_stream_rows(infos, jobs, now)
        self.view.set_rows(rows)
        self._last = StreamsState(self.view, self._tracker.success(), len(jobs),
                                  read.unreadable, self.interval)
        return self._last

