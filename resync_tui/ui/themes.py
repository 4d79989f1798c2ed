"""User themes: ``[themes.NAME]`` tables made into Textual ``Theme`` objects.

A wrong colour would otherwise surface as a stylesheet error after the terminal is
taken over; here it is a settings error naming the key, found at load time. The
built-in names come from Textual, so ``ui.theme`` accepts every theme Textual has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from resync_tui.sanitize import safe_text
from resync_tui.settings import THEME_COLOURS, ThemeSettings

__all__ = ["builtin_theme_names", "theme_problems", "to_theme"]

#: ``auto 87%`` (contrasting text), ``#81a1c1 35%`` (a colour at an alpha): as in Textual.
_ALPHA: Final = re.compile(r"^(?P<colour>.+?)(?:\s+(?P<pct>\d{1,3})%)?$")


def builtin_theme_names() -> tuple[str, ...]:
    return tuple(BUILTIN_THEMES)


def _colour_ok(value: str, *, auto: bool = False) -> bool:
    match = _ALPHA.match(value.strip())
    if match is None or (match["pct"] is not None and int(match["pct"]) > 100):
        return False
    colour = match["colour"]
    if auto and colour in ("auto", "initial", "transparent"):
        return True
    try:
        Color.parse(colour)
    except ColorParseError:
        return False
    return True


def theme_problems(name: str, theme: ThemeSettings, where: Mapping[str, str],
                   origin: str) -> list[str]:
    """Every problem of one ``[themes.NAME]``, one line each; ``where`` names the file or
    variable that set each key (``themes.NAME.primary``), ``origin`` the file."""
    section = f"themes.{safe_text(name, 40)}"
    problems: list[str] = []
    if name in BUILTIN_THEMES:
        problems.append(f"{origin}: [{section}] has the name of a built-in theme; allowed: "
                        "another name (built-in themes are used by name in ui.theme)")
    if not theme.primary:
        problems.append(f"{origin}: [{section}] needs key '{section}.primary'; allowed: a "
                        'colour such as "#0178D4", "rgb(1, 120, 212)" or "ansi_blue"')
    for key in THEME_COLOURS:
        value = getattr(theme, key)
        if value and not _colour_ok(value):
            problems.append(
                f"{where.get(f'themes.{name}.{key}', origin)}: key '{section}.{key}': bad "
                f"value {safe_text(repr(value), 80)}; allowed: a colour such as \"#0178D4\", "
                '"rgb(1, 120, 212)", "hsl(206, 98%, 42%)", "ansi_blue" or "red", or empty')
    variables: object = theme.variables  # whatever the file held: not checked yet
    where_vars = where.get(f"themes.{name}.variables", origin)
    if not isinstance(variables, Mapping):
        problems.append(f"{where_vars}: key '{section}.variables': bad value "
                        f"{safe_text(repr(variables), 80)}; allowed: a table of Textual "
                        'variables, e.g. { "footer-key-foreground" = "#88C0D0" }')
        return problems
    for var, setting in variables.items():
        shown = safe_text(str(var), 60)
        if not isinstance(setting, str):
            problems.append(f"{where_vars}: key '{section}.variables.{shown}': bad value "
                            f"{safe_text(repr(setting), 80)}; allowed: a string")
        elif "style" not in str(var) and not _colour_ok(setting, auto=True):
            problems.append(f"{where_vars}: key '{section}.variables.{shown}': bad value "
                            f"{safe_text(repr(setting), 80)}; allowed: a colour, optionally "
                            'with an alpha ("#81a1c1 35%"), or "auto 87%"')
    return problems


def to_theme(name: str, theme: ThemeSettings) -> Theme:
    """The Textual theme of a ``[themes.NAME]`` already checked by :func:`theme_problems`."""
    colour: dict[str, str | None] = {key: getattr(theme, key) or None
                                     for key in THEME_COLOURS}
    return Theme(
        name=name, primary=theme.primary, secondary=colour["secondary"],
        accent=colour["accent"], foreground=colour["foreground"],
        background=colour["background"], surface=colour["surface"], panel=colour["panel"],
        boost=colour["boost"], success=colour["success"], warning=colour["warning"],
        error=colour["error"], dark=theme.dark, luminosity_spread=theme.luminosity_spread,
        text_alpha=theme.text_alpha, variables=dict(theme.variables))
