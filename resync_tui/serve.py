"""``resync-tui serve``: the dashboard in a browser, through textual-serve.

textual-serve starts one process per browser session. Were each a dashboard of its
own, twenty browsers would be twenty polls of the engine; so the server process is
the shared feed's poller (it leads, or stands by if a ``resync-tui poller`` already
leads), and every session is a dashboard with ``[share] enabled``: a follower. With
``redis.url = "embedded"`` the server starts one Redis for itself and its sessions
(a private Unix socket, in a directory only this user can enter).

textual-serve has no authentication: the server binds to loopback unless
``--public`` is given, and the README shows it behind a reverse proxy that
authenticates.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import shlex
import sys
from collections.abc import Iterator
from typing import Any

from resync_tui.settings import Settings

__all__ = ["ServeError", "is_loopback", "serve", "session_command"]

log = logging.getLogger("resync_tui.serve")


class ServeError(Exception):
    """The server cannot start as asked (said in one line)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost``, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_command(config: str | None, *, wall: bool) -> str:
    """The shell command textual-serve runs for each browser session."""
    parts = [sys.executable, "-m", "resync_tui"]
    if config:
        parts += ["--config", config]
    if wall:
        parts.append("--wall")
    return shlex.join(parts)


@contextlib.contextmanager
def _shared_redis(settings: Settings) -> Iterator[Settings]:
    """The settings with a Redis the server and its sessions share."""
    if settings.redis.url != "embedded":
        yield settings
        return
    import dataclasses

    from resync_tui.redis_server import EmbeddedRedis

    with EmbeddedRedis() as server:
        yield settings.replace(redis=dataclasses.replace(settings.redis, url=server.url))


def serve(settings: Settings, *, host: str, port: int, config: str | None, wall: bool,
          public: bool) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop. ``ServeError`` for a bad start."""
    if not public and not is_loopback(host):
        raise ServeError(
            f"refusing to listen on {host}: textual-serve has no authentication; use "
            "--host 127.0.0.1 behind a reverse proxy that authenticates, or --public")
    from textual_serve.server import Server

    from resync_tui.poller import run_poller

    with _shared_redis(settings) as shared:
        # Every session (a child of textual-serve, inheriting this environment) follows.
        os.environ["RESYNC_SHARE__ENABLED"] = "true"
        os.environ["RESYNC_REDIS__URL"] = shared.redis.url
        import dataclasses

        shared = shared.replace(share=dataclasses.replace(shared.share, enabled=True))
        stop = asyncio.Event()

        class _Server(Server):
            """textual-serve, quiet (one log line, no logo), running the poller beside it."""

            def initialize_logging(self) -> None:
                pass  # keep ours (stderr, secrets redacted)

            async def on_startup(self, app: Any) -> None:
                log.info("serving the dashboard on %s (sessions follow the shared feed)",
                         self.public_url)
                app["resync_poller"] = asyncio.create_task(
                    run_poller(shared, stop=stop, signals=False))

            async def on_shutdown(self, app: Any) -> None:
                stop.set()
                task = app.get("resync_poller")
                if task is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 5)
                await super().on_shutdown(app)

        server = _Server(session_command(config, wall=wall), host=host, port=port,
                         title="resync-tui")
        server.serve()
    return 0
