"""The webhook sender against a real aiohttp receiver on loopback: one POST per new
failure, retried after a 500, a bounded queue whose drops are counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from resync_tui.alerts import (
    AlertEvaluator,
    AlertEvent,
    AlertInput,
    AlertRule,
    JobFacts,
    WebhookSender,
)
from resync_tui.resilience.breaker import BreakerConfig, BreakerRegistry
from resync_tui.resilience.retry import RetryPolicy

DEADLINE = 10.0


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in order; 200 once they run out."""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        box.bodies.append(await request.json())
        status = box.answers.pop(0) if box.answers else 200
        return web.json_response({"ok": status < 400}, status=status)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    box.url = f"http://{host}:{port}/hook"
    try:
        yield box
    finally:
        await runner.cleanup()


def sender(registry: CollectorRegistry, **kwargs: Any) -> WebhookSender:
    breaker = BreakerRegistry().get("webhook", BreakerConfig(minimum_calls=3, window_seconds=60,
                                                             open_wait_seconds=60))
    retry = RetryPolicy(max_attempts=3, initial_backoff_seconds=0.01, max_backoff_seconds=0.05,
                        deadline_seconds=5.0, min_attempt_seconds=0.1)
    return WebhookSender(breaker, retry, registry=registry, timeout=2.0, **kwargs)


def count(registry: CollectorRegistry, rule: str, outcome: str) -> float:
    value = registry.get_sample_value("resync_alerts_total", {"rule": rule, "outcome": outcome})
    return value or 0.0


def failed(*ids: str) -> dict[str, JobFacts]:
    return {job_id: JobFacts("ABEND" if job_id in ids else "SUCC", stream="S", job=job_id,
                             workstation="CPU1") for job_id in ("a", "b", "c")}


async def test_exactly_one_post_per_new_failure(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry)
    evaluator = AlertEvaluator([AlertRule("failures", "job_failed", webhook=receiver.url)])
    hooks.start()
    try:
        async with asyncio.timeout(DEADLINE):
            for now, state in enumerate([failed(), failed("a"), failed("a"), failed("a", "b"),
                                         failed("a", "b"), failed("b")]):
                for event in evaluator.evaluate(AlertInput(float(now), state)):
                    assert hooks.submit(event)
                await hooks.drain()
    finally:
        await hooks.aclose()
    assert [body["subject"] for body in receiver.bodies] == ["a", "b"]
    assert receiver.bodies[0]["rule"] == "failures" and receiver.bodies[0]["kind"] == "job_failed"
    assert count(registry, "failures", "sent") == 2


async def test_a_500_is_retried_and_the_event_arrives(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry)
    receiver.answers = [500]
    event = AlertEvent("failures", "job_failed", "a", "S.a on CPU1: ABEND", 1.0,
                       webhook=receiver.url)
    try:
        async with asyncio.timeout(DEADLINE):
            assert await hooks.send(event) == "sent"
    finally:
        await hooks.aclose()
    assert [body["subject"] for body in receiver.bodies] == ["a", "a"]  # 500, then 200
    assert count(registry, "failures", "sent") == 1


async def test_slack_and_teams_get_a_text_body(receiver: Receiver) -> None:
    hooks = sender(CollectorRegistry())
    event = AlertEvent("failures", "job_failed", "a", "S.a on CPU1: ABEND", 1.0,
                       webhook=receiver.url, webhook_format="slack")
    try:
        async with asyncio.timeout(DEADLINE):
            assert await hooks.send(event) == "sent"
    finally:
        await hooks.aclose()
    assert receiver.bodies == [{"text": "[resync-tui] failures: S.a on CPU1: ABEND"}]


async def test_a_4xx_is_not_retried(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry)
    receiver.answers = [404]
    event = AlertEvent("r", "job_failed", "a", "x", 1.0, webhook=receiver.url)
    try:
        async with asyncio.timeout(DEADLINE):
            assert await hooks.send(event) == "failed"
    finally:
        await hooks.aclose()
    assert len(receiver.bodies) == 1
    assert count(registry, "r", "failed") == 1


async def test_a_full_queue_drops_and_counts_without_waiting(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry, queue_size=2)  # not started: nothing leaves the queue
    events = [AlertEvent("r", "job_failed", str(i), "x", 1.0, webhook=receiver.url)
              for i in range(5)]
    assert [hooks.submit(e) for e in events] == [True, True, False, False, False]
    assert hooks.dropped == 3 and count(registry, "r", "dropped") == 3
    hooks.start()
    try:
        async with asyncio.timeout(DEADLINE):
            await hooks.drain()
    finally:
        await hooks.aclose()
    assert [body["subject"] for body in receiver.bodies] == ["0", "1"]  # none lost that fit


async def test_limited_events_are_counted_not_sent(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry)
    event = AlertEvent("r", "job_failed", "a", "x", 1.0, webhook=receiver.url, limited=True)
    assert not hooks.submit(event)
    await hooks.aclose()
    assert count(registry, "r", "limited") == 1 and receiver.bodies == []


async def test_a_dead_receiver_opens_the_webhook_breaker(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    hooks = sender(registry)
    receiver.answers = [503] * 20
    events = [AlertEvent("r", "job_failed", str(i), "x", 1.0, webhook=receiver.url)
              for i in range(3)]
    try:
        async with asyncio.timeout(DEADLINE):
            outcomes = [await hooks.send(e) for e in events]
    finally:
        await hooks.aclose()
    assert outcomes[0] == "failed" and outcomes[-1] == "breaker_open"
    assert len(receiver.bodies) == 3  # then no more calls while the breaker is open
