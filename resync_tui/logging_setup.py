"""Where logs go: a rotating file and Textual's devtools log, never the terminal.

While the dashboard runs, Textual owns the terminal: a stray line on stderr
would tear the screen. So the root logger gets exactly two handlers, and a
filter that masks every secret the process knows about before a record is
formatted anywhere.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterable
from pathlib import Path

_SECRETS: set[str] = set()
MASK = "***"


def register_secret(value: str) -> None:
    """Mask ``value`` in every log record from now on (short values are ignored)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Replace registered secrets in the rendered message and drop the args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = redact(record.getMessage())
            record.msg, record.args = message, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


def configure_stderr_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Send all logging to stderr, secrets redacted: for headless commands (``poller``),
    which own no screen and run under systemd or a shell that keeps stderr."""
    for secret in secrets:
        register_secret(secret)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    for noisy in ("httpx", "httpcore", "asyncio", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def add_devtools_handler() -> None:
    """Also to Textual's devtools console, secrets redacted (it imports Textual: the demo
    adds it once the UI is imported, see ``configure_logging(devtools=False)``)."""
    from textual.logging import TextualHandler

    textual_handler = TextualHandler(stderr=False, stdout=False)
    textual_handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(textual_handler)


def configure_logging(file: str, level: str = "INFO", max_bytes: int = 5_000_000,
                      backups: int = 3, devtools: bool = True) -> Path:
    """Send all logging to ``file`` (rotated) and to Textual's devtools console.

    Returns the resolved log path. Existing root handlers (e.g. a default
    stderr handler) are removed so nothing reaches the terminal.
    """
    path = Path(file).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    redacting = RedactingFilter()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.addFilter(redacting)
    root.addHandler(file_handler)
    if devtools:
        add_devtools_handler()
    root.setLevel(level)
    logging.captureWarnings(True)
    # Chatty libraries: keep their debug output out of an INFO log.
    for noisy in ("httpx", "httpcore", "asyncio", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return path
