"""[[alerts]] at work in the dashboard: on the data the panes are drawn from, one event
per new failure (the failures present at start are not news), the webhook posted once,
the alerts screen listing it until acknowledged; a follower of the shared feed leaves
the webhook to the leader."""

from __future__ import annotations

import asyncio
import dataclasses

from resync_tui.alerts import rules_from_settings
from resync_tui.feeds.alerts import AlertCenter
from resync_tui.feeds.jobs import JobsState
from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.job_row import JobRow
from resync_tui.model.jobs_view import JobsView
from resync_tui.settings import AlertSettings, Settings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.desktop_notify import desktop_notification
from resync_tui.ui.screens.alerts import AlertsScreen
from tests.alerts.test_webhook import Receiver, receiver
from tests.ui.dashboard_support import DEADLINE, frozen_clock, make_settings, ready, sim

__all__ = ["receiver", "sim"]


def with_rules(settings: Settings, *rules: AlertSettings) -> Settings:
    return settings.replace(alerts=tuple(rules))


async def test_a_new_failure_fires_once_posts_once_and_waits_to_be_acknowledged(
        sim: Simulator, redis_url: str, receiver: Receiver) -> None:
    rule = AlertSettings(name="payroll", on="job_failed", bell=True, webhook=receiver.url)
    settings = with_rules(make_settings(sim.base_url, redis_url), rule)
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app)
        center = app.alerts
        assert center is not None and center.sender is not None
        assert list(center.fired) == []  # the plan's ABENDs at start are the baseline
        job = next(j for j in sim.plan.jobs if j.status == "SUCC")
        sim.plan.set_status(job, "ABEND")
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)
        await asyncio.wait_for(app.poll_now("jobs"), DEADLINE)  # the same failure again
        await asyncio.wait_for(center.sender.drain(), DEADLINE)
        assert [f.event.subject for f in center.fired] == [job.id]
        assert center.fired[0].went == ["bell", "webhook"]
        assert len(receiver.bodies) == 1 and receiver.bodies[0]["subject"] == job.id
        await pilot.press("exclamation_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        table = screen.query_one("#alerts-table")
        assert table.row_count == 1  # type: ignore[attr-defined]
        assert center.unseen == 1
        await pilot.press("a")
        assert center.unseen == 0
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


def test_a_follower_leaves_the_webhook_to_the_leader() -> None:
    rules = rules_from_settings([AlertSettings(name="any", on="job_failed",
                                               webhook="http://127.0.0.1:9/hook")])

    class Sink:
        def __init__(self) -> None:
            self.sent: list[object] = []

        def submit(self, event: object) -> bool:
            self.sent.append(event)
            return True

        def count(self, rule: str, outcome: str) -> None: ...

    sink = Sink()
    center = AlertCenter(rules, sender=sink, sends_webhooks=lambda: False)  # type: ignore[arg-type]
    view = JobsView(clock=frozen_clock)
    view.apply_changes([JobRow("j1", status="SUCC")])
    from resync_tui.feeds.status import FeedHealth

    health = FeedHealth(last_success=frozen_clock())
    center.observe("jobs", JobsState(view, health=health))
    view.apply_changes([JobRow("j1", status="ABEND")])
    events = center.observe("jobs", JobsState(view, health=health))
    assert [e.subject for e in events] == ["j1"]
    assert sink.sent == []
    assert center.fired[-1].went == ["webhook: the shared feed's leader sends it"]


def test_desktop_notifications_only_where_the_terminal_shows_them() -> None:
    hostile = "ABEND \x1b]0;pwned\x07 on FTA;1"
    assert desktop_notification(hostile, {"TERM_PROGRAM": "iTerm.app"}).startswith("\x1b]9;")
    seq = desktop_notification(hostile, {"TERM_PROGRAM": "iTerm.app"})
    assert "\x1b]0" not in seq and seq.count("\x07") == 1 and seq.count(";") == 1
    assert desktop_notification("x", {"TERM": "foot"}).startswith("\x1b]777;notify;")
    assert desktop_notification("x", {"TERM": "xterm-256color"}) == ""
    assert desktop_notification("x", {"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t"}) == ""
    assert desktop_notification("x", {"TERM_PROGRAM": "iTerm.app"}, wall=True) == ""


def test_no_rules_means_no_alert_center(sim: Simulator, redis_url: str) -> None:
    settings = make_settings(sim.base_url, redis_url)
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    assert dataclasses.replace(settings.ui) is not None
    assert app.alerts is None


def test_a_critical_job_past_its_deadline_fires_critical_late_once() -> None:
    from datetime import timedelta

    from tests.ui.dashboard_support import SteppedClock

    clock = SteppedClock()
    rules = rules_from_settings([AlertSettings(name="late", on="critical_late", bell=True)])
    rung: list[str] = []
    center = AlertCenter(rules, ring=lambda e: rung.append(e.subject))
    view = JobsView(clock=clock)
    deadline = clock.now + timedelta(minutes=10)
    view.apply_changes([JobRow("c1", job="PAY", status="EXEC", critical=True,
                               started=clock.now, deadline=deadline),
                        JobRow("n1", job="OTHER", status="EXEC", started=clock.now,
                               deadline=deadline)])
    from resync_tui.feeds.status import FeedHealth

    health = FeedHealth(last_success=clock.now)
    assert center.observe("jobs", JobsState(view, health=health)) == []  # in time
    clock.advance(11 * 60)
    view.refresh_clock()
    events = center.observe("jobs", JobsState(view, health=health))
    assert [e.subject for e in events] == ["c1"] and rung == ["c1"]  # not the non-critical
    view.refresh_clock()
    view.apply_changes([JobRow("n1", job="OTHER", status="SUCC")])
    assert center.observe("jobs", JobsState(view, health=health)) == []  # fired once
