"""A feed's runner stops when its worker is cancelled, even when a kick lands in the same
loop turn as the cancellation (an app quitting while a refresh is pressed, a test's
teardown while a feed is woken). Python 3.11's ``asyncio.wait_for`` returns the result of
an inner wait that completed in that turn and drops the cancellation: the runner polled
on for ever and the app never finished quitting."""

from __future__ import annotations

import asyncio

from resync_tui.feeds.runner import FeedRunner


class _CountingFeed:
    name = "counting"

    def __init__(self) -> None:
        self.polls = 0

    async def poll(self) -> int:
        self.polls += 1
        return self.polls


async def test_a_kick_in_the_same_turn_as_the_cancellation_does_not_keep_it_running() -> None:
    feed = _CountingFeed()
    running = asyncio.Event()
    running.set()
    published: list[int] = []
    runner = FeedRunner(feed, 30.0, published.append, running)
    task = asyncio.create_task(runner.run())
    await runner.wait_results(1)
    await asyncio.sleep(0.01)  # the runner is asleep until its next poll, 30 s away
    runner.kick(refresh=True)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2.0)
    if not done:  # leave nothing behind: the old runner had to be cancelled again
        task.cancel()
        await asyncio.wait([task], timeout=2.0)
    assert done and task.cancelled()
    assert feed.polls == 1  # nothing polled after the cancellation


class _SwallowingFeed:
    """A poll whose library turns the cancellation into an error the feed handles (as
    redis-py's read timeout can when the two race): the poll returns a state."""

    name = "swallowing"

    def __init__(self) -> None:
        self.polls = 0
        self.entered = asyncio.Event()

    async def poll(self) -> int:
        self.polls += 1
        if self.polls == 2:
            self.entered.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                return -1  # swallowed: "Redis timed out"
        return self.polls


async def test_a_cancellation_swallowed_inside_a_poll_still_stops_the_runner() -> None:
    feed = _SwallowingFeed()
    running = asyncio.Event()
    running.set()
    published: list[int] = []
    runner = FeedRunner(feed, 0.01, published.append, running)
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(feed.entered.wait(), 2.0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2.0)
    if not done:
        task.cancel()
        await asyncio.wait([task], timeout=2.0)
    assert done and task.cancelled()
    assert feed.polls == 2  # no poll after the one that swallowed the cancellation
