"""Leader election by lease: one process of a NOC polls the engine, the others follow.

The lease is one key, ``SET key OWNER|TOKEN NX PX ttl``. TOKEN is a fencing token,
taken from a counter (``INCR``) in the same script, so every acquisition gets a
larger one; whatever the leader publishes carries it, and a write whose token is
not the counter's current value is refused by the script that makes it (a leader
paused by ``kill -STOP`` or cut off by a partition, whose lease another process has
since taken, can no longer change anything when it wakes). Renewal is
compare-and-renew (only the owner's own value is extended), release is
compare-and-delete.

The leader renews every ttl/3. It counts its lease as held only until
``start of the last successful renewal + ttl`` on its own monotonic clock (measured
before the request was sent, so a slow answer never extends it), a little less to
allow for clock drift; past that it stops being leader even if Redis cannot be
reached to say so. When Redis is down nobody is leader or follower: each process
polls the engine itself (``ALONE``), and tries again with a jittered delay so that
fifty dashboards do not stampede Redis when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from resync_tui.resilience.tasks import raise_if_cancelling
from resync_tui.share.keys import ShareKeys

__all__ = ["DRIFT", "Election", "Holder", "Lease", "Role", "owner_name"]

log = logging.getLogger(__name__)

#: Share of the TTL a holder gives up for clock drift between it and Redis.
DRIFT: Final = 0.1

_ACQUIRE: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token
"""
_RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
#: XADD only for the holder of the current fencing token (KEYS[1] the counter).
_FENCED_XADD: Final = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
"""


def owner_name() -> str:
    """``HOST:PID:NONCE``: the header shows ``HOST:PID``; the nonce tells apart two
    processes that reuse one PID (a container restarted)."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


class Role(enum.Enum):
    """What this process does with the engine's data."""

    LEADER = "leader"      # polls the engine and publishes
    FOLLOWER = "follower"  # reads what the leader publishes
    ALONE = "alone"        # Redis unreachable: polls the engine itself


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lease, as its value says."""

    owner: str
    token: int

    @property
    def where(self) -> str:
        """``HOST:PID`` (the owner without its nonce)."""
        return ":".join(self.owner.split(":")[:2])

    @classmethod
    def parse(cls, value: bytes | str | None) -> Holder | None:
        if value is None:
            return None
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        owner, sep, token = text.rpartition("|")
        if not sep or not token.isdigit():
            return None
        return cls(owner, int(token))


class Lease:
    """One lease key and its fencing counter, for one owner.

    The methods raise ``RedisError`` (and ``OSError``/timeouts) as redis-py does:
    :class:`Election` decides what an unreachable Redis means.
    """

    def __init__(self, redis: aioredis.Redis, keys: ShareKeys, *, ttl: float,
                 owner: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0:
            raise ValueError("lease ttl must be positive")
        self.redis = redis
        self.keys = keys
        self.ttl = ttl
        self.owner = owner or owner_name()
        self._clock = clock
        self.token: int | None = None
        self._valid_until = 0.0
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._xadd = redis.register_script(_FENCED_XADD)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    @property
    def value(self) -> str | None:
        """What the lease key holds while this owner has it."""
        return None if self.token is None else f"{self.owner}|{self.token}"

    def held(self) -> bool:
        """Whether this owner may still act as leader, on its own clock."""
        return self.token is not None and self._clock() < self._valid_until

    def _valid_for(self, started: float) -> None:
        self._valid_until = started + self.ttl * (1 - DRIFT)

    async def try_acquire(self) -> int | None:
        """Take the lease if nobody holds it; the new fencing token, or None."""
        started = self._clock()
        token = await self._acquire(keys=[self.keys.lease, self.keys.fence],
                                    args=[self.owner, self._ttl_ms])
        if token is None:
            return None
        self.token = int(token)
        self._valid_for(started)
        return self.token

    async def renew(self) -> bool:
        """Extend the lease if it is still ours; False (and no longer held) if not."""
        value = self.value
        if value is None:
            return False
        started = self._clock()
        renewed = await self._renew(keys=[self.keys.lease], args=[value, self._ttl_ms])
        if renewed:
            self._valid_for(started)
            return True
        self.token = None
        return False

    async def release(self) -> None:
        """Give the lease up (a clean exit), so a follower takes over at once."""
        value = self.value
        self.token = None
        if value is not None:
            await self._release(keys=[self.keys.lease], args=[value])

    async def holder(self) -> Holder | None:
        """Who holds the lease now (any owner)."""
        return Holder.parse(await self.redis.get(self.keys.lease))

    async def holder_for(self) -> tuple[Holder | None, float | None]:
        """Who holds the lease, and for how many more seconds unless renewed (None: no
        expiry known)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self.keys.lease)
            pipe.pttl(self.keys.lease)
            value, pttl = await pipe.execute()
        holder = Holder.parse(value)
        left = int(pttl) / 1000 if holder is not None and int(pttl) >= 0 else None
        return holder, left

    async def fenced_xadd(self, stream: str, fields: dict[str, bytes | str | int],
                          *, max_len: int) -> bytes | None:
        """XADD to ``stream`` only if our token is still the current one.

        Returns the entry id, or None when the write was fenced off (another
        process has taken the lease since): the caller must stop publishing.
        """
        if self.token is None:
            return None
        flat: list[Any] = [self.token, max_len]
        for name, value in fields.items():
            flat.extend((name, value))
        result = await self._xadd(keys=[self.keys.fence, stream], args=flat)
        if result is None:
            self.token = None
        return result if isinstance(result, bytes) or result is None else str(result).encode()


