"""The layers only point one way: ui -> feeds -> resilience, hwa.

Checked on the source (every import statement, lazy ones included), so a
violation fails here before it can rot the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "resync_tui"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "resilience": ("textual", "rich", "resync_tui.hwa", "resync_tui.feeds", "resync_tui.ui"),
    "hwa": ("textual", "rich", "resync_tui.resilience", "resync_tui.feeds", "resync_tui.ui"),
    "feeds": ("textual", "rich", "resync_tui.ui"),
    "audit": ("textual", "rich", "resync_tui.ui", "resync_tui.feeds"),
    "alerts": ("textual", "rich", "resync_tui.ui", "resync_tui.feeds", "resync_tui.hwa"),
    "share": ("textual", "rich", "resync_tui.ui", "resync_tui.feeds", "resync_tui.hwa"),
    "record": ("textual", "rich", "resync_tui.ui"),
    "model": ("textual", "rich", "resync_tui.ui", "resync_tui.feeds", "resync_tui.resilience"),
}


def _package_of(path: Path) -> list[str]:
    """The package a file's relative imports start from: ``resync_tui/feeds/jobs.py`` ->
    ``["resync_tui", "feeds"]`` (an ``__init__.py`` is its own package)."""
    return list(path.relative_to(PACKAGE.parent).parent.parts)


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module a file imports, relative imports resolved to absolute names."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module:
                    found.add(node.module)
                continue
            package = _package_of(path)
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.add(".".join([*base, node.module]))
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
    return found


def test_relative_imports_are_resolved() -> None:
    found = imported_modules(PACKAGE / "feeds" / "jobs.py",
                             "from ..ui import app\nfrom . import jobs\nfrom .status import hms\n")
    assert found == {"resync_tui.ui", "resync_tui.feeds.jobs", "resync_tui.feeds.status"}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_from_the_layers_above_it(layer: str) -> None:
    offences = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not offences, "\n".join(offences)
