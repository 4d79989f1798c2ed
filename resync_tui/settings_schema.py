"""A JSON Schema of ``settings.toml``, generated from the settings dataclasses.

Editors (VS Code with Even Better TOML, taplo, JetBrains) use it to complete keys,
show each key's default and flag a wrong value while the file is typed. It is made
from the same field bounds and choices that :func:`resync_tui.settings.load_settings`
enforces, so the two cannot disagree; ``docs/settings.schema.json`` is this output,
committed (a test fails when it goes stale) and printed by ``resync-tui config schema``.

Checks that need the file system or several keys at once (a CA file exists, a URL's
scheme) are left to ``resync-tui config check``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final

from resync_tui.settings import (
    ALERT_MATCH_FIELDS,
    BREAKER_DEFAULTS,
    ENGINE_NAME_PATTERN,
    SECTIONS,
    AlertSettings,
    BreakerSettings,
    HwaSettings,
    Settings,
    ThemeSettings,
    ViewSettings,
)

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_JSON_TYPES: Final = {"bool": "boolean", "int": "integer", "float": "number", "str": "string"}


def _doc(cls: type[Any]) -> str:
    """The first line of a dataclass's own docstring (not dataclass's generated one)."""
    doc = cls.__dict__.get("__doc__") or ""
    return "" if doc.startswith(cls.__name__ + "(") else doc.strip().splitlines()[0]


def _field_schema(f: dataclasses.Field[Any], default: Any) -> dict[str, Any]:
    if str(f.type).startswith("Mapping"):  # a theme's variables: a table of strings
        return {"type": "object", "description": f.metadata.get("doc", ""),
                "additionalProperties": {"type": "string"}, "default": dict(default)}
    meta = f.metadata
    if str(f.type).startswith("tuple"):  # a list of choices ([actions] require)
        items: dict[str, Any] = {"type": "string"}
        if meta.get("choices"):
            items["enum"] = list(meta["choices"])
        return {"type": "array", "description": meta.get("doc", ""), "items": items,
                "uniqueItems": True, "default": list(default)}
    schema: dict[str, Any] = {"type": _JSON_TYPES[str(f.type)]}
    if meta.get("doc"):
        schema["description"] = meta["doc"]
    if meta.get("choices"):
        schema["enum"] = list(meta["choices"])
    if meta.get("min") is not None:
        schema["minimum"] = meta["min"]
    if meta.get("max") is not None:
        schema["maximum"] = meta["max"]
    schema["default"] = default
    return schema


def _table_schema(instance: Any, description: str = "") -> dict[str, Any]:
    """One [section]: exactly the keys a file may set (secrets and resolved values are
    not among them), each with its type, bounds, choices and this instance's default."""
    schema: dict[str, Any] = {"type": "object"}
    if description or _doc(type(instance)):
        schema["description"] = description or _doc(type(instance))
    schema["properties"] = {
        f.name: _field_schema(f, getattr(instance, f.name))
        for f in dataclasses.fields(instance) if not f.metadata.get("resolved")
    }
    schema["additionalProperties"] = False
    return schema


def settings_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict."""
    defaults = Settings()
    properties: dict[str, Any] = {
        name: _table_schema(getattr(defaults, name)) for name in SECTIONS}
    properties["breakers"] = {
        "type": "object",
        "description": "Circuit breakers, one table per name; a named breaker starts from "
                       "its own defaults.",
        "properties": {name: _table_schema(bs, f"breaker {name}")
                       for name, bs in BREAKER_DEFAULTS.items()},
        "additionalProperties": _table_schema(BreakerSettings(), "another breaker"),
    }
    properties["keymap"] = _keymap_schema()
    theme = _table_schema(ThemeSettings(), "a user theme; ui.theme = \"NAME\" picks it")
    theme["required"] = ["primary"]
    properties["themes"] = {
        "type": "object",
        "description": "User themes, one [themes.NAME] table each (Textual Theme fields).",
        "properties": {},
        "additionalProperties": theme,
    }
    rule = _table_schema(AlertSettings(), "an alert rule: what fires it and where it goes")
    rule["properties"]["match"] = {
        "type": "object",
        "description": "HWA patterns (@ any characters, ? one) the job or workstation must "
                       "match",
        "properties": {name: {"type": "string", "minLength": 1} for name in ALERT_MATCH_FIELDS},
        "additionalProperties": False,
    }
    rule["required"] = ["name", "on"]
    properties["alerts"] = {
        "type": "array",
        "description": "Alert rules, one [[alerts]] table each (fired once per state change).",
        "items": rule,
    }
    properties["views"] = {
        "type": "object",
        "description": "Saved views of the job list, one [views.NAME] table each (query "
                       "and sort), offered in the command palette as \"View: NAME\".",
        "properties": {},
        "additionalProperties": _table_schema(ViewSettings(), "a saved view"),
    }
    engine = _table_schema(HwaSettings(), "an engine: the keys of [hwa]; its password comes by "
                           "default from RESYNC_ENGINES__NAME__PASSWORD")
    del engine["properties"]["password_env"]["default"]
    properties["engines"] = {
        "type": "object",
        "description": "Several engines, one [engines.NAME] table each (instead of [hwa]), "
                       "switched with : or the palette; ui.engine names the first shown.",
        "propertyNames": {"pattern": f"^{ENGINE_NAME_PATTERN}$"},
        "properties": {},
        "additionalProperties": engine,
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "resync-tui settings",
        "description": "settings.toml of resync-tui. Any key can also be set by an environment "
                       "variable RESYNC_<SECTION>__<KEY>; passwords and tokens are never "
                       "written here. Generated by `resync-tui config schema`.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _keymap_schema() -> dict[str, Any]:
    """[keymap]: every binding id, with what it does and its key by default (imported
    from the UI's live bindings, so the ids cannot drift from the code)."""
    from resync_tui.ui.keymap import binding_catalog

    return {
        "type": "object",
        "description": "Keys: binding id = \"key\" (\"x\", \"ctrl+x\", \"f5\"; several "
                       "separated by commas). A clash is refused by config check.",
        "properties": {
            bid: {"type": "string", "description": f"{info.description} ({info.owner})",
                  "default": ",".join(info.keys)}
            for bid, info in binding_catalog().items()},
        "additionalProperties": False,
    }


def schema_text() -> str:
    """The schema as the committed ``docs/settings.schema.json`` holds it."""
    return json.dumps(settings_schema(), indent=2, ensure_ascii=False) + "\n"
