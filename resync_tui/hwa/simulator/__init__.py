"""A simulator of the HWA REST API V2 subset resync-tui uses: demo default and test double.

``Simulator`` serves a living plan over real HTTP on loopback; ``Faults`` says what
it breaks; ``serve_forever`` backs ``resync-tui sim``.
"""

from resync_tui.hwa.simulator.faults import Faults
from resync_tui.hwa.simulator.plan import ActionError, Job, Plan, Run, Workstation
from resync_tui.hwa.simulator.server import API_BASE, Simulator, serve_forever

__all__ = [
    "API_BASE",
    "ActionError",
    "Faults",
    "Job",
    "Plan",
    "Run",
    "Simulator",
    "Workstation",
    "serve_forever",
]
