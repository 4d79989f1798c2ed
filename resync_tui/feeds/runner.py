"""Poll, publish, sleep; repeat: the loop each pane's feed runs in.

The next poll is scheduled only when the previous one has finished, so a slow engine
slows the polling down instead of piling polls up (an ``exclusive`` worker on a timer
would cancel every poll of a backend slower than its interval). A feed never raises:
a failure is a state like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from resync_tui.feeds.status import Feed
from resync_tui.resilience.tasks import raise_if_cancelling

__all__ = ["FeedRunner"]

_log = logging.getLogger(__name__)

S = TypeVar("S")


class FeedRunner(Generic[S]):
    """Poll, publish, sleep; repeat. Never two polls of one feed at the same time."""

    def __init__(self, feed: Feed[S], interval: float, publish: Callable[[S], None],
                 running: asyncio.Event) -> None:
        self.feed = feed
        self.name = feed.name
        self.interval = interval
        self.results = 0
        self.last: S | None = None
        self._publish = publish
        self._feeds_running = running
        self._lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._refresh = False
        self._progress = asyncio.Condition()

    async def run(self) -> None:
        while True:
            await self._feeds_running.wait()
            await self.poll_once()
            raise_if_cancelling()
            await self._sleep()
            raise_if_cancelling()

    async def poll_once(self) -> None:
        """One poll and publish; waits for a poll already running instead of overlapping."""
        async with self._lock:
            try:
                state = await self.feed.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # feeds catch their own errors; this is a bug guard
                _log.exception("feed %s failed", self.name)
                return
            if state is self.last:
                return  # nothing new (a shared feed's follower between deltas)
            self.last = state
            try:
                self._publish(state)
            except Exception:  # a widget bug: logged with its traceback; the pane keeps
                # its last drawing and the next poll tries again
                _log.exception("showing the result of feed %s failed", self.name)
            self.results += 1
        async with self._progress:
            self._progress.notify_all()

    async def _sleep(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not self._refresh:
            left = started + self.interval - loop.time()
            if left <= 0:
                break
            self._kick.clear()
            try:
                # Not ``wait_for``: on Python 3.11 it drops a cancellation that lands in
                # the turn the kick completes its wait, and the runner would poll on.
                async with asyncio.timeout(left):
                    await self._kick.wait()
            except TimeoutError:
                break
        self._refresh = False

    def kick(self, *, refresh: bool) -> None:
        """Wake the sleeper: to poll now (``refresh``) or to re-read the interval."""
        self._refresh = self._refresh or refresh
        self._kick.set()

    async def wait_results(self, count: int) -> None:
        """Until at least ``count`` polls have been published."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.results >= count)
