from __future__ import annotations

import pytest

from tests.resilience.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
