"""A request imports nothing: no module looked for on the path at every call.

httpcore asks ``import sniffio`` several times a request (``current_async_library``).
Without sniffio installed each ask was a failed import: ~35 us and ~4 ``stat`` calls,
each letting go of the GIL, so during a refresh the loop waited up to a switch
interval (5 ms) for a worker thread after each of them (a page request at 18 ms of wall
time for 1 ms of CPU). sniffio is a dependency now; this fails if any import is looked
for again in a request.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.simulator import Simulator
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER

_ON = threading.Event()
_LOOKED_FOR: list[tuple[int, str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # "import" is raised only when a module is not already in sys.modules.
    if event == "import" and _ON.is_set():
        _LOOKED_FOR.append((threading.get_ident(), str(args[0])))


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while _ON is set


async def test_requests_after_the_first_import_nothing(simulator: Simulator) -> None:
    async with HwaClient(simulator.base_url, user=SIM_USER, password=SIM_PASSWORD,
                         trust_env=False) as hwa:
        await hwa.plan_signature()  # the first request imports httpcore's backend
        await hwa.fetch_plan()
        me = threading.get_ident()
        _LOOKED_FOR.clear()
        _ON.set()
        try:
            await hwa.plan_signature()
            await hwa.fetch_plan()
        finally:
            _ON.clear()
    assert [name for ident, name in _LOOKED_FOR if ident == me] == []
