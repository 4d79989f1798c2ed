"""Redis health: up/down in words, PING, memory, clients, ops, hit rate, replication."""

from __future__ import annotations

import textwrap

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.redis_health import RedisHealth
from resync_tui.model.overall import hms
from resync_tui.ui.format import format_bytes, format_uptime, percent
from resync_tui.ui.widgets._pane import Pane

__all__ = ["RedisPanel"]


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _ping(ms: float | None) -> str:
    """Whole milliseconds (sub-ms jitter is noise that would redraw the pane)."""
    if ms is None:
        return "—"
    return "<1 ms" if ms < 1 else f"{ms:.0f} ms"


class RedisPanel(Pane):
    state: reactive[RedisHealth | None] = reactive(None, repaint=False)
    """Latest reading (last good figures kept when Redis is down)."""

    PANE_TITLE = "Redis"

    def build(self) -> Content:
        s = self.state
        if s is None:
            return Content("connecting…")
        lines: list[Content] = []
        if s.up and self.aged:
            lines.extend(self.stale_lines(s.health))
            lines.append(Content(f"was up: redis {s.version or '?'} {s.role}"))
        elif s.up:
            ping = _ping(s.ping_ms)
            lines.append(Content.assemble(
                ("● UP", "$success bold"), f"  redis {s.version or '?'} {s.role} · PING {ping}"))
        else:
            # Wrapped, not cut: the reason (refused, timeout, auth...) says what to fix.
            reason = textwrap.wrap("x" * 6 + "  " + (s.health.reason or "no answer"),
                                   max(self.inner_width(), 20)) or [""]
            lines.append(Content.assemble(("✖ DOWN", "$error bold"),
                                          (reason[0][6:], "$error")))
            lines.extend(Content.styled(line, "$error") for line in reason[1:])
        if s.recent_restart is not None:
            # A supervisor restart takes ~1 s: without this line only "uptime <1m" shows it.
            lines.append(Content.styled(
                f"restarted at {hms(s.recent_restart.at)} ({s.recent_restart.cause})",
                "$warning"))
        if not s.health.has_data:
            return Content("\n").join(lines)
        if not s.up:
            # Like every side pane: when the figures below were read.
            last = s.health.last_success
            lines.append(Content.styled(
                f"⚠ STALE, data from {hms(last)} — last reading:" if last is not None
                else "last reading:", "$warning bold" if last is not None else "$text-muted"))
        memory = format_bytes(s.used_memory)
        if s.maxmemory:
            share = 100.0 * (s.used_memory or 0) / s.maxmemory
            memory += f" / {format_bytes(s.maxmemory)} ({share:.0f}%)"
        else:
            memory += " (no maxmemory)"
        frag = "" if s.fragmentation is None else f" · frag {s.fragmentation:.1f}"
        lines.append(Content(
            f"uptime {format_uptime(s.uptime_seconds)} · clients {_n(s.clients)}"
            f" ({_n(s.blocked_clients)} blocked)"))
        lines.append(Content(f"memory {memory}{frag}"))
        lines.append(Content(
            f"ops/s {_n(s.ops_per_sec)} · keyspace hits {percent(s.keyspace_hit_rate)}"
            f" · evicted {_n(s.evicted_keys)}"))
        if s.role == "slave":
            link_ok = s.master_link_status == "up"
            lines.append(Content.assemble(
                "replica: master link ",
                (s.master_link_status or "?", "$success" if link_ok else "$error bold"),
                f" · last io {_n(s.master_last_io_seconds)}s ago"))
        elif s.connected_replicas is not None:
            lines.append(Content(f"replicas {s.connected_replicas}"))
        return Content("\n").join(lines)
