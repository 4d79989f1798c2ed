"""Query terms of the ``/`` filter, through ``JobsView.set_filter`` as the pane calls it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resync_tui.model.jobs_view import JobRow, JobsView, parse_sort
from resync_tui.model.query import parse_query

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

ROWS = [
    JobRow("1", stream="PAYROLL_01", job="LOAD_GL", workstation="FTA_AIX_04",
           folder="/FINANCE/", status="ABEND", return_code=8),
    JobRow("2", stream="PAYROLL_02", job="EXTRACT", workstation="FTA_LNX_01",
           folder="/FINANCE/", status="FAIL", return_code=None),
    JobRow("3", stream="BILLING", job="PRELOAD_X", workstation="CPU_MASTER",
           folder="/OPS/", status="SUCC", return_code=0),
    JobRow("4", stream="BILLING", job="REPORT", workstation="fta_aix_09",
           folder="/FINANCE/SUB/", status="EXEC"),
    JobRow("5", stream="HR_PAYROLL", job="SEND", workstation="CPU_MASTER",
           folder="/HR/", status="STUCK", return_code=4),
    JobRow("6", stream="NEW", job="ODD", workstation="CPU_MASTER",
           folder="/HR/", status="NEWSTAT", return_code=-1),
]


def _shown(query: str) -> list[str]:
    view = JobsView(clock=lambda: NOW)
    view.apply(ROWS)
    view.set_filter(query)
    return sorted(row.job_id for row in view.rows_in(0, len(view)))


@pytest.mark.parametrize(("query", "expected"), [
    ("status=ABEND,FAIL", ["1", "2"]),
    ("status=abend", ["1"]),
    ("ws=FTA_@", ["1", "2", "4"]),
    ("ws=fta_aix_@", ["1", "4"]),
    ("stream=PAYROLL@", ["1", "2"]),
    ("stream=@PAYROLL@", ["1", "2", "5"]),
    ("job=@LOAD@", ["1", "3"]),
    ("job=LOAD", []),
    ("folder=/FINANCE/", ["1", "2"]),
    ("folder=/FINANCE/@", ["1", "2", "4"]),
    ("rc>0", ["1", "5"]),
    ("rc=0", ["3"]),
    ("rc!=0", ["1", "5", "6"]),
    ("rc<0", ["6"]),
    ("rc>=4", ["1", "5"]),
    ("rc<=0", ["3", "6"]),
    ("group=failed", ["1", "2"]),
    ("group=stuck,running", ["4", "5"]),
    ("group=other", ["6"]),
    ("ws=CPU@,FTA_LNX@", ["2", "3", "5", "6"]),
])
def test_each_term_keeps_exactly_its_jobs(query: str, expected: list[str]) -> None:
    assert _shown(query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("!status=SUCC", ["1", "2", "4", "5", "6"]),
    ("status!=SUCC", ["1", "2", "4", "5", "6"]),
    ("!group=failed", ["3", "4", "5", "6"]),
    ("!ws=FTA_@", ["3", "5", "6"]),
    ("!rc=0", ["1", "2", "4", "5", "6"]),  # no return code is "not rc=0"
    ("!payroll", ["3", "4", "6"]),
])
def test_a_negated_term_keeps_the_others(query: str, expected: list[str]) -> None:
    assert _shown(query) == expected


def test_terms_and_words_and_together() -> None:
    assert _shown("group=failed ws=FTA_@ load") == ["1"]
    assert _shown("billing rep") == ["4"]
    assert _shown("payroll !status=ABEND") == ["2", "5"]


def test_words_still_match_substrings_of_the_names() -> None:
    assert _shown("payroll") == ["1", "2", "5"]
    assert _shown("/finance/") == ["1", "2", "4"]
    assert _shown("aix") == ["1", "4"]


@pytest.mark.parametrize(("query", "message"), [
    ("foo=1", "unknown term 'foo' — known: status ws stream job folder rc group"),
    ("rc>abc", "rc>abc: 'abc' is not a whole number (e.g. rc>0, rc=4, rc!=0)"),
    ("group=faild", "unknown group 'faild' — known: failed stuck running waiting "
                    "cancelled done other"),
    ("status=", "'status=' needs a value, e.g. status=ABEND,FAIL"),
    ("ws>3", "'ws>3': only rc compares with > (use ws= or ws!=)"),
])
def test_a_bad_term_says_what_is_wrong_and_filters_nothing_away(query: str,
                                                                 message: str) -> None:
    view = JobsView(clock=lambda: NOW)
    view.apply(ROWS)
    view.set_filter("status=ABEND")
    assert len(view) == 1
    view.set_filter(f"payroll {query}")
    assert view.query_error == message
    assert len(view) == len(ROWS)  # every row while the error shows
    view.set_filter("status=ABEND")
    assert (view.query_error, len(view)) == (None, 1)


def test_typing_a_term_character_by_character_ends_on_its_result() -> None:
    """Each keystroke re-filters (no stale narrowing): status=A shows none, then ABEND."""
    view = JobsView(clock=lambda: NOW)
    view.apply(ROWS)
    text = ""
    for char in "status=ABEND,FAIL":
        text += char
        view.set_filter(text)
    assert sorted(r.job_id for r in view.rows_in(0, len(view))) == ["1", "2"]
    view.set_filter("status=ABEND")  # deleting characters widens again
    assert [r.job_id for r in view.rows_in(0, len(view))] == ["1"]


def test_a_changed_row_enters_and_leaves_a_term_filter() -> None:
    view = JobsView(clock=lambda: NOW)
    view.apply(ROWS)
    view.set_filter("rc>0")
    view.apply_changes([JobRow("3", stream="BILLING", job="PRELOAD_X",
                               workstation="CPU_MASTER", folder="/OPS/", status="ABEND",
                               return_code=12)])
    assert sorted(r.job_id for r in view.rows_in(0, len(view))) == ["1", "3", "5"]


def test_the_at_wildcard_is_literal_everywhere_else() -> None:
    """Regex characters in a pattern are plain text: ``.`` is a dot, not any character."""
    rows = [JobRow("a", job="A.B"), JobRow("b", job="AXB")]
    query = parse_query("job=a.b")
    assert [r.job_id for r in rows if query.matches(r)] == ["a"]


def test_sort_specs_of_saved_views() -> None:
    assert parse_sort("-started") == ("started", True)
    assert parse_sort("stream") == ("stream", False)
    assert parse_sort("attention") == (None, False)
    with pytest.raises(ValueError, match="unknown sort column 'colour'"):
        parse_sort("colour")


def test_a_term_typed_after_new_data_sees_the_new_data() -> None:
    """The rows kept by the first terms are reused while the last one is typed; new
    data in between must not be hidden behind that reuse."""
    view = JobsView(clock=lambda: NOW)
    view.apply([*ROWS, *(JobRow(f"x{i}", status="SUCC") for i in range(40))])  # a small update
    view.set_filter("group=failed ws=F")
    assert [r.job_id for r in view.rows_in(0, len(view))] == []
    view.apply_changes([JobRow("3", stream="BILLING", job="PRELOAD_X", workstation="FTA_NEW",
                               folder="/OPS/", status="FAIL")])
    view.set_filter("group=failed ws=FTA_@")
    assert sorted(r.job_id for r in view.rows_in(0, len(view))) == ["1", "2", "3"]
    view.set_status_filter({"FAIL"})
    view.set_filter("group=failed ws=FTA_@ job=@")
    assert sorted(r.job_id for r in view.rows_in(0, len(view))) == ["2", "3"]
