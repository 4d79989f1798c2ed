"""The subset of HWA's Orchestration Query Language (OQL) that resync-tui sends.

Grammar (keywords case-insensitive)::

    query     := [expr] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}]
    expr      := term {OR term}
    term      := factor {AND factor}
    factor    := NOT factor | '(' expr ')' | field op value
               | field [NOT] IN '[' value {, value} ']' | field [NOT] LIKE 'pattern'
    op        := = | != | <> | < | <= | > | >=
    value     := 'text' ('' escapes a quote) | number | TRUE | FALSE

In LIKE patterns ``@`` matches any run of characters and ``?`` one character.
The parser builds a small tree; :func:`compile_predicate` turns it into a plain
closure over records so that filtering 200k jobs costs one call per job. The
client uses :func:`quote`, :func:`eq`, :func:`in_` and :func:`and_` to build
queries without hand-written quoting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "And",
    "Comparison",
    "Field",
    "Not",
    "OqlError",
    "Or",
    "OrderKey",
    "Query",
    "and_",
    "compile_predicate",
    "eq",
    "in_",
    "like_to_regex",
    "parse",
    "quote",
    "sort_key",
]

Value: TypeAlias = str | int | float | bool


class OqlError(ValueError):
    """An OQL text this implementation cannot parse or evaluate (the server answers 400)."""


@dataclass(frozen=True, slots=True)
class Field:
    """A (possibly dotted) field name as written in the query."""

    path: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``; op is one of = != < <= > >= IN NOTIN LIKE NOTLIKE."""

    field: Field
    op: str
    value: Value | tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Expr


