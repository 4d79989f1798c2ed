"""Long-lived tasks that stop when asked, even when a cancellation was swallowed below.

A loop that runs until cancelled (a feed's runner, the L2 writer, the audit drain, the
lease keeper) calls awaitables that may catch ``CancelledError`` without re-raising it:
a library turning a cancellation that races its own timeout into a timeout error (which
the loop then handles as any failure), Python 3.11's ``asyncio.wait_for`` returning an
inner result that completed in the same turn. The task's ``cancelling()`` count is still
set then, so the loop checks it each round: one lost cancellation must not keep a
quitting app (or a test's teardown) waiting for ever.
"""

from __future__ import annotations

import asyncio

__all__ = ["raise_if_cancelling"]


def raise_if_cancelling() -> None:
    """Raise ``CancelledError`` if this task has a cancellation request pending."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
