"""The tab bar's texts at the terminal's width: every mark whole, the names give way.

A tab bar cuts what does not fit at its right edge, with no ellipsis: at 80 columns a
plan in trouble showed ``Critical ✖1`` with 139 jobs past due, or ``Crit``. The marks
(``resync_tui/model/tabs.py``) are the reason the tabs exist on a small terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, NamedTuple

from rich.cells import cell_len

__all__ = ["TAB_PADDING", "TabText", "fit_tab_texts"]


class TabText(NamedTuple):
    """One tab's words: its label, a shorter one, its key, and its mark of the moment."""

    label: str
    short: str
    key: str
    mark: str


TAB_PADDING: Final = 2
"""Cells a tab adds around its text (Textual's ``Tab``: ``padding: 0 1``)."""

_NEW_WORD = re.compile(r"(●[\d,]+) new$")


def _compact(mark: str) -> str:
    """``⚠✖92 ●3 new`` as ``⚠✖92 ●3``: the figures stay, the word goes."""
    return _NEW_WORD.sub(r"\1", mark)


def _joined(name: str, mark: str) -> str:
    return f"{name} {mark}" if name and mark else name or mark


def _forms(tab: TabText) -> tuple[str, ...]:
    """The tab's texts, longest first; every one keeps the mark's symbols and figures."""
    # A pane whose key [keymap] moved to several or none keeps its short name.
    key = tab.key if tab.key and cell_len(tab.key) < cell_len(tab.short) else tab.short
    return (_joined(tab.label, tab.mark), _joined(tab.short, tab.mark),
            _joined(tab.short, _compact(tab.mark)),
            _joined(tab.short, _compact(tab.mark)) if tab.mark else key,
            _joined(key, _compact(tab.mark)))


def fit_tab_texts(tabs: Sequence[TabText], width: int) -> list[str]:
    """Each tab's text for a tab bar ``width`` cells wide: the longest form in which every
    tab fits, the same form for all (a tab keeps its look from one second to the next).

    A tab bar cuts what does not fit at its right edge, with no ellipsis: ``Critical ✖1``
    with 139 jobs past due. So the names give way before a mark does: the full names,
    then the short ones (``WS``, ``Crit``), then ``●3 new`` loses its word, then a calm
    tab shows its key alone, then every tab its key and its mark. A bar too narrow for
    even that shows the last form, cut at its edge (below 60 columns with every pane in
    trouble).
    """
    forms = [_forms(tab) for tab in tabs]
    for level in range(len(forms[0]) if forms else 0):
        texts = [f[level] for f in forms]
        if sum(cell_len(t) + TAB_PADDING for t in texts) <= width:
            return texts
    return [f[-1] for f in forms]
