"""Cache: hit rate per level (now and since start) with a trend, entries, evictions,
then the hit rate of each kind of cached data, so a figure says what it is about."""

from __future__ import annotations

from typing import Final

from textual.content import Content
from textual.reactive import reactive

from resync_tui.feeds.cache_stats import CacheKindRow, CacheLevelRow, CacheState
from resync_tui.ui.format import percent
from resync_tui.ui.widgets._pane import Pane, spark

__all__ = ["CachePanel"]

_LEVEL_NAMES: Final = {"l1": "L1 memory", "l2": "L2 Redis"}
SERVES: Final = "Job status is never cached: it is read live on every poll."
"""The one line of explanation; the per-kind lines say what is cached."""


class CachePanel(Pane):
    state: reactive[CacheState | None] = reactive(None, repaint=False)
    """Latest per-level figures (None before the first poll)."""

    PANE_TITLE = "Cache"

    def build(self) -> Content:
        state = self.state
        if state is None:
            return Content("waiting for first sample…")
        lines = self.stale_lines(state.health)
        width = self.inner_width()
        for level in state.levels:
            lines.extend(self._block(level, width))
        lines.extend(self._kind_line(kind) for kind in state.kinds)
        serves = SERVES if len(SERVES) <= width else SERVES[:max(width - 1, 0)] + "…"
        lines.append(Content.styled(serves, "$text-muted"))
        return Content("\n").join(lines)

    @staticmethod
    def _kind_line(row: CacheKindRow) -> Content:
        """``job logs      67% hit · 2 of 3 (L1 1 · L2 1)``."""
        name = f"{row.kind:<13}"
        if not row.lookups:
            return Content.assemble((name, "bold"), ("not read yet", "$text-muted"))
        where = " · ".join(f"{level} {count:,}" for level, count in
                           (("L1", row.l1_hits), ("L2", row.l2_hits)) if count)
        return Content.assemble(
            (name, "bold"), f"{percent(row.hit_rate):>6} hit · {row.hits:,} of {row.lookups:,}",
            f" ({where})" if where else "")

    @staticmethod
    def _block(row: CacheLevelRow, width: int) -> list[Content]:
        name = _LEVEL_NAMES.get(row.level, row.level)
        if not row.lookups:
            head = f"{name:<10} hit    n/a (no lookups yet)"
        else:
            head = (f"{name:<10} hit {percent(row.hit_rate_now):>6} now"
                    f" · {percent(row.hit_rate_total)} total")
        spark_width = max(0, min(30, width - len(head) - 2))
        first = Content.assemble((head[:10], "bold"), head[10:], "  ",
                                 (spark(row.history, spark_width), "$primary"))
        parts: list[str] = []
        if row.lookups:
            parts.append(f"{row.hits:,} of {row.lookups:,} lookups hit")
        if row.entries is not None:
            cap = f"/{row.max_entries:,}" if row.max_entries else ""
            parts.append(f"{row.entries:,}{cap} entries")
            parts.append(f"{row.evictions:,} evicted")
        if row.loads_in_flight:
            parts.append(f"{row.loads_in_flight} loading")
        second = Content.assemble(" " * 11, " · ".join(parts))
        lines = [first, second]
        if row.errors or row.rejected:
            lines.append(Content.assemble(
                " " * 11,
                (f"{row.errors:,} errors · {row.rejected:,} skipped (breaker open)", "$warning"),
            ))
        return lines
