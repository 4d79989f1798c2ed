"""Background slices that yield with ``next_turn`` take turns: one a loop iteration.

A loop iteration is observed from the outside: a foreground task that yields with a
plain ``asyncio.sleep(0)`` runs once in every iteration and counts them. With the old
``sleep(0)`` between slices, the slices of two tasks ran in the same iteration (a key
arriving then waited for both).
"""

from __future__ import annotations

import asyncio

from resync_tui.loop_turns import next_turn


async def _iterations(counter: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        counter[0] += 1
        await asyncio.sleep(0)


async def _slices(name: str, count: int, counter: list[int],
                  ran: list[tuple[int, str]]) -> None:
    for _ in range(count):
        ran.append((counter[0], name))
        await next_turn()


async def test_the_slices_of_several_tasks_run_one_a_loop_iteration_in_turn() -> None:
    counter = [0]
    stop = asyncio.Event()
    ran: list[tuple[int, str]] = []
    ticker = asyncio.create_task(_iterations(counter, stop))
    await asyncio.sleep(0)
    await asyncio.gather(*(_slices(name, 20, counter, ran) for name in "abc"))
    stop.set()
    await ticker
    assert len(ran) == 60
    # Each task's first slice runs as it starts; every slice after a yield has a turn.
    iterations = [at for at, _ in ran[3:]]
    assert len(set(iterations)) == len(iterations), "two slices ran in one iteration"
    # First come, first served: after their first slices the tasks alternate.
    names = "".join(name for _, name in ran)
    assert names[3:] == "abc" * 19


async def test_a_cancelled_task_waiting_for_its_turn_does_not_stop_the_others() -> None:
    counter = [0]
    ran: list[tuple[int, str]] = []

    async def forever() -> None:
        while True:
            await next_turn()

    stuck = asyncio.create_task(forever())
    await asyncio.sleep(0)
    worker = asyncio.create_task(_slices("w", 10, counter, ran))
    await asyncio.sleep(0)
    stuck.cancel()
    await asyncio.wait_for(worker, 5)
    assert len(ran) == 10
    assert stuck.cancelled()


async def test_alone_a_task_is_only_delayed_by_turns_not_stopped() -> None:
    done = []
    for _ in range(1000):
        await next_turn()
        done.append(1)
    assert len(done) == 1000
