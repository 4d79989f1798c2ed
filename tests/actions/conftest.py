"""Fixtures of the action tests: a simulator over loopback HTTP (tests/hwa/conftest.py),
its admin port (the helpers are in tests/hwa/sim_helpers.py)."""

from __future__ import annotations

from tests.hwa.conftest import admin, simulator

__all__ = ["admin", "simulator"]

