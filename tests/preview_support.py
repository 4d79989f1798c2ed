"""Fixtures of the first-read preview's tests (feed and screen): a plan big enough to
be previewed once ``PREVIEW_FROM`` is lowered, and no cost cap on so small a plan."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resync_tui.hwa.simulator import Simulator
from resync_tui.model import jobs_view

__all__ = ["big_sim", "preview_any_share"]


@pytest.fixture
def preview_any_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """These plans are small: a preview may rank any share of them here (the cap on the
    share, a cost guard for big plans, has its own test in tests/model)."""
    monkeypatch.setattr(jobs_view, "_PREVIEW_MAX_SHARE", 1)


@pytest.fixture
def big_sim() -> Iterator[Simulator]:
    """1,500 jobs, a still clock."""
    simulator = Simulator(jobs=1500, seed=4, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread("127.0.0.1", 0)
    yield simulator
    simulator.stop()
