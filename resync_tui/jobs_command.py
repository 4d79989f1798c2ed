"""``resync-tui jobs``: the plan read headless, filtered and sorted as the table does.

The same client, settings, breaker and retry as the dashboard's jobs feed, the same
``JobsView`` filter (``model/query.py``) and sort: a script sees the rows an operator
would see. Only rows go to stdout; problems are one line on stderr (logs go to the
log file), so ``resync-tui jobs --json | jq`` never chokes.

Exit codes: 0 rows printed (possibly none), 1 the engine could not be read
(unreachable, credentials rejected, timeout), 2 usage (bad query or sort).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resync_tui.sanitize import safe_text

if TYPE_CHECKING:
    from resync_tui.model.job_row import JobRow
    from resync_tui.settings import Settings

__all__ = ["add_jobs_parser", "jobs_command"]

_log = logging.getLogger(__name__)

#: Placeholder Redis for a settings file that asks for the embedded one: this command
#: never touches the cache, and redis-py connects lazily, so it is never dialled.
_NO_REDIS = "unix:///nonexistent/resync-tui-jobs-no-redis"


def add_jobs_parser(sub: Any, help_text: str) -> None:
    """Register ``jobs`` on the CLI's sub-parsers (``cli.build_parser`` calls it, with its
    line in ``--help``)."""
    jobs = sub.add_parser(
        "jobs", help=help_text,
        description="Exit codes: 0 rows printed, 1 engine unreachable or credentials "
                    "rejected, 2 bad query or sort.")
    jobs.add_argument("--query", default="", metavar="Q",
                      help="the / filter: words and terms such as 'status=ABEND,FAIL', "
                           "'ws=FTA_@', 'rc>0', 'group=failed', '!status=SUCC'")
    jobs.add_argument("--sort", default="", metavar="COL",
                      help="a column (stream, job, workstation, folder, status, info, "
                           "started, ended, duration), - before it to reverse; default: "
                           "the attention order")
    out = jobs.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object per line")
    out.add_argument("--csv", action="store_true", help="CSV with a header line")
    jobs.add_argument("--config", type=Path, dest="jobs_config", metavar="PATH")


def _fail(message: str, code: int) -> int:
    print(f"resync-tui: {message}", file=sys.stderr)
    return code


def jobs_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``resync-tui jobs``; returns the exit code."""
    # Imported here: the parser (and so --help) must not pay for them.
    from resync_tui.model.export import csv_lines, json_lines, text_lines
    from resync_tui.model.jobs_view import JobsView, parse_sort
    from resync_tui.model.query import parse_query

    query = parse_query(args.query)
    if query.error:
        return _fail(f"bad --query: {query.error}", 2)
    try:
        sort = parse_sort(args.sort)
    except ValueError as exc:
        return _fail(f"bad --sort: {exc}", 2)
    try:
        rows, now = asyncio.run(_read(settings))
    except _ReadFailed as exc:
        return _fail(str(exc), 1)
    view = JobsView(rows, clock=lambda: now)  # lateness on the engine's clock
    view.set_filter(args.query)
    view.set_sort(*sort)
    lines: Iterable[str]
    shown = view.rows_in(0, len(view))
    if args.json:
        lines = json_lines(shown)
    elif args.csv:
        lines = csv_lines(shown)
    else:
        lines = text_lines(shown)
    _write(lines)
    return 0


class _ReadFailed(Exception):
    """The plan could not be read; the message is the one line shown."""


def _write(lines: Iterator[str] | Iterable[str]) -> None:
    out = sys.stdout
    try:
        out.writelines(lines)
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = None  # no second error at exit


async def _read(settings: Settings) -> tuple[list[JobRow], datetime]:
    from resync_tui.feeds._calls import hwa_call
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.hwa.errors import CredentialsRejected, HwaError
    from resync_tui.model.job_row import job_row_from_model
    from resync_tui.resilience.breaker import CircuitOpenError

    if settings.redis.url == "embedded":
        settings = settings.replace(redis=dataclasses.replace(settings.redis, url=_NO_REDIS))
    runtime = build_runtime(settings)
    where = safe_text(settings.hwa.url, 200)
    try:
        read = await hwa_call(runtime, runtime.client.fetch_plan,
                              breaker=runtime.hwa_job_status, operation="fetch_plan",
                              attempt_timeout=None)
        now = runtime.clock()
    except CredentialsRejected:
        raise _ReadFailed(f"credentials rejected by {where} (user "
                          f"{safe_text(settings.hwa.user, 80)!r}): check hwa.user and the "
                          "password") from None
    except (HwaError, CircuitOpenError, TimeoutError, OSError) as exc:
        _log.warning("jobs: cannot read the plan from %s: %s", where, exc)
        raise _ReadFailed(f"cannot read the plan from {where}: "
                          f"{safe_text(str(exc), 300)}") from None
    finally:
        await runtime.aclose()
    if read.unreadable:
        _log.warning("jobs: %d job records unreadable, left out", len(read.unreadable))
        print(f"resync-tui: {len(read.unreadable):,} job records unreadable, not shown",
              file=sys.stderr)
    return [job_row_from_model(job) for job in read.jobs], now
