"""Alert webhooks: a bounded queue that never blocks, one sender task, the resilience core.

``submit`` never waits: a full queue drops the event and counts it (the dashboard
must not stall because a chat server is slow). The sender posts one event at a
time through :func:`resync_tui.resilience.retry.call_resilient`: retried with
capped exponential backoff and full jitter (tenacity) on a 5xx, a 429 or a lost
connection, never on another 4xx, behind its own breaker (``webhook``) so a dead
receiver is not hammered. Every outcome is counted in
``resync_alerts_total{rule,outcome}``: ``sent``, ``failed``, ``dropped``
(queue full), ``breaker_open``, and ``limited`` (over the rule's rate, never queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

import httpx
from prometheus_client import CollectorRegistry, Counter

from resync_tui.alerts.rules import AlertEvent
from resync_tui.logging_setup import register_secret
from resync_tui.resilience.breaker import CircuitBreaker, CircuitOpenError
from resync_tui.resilience.retry import RetryPolicy, call_resilient
from resync_tui.resilience.tasks import raise_if_cancelling

__all__ = ["WEBHOOK_FORMATS", "WebhookError", "WebhookSender", "webhook_body"]

log = logging.getLogger(__name__)

WebhookFormat = Literal["generic", "slack", "teams"]
WEBHOOK_FORMATS: Final = ("generic", "slack", "teams")


class WebhookError(Exception):
    """The receiver said no (``status``) or could not be reached (``status`` None)."""

    def __init__(self, message: str, *, status: int | None, transient: bool) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, WebhookError) and exc.transient


def webhook_body(event: AlertEvent, fmt: str = "generic") -> dict[str, Any]:
    """The JSON posted: every field for a generic receiver, ``text`` for Slack and Teams."""
    text = f"[resync-tui] {event.rule}: {event.summary}"
    if fmt in ("slack", "teams"):
        return {"text": text}
    return {"rule": event.rule, "kind": event.kind, "subject": event.subject,
            "summary": event.summary, "at": event.at, "text": text}


class WebhookSender:
    """Posts alert events to their rule's URL: :meth:`start`, then :meth:`aclose`."""

    def __init__(self, breaker: CircuitBreaker, retry: RetryPolicy, *,
                 registry: CollectorRegistry | None = None, queue_size: int = 100,
                 timeout: float = 5.0,
                 client: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        self._breaker = breaker
        self._retry = retry
        self._timeout = timeout
        self._sleep = sleep
        self._queue: asyncio.Queue[AlertEvent] = asyncio.Queue(maxsize=queue_size)
        self._own_client = client is None
        self._http = client if client is not None else httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False,
            headers={"User-Agent": "resync-tui"})
        self.counter = Counter("resync_alerts", "Alert events by rule and outcome",
                               ["rule", "outcome"], registry=registry)
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def count(self, rule: str, outcome: str) -> None:
        self.counter.labels(rule=rule, outcome=outcome).inc()

    def submit(self, event: AlertEvent) -> bool:
        """Queue ``event`` without waiting; False (counted) when limited or the queue is full."""
        if event.limited:
            self.count(event.rule, "limited")
            return False
        if not event.webhook:
            return False
        register_secret(event.webhook)  # a chat webhook's URL is its credential: never logged
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self.count(event.rule, "dropped")
            log.warning("alert webhook queue full: event of rule %s dropped", event.rule)
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def drain(self) -> None:
        """Wait until every queued event has been sent or given up on (tests, shutdown)."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._own_client:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            raise_if_cancelling()  # the send below may have swallowed it
            event = await self._queue.get()
            try:
                await self.send(event)
            finally:
                self._queue.task_done()

    async def send(self, event: AlertEvent) -> str:
        """Post one event now (retried, behind the breaker); returns the outcome counted."""
        body = webhook_body(event, event.webhook_format)
        try:
            await call_resilient(lambda: self._post(event.webhook, body), breaker=self._breaker,
                                 retry=self._retry, timeout=self._timeout,
                                 is_transient=_transient, operation="webhook",
                                 sleep=self._sleep)
        except CircuitOpenError:
            outcome = "breaker_open"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the receiver's problem is logged, never the UI's
            log.warning("alert webhook for rule %s failed: %s", event.rule, exc)
            outcome = "failed"
        else:
            outcome = "sent"
        self.count(event.rule, outcome)
        return outcome

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        try:
            response = await self._http.post(url, json=body)
        except httpx.HTTPError as exc:
            raise WebhookError(f"cannot reach the webhook: {type(exc).__name__}",
                               status=None, transient=True) from None
        status = response.status_code
        if status >= 500 or status == 429:
            raise WebhookError(f"webhook answered HTTP {status}", status=status, transient=True)
        if status >= 400:
            raise WebhookError(f"webhook refused the event: HTTP {status}", status=status,
                               transient=False)
