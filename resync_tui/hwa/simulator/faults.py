"""Fault injection settings for the simulator, switchable while it runs.

A :class:`Faults` value is plain data: the same JSON goes through
``PUT /_sim/faults`` and ``Simulator.set_faults``. Decisions that depend on a
rate are drawn from a seeded RNG (:class:`FaultDice`), so a test that makes the
same requests in the same order sees the same faults.
"""

from __future__ import annotations

import random
import threading
import zlib
from typing import Any, Literal, get_args

import msgspec

__all__ = ["FaultDice", "Faults", "hostile_text", "is_hostile"]

Outage = Literal["none", "refused", "reset"]


class Faults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the simulator breaks, and how often. The default breaks nothing.

    - latency: seconds added before every API answer.
    - error_rate: share of API calls answered 500/502/503.
    - outage: "refused" stops listening (connections refused); "reset" accepts
      then aborts each connection.
    - slow_body: bytes per second at which bodies are streamed (0 = full speed).
    - truncated_rate: share of answers whose Content-Length exceeds the bytes sent.
    - malformed_json_rate: share of JSON answers that are not valid JSON.
    - wrong_shape_rate: share of JSON answers that are valid JSON of the wrong shape.
    - hostile: share (True = all) of jobs, streams and workstations whose names
      carry terminal escapes, control characters, markup or 10k characters.
    - paths: if set, transport faults only hit API paths starting with one of these
      prefixes (full path or relative to /twsd/api/v2). Hostile names are data and
      show on every path. ``outage: refused`` closes the port, so it hits every path
      whatever ``paths`` says (connections already open still answer the others): for
      one endpoint's outage use ``reset``.
    - bad_records: the first N records of every job or workstation list page are
      unreadable (a non-date ``schedTime`` / ``timeStarted``, or a wrong-typed
      ``priority`` / ``tcpPort``); the rest of the page is sound.
    - page_cap: serve at most N records per list page, whatever ``limit`` asks (0 = no cap).
    - no_count: ignore Include-Count (no ``count`` in list pages), like some engines.
    - delete_after_first_page: after serving a job page at offset 0, delete the first N
      jobs of that page from the plan, as if removed between the pages of a read.
    - action_timeout: the engine applies every operator action (``PUT .../action/...``)
      but never answers: it holds the connection until the client gives up (at most
      two minutes, then answers late), so "outcome unknown, applied once" can be shown.
    - seed: seeds the dice for rate decisions.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    outage: Outage = "none"
    slow_body: int = 0
    truncated_rate: float = 0.0
    malformed_json_rate: float = 0.0
    wrong_shape_rate: float = 0.0
    hostile: bool | float = False
    paths: list[str] = msgspec.field(default_factory=list)
    bad_records: int = 0
    page_cap: int = 0
    no_count: bool = False
    delete_after_first_page: int = 0
    action_timeout: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if self.slow_body < 0:
            raise ValueError("slow_body must be >= 0")
        for name in ("bad_records", "page_cap", "delete_after_first_page"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("error_rate", "truncated_rate", "malformed_json_rate", "wrong_shape_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not isinstance(self.hostile, bool) and not 0.0 <= self.hostile <= 1.0:
            raise ValueError("hostile must be a boolean or between 0 and 1")

    @property
    def hostile_rate(self) -> float:
        if isinstance(self.hostile, bool):
            return 1.0 if self.hostile else 0.0
        return float(self.hostile)

    @classmethod
    def mild(cls) -> Faults:
        """The demo's weather: some latency, ~3% 5xx, an occasional hostile name."""
        return cls(latency=0.05, error_rate=0.03, hostile=0.002, seed=7)

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> Faults:
        """Strict decode: unknown keys or bad values raise ``msgspec.ValidationError``."""
        return msgspec.json.decode(data, type=cls)

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with ``changes`` applied (partial update), validated like JSON input.
        A wrong ``outage`` says which values it takes (``"outage": true`` only said
        "Expected `str`, got `bool`")."""
        merged = msgspec.to_builtins(self)
        merged.update(changes)
        try:
            return msgspec.convert(merged, type=Faults)
        except msgspec.ValidationError as exc:
            if "$.outage" in str(exc):
                raise msgspec.ValidationError(
                    f"{exc} (outage is one of: {', '.join(get_args(Outage))})") from exc
            raise

    def applies_to(self, path: str, base: str) -> bool:
        if not self.paths:
            return True
        relative = path[len(base) :] if path.startswith(base) else path
        return any(path.startswith(p) or relative.startswith(p) for p in self.paths)


class FaultDice:
    """Seeded, thread-safe draws for rate-based fault decisions."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def hit(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def choice(self, options: list[int]) -> int:
        with self._lock:
            return self._rng.choice(options)


_HOSTILE_PIECES = (
    "\x1b[2J\x1b]0;pwned\x07",
    "[bold red]X[/]",
    "\x00\x07\x08\r\t\x7f",
    "\x1b[31;1mRED\x1b[0m",
    "\u202egnp.exe",
    "[link=file:///etc/passwd]click[/link]",
    "\x1b]8;;http://evil.invalid\x1b\\link\x1b]8;;\x1b\\",
)


def is_hostile(key: str, rate: float, seed: int = 0) -> bool:
    """Deterministic choice of which records carry hostile names for a given rate."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    bucket = zlib.crc32(f"{seed}:{key}".encode()) % 1_000_000
    return bucket < rate * 1_000_000


def hostile_text(name: str, key: str) -> str:
    """A hostile variant of ``name``: escapes, control chars, markup; some are 10k long."""
    digest = zlib.crc32(key.encode())
    piece = _HOSTILE_PIECES[digest % len(_HOSTILE_PIECES)]
    text = f"{name}{piece}[bold red]X[/]\x1b[2J\x1b]0;pwned\x07"
    if digest % 4 == 0:
        text += "W" * (10_000 - len(text))
    return text
