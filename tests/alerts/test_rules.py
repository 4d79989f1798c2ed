"""The rule evaluator: successive states in, one event per state change out (pure, no clock)."""

from __future__ import annotations

from resync_tui.alerts import AlertEvaluator, AlertInput, AlertRule, JobFacts, pattern_matches


def jobs(**statuses: str) -> dict[str, JobFacts]:
    return {job_id: JobFacts(status, stream="PAYROLL", job=job_id.upper(), workstation="CPU1")
            for job_id, status in statuses.items()}


def test_a_new_failure_fires_once_and_again_only_after_it_cleared() -> None:
    ev = AlertEvaluator([AlertRule("fail", "job_failed", webhook="http://x")])
    assert ev.evaluate(AlertInput(0, jobs(a="SUCC", b="EXEC"))) == []
    fired = ev.evaluate(AlertInput(10, jobs(a="ABEND", b="EXEC")))
    assert [(e.rule, e.subject, e.webhook) for e in fired] == [("fail", "a", "http://x")]
    assert "ABEND" in fired[0].summary
    assert ev.evaluate(AlertInput(20, jobs(a="ABEND", b="EXEC"))) == []
    assert ev.evaluate(AlertInput(25, jobs(a="FAIL", b="EXEC"))) == []  # still failed
    assert ev.evaluate(AlertInput(30, jobs(a="SUCC", b="EXEC"))) == []  # rerun succeeded
    assert [e.subject for e in ev.evaluate(AlertInput(40, jobs(a="ABEND", b="ABEND")))] \
        == ["a", "b"]


def test_failures_present_at_start_are_a_baseline() -> None:
    ev = AlertEvaluator([AlertRule("fail", "job_failed")])
    assert ev.evaluate(AlertInput(0, jobs(a="ABEND"))) == []
    assert [e.subject for e in ev.evaluate(AlertInput(1, jobs(a="ABEND", b="ERROR")))] == ["b"]


def test_an_unread_state_neither_clears_nor_fires() -> None:
    ev = AlertEvaluator([AlertRule("fail", "job_failed")])
    ev.evaluate(AlertInput(0, jobs(a="SUCC")))
    assert len(ev.evaluate(AlertInput(1, jobs(a="ABEND")))) == 1
    assert ev.evaluate(AlertInput(2, None)) == []  # the job list was not read this time
    assert ev.evaluate(AlertInput(3, jobs(a="ABEND"))) == []  # not a second event


def test_match_patterns_use_hwa_wildcards() -> None:
    assert pattern_matches("PAY@", "payroll") and pattern_matches("@", "")
    assert pattern_matches("CPU?", "CPU1") and not pattern_matches("CPU?", "CPU12")
    assert not pattern_matches("PAY@", "XPAYROLL") and pattern_matches("a.b", "A.B")
    assert not pattern_matches("a.b", "axb")
    rule = AlertRule("pay", "job_failed", match={"stream": "PAY@", "workstation": "CPU?"})
    ev = AlertEvaluator([rule])
    ev.evaluate(AlertInput(0, {}))
    state = {"p": JobFacts("ABEND", stream="PAYROLL", workstation="CPU1"),
             "q": JobFacts("ABEND", stream="BILLING", workstation="CPU1"),
             "r": JobFacts("ABEND", stream="PAYROLL", workstation="AIX01")}
    assert [e.subject for e in ev.evaluate(AlertInput(1, state))] == ["p"]


def test_a_workstation_fires_only_after_for_seconds_down() -> None:
    ev = AlertEvaluator([AlertRule("ws", "workstation_down", for_seconds=60,
                                   match={"workstation": "CPU@"})])
    assert ev.evaluate(AlertInput(0, workstations_down=["CPU1", "AIX1"])) == []
    assert ev.evaluate(AlertInput(59, workstations_down=["CPU1"])) == []
    fired = ev.evaluate(AlertInput(60, workstations_down=["CPU1"]))
    assert [e.subject for e in fired] == ["CPU1"]
    assert ev.evaluate(AlertInput(120, workstations_down=["CPU1"])) == []
    # Back up, then down again: the 60 s start over.
    assert ev.evaluate(AlertInput(130, workstations_down=[])) == []
    assert ev.evaluate(AlertInput(140, workstations_down=["CPU1"])) == []
    assert len(ev.evaluate(AlertInput(200, workstations_down=["CPU1"]))) == 1


def test_engine_unreachable_breaker_open_and_spool() -> None:
    ev = AlertEvaluator([AlertRule("down", "engine_unreachable", for_seconds=30),
                         AlertRule("brk", "breaker_open"),
                         AlertRule("spool", "audit_spool")])
    assert [e.rule for e in ev.evaluate(AlertInput(0, engine_reachable=False,
                                                   breakers_open=["hwa_api"],
                                                   audit_spool=0))] == ["brk"]
    assert [e.rule for e in ev.evaluate(AlertInput(30, engine_reachable=False,
                                                   breakers_open=["hwa_api"],
                                                   audit_spool=3))] == ["down", "spool"]
    assert ev.evaluate(AlertInput(31, engine_reachable=False, audit_spool=4)) == []


def test_critical_late_fires_when_a_critical_job_becomes_late() -> None:
    ev = AlertEvaluator([AlertRule("late", "critical_late")])
    ev.evaluate(AlertInput(0, {"a": JobFacts("WAIT", critical=True)}))
    assert ev.evaluate(AlertInput(1, {"a": JobFacts("WAIT", critical=False, late=True)})) == []
    fired = ev.evaluate(AlertInput(2, {"a": JobFacts("WAIT", critical=True, late=True)}))
    assert [e.subject for e in fired] == ["a"]


def test_the_rate_limit_marks_the_excess_and_keeps_deduplicating() -> None:
    ev = AlertEvaluator([AlertRule("fail", "job_failed", rate_limit=2, rate_window=60)])
    ev.evaluate(AlertInput(0, {}))
    fired = ev.evaluate(AlertInput(1, jobs(a="ABEND", b="ABEND", c="ABEND")))
    assert [e.limited for e in fired] == [False, False, True]
    assert ev.evaluate(AlertInput(2, jobs(a="ABEND", b="ABEND", c="ABEND"))) == []
    later = ev.evaluate(AlertInput(61, jobs(a="ABEND", b="ABEND", c="ABEND", d="FAIL")))
    assert [(e.subject, e.limited) for e in later] == [("d", False)]
