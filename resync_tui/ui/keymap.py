"""The keymap: every binding with an id can be moved to other keys by ``[keymap]``.

Textual applies the keymap itself (``App.set_keymap``), binding by binding, in each
node of the focus chain, and silently drops a binding whose new key another one in
the same node already has. So a clash is found here, at load time, where the settings
file can be named: two bindings on one key in the same chain of nodes (the jobs
table, its pane, the dashboard and the app are all active at once), one of them
moved there by the keymap. Overlaps the code already has on purpose (the help screen
closes on ``q``, which quits elsewhere) are not clashes.

Everything here is read from the live ``BINDINGS`` of the classes, never a copy, so
the help screen shows the key that really works.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Final

import msgspec
from textual.binding import Binding, BindingsMap
from textual.keys import (
    KEY_TO_UNICODE_NAME,
    REPLACED_KEYS,
    Keys,
    _normalize_key_list,
    format_key,
)

from resync_tui.sanitize import safe_text

if TYPE_CHECKING:
    from textual.dom import DOMNode

__all__ = ["BindingInfo", "binding_catalog", "binding_ids", "effective_keys", "key_label",
           "keymap_problems", "keys_label", "normalize_keys"]

_MODIFIERS: Final = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED_KEYS: Final = frozenset(k.value for k in Keys) | {"space", "tab", "enter", "escape"}
#: How the help screen writes a key (the README and the old help text used these).
_LABELS: Final = {
    "up": "↑", "down": "↓", "left": "←", "right": "→", "pageup": "PgUp", "pagedown": "PgDn",
    "home": "Home", "end": "End", "enter": "Enter", "escape": "Esc", "tab": "Tab",
    "space": "Space", "backspace": "Backspace", "delete": "Del", "insert": "Ins",
}
_COMMAND_PALETTE: Final = "command palette"


class BindingInfo(msgspec.Struct, frozen=True):
    """One binding as the code declares it (before any keymap)."""

    id: str | None
    keys: tuple[str, ...]
    description: str
    owner: str  # the class that declares or inherits it

    @property
    def name(self) -> str:
        """How a message names it: its id, else what it does and where."""
        return self.id or f"{self.description or 'a built-in key'} ({self.owner})"


def _chains() -> tuple[tuple[type[DOMNode], ...], ...]:
    """The nodes whose bindings are active together, innermost first (app last).

    Imported here, not at the top: the app imports this module, and the settings
    loader only needs it when a ``[keymap]`` is given.
    """
    from resync_tui.ui.app import ResyncApp
    from resync_tui.ui.screens.alerts import AlertsScreen
    from resync_tui.ui.screens.audit import AuditScreen
    from resync_tui.ui.screens.bulk_action import (
        BulkActionScreen,
        BulkProgressScreen,
        CountConfirmScreen,
    )
    from resync_tui.ui.screens.confirm_action import ConfirmActionScreen
    from resync_tui.ui.screens.dashboard import DashboardScreen
    from resync_tui.ui.screens.export import ExportScreen
    from resync_tui.ui.screens.help import HelpScreen
    from resync_tui.ui.screens.job_detail import JobDetailScreen, JobLogView
    from resync_tui.ui.widgets.critical_pane import CriticalPane
    from resync_tui.ui.widgets.jobs_pane import JobsPane
    from resync_tui.ui.widgets.jobs_table import JobsTable
    from resync_tui.ui.widgets.streams_pane import StreamsPane, StreamsTable
    from resync_tui.ui.widgets.workstations_pane import WorkstationsPane, WorkstationsTable

    return ((JobsTable, JobsPane, DashboardScreen, ResyncApp),
            (StreamsTable, StreamsPane, DashboardScreen, ResyncApp),
            (WorkstationsTable, WorkstationsPane, DashboardScreen, ResyncApp),
            (CriticalPane, DashboardScreen, ResyncApp),
            (JobLogView, JobDetailScreen, ResyncApp),
            (HelpScreen, ResyncApp),
            (ConfirmActionScreen, ResyncApp),
            (ExportScreen, ResyncApp),
            (BulkActionScreen, ResyncApp),
            (CountConfirmScreen, ResyncApp),
            (BulkProgressScreen, ResyncApp),
            (AuditScreen, ResyncApp),
            (AlertsScreen, ResyncApp))


def _bindings_of(cls: type[DOMNode]) -> BindingsMap:
    """The class's bindings merged with its bases' (Textual computes them per class;
    Textual is pinned exactly, so this private attribute is stable)."""
    merged = cls._merged_bindings
    return merged.copy() if merged is not None else BindingsMap()


def _infos(cls: type[DOMNode]) -> list[BindingInfo]:
    by_id: dict[str, list[str]] = {}
    first: dict[str, Binding] = {}
    infos: list[BindingInfo] = []
    for key, bindings in _bindings_of(cls).key_to_bindings.items():
        for binding in bindings:
            if binding.id is None:
                infos.append(BindingInfo(None, (key,), binding.description, cls.__name__))
                continue
            by_id.setdefault(binding.id, []).append(key)
            first.setdefault(binding.id, binding)
    infos.extend(BindingInfo(bid, tuple(keys), first[bid].description, cls.__name__)
                 for bid, keys in by_id.items())
    if cls.__name__ == "ResyncApp":
        from resync_tui.ui.app import ResyncApp

        infos.append(BindingInfo(None, (ResyncApp.COMMAND_PALETTE_BINDING,),
                                 _COMMAND_PALETTE, cls.__name__))
    return infos


def binding_catalog() -> dict[str, BindingInfo]:
    """Every binding with an id, by id, in the order the code declares them (app first)."""
    catalog: dict[str, BindingInfo] = {}
    for chain in reversed(_chains()):
        for cls in reversed(chain):
            for info in _infos(cls):
                if info.id is not None:
                    catalog.setdefault(info.id, info)
    return catalog


def binding_ids() -> list[str]:
    """The ids ``[keymap]`` accepts."""
    return list(binding_catalog())


def normalize_keys(keys: str) -> tuple[str, ...]:
    """``"?, ctrl+x"`` -> ``("question_mark", "ctrl+x")``: Textual's own spelling."""
    return tuple(k for k in _normalize_key_list(keys).split(",") if k)