Expr: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderKey:
    field: Field
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: an optional filter and the ORDER BY keys."""

    where: Expr | None = None
    order: tuple[OrderKey, ...] = field(default_factory=tuple)

    def fields(self) -> set[str]:
        """Every field path the query mentions (to reject unknown ones up front)."""
        found: set[str] = {key.field.path for key in self.order}

        def walk(node: Expr) -> None:
            if isinstance(node, Comparison):
                found.add(node.field.path)
            elif isinstance(node, Not):
                walk(node.part)
            else:
                for part in node.parts:
                    walk(part)

        if self.where is not None:
            walk(self.where)
        return found


_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
    | (?P<op><>|!=|<=|>=|=|<|>)
    | (?P<punct>[()\[\],])
    | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "TRUE", "FALSE"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # string number op punct word kw end
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    end = len(text)
    while pos < end:
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            snippet = text[pos : pos + 20].strip()
            raise OqlError(f"unexpected text at position {pos}: {snippet!r}")
        kind = match.lastgroup
        assert kind is not None
        raw = match.group(kind)
        start = match.start(kind)
        if kind == "word" and raw.upper() in _KEYWORDS:
            tokens.append(_Tok("kw", raw.upper(), start))
        else:
            tokens.append(_Tok(kind, raw, start))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


_MAX_NESTING = 64
"""Parentheses and NOTs deeper than this are refused: the parser and the compiled
predicate recurse once per level, and a query comes from outside (a RecursionError
would be a 500, not a 400)."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.index]

    def advance(self) -> _Tok:
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> _Tok | None:
        tok = self.tok
        if tok.kind == kind and (text is None or tok.text == text):
            self.index += 1
            return tok
        return None

    def expect(self, kind: str, text: str | None = None, what: str = "") -> _Tok:
        tok = self.accept(kind, text)
        if tok is None:
            wanted = what or text or kind
            got = self.tok.text or "end of query"
            raise OqlError(f"expected {wanted} at position {self.tok.pos}, got {got!r}")
        return tok

    def query(self) -> Query:
        where: Expr | None = None
        if not (self.tok.kind == "kw" and self.tok.text == "ORDER") and self.tok.kind != "end":
            where = self.expr()
        order: list[OrderKey] = []
        if self.accept("kw", "ORDER"):
            self.expect("kw", "BY")
            while True:
                name = self.expect("word", what="a field name after ORDER BY")
                descending = False
                if self.accept("kw", "DESC"):
                    descending = True
                else:
                    self.accept("kw", "ASC")
                order.append(OrderKey(Field(name.text), descending))
                if not self.accept("punct", ","):
                    break
        if self.tok.kind != "end":
            raise OqlError(f"unexpected {self.tok.text!r} at position {self.tok.pos}")
        return Query(where, tuple(order))

    def expr(self) -> Expr:
        parts = [self.term()]
        while self.accept("kw", "OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self) -> Expr:
        parts = [self.factor()]
        while self.accept("kw", "AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self) -> Expr:
        self.depth += 1
        try:
            if self.depth > _MAX_NESTING:
                raise OqlError(
                    f"query nested deeper than {_MAX_NESTING} levels at position {self.tok.pos}"
                )
            return self._factor()
        finally:
            self.depth -= 1

    def _factor(self) -> Expr:
        if self.accept("kw", "NOT"):
            return Not(self.factor())
        if self.accept("punct", "("):
            inner = self.expr()
            self.expect("punct", ")")
            return inner
        name = self.expect("word", what="a field name")
        target = Field(name.text)
        negate = bool(self.accept("kw", "NOT"))
        if self.accept("kw", "IN"):
            return Comparison(target, "NOTIN" if negate else "IN", self.value_list())
        if self.accept("kw", "LIKE"):
            pattern = self.expect("string", what="a quoted LIKE pattern")
            return Comparison(target, "NOTLIKE" if negate else "LIKE", _unquote(pattern.text))
        if negate:
            raise OqlError(f"expected IN or LIKE after NOT at position {self.tok.pos}")
        op = self.expect("op", what="a comparison operator")
        return Comparison(target, "!=" if op.text == "<>" else op.text, self.value())

    def value_list(self) -> tuple[Value, ...]:
        closer = "]"
        if self.accept("punct", "(") is not None:
            closer = ")"
        else:
            self.expect("punct", "[", what="'[' after IN")
        values = [self.value()]
        while self.accept("punct", ","):
            values.append(self.value())
        self.expect("punct", closer)
        return tuple(values)

    def value(self) -> Value:
        tok = self.advance()
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "kw" and tok.text in ("TRUE", "FALSE"):
            return tok.text == "TRUE"
        raise OqlError(f"expected a value at position {tok.pos}, got {tok.text or 'end'!r}")


def _unquote(raw: str) -> str:
    return raw[1:-1].replace("''", "'")


def parse(text: str | None) -> Query:
    """Parse an OQL string; empty or None means "everything, natural order"."""
    if text is None or not text.strip():
        return Query()
    return _Parser(text).query()


def like_to_regex(pattern: str) -> re.Pattern[str]:
    """``@`` -> any characters, ``?`` -> one character, everything else literal."""
    parts = []
    for char in pattern:
        if char == "@":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


Getter: TypeAlias = Callable[[Any], Any]
Predicate: TypeAlias = Callable[[Any], bool]


def _is_many(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def _coerce(value: Value, sample_is_text: bool) -> Value:
    if sample_is_text and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def _compile_comparison(node: Comparison, getter: Getter) -> Predicate:
    op = node.op
    value = node.value
    if op in ("IN", "NOTIN"):
        assert isinstance(value, tuple)
        options = frozenset(value) | frozenset(str(v) for v in value)

        def is_in(record: Any) -> bool:
            got = getter(record)
            if _is_many(got):
                return any(item in options for item in got)
            return got in options

        if op == "IN":
            return is_in
        return lambda record: not is_in(record)
    if op in ("LIKE", "NOTLIKE"):
        assert isinstance(value, str)
        matcher = like_to_regex(value).fullmatch

        def is_like(record: Any) -> bool:
            got = getter(record)
            if _is_many(got):
                return any(matcher(str(item)) is not None for item in got)
            return got is not None and matcher(str(got)) is not None

        if op == "LIKE":
            return is_like
        return lambda record: not is_like(record)
    assert not isinstance(value, tuple)
    if op == "=":

        def equals(record: Any) -> bool:
            got = getter(record)
            if _is_many(got):
                return value in got or str(value) in got
            if isinstance(got, str):
                return got == _coerce(value, True)
            return bool(got == value)

        return equals
    if op == "!=":
        same = _compile_comparison(Comparison(node.field, "=", value), getter)
        return lambda record: not same(record)

    def ordered(record: Any) -> bool:
        got = getter(record)
        if got is None or _is_many(got):
            return False
        probe = _coerce(value, isinstance(got, str))
        try:
            if op == "<":
                return bool(got < probe)
            if op == "<=":
                return bool(got <= probe)
            if op == ">":
                return bool(got > probe)
            return bool(got >= probe)
        except TypeError:
            return False

    return ordered


def compile_predicate(
    query: Query | Expr | None, resolve: Callable[[str], Getter]
) -> Predicate | None:
    """Turn the filter into a closure; ``resolve`` maps a field path to a getter.

    ``resolve`` raises :class:`OqlError` for fields it does not know. Returns
    None when there is no filter (callers then skip filtering entirely).
    """
    node = query.where if isinstance(query, Query) else query
    if node is None:
        return None
    if isinstance(node, Comparison):
        return _compile_comparison(node, resolve(node.field.path))
    if isinstance(node, Not):
        inner = compile_predicate(node.part, resolve)
        assert inner is not None
        return lambda record: not inner(record)
    parts = [compile_predicate(part, resolve) for part in node.parts]
    checks = [part for part in parts if part is not None]
    if isinstance(node, And):
        return lambda record: all(check(record) for check in checks)
    return lambda record: any(check(record) for check in checks)


class _Reversed:
    """Wraps a sort key so that one key of a multi-key sort runs descending."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if _is_many(value):
        return (0, ",".join(sorted(str(v) for v in value)))
    return (0, value)


def sort_key(
    order: Sequence[OrderKey], resolve: Callable[[str], Getter], tiebreak: Getter
) -> Callable[[Any], tuple[Any, ...]]:
    """A key function for ``sorted`` honouring ASC/DESC per key, then ``tiebreak``."""
    getters = [(resolve(key.field.path), key.descending) for key in order]

    def key(record: Any) -> tuple[Any, ...]:
        parts: list[Any] = []
        for getter, descending in getters:
            item = _sortable(getter(record))
            parts.append(_Reversed(item) if descending else item)
        parts.append(tiebreak(record))
        return tuple(parts)

    return key


# ---- building queries (client side) -------------------------------------------------------


def quote(value: Value) -> str:
    """An OQL literal: strings single-quoted with quotes doubled, numbers bare."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def eq(field_path: str, value: Value) -> str:
    return f"{field_path} = {quote(value)}"


def in_(field_path: str, values: Iterable[Value]) -> str:
    return f"{field_path} IN [" + ",".join(quote(v) for v in values) + "]"


def and_(*clauses: str) -> str:
    """Join non-empty clauses with AND, parenthesising each."""
    kept = [clause for clause in clauses if clause]
    if len(kept) == 1:
        return kept[0]
    return " AND ".join(f"({clause})" for clause in kept)
