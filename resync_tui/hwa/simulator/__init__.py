"""A simulator of the HWA REST API V2 subset resync-tui uses: demo default and test double.

``Simulator`` serves a living plan over real HTTP on loopback; ``Faults`` says what
it breaks; ``serve_forever`` backs ``resync-tui sim``; ``SimulatorProcess`` runs one in
a child process (the demo's). The names are imported on first use: the demo's
dashboard process imports only ``process`` (no aiohttp, no plan), so it starts sooner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resync_tui.hwa.simulator.faults import Faults
    from resync_tui.hwa.simulator.plan import ActionError, Job, Plan, Run, Workstation
    from resync_tui.hwa.simulator.process import SimulatorProcess
    from resync_tui.hwa.simulator.server import API_BASE, Simulator, serve_forever

__all__ = [
    "API_BASE",
    "ActionError",
    "Faults",
    "Job",
    "Plan",
    "Run",
    "Simulator",
    "SimulatorProcess",
    "Workstation",
    "serve_forever",
]

_HOME = {
    "Faults": "faults",
    "ActionError": "plan", "Job": "plan", "Plan": "plan", "Run": "plan", "Workstation": "plan",
    "SimulatorProcess": "process",
    "API_BASE": "server", "Simulator": "server", "serve_forever": "server",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """``from resync_tui.hwa.simulator import Simulator`` imports the server then."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
