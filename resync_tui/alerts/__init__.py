"""Alerts: ``[[alerts]]`` rules, their evaluator (pure) and the webhook sender.

No UI here (the bell and desktop notifications are the UI's to ring, from the events'
``bell``/``notify`` flags); no HWA either: callers turn what they read into an
:class:`~resync_tui.alerts.rules.AlertInput`.
"""

from resync_tui.alerts.rules import (
    ALERT_KINDS,
    MATCH_FIELDS,
    AlertEvaluator,
    AlertEvent,
    AlertInput,
    AlertRule,
    JobFacts,
    pattern_matches,
    rules_from_settings,
)
from resync_tui.alerts.webhook import WEBHOOK_FORMATS, WebhookError, WebhookSender, webhook_body

__all__ = [
    "ALERT_KINDS",
    "MATCH_FIELDS",
    "WEBHOOK_FORMATS",
    "AlertEvaluator",
    "AlertEvent",
    "AlertInput",
    "AlertRule",
    "JobFacts",
    "WebhookError",
    "WebhookSender",
    "pattern_matches",
    "rules_from_settings",
    "webhook_body",
]
