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
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_from_the_layers_above_it(layer: str) -> None:
    offences = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not offences, "\n".join(offences)
