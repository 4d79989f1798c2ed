"""The ``/`` filter's query language, parsed once per keystroke into compiled tests.

Pure Python (no Textual, no I/O): the jobs view, the headless ``resync-tui jobs`` command
and the settings' ``[views.NAME]`` all parse with :func:`parse_query`, so they agree.

A query is words and terms separated by spaces; every one must match (AND):

- ``status=ABEND,FAIL``: the internal status is any of these (exact, case-insensitive).
- ``ws=FTA_@``, ``stream=PAYROLL@``, ``job=@LOAD@``, ``folder=/FINANCE/``: the name
  matches any of the comma-separated patterns. ``@`` is conman's wildcard (any
  characters, none included). Name matching is case-insensitive, as conman's is.
- ``rc>0`` (also ``rc=``, ``rc!=``, ``rc<``, ``rc>=``, ``rc<=``): the last run's return
  code; a job without one never matches (``!rc=0`` does match it).
- ``group=failed``: one of the status groups of ``model/status.py`` (any of, with commas).
- ``!`` before a term or a word negates it (``!status=SUCC``); ``status!=SUCC`` is the
  same. A word without an operator is a case-insensitive substring of the stream, job,
  workstation or folder name, as the filter always was.

A bad term (unknown key, a number that is no number, an unknown group, a term with no
value) makes :attr:`Query.error` a precise sentence and the query filters nothing
away: a half-typed term must never make jobs vanish silently.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Final

import msgspec

from resync_tui.model.job_row import JobRow
from resync_tui.model.status import ALL_GROUPS, KNOWN_STATUSES, statuses_in

__all__ = ["NAME_FIELDS", "TERM_KEYS", "Query", "Term", "haystack", "parse_query"]

NAME_FIELDS: Final = ("stream", "job", "ws", "folder")
"""Name keys, in the order of their fields in :func:`haystack`."""
TERM_KEYS: Final = ("status", "ws", "stream", "job", "folder", "rc", "group")
"""Every key a term may have, in the order error messages list them."""

_TERM: Final = re.compile(r"^(!?)([A-Za-z_]+)(!=|>=|<=|=|>|<)(.*)$", re.DOTALL)
_SEP: Final = "\x00"
_ANY: Final = "[^\x00]*"
HayTest = Callable[[str], object]
"""A test of a haystack; truthy means it matches (a regex's ``match`` is one)."""
_COMPARE: Final[dict[str, Callable[[int, int], bool]]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
    ">=": operator.ge, "<=": operator.le,
}


def haystack(row: JobRow) -> str:
    """The lowercase text words and name terms are matched against (one per row, cached
    by the view). ``\\x00`` between the fields: a match never spans two of them."""
    return f"{row.stream}{_SEP}{row.job}{_SEP}{row.workstation}{_SEP}{row.folder}".lower()


class Term(msgspec.Struct, frozen=True):
    """One compiled word or term. Exactly one of ``word``, ``statuses``, ``on_hay``,
    ``on_row`` is set, so the view can filter with the cheapest comprehension for each."""

    text: str
    """As typed, for messages."""
    word: str | None = None
    """A plain (non-negated) word: ``word in hay``, inlined by the view."""
    statuses: frozenset[str] | None = None
    """A status or group term: ``(row.status in statuses) != negate``."""
    negate: bool = False
    on_hay: HayTest | None = None
    """A test of the row's :func:`haystack`."""
    hint: str | None = None
    """Text every haystack passing ``on_hay`` contains: a C-level ``in`` test first
    spares most rows the regex call."""
    on_row: Callable[[JobRow], bool] | None = None
    """A test of the row itself."""

    def matches(self, row: JobRow, hay: str) -> bool:
        if self.word is not None:
            return self.word in hay
        if self.statuses is not None:
            return (row.status in self.statuses) != self.negate
        if self.on_hay is not None:
            return bool(self.on_hay(hay))
        assert self.on_row is not None
        return self.on_row(row)


class Query(msgspec.Struct, frozen=True):
    """A parsed query: its terms (empty when there is an error) and the error, if any."""

    text: str
    terms: tuple[Term, ...] = ()
    error: str | None = None

    @property
    def plain(self) -> bool:
        """Only non-negated words: adding characters can only narrow the result."""
        return all(t.word is not None for t in self.terms)

    def __bool__(self) -> bool:
        """True when the query filters something away."""
        return bool(self.terms)

    def matches(self, row: JobRow, hay: str | None = None) -> bool:
        """Whether ``row`` passes (``hay``: its :func:`haystack`, if already computed)."""
        if not self.terms:
            return True
        text = haystack(row) if hay is None else hay
        return all(term.matches(row, text) for term in self.terms)


class QueryError(ValueError):
    """A term that cannot be compiled; the message is shown as it is."""


def _pattern(values: list[str]) -> str:
    """Comma-separated conman patterns as one regex alternation (lowercase)."""
    return "|".join(_ANY.join(re.escape(part) for part in value.lower().split("@"))
                    for value in values)


def _name_term(key: str, values: list[str]) -> HayTest:
    index = NAME_FIELDS.index(key)
    skip = f"(?:{_ANY}{_SEP}){{{index}}}" if index else ""
    end = "$" if key == "folder" else _SEP
    return re.compile(f"^{skip}(?:{_pattern(values)}){end}", re.DOTALL).match


def _group_statuses(values: list[str]) -> tuple[frozenset[str], bool]:
    """The statuses of some groups, as ``(statuses, negate)``: ``other`` is every status
    not known, so a set with it is written as the known statuses it excludes."""
    names = [value.lower() for value in values]
    unknown = [name for name in names if name not in ALL_GROUPS]
    if unknown:
        raise QueryError(f"unknown group '{unknown[0]}' — known: {' '.join(ALL_GROUPS)}")
    wanted = statuses_in(names)
    if "other" in names:
        return KNOWN_STATUSES - wanted, True
    return wanted, False


def _rc_term(op: str, value: str) -> Callable[[JobRow], bool]:
    try:
        number = int(value.strip())
    except ValueError:
        raise QueryError(f"rc{op}{value}: '{value}' is not a whole number "
                         f"(e.g. rc>0, rc=4, rc!=0)") from None
    compare = _COMPARE[op]

    def test(row: JobRow) -> bool:
        rc = row.return_code
        return rc is not None and compare(rc, number)

    return test


def _negated_hay(test: HayTest) -> HayTest:
    return lambda hay: not test(hay)


def _negated_row(test: Callable[[JobRow], bool]) -> Callable[[JobRow], bool]:
    return lambda row: not test(row)


def _compile(token: str) -> Term:
    found = _TERM.match(token)
    if found is None:
        negate = token.startswith("!")
        word = token[1:].lower() if negate else token.lower()
        if not negate:
            return Term(token, word=word)
        return Term(token, on_hay=lambda hay: word not in hay)
    bang, key, op, value = found.groups()
    key = key.lower()
    if key not in TERM_KEYS:
        raise QueryError(f"unknown term '{key}' — known: {' '.join(TERM_KEYS)}")
    negate = bool(bang)
    if op == "!=" and key != "rc":
        negate, op = not negate, "="
    if not value:
        raise QueryError(f"'{token}' needs a value, e.g. {_EXAMPLES[key]}")
    if key == "rc":
        rc_test = _rc_term(op, value)
        return Term(token, on_row=_negated_row(rc_test) if negate else rc_test)
    if op != "=":
        raise QueryError(f"'{token}': only rc compares with {op} (use {key}= or {key}!=)")
    values = [v for v in value.split(",") if v]
    if not values:
        raise QueryError(f"'{token}' needs a value, e.g. {_EXAMPLES[key]}")
    if key in NAME_FIELDS:
        hay_test = _name_term(key, values)
        if negate:
            return Term(token, on_hay=_negated_hay(hay_test))
        hint = max(values[0].lower().split("@"), key=len) if len(values) == 1 else ""
        return Term(token, on_hay=hay_test, hint=hint or None)
    if key == "status":
        statuses, inverse = frozenset(value.upper() for value in values), False
    else:
        statuses, inverse = _group_statuses(values)
    return Term(token, statuses=statuses, negate=inverse != negate)


_EXAMPLES: Final = {
    "status": "status=ABEND,FAIL", "ws": "ws=FTA_@", "stream": "stream=PAYROLL@",
    "job": "job=@LOAD@", "folder": "folder=/FINANCE/", "rc": "rc>0", "group": "group=failed",
}


def parse_query(text: str) -> Query:
    """Compile ``text`` (see the module's docstring); never raises.

    On a bad term the query has no terms and ``error`` says what is wrong, so a caller
    shows every row with the message instead of guessing what was meant.
    """
    terms: list[Term] = []
    for token in text.split():
        if token == "!":
            continue  # a "!" typed before its term: nothing to negate yet
        try:
            terms.append(_compile(token))
        except QueryError as exc:
            return Query(text, (), str(exc))
        except re.error as exc:  # cannot happen with escaped patterns; say so if it does
            return Query(text, (), f"'{token}': {exc}")
    return Query(text, tuple(terms))
