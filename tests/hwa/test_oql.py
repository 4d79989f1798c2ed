"""OQL subset: parsing, evaluation on records, and the 400 path for garbage."""

from __future__ import annotations

from typing import Any

import pytest

from resync_tui.hwa import oql

ROWS: list[dict[str, Any]] = [
    {"id": "1", "name": "LOAD_GL", "folder": "/FIN/", "status": "SUCC", "prio": 10,
     "states": ["LINKED", "RUNNING"]},
    {"id": "2", "name": "SEND_GL", "folder": "/FIN/EU/", "status": "ABEND", "prio": 50,
     "states": ["INSTALLED"]},
    {"id": "3", "name": "O'BRIEN", "folder": "/HR/", "status": "EXEC", "prio": 20,
     "states": []},
    {"id": "4", "name": "LOAD_HR", "folder": "/HR/", "status": "SUCC", "prio": 101,
     "states": ["LINKED"]},
]  # fmt: skip


def resolve(path: str) -> oql.Getter:
    key = {"jobruns.compositeStatus.status": "status"}.get(path, path)
    if key not in ROWS[0]:
        raise oql.OqlError(f"unknown field {path}")
    return lambda row: row[key]


def ids(text: str) -> list[str]:
    query = oql.parse(text)
    predicate = oql.compile_predicate(query, resolve)
    rows = [row for row in ROWS if predicate is None or predicate(row)]
    if query.order:
        rows.sort(key=oql.sort_key(query.order, resolve, lambda row: row["id"]))
    return [row["id"] for row in rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["1", "2", "3", "4"]),
        ("jobruns.compositeStatus.status = 'SUCC'", ["1", "4"]),
        ("status != 'SUCC'", ["2", "3"]),
        ("status <> 'SUCC'", ["2", "3"]),
        ("folder IN ['/FIN/','/HR/']", ["1", "3", "4"]),
        ("folder NOT IN ['/HR/']", ["1", "2"]),
        ("folder LIKE '/FIN@'", ["1", "2"]),
        ("name LIKE '@_GL'", ["1", "2"]),
        ("name LIKE 'LOAD_??'", ["1", "4"]),
        ("name = 'O''BRIEN'", ["3"]),
        ("status = 'SUCC' AND folder = '/HR/'", ["4"]),
        ("status = 'ABEND' OR status = 'EXEC'", ["2", "3"]),
        ("id = '1' AND (folder = '/HR/' OR name LIKE '@GL')", ["1"]),
        ("NOT status = 'SUCC'", ["2", "3"]),
        ("prio >= 50", ["2", "4"]),
        ("prio < 20", ["1"]),
        ("states IN ['RUNNING']", ["1"]),
        ("states = 'LINKED'", ["1", "4"]),
        ("status = 'SUCC' and folder like '/H@'", ["4"]),
    ],
)
def test_filters_select_the_matching_rows(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_order_by_descending_then_ascending() -> None:
    assert ids("ORDER BY name DESC") == ["2", "3", "4", "1"]
    assert ids("status = 'SUCC' ORDER BY prio DESC") == ["4", "1"]
    assert ids("ORDER BY status ASC, prio DESC") == ["2", "3", "4", "1"]


def test_and_binds_tighter_than_or() -> None:
    assert ids("status = 'EXEC' OR status = 'SUCC' AND folder = '/FIN/'") == ["1", "3"]


@pytest.mark.parametrize(
    "text",
    [
        "name =",
        "name = 'unterminated",
        "= 'x'",
        "name == 'x'",
        "name IN 'x'",
        "name IN ['a',]",
        "(name = 'a'",
        "name = 'a' ORDER name",
        "name = 'a' AND",
        "name LIKE 5",
        "name = 'a' extra",
        "name ~ 'a'",
        "unknown_field = 'a'",
        "(" * 2000 + "name = 'a'" + ")" * 2000,  # would be a RecursionError
        "NOT " * 2000 + "name = 'a'",
    ],
)
def test_garbage_raises_oql_error(text: str) -> None:
    with pytest.raises(oql.OqlError):
        ids(text)


def test_builders_quote_and_round_trip() -> None:
    text = oql.and_(oql.eq("name", "O'BRIEN"), oql.in_("status", ["SUCC", "EXEC"]), "")
    assert text == "(name = 'O''BRIEN') AND (status IN ['SUCC','EXEC'])"
    assert ids(text) == ["3"]
    assert oql.quote(True) == "TRUE"
    assert oql.quote(5) == "5"


def test_query_lists_the_fields_it_uses() -> None:
    query = oql.parse("a = 1 AND (b LIKE 'x@' OR NOT c IN [1]) ORDER BY d")
    assert query.fields() == {"a", "b", "c", "d"}


def test_deep_but_sane_nesting_still_parses() -> None:
    assert ids("(" * 60 + "status = 'SUCC'" + ")" * 60) == ids("status = 'SUCC'")
    assert ids("NOT NOT " * 30 + "status = 'SUCC'") == ids("status = 'SUCC'")
