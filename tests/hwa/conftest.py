"""Fixtures around the HWA simulator: a real HTTP server on loopback per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from resync_tui.hwa.simulator import API_BASE, Simulator

SIM_USER = "demo"
SIM_PASSWORD = "demo"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A 50-job simulator (seed 1, frozen clock) listening on a free loopback port."""
    sim = Simulator(jobs=50, seed=1, user=SIM_USER, password=SIM_PASSWORD, time_scale=0.0)
    sim.start_in_thread(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def api(simulator: Simulator) -> Iterator[httpx.Client]:
    """A plain httpx client on the simulator's API base with the right credentials."""
    with httpx.Client(
        base_url=simulator.base_url + API_BASE,
        auth=(SIM_USER, SIM_PASSWORD),
        timeout=httpx.Timeout(5.0),
    ) as client:
        yield client


@pytest.fixture
def admin(simulator: Simulator) -> Iterator[httpx.Client]:
    """A client on the admin port (/_sim routes), which stays up during outages."""
    with httpx.Client(base_url=simulator.admin_url, timeout=httpx.Timeout(5.0)) as client:
        yield client
