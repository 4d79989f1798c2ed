"""Helpers for tests that act on the simulator: find a job in a state, read and clear what
the engine received (``/_sim/actions``), switch faults. Shared by tests/hwa and tests/actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from resync_tui.hwa.simulator import Job, Simulator

__all__ = ["clear", "find_job", "recorded", "set_faults"]


def find_job(sim: Simulator, predicate: Callable[[Job], bool], max_ticks: int = 300) -> Job:
    """A job of the plan in the wanted state (the simulated clock moves until one is)."""
    for _ in range(max_ticks):
        for job in sim.plan.jobs:
            if predicate(job):
                return job
        sim.tick(60)
    raise AssertionError("no job reached the wanted state")


def recorded(admin: httpx.Client) -> list[dict[str, Any]]:
    """Every action request the engine received (``GET /_sim/actions``)."""
    answer = admin.get("/_sim/actions")
    assert answer.status_code == 200
    actions: list[dict[str, Any]] = answer.json()["actions"]
    return actions


def clear(admin: httpx.Client) -> None:
    assert admin.delete("/_sim/actions").status_code == 200


def set_faults(admin: httpx.Client, faults: dict[str, Any]) -> None:
    assert admin.put("/_sim/faults", json=faults).status_code == 200