def _valid_key(key: str) -> bool:
    """A key Textual can report: ``x``, ``X``, ``ctrl+x``, ``f5``, ``question_mark``."""
    *modifiers, base = key.split("+")
    if any(m not in _MODIFIERS for m in modifiers) or not base:
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    if base in _NAMED_KEYS or base in REPLACED_KEYS or base in KEY_TO_UNICODE_NAME:
        return True
    try:
        unicodedata.lookup(base.replace("_", " "))
    except KeyError:
        return False
    return True


def effective_keys(keymap: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Each binding id's keys once ``keymap`` is applied, as Textual applies it."""
    normal = {bid: ",".join(normalize_keys(keys)) for bid, keys in keymap.items()}
    result: dict[str, tuple[str, ...]] = {}
    for chain in _chains():
        for cls in chain:
            bindings = _bindings_of(cls)
            bindings.apply_keymap(normal)
            for key, found in bindings.key_to_bindings.items():
                for binding in found:
                    if binding.id is not None:
                        keys = result.setdefault(binding.id, ())
                        if key not in keys:
                            result[binding.id] = (*keys, key)
    return result


def key_label(key: str) -> str:
    """A key as the help screen writes it: ``?``, ``PgUp``, ``ctrl+x``."""
    *modifiers, base = key.split("+")
    shown = _LABELS.get(base) or format_key(base)
    return "+".join([*modifiers, shown])


def keys_label(keys: Iterable[str], *, code: bool = True) -> str:
    """Several keys of one binding: ``Esc`` or ``?`` or ``q``."""
    quote = "`" if code else ""
    return " or ".join(f"{quote}{key_label(k)}{quote}" for k in keys)


def _where(where: Mapping[str, str] | Callable[[str], str], bid: str) -> str:
    return where(bid) if callable(where) else where.get(bid, "settings")


def keymap_problems(keymap: Mapping[str, object],
                    where: Mapping[str, str] | Callable[[str], str]) -> list[str]:
    """Every problem of ``keymap`` (binding id -> keys), one line each, in the settings
    loader's style; ``where`` names the file or variable that set each id."""
    catalog = binding_catalog()
    ids = ", ".join(catalog)
    problems: list[str] = []
    valid: dict[str, str] = {}
    written: dict[str, str] = {}
    for bid, raw in keymap.items():
        origin = _where(where, bid)
        name = safe_text(bid, 80)
        if bid not in catalog:
            close = difflib.get_close_matches(bid, list(catalog), n=1, cutoff=0.6)
            hint = f"did you mean 'keymap.{close[0]}'? " if close else ""
            problems.append(f"{origin}: unknown key 'keymap.{name}'; {hint}"
                            f"allowed: the binding ids {ids}")
            continue
        keys = normalize_keys(raw) if isinstance(raw, str) else ()
        if not keys or not all(_valid_key(k) for k in keys):
            problems.append(
                f"{origin}: key 'keymap.{bid}': bad value {safe_text(repr(raw), 80)}; "
                "allowed: a key such as \"x\", \"X\", \"ctrl+x\", \"f5\", \"?\" or "
                "\"question_mark\", several separated by commas")
            continue
        valid[bid] = ",".join(keys)
        written[bid] = safe_text(repr(raw), 80)
    if valid:
        problems.extend(_clashes(valid, written, where, ids))
    return problems


def _owners(chain: tuple[type[DOMNode], ...], keymap: Mapping[str, str]
            ) -> dict[str, list[BindingInfo]]:
    """key -> the bindings on it anywhere in ``chain`` once ``keymap`` is applied."""
    on_key: dict[str, list[BindingInfo]] = {}
    for cls in chain:
        for info in _infos(cls):
            keys = (tuple(keymap[info.id].split(",")) if info.id is not None
                    and info.id in keymap else info.keys)
            for key in keys:
                owners = on_key.setdefault(key, [])
                if all(o.name != info.name for o in owners):
                    owners.append(info)
    return on_key


def _clashes(keymap: Mapping[str, str], written: Mapping[str, str],
             where: Mapping[str, str] | Callable[[str], str], ids: str) -> list[str]:
    problems: dict[tuple[str, str], str] = {}
    for chain in _chains():
        before = {key: {o.name for o in owners} for key, owners in _owners(chain, {}).items()}
        for key, owners in _owners(chain, keymap).items():
            if len(owners) < 2:
                continue
            for moved in owners:
                if moved.id is None or moved.id not in keymap:
                    continue
                for other in owners:
                    if other is moved or {moved.name, other.name} <= before.get(key, set()):
                        continue  # the code binds both there on purpose
                    label = key_label(key)
                    what = f" ({other.description})" if other.id and other.description else ""
                    problems.setdefault((moved.id, other.name), (
                        f"{_where(where, moved.id)}: key 'keymap.{moved.id}': bad value "
                        f"{written[moved.id]}; {label!r} is already bound to {other.name}"
                        f"{what} where {moved.id} works; allowed: a key free there"
                        + (f", or move {other.id} too" if other.id else "")
                        + f" (binding ids: {ids})"))
    return list(problems.values())
