"""Every figure the screens format: durations, ages, clock offsets, sizes, rates.

Each name says what it is for, because the same seconds read differently: a job's
duration ticks (``12:05``), a data age is exact (``2m 03s``), an uptime is coarse on
purpose (``3h 07m``: a figure that ticked every second would redraw its pane).
"""

from __future__ import annotations

__all__ = [
    "format_age",
    "format_bytes",
    "format_duration",
    "format_offset",
    "format_uptime",
    "percent",
]


def format_duration(seconds: float | None) -> str:
    """Compact duration: ``42s``, ``12:05``, ``3h07m``, ``2d04h``; empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}:{total % 60:02d}"
    if total < 86400:
        return f"{total // 3600}h{total % 3600 // 60:02d}m"
    return f"{total // 86400}d{total % 86400 // 3600:02d}h"


def format_age(seconds: float) -> str:
    """``42s``, ``2m 03s``, ``1h 05m``: the age of data, as the header shows it."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def format_uptime(seconds: float | None) -> str:
    """Coarse on purpose (minutes at best): a figure that ticks every second would
    redraw the pane every poll."""
    if seconds is None:
        return "—"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return "<1m"


def format_offset(seconds: float) -> str:
    """``+1h00m``, ``-42s``, ``+3m05s``: how far the engine's clock is from this machine's."""
    sign = "+" if seconds >= 0 else "-"
    total = round(abs(seconds))
    if total >= 600:
        # The estimate is good to a second or so (Date has 1 s resolution): past ten
        # minutes, minutes are what matters, and 3599.4 s must read +1h00m, not +59m59s.
        total = round(total / 60) * 60
    if total < 60:
        return f"{sign}{total}s"
    if total < 3600:
        return f"{sign}{total // 60}m{total % 60:02d}s"
    if total < 86400:
        return f"{sign}{total // 3600}h{total % 3600 // 60:02d}m"
    return f"{sign}{total // 86400}d{total % 86400 // 3600:02d}h"


def format_rate(rate: float) -> str:
    """``×30``, ``×2.5``: how many times faster than this machine's the engine's clock runs,
    to the nearest 5 from ten on, else to the nearest half. Measured from the answers'
    ``Date`` headers (1 s steps; a simulator's clock moves in half-second steps), a 30x
    clock reads 26-34 over its first seconds: the figure would flicker, not inform."""
    if rate >= 10:
        return f"×{round(rate / 5) * 5}"
    return f"×{round(rate * 2) / 2:g}"


def format_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - loop always returns


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"
