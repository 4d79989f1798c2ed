"""The Redis keys of one engine's shared feed.

Every key of an engine carries the same hash tag, ``{resync:ENGINE}``, so a Redis
Cluster keeps them in one slot (the lease, the fencing counter and the data it
guards must be in one slot for the Lua scripts that touch them together). ENGINE is
a short digest of the engine's URL and plan, so dashboards of two engines on one
Redis never mix, and no URL (which may hold a user name) is spelled out in a key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ShareKeys", "engine_id"]


def _normalized(url: str) -> str:
    """The URL as an engine is identified: no user info, lower-case scheme and host,
    no trailing slash (``HTTPS://Engine:31116/`` and ``https://engine:31116`` are one)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def engine_id(url: str, plan: str = "current") -> str:
    """A stable 16-hex-digit name for (engine URL, plan)."""
    text = f"{_normalized(url)}\n{plan}".encode()
    return hashlib.sha256(text).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ShareKeys:
    """The keys one engine's shared feed uses, all in one Cluster slot."""

    engine: str
    prefix: str = "resync"

    @classmethod
    def for_engine(cls, url: str, plan: str = "current", *, prefix: str = "resync") -> ShareKeys:
        return cls(engine_id(url, plan), prefix)

    @property
    def tag(self) -> str:
        return f"{{{self.prefix}:{self.engine}}}"

    @property
    def lease(self) -> str:
        """Who polls the engine: ``OWNER|TOKEN``, with a TTL."""
        return f"{self.tag}:lease"

    @property
    def fence(self) -> str:
        """The fencing counter: incremented on every acquisition, never decremented."""
        return f"{self.tag}:fence"

    def snapshot(self, feed: str) -> str:
        """Hash of a feed's current snapshot: version, fence, chunk count, meta."""
        return f"{self.tag}:snap:{feed}"

    def chunk(self, feed: str, version: int, index: int) -> str:
        """One compressed chunk of a snapshot version."""
        return f"{self.tag}:snap:{feed}:{version}:{index}"

    def deltas(self, feed: str) -> str:
        """Stream of a feed's deltas since its snapshot."""
        return f"{self.tag}:delta:{feed}"