class Election:
    """Keeps a :class:`Lease` won or watched, and says which :class:`Role` this process has.

    ``step()`` is one round (the leader renews, the others try to take the lease);
    ``run()`` repeats it every ttl/3 (with jitter while Redis is unreachable).
    """

    def __init__(self, lease: Lease, *, rng: random.Random | None = None,
                 max_backoff: float = 30.0) -> None:
        self.lease = lease
        self.role = Role.ALONE
        self.leader: Holder | None = None
        self.error = ""
        self._rng = rng or random.Random()
        self._failures = 0
        self._max_backoff = max_backoff
        self.rounds = 0
        """Rounds done: a feed's first poll waits for the first one (knowing its role)."""
        self._expires_in: float | None = None
        """A follower's view of the lease: seconds left when it last looked."""
        self._lock = asyncio.Lock()

    def describe(self) -> str:
        """What the header says: ``shared · leader``, ``shared · follower of HOST:PID``,
        ``own poll (Redis down)``."""
        if self.role is Role.LEADER:
            return "shared · leader"
        if self.role is Role.FOLLOWER and self.leader is not None:
            return f"shared · follower of {self.leader.where}"
        return "own poll (Redis down)"

    def _set(self, role: Role) -> None:
        if role is not self.role:
            log.info("shared feed: %s -> %s", self.role.value, role.value)
        self.role = role

    async def step(self) -> Role:
        """One round; never raises for Redis trouble (that is ``ALONE``)."""
        async with self._lock:
            role = await self._step()
            self.rounds += 1
            return role

    async def ensure_started(self) -> Role:
        """The role, after one round at least (waiting for a round under way)."""
        if self.rounds:
            return self.role
        async with self._lock:
            if not self.rounds:
                await self._step()
                self.rounds += 1
            return self.role

    async def _step(self) -> Role:
        try:
            renewed = self.lease.token is not None and await self.lease.renew()
            if renewed or await self.lease.try_acquire() is not None:
                self.leader = Holder(self.lease.owner, self.lease.token or 0)
                self._set(Role.LEADER)
            else:
                self.leader, self._expires_in = await self.lease.holder_for()
                self._set(Role.FOLLOWER if self.leader is not None else Role.ALONE)
            self._failures = 0
            self.error = ""
        except (TimeoutError, RedisError, OSError) as exc:
            self._failures += 1
            self.error = type(exc).__name__
            if self.role is Role.LEADER and self.lease.held():
                return self.role  # still ours on our own clock: keep leading
            self.lease.token = None
            self.leader = None
            self._set(Role.ALONE)
        return self.role

    def delay(self) -> float:
        """Seconds until the next round: ttl/3, or a jittered backoff while Redis fails
        (full jitter, so N dashboards spread their reconnects)."""
        base = self.lease.ttl / 3
        if not self._failures:
            if self.role is Role.FOLLOWER and self._expires_in is not None:
                # Try again right when the lease runs out (a dead leader's lease is taken
                # within ttl of its last renewal, not up to ttl/3 later); a live leader
                # renews it before that, and the next try looks again.
                return max(0.01, min(base, self._expires_in + 0.02))
            return base
        cap = min(self._max_backoff, base * 2 ** min(self._failures, 10))
        return max(base / 2, self._rng.uniform(0, cap))

    async def run(self, stop: asyncio.Event,
                  on_change: Callable[[Role], None] | None = None) -> None:
        """Rounds until ``stop`` is set; then the lease is released if held."""
        try:
            while not stop.is_set():
                raise_if_cancelling()  # a Redis call below may have swallowed it
                before = self.role, self.leader
                await self.step()
                if on_change is not None and (self.role, self.leader) != before:
                    on_change(self.role)
                with contextlib.suppress(TimeoutError):  # not wait_for: see feeds/runner.py
                    async with asyncio.timeout(self.delay()):
                        await stop.wait()
        finally:
            if self.lease.token is not None:
                try:
                    await asyncio.wait_for(self.lease.release(), min(self.lease.ttl / 3, 1.0))
                except (TimeoutError, RedisError, OSError):
                    log.info("shared feed: lease not released (Redis unreachable); it expires")
