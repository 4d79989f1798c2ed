"""Redis health: up/down in words, PING, memory, clients, ops, hit rate, replication;
and the audit trail's health (stream length, age of the last write, spool depth, drain
errors), the health check the replaced system had, made true."""

from __future__ import annotations

import textwrap

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.audit_health import AuditState
from resync_tui.feeds.redis_health import RedisHealth
from resync_tui.model.overall import hms
from resync_tui.ui.format import format_age, format_bytes, format_uptime, percent
from resync_tui.ui.text import safe_text
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

    audit: reactive[AuditState | None] = reactive(None, repaint=False)
    """The audit trail's health (None: not read yet)."""

    PANE_TITLE = "Redis"

    def watch_audit(self) -> None:
        self.show()

    def build(self) -> Content:
        lines = self._redis_lines()
        lines.extend(self._audit_lines())
        return Content("\n").join(lines)

    def _audit_lines(self) -> list[Content]:
        """A few lines: what is waiting in the spool, whether the drain fails, and the
        stream's figures, marked stale when they are not a fresh reading."""
        a = self.audit
        if a is None:
            return []
        lines: list[Content] = []
        if a.spool_records:
            where = ("sent when Redis answers" if a.has_redis
                     else "no shared Redis: sent by a resync-tui that has one")
            lines.append(Content.styled(
                f"⚠ audit: {a.spool_records:,} spooled, not in Redis yet ({where})",
                "$warning bold"))
        if a.drain_error:
            times = f" ({a.drain_errors:,}×)" if a.drain_errors > 1 else ""
            lines.append(Content.styled(
                f"✖ audit drain failing{times}: {safe_text(a.drain_error, 160)}", "$error"))
        if not a.has_redis:
            if not a.spool_records:
                lines.append(Content("audit: spool only (no shared Redis), nothing waiting"))
            return lines
        last = ("no record yet" if a.last_write_age is None
                else f"last write {format_age(a.last_write_age)} ago")
        length = "—" if a.stream_length is None else f"{a.stream_length:,}"
        figures = f"{length} in stream · {last} · spool {a.spool_records:,}"
        health = a.health
        if not health.ok or self.aged:
            read = health.last_success
            when = f"stream figures from {hms(read)}" if read is not None else "stream unread"
            lines.append(Content.styled(f"⚠ audit STALE, {when}: {figures}",
                                        "$warning"))
            if health.reason:
                lines.append(Content.styled(safe_text(health.reason, 160), "$warning"))
        else:
            lines.append(Content(f"audit: {figures}"))
        return lines

    def _redis_lines(self) -> list[Content]:
        s = self.state
        if s is None:
            return [Content("connecting…")]
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
            return lines
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
        return lines
