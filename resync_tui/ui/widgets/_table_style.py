"""The look every table of the dashboard shares (jobs, streams, workstations): a header
line, a cursor line, and status cells toned by severity, in colour and under NO_COLOR.

One definition, so that a table added later cannot forget the NO_COLOR rules: Textual
turns colours into greys of the same luminance there, and red on dark grey becomes two
greys an operator cannot tell apart. Severity is then carried by text styles at full
contrast, and the cursor by reverse video.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["TONES", "table_component_classes", "table_css"]

TONES: Final[dict[str, tuple[str, str]]] = {
    "failed": ("color: $error; text-style: bold;",
               "color: $foreground; text-style: bold reverse;"),
    "warning": ("color: $warning; text-style: bold;",
                "color: $foreground; text-style: bold underline;"),
    "running": ("color: $accent;", "color: $foreground; text-style: bold;"),
    "success": ("color: $success;", "color: $foreground; text-style: none;"),
    "marked": ("color: $accent; text-style: bold;", "color: $foreground; text-style: bold;"),
    "new": ("color: $error; text-style: bold;", "color: $foreground; text-style: bold;"),
}
"""Each tone's rules: in colour, and under NO_COLOR."""


def table_component_classes(prefix: str, tones: Sequence[str]) -> set[str]:
    """``{prefix}--header``, ``{prefix}--cursor`` and one class a tone (themes may
    recolour them)."""
    return {f"{prefix}--header", f"{prefix}--cursor", *(f"{prefix}--{t}" for t in tones)}


def table_css(type_name: str, prefix: str, tones: Sequence[str]) -> str:
    """The DEFAULT_CSS of table widget ``type_name`` whose component classes start with
    ``prefix`` and which tones its cells with ``tones`` (keys of ``TONES``)."""
    colour = "\n".join(f"    & > .{prefix}--{t} {{ {TONES[t][0]} }}" for t in tones)
    mono = "\n".join(f"    & > .{prefix}--{t} {{ {TONES[t][1]} }}" for t in tones)
    return f"""
{type_name} {{
    background: $surface;
    color: $foreground;
    overflow-x: hidden;
    overflow-y: auto;
    scrollbar-size-vertical: 1;
    height: 1fr;
    & > .{prefix}--header {{ text-style: bold; background: $panel; color: $foreground; }}
    & > .{prefix}--cursor {{
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }}
    &:focus > .{prefix}--cursor {{
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }}
{colour}
}}
{type_name}:nocolor {{
    & > .{prefix}--cursor, &:focus > .{prefix}--cursor {{
        background: $surface; color: $foreground; text-style: reverse;
    }}
{mono}
}}
"""
