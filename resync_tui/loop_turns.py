"""Loop turns for background work cut into slices: one slice per event-loop iteration.

Long work on the event loop (a 200k-job re-read mapped and diffed as its pages come,
the critical-path index, a page decoded 200 jobs at a time, a plan applied 200 changes
at a time) is cut into slices of a few milliseconds with a yield between. Yielding with
``asyncio.sleep(0)`` is not enough when several of them run at once: asyncio runs every
callback that is ready at the start of an iteration before it looks at its timers and
its I/O again, so one iteration ran a slice of each (the jobs feed, the critical feed,
a page decode: 2-4 ms each) and a key arriving then waited for all of them, 15-20 ms.
A key reaches its widget through several message hops, an iteration each.

``next_turn()`` is the yield to use instead: the slices of all tasks that yield with it
take turns, at most one a loop iteration (first come, first served), while everything
else (input, timers, the screen's update, sockets) runs in every iteration as before.
The work done is the same; only its order changes.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque

__all__ = ["next_turn"]


class _Turns:
    """The waiting slices of one event loop, woken one per iteration by ``_pump``.

    It holds no reference to its loop (the loop is the key of a weak mapping to it)."""

    __slots__ = ("_pumping", "_waiters")

    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._pumping = False

    def wait(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append(future)
        if not self._pumping:
            self._pumping = True
            loop.call_soon(self._pump, loop)
        return future

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake the first waiter still waiting (its slice runs in the next iteration),
        and come back after it: ``call_soon`` queues this behind the slice woken."""
        waiters = self._waiters
        while waiters:
            future = waiters.popleft()
            if not future.done():  # a cancelled task's turn is skipped
                future.set_result(None)
                loop.call_soon(self._pump, loop)
                return
        self._pumping = False


_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = (
    weakref.WeakKeyDictionary())


async def next_turn() -> None:
    """Let the loop run (input, timers, I/O, the screen) and wait for this task's turn:
    the yield between two slices of background work, instead of ``asyncio.sleep(0)``."""
    loop = asyncio.get_running_loop()
    turns = _TURNS.get(loop)
    if turns is None:
        turns = _TURNS[loop] = _Turns()
    await turns.wait(loop)
