"""``resync-tui check``: a monitoring plugin (Nagios, Icinga, Checkmk, Sensu, Zabbix agents).

Follows the Monitoring Plugins guidelines: exit 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN; the first line of stdout is ``RESYNC <STATE> - <summary> | <perfdata>``
and the lines after it are details (which workstations are down, Redis, the
spool). Nothing else reaches stdout: logging is off unless ``-v`` sends warnings to
stderr.

What is judged, and the default thresholds (Nagios ranges: ``N`` alerts above N,
``N:M`` outside N..M, ``@N:M`` inside):

- ``failed`` (the failed group: ABEND, FAIL, ERROR, ABENP): WARNING above
  ``--warn-failed`` (default 0: any failed job), CRITICAL above ``--crit-failed``
  (default 5).
- ``stuck`` (STUCK, INTRPT, SUSP, UNDCDED) and ``ws_down`` (workstations not linked
  or not running; pools excepted): WARNING above ``--warn-stuck`` / ``--warn-ws-down``
  (default 0), like the dashboard's ATTENTION.
- ``age``: the engine's data age. With no shared feed yet the check reads the engine
  itself, so it is the age of this read on the engine's clock (about 0); WARNING
  above ``--max-age`` (default 60 s).
- The engine refusing connections, resetting them, not accepting one within the
  connect timeout, or answering 5xx: CRITICAL. Credentials rejected, bad settings,
  bad arguments, an answer that cannot be read, or no complete answer before
  ``--timeout``: UNKNOWN with the reason.
- ``--redis``: Redis not answering PING (within its share of the deadline): WARNING
  (the dashboards still read the engine; the cache is cold and audit records wait in
  the spool). Audit records waiting in the local spool: WARNING.
- Several problems: the worst wins, in the order CRITICAL, UNKNOWN, WARNING, OK (an
  engine that cannot be judged must not read as a mere warning).

Cheap: one ``GET /plan/job/count`` (grouped by status) and the workstation list,
never a plan read. The whole check ends within ``--timeout``: an asyncio deadline
around every network step, and behind it a watchdog thread that ends the process
(UNKNOWN) if anything, even a DNS lookup stuck in a thread, outlives the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from resync_tui.model.status import ATTENTION_STATUSES

if TYPE_CHECKING:
    from resync_tui.feeds.runtime import Runtime
    from resync_tui.settings import Settings

__all__ = [
    "CRITICAL",
    "OK",
    "STATE_NAMES",
    "UNKNOWN",
    "WARNING",
    "CheckOptions",
    "CheckResult",
    "Perf",
    "Range",
    "add_check_parser",
    "check_command",
    "is_check_argv",
    "judge",
    "run_check",
    "usage_unknown",
]

log = logging.getLogger(__name__)

OK: Final = 0
WARNING: Final = 1
CRITICAL: Final = 2
UNKNOWN: Final = 3
STATE_NAMES: Final = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
_SEVERITY: Final = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}
"""Which state wins when several apply (see the module docstring)."""

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_AGE: Final = 60.0
_WATCHDOG_GRACE: Final = 0.5
"""Seconds past ``--timeout`` after which the watchdog ends the process, whatever runs."""
_SHUTDOWN_RESERVE: Final = 0.3
"""Seconds of the budget kept for closing connections and printing."""
_MAX_DETAIL_LINES: Final = 20
_NAME_MAX: Final = 60
_PREFIX: Final = "RESYNC"


# ---- thresholds ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Range:
    """A Nagios threshold range: ``10`` (alert above 10), ``5:10``, ``~:10``, ``10:``, ``@5:10``.

    The plugin guidelines' syntax, so a monitoring admin's habits apply unchanged.
    """

    text: str
    start: float = 0.0
    end: float = math.inf
    inside: bool = False

    @classmethod
    def parse(cls, text: str) -> Range:
        raw = text.strip()
        body, inside = (raw[1:], True) if raw.startswith("@") else (raw, False)
        try:
            if ":" in body:
                low, high = body.split(":", 1)
                start = -math.inf if low == "~" else float(low or 0)
                end = math.inf if high == "" else float(high)
            else:
                start, end = 0.0, float(body)
        except ValueError:
            raise ValueError(f"bad threshold {text!r}; expected e.g. 5, 5:10, ~:10, @5:10") \
                from None
        if math.isnan(start) or math.isnan(end) or start > end:
            raise ValueError(f"bad threshold {text!r}: start above end")
        return cls(raw, start, end, inside)

    def alerts(self, value: float) -> bool:
        """True when ``value`` is what this range warns about."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def describe(self) -> str:
        """The threshold in words for the summary: ``>5``, ``outside 2:5``, ``inside 2:5``."""
        if self.inside:
            return f"inside {self.text[1:]}"
        if self.start == 0 and ":" not in self.text:
            return f">{_figure(self.end)}"
        return f"outside {self.text}"


def _range(text: str) -> Range:
    try:
        return Range.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 and at most 3600")
    return value


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ---- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Perf:
    """One performance datum: ``'label'=value[UOM];warn;crit;min``."""

    label: str
    value: float
    uom: str = ""
    warn: str = ""
    crit: str = ""
    minimum: float | None = 0

    def text(self) -> str:
        minimum = "" if self.minimum is None else _figure(self.minimum)
        return f"'{self.label}'={_figure(self.value)}{self.uom};{self.warn};{self.crit};{minimum}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What the plugin reports: state, one-line summary, perfdata, detail lines."""

    state: int
    summary: str
    perfdata: tuple[Perf, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    def lines(self) -> list[str]:
        """The plugin output: the status line, then the details (perfdata only on line 1)."""
        first = f"{_PREFIX} {self.state_name} - {_plain(self.summary)}"
        if self.perfdata:
            first += " | " + " ".join(perf.text() for perf in self.perfdata)
        return [first, *(_plain(line) for line in self.details[:_MAX_DETAIL_LINES])]

    def as_json(self) -> dict[str, Any]:
        """One object for scripts: perfdata as numbers, thresholds beside them."""
        return {
            "state": self.state_name,
            "exit_code": self.state,
            "summary": _plain(self.summary),
            "perfdata": {perf.label: perf.value for perf in self.perfdata},
            "units": {perf.label: perf.uom for perf in self.perfdata if perf.uom},
            "thresholds": {perf.label: {"warn": perf.warn, "crit": perf.crit}
                           for perf in self.perfdata if perf.warn or perf.crit},
            "details": [_plain(line) for line in self.details],
        }


def _plain(text: str) -> str:
    """Untrusted text made safe for a plugin line: printable, no ``|`` (it starts perfdata)."""
    from resync_tui.sanitize import safe_text

    return safe_text(text, 400).replace("|", "/")


def _worst(states: Iterable[int]) -> int:
    return max(states, key=_SEVERITY.__getitem__, default=OK)


# ---- options ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The command line of ``check``, as values (tests and other callers build one)."""

    engine: str | None = None
    warn_failed: Range = field(default_factory=lambda: Range.parse("0"))
    crit_failed: Range = field(default_factory=lambda: Range.parse("5"))
    warn_stuck: Range = field(default_factory=lambda: Range.parse("0"))
    warn_ws_down: Range = field(default_factory=lambda: Range.parse("0"))
    max_age: float = DEFAULT_MAX_AGE
    timeout: float = DEFAULT_TIMEOUT
    redis: bool = False


def add_check_parser(sub: Any, help_text: str) -> argparse.ArgumentParser:
    """Register ``check`` on the CLI's sub-parsers (``sub`` is argparse's subparsers action;
    ``help_text``: its line in ``--help``, the CLI's, which lists it without this module)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check", help=help_text,
        description="A monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; first "
                    "line 'RESYNC <STATE> - <summary> | <perfdata>', details after. Reads job "
                    "counts by status and the workstations' link state (never the plan). "
                    "Thresholds are Nagios ranges: N alerts above N, N:M outside N..M, "
                    "@N:M inside. Engine down or answering 5xx: CRITICAL; credentials "
                    "rejected, bad settings or no answer within --timeout: UNKNOWN.")
    parser.add_argument("--config", type=Path, dest="check_config", metavar="PATH",
                        help="settings file (default: the same lookup as the dashboard)")
    parser.add_argument("--engine", metavar="NAME",
                        help="the [engines.NAME] to check (default: ui.engine, else the "
                             "first); with the single [hwa] engine, 'hwa' or the host of "
                             "hwa.url; anything else is UNKNOWN 'no engine NAME'")
    parser.add_argument("--warn-failed", type=_range, default=Range.parse("0"), metavar="N",
                        help="WARNING when the failed jobs are above N (default 0: any)")
    parser.add_argument("--crit-failed", type=_range, default=Range.parse("5"), metavar="N",
                        help="CRITICAL when the failed jobs are above N (default 5)")
    parser.add_argument("--warn-stuck", type=_range, default=Range.parse("0"), metavar="N",
                        help="WARNING when the stuck jobs are above N (default 0)")
    parser.add_argument("--warn-ws-down", type=_range, default=Range.parse("0"), metavar="N",
                        help="WARNING when the workstations down are above N (default 0)")
    parser.add_argument("--max-age", type=_seconds, default=DEFAULT_MAX_AGE, metavar="SECONDS",
                        help="WARNING when the data is older (default 60; read directly from "
                             "the engine it is about 0)")
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="the whole check ends within this, UNKNOWN if the engine is "
                             "slower (default 10)")
    parser.add_argument("--redis", action="store_true",
                        help="also PING Redis (down: WARNING) and count the audit records "
                             "waiting in the local spool (any: WARNING)")
    parser.add_argument("--json", action="store_true", dest="check_json",
                        help="print one JSON object instead of the plugin lines")
    parser.add_argument("-v", "--verbose", action="store_true", dest="check_verbose",
                        help="log warnings to stderr (default: no logging at all)")
    return parser


_VALUE_OPTIONS: Final = frozenset({"--config", "--metrics-port"})
"""Top-level options that take a value (skipped when looking for the sub-command)."""


def is_check_argv(argv: Sequence[str]) -> bool:
    """Whether a command line names ``check`` as its sub-command (for exit 3 on bad usage)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token.startswith("-"):
            skip = token in _VALUE_OPTIONS
            continue
        return token == "check"
    return False


def usage_unknown() -> int:
    """Bad arguments to a plugin are UNKNOWN (argparse already said why on stderr)."""
    print(f"{_PREFIX} UNKNOWN - bad arguments (see 'resync-tui check --help')", flush=True)
    return UNKNOWN


# ---- judging ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineReading:
    """What one check read from the engine."""

    counts: dict[str, int]
    workstations: int
    down: tuple[tuple[str, str], ...]
    """(name, problem) of every workstation not linked or not running."""
    age: float
    unreadable: int = 0


def judge(reading: EngineReading, options: CheckOptions) -> CheckResult:
    """The plugin's verdict on a reading (pure: no I/O)."""
    from resync_tui.model.status import count_by_group

    groups = count_by_group(reading.counts)
    failed, stuck, running = groups["failed"], groups["stuck"], groups["running"]
    down = len(reading.down)
    total = sum(reading.counts.values())
    states = [OK]
    reasons: list[str] = []
    if options.crit_failed.alerts(failed):
        states.append(CRITICAL)
        reasons.append(f"failed {options.crit_failed.describe()} (critical)")
    elif options.warn_failed.alerts(failed):
        states.append(WARNING)
        reasons.append(f"failed {options.warn_failed.describe()}")
    for value, limit, what in ((stuck, options.warn_stuck, "stuck"),
                               (down, options.warn_ws_down, "workstations down")):
        if limit.alerts(value):
            states.append(WARNING)
            reasons.append(f"{what} {limit.describe()}")
    if reading.age > options.max_age:
        states.append(WARNING)
        reasons.append(f"data {reading.age:.0f} s old (max {_figure(options.max_age)} s)")
    ws_part = (f"{down} of {reading.workstations} workstations down" if down
               else f"all {reading.workstations} workstations up")
    summary = (f"{failed:,} failed, {stuck:,} stuck, {running:,} running, {ws_part}, "
               f"{total:,} jobs")
    if reasons:
        summary += " (" + "; ".join(reasons) + ")"
    details = [f"workstation down: {name} ({problem})" for name, problem in reading.down]
    by_status = sorted((s, n) for s, n in reading.counts.items() if n and s in ATTENTION_STATUSES)
    if by_status:
        details.insert(0, "attention: " + ", ".join(f"{s} {n:,}" for s, n in by_status))
    if reading.unreadable:
        details.append(f"{reading.unreadable} workstation records unreadable, not judged")
    perfdata = (
        Perf("failed", failed, warn=options.warn_failed.text, crit=options.crit_failed.text),
        Perf("stuck", stuck, warn=options.warn_stuck.text),
        Perf("exec", running),
        Perf("ws_down", down, warn=options.warn_ws_down.text),
        Perf("jobs", total),
        Perf("age", round(reading.age, 1), uom="s", warn=_figure(options.max_age)),
    )
    return CheckResult(_worst(states), summary, perfdata, tuple(details))


def engine_names(settings: Settings) -> tuple[str, ...]:
    """The names ``--engine`` accepts: each [engines.NAME]; with the single-engine form,
    ``hwa`` or the host of hwa.url (what the dashboard's header calls it)."""
    from urllib.parse import urlsplit

    if settings.engines:
        return settings.engine_names
    host = urlsplit(settings.hwa.url).hostname or settings.hwa.url
    return ("hwa", host)


# ---- the check -------------------------------------------------------------------------


class _Stage:
    """What the check is waiting for, to say it when the deadline strikes."""

    def __init__(self) -> None:
        self.now = "starting"


def _engine_failure(exc: BaseException, url: str) -> CheckResult:
    """An HWA error as the plugin's verdict: down is CRITICAL, unjudgeable UNKNOWN."""
    from resync_tui.hwa.errors import (
        CredentialsRejected,
        EngineServerError,
        EngineUnreachable,
        HwaError,
    )
    from resync_tui.sanitize import safe_text

    message = safe_text(getattr(exc, "message", str(exc)), 300)
    if isinstance(exc, CredentialsRejected):
        return CheckResult(UNKNOWN, message)
    if isinstance(exc, EngineUnreachable):  # refused, reset, DNS, TLS, connect timeout
        return CheckResult(CRITICAL, f"engine unreachable at {url}: {message}")
    if isinstance(exc, EngineServerError):
        return CheckResult(CRITICAL, f"engine failing at {url}: {message}")
    if isinstance(exc, HwaError):
        return CheckResult(UNKNOWN, f"engine answer not usable ({exc.endpoint}): {message}")
    return CheckResult(UNKNOWN, f"check failed: {type(exc).__name__}")


def _check_settings(settings: Settings, options: CheckOptions, budget: float) -> Settings:
    """The settings with every timeout inside the check's budget.

    The connect timeout stays well inside it (a host that never accepts is CRITICAL,
    not UNKNOWN); the read deadline lies beyond it, so a slow answer meets the
    check's own deadline (UNKNOWN) rather than the client's.
    """
    hwa = settings.hwa
    connect = max(min(hwa.connect_timeout, budget * 0.6), 0.1)
    hwa = dataclasses.replace(
        hwa, connect_timeout=connect, pool_timeout=max(min(hwa.pool_timeout, budget), 0.1),
        read_timeout=budget + 5, call_deadline=budget + 5, max_connections=2)
    rs = settings.redis
    if options.redis and rs.url != "embedded":
        short = max(min(rs.socket_timeout, budget / 4), 0.05)
        redis = dataclasses.replace(rs, socket_timeout=max(short, 0.2),
                                    connect_timeout=max(min(rs.connect_timeout, budget / 4), 0.05),
                                    health_check_interval=0, max_connections=2)
    else:  # never dialled: redis-py connects lazily, and nothing here uses it
        redis = dataclasses.replace(rs, url="unix:///nonexistent/resync-tui-check-no-redis",
                                    user="", password=_empty_secret(), ca_file="")
    return settings.replace(hwa=hwa, redis=redis)


def _empty_secret() -> Any:
    from resync_tui.settings import Secret

    return Secret("")


async def _read_engine(runtime: Runtime, stage: _Stage) -> EngineReading:
    """Counts by status, then the workstations (one after the other: a rejected password
    costs one failed login, not two)."""
    from resync_tui.feeds.workstations import _problem

    client = runtime.client
    stage.now = "job counts (GET /plan/job/count)"
    counts = await client.job_counts()
    read_at = client.engine_now()
    stage.now = "workstations (GET /plan/workstation)"
    read = await client.workstations()
    down: list[tuple[str, str]] = []
    for ws in read.workstations:
        problem = _problem(str(ws.type or ""), (str(s) for s in ws.active_states))
        if problem:
            down.append((str(ws.name or ws.id or "?")[:_NAME_MAX * 4], problem))
    down.sort()
    age = max((client.engine_now() - read_at).total_seconds(), 0.0)
    return EngineReading(counts, len(read.workstations), tuple(down), age,
                         len(read.unreadable))


@dataclass(frozen=True, slots=True)
class _RedisVerdict:
    state: int
    problems: tuple[str, ...]
    """What made it WARNING, for the summary."""
    lines: tuple[str, ...]
    perf: tuple[Perf, ...]


async def _check_redis(runtime: Runtime, settings: Settings, seconds: float,
                       stage: _Stage) -> _RedisVerdict:
    """PING within ``seconds`` and the audit spool's depth (``settings``: as configured)."""
    from resync_tui.resilience.redis_pool import describe_redis_error

    states: list[int] = []
    problems: list[str] = []
    lines: list[str] = []
    perf: list[Perf] = []
    if settings.redis.url == "embedded":
        lines.append('redis: "embedded" (private to each dashboard), not checked')
    else:
        stage.now = "Redis PING"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(seconds):
                await runtime.redis.ping()
        except Exception as exc:  # every failure is the same verdict: said in words
            states.append(WARNING)
            problems.append(f"redis down: {describe_redis_error(exc)}")
            lines.append(problems[-1])
        else:
            elapsed = time.perf_counter() - started
            lines.append(f"redis up (PING {elapsed * 1000:.0f} ms)")
            perf.append(Perf("redis_ms", round(elapsed * 1000, 1), uom="ms"))
    stage.now = "the audit spool"
    try:
        waiting = await asyncio.to_thread(_spool_depth, settings)
    except OSError as exc:
        states.append(WARNING)
        problems.append(f"audit spool unreadable: {exc.strerror or type(exc).__name__}")
        lines.append(problems[-1])
    else:
        lines.append(f"audit spool: {waiting} records waiting for Redis")
        if waiting:
            states.append(WARNING)
            problems.append(f"{waiting} audit records waiting in the spool")
        perf.append(Perf("spool", waiting, warn="0"))
    return _RedisVerdict(_worst(states), tuple(problems), tuple(lines), tuple(perf))


def _spool_depth(settings: Settings) -> int:
    """Records in the local audit spool not yet in Redis (no spool yet: 0; never creates it)."""
    from resync_tui.audit import Spool, default_spool_dir

    directory = (Path(settings.audit.spool_dir).expanduser() if settings.audit.spool_dir
                 else default_spool_dir())
    if not directory.is_dir():
        return 0
    records, sent = Spool(directory).read()
    return sum(1 for record in records if record["id"] not in sent)


async def run_check(settings: Settings, options: CheckOptions,
                    deadline: float | None = None) -> CheckResult:
    """The whole check, ending by ``deadline`` (``time.monotonic()``; default: now +
    ``options.timeout``), whatever the engine or Redis do."""
    from resync_tui.feeds.runtime import build_runtime

    if deadline is None:
        deadline = time.monotonic() + options.timeout
    if options.engine is not None and options.engine not in engine_names(settings):
        from resync_tui.sanitize import safe_text

        return CheckResult(UNKNOWN, f"no engine {safe_text(options.engine, 40)}",
                           details=(f"known engines: {', '.join(engine_names(settings))}",))
    if options.engine is not None and settings.engines:
        settings = settings.for_engine(options.engine)
    budget = max(deadline - time.monotonic() - _SHUTDOWN_RESERVE, 0.1)
    redis_share = min(2.0, budget / 4) if options.redis else 0.0
    engine_budget = budget - redis_share
    checked = _check_settings(settings, options, engine_budget)
    url = checked.hwa.url
    stage = _Stage()
    runtime = build_runtime(checked)
    try:
        stage.now = "connecting to the engine"
        try:
            async with asyncio.timeout(engine_budget):
                reading = await _read_engine(runtime, stage)
        except TimeoutError:
            result = CheckResult(UNKNOWN, f"engine at {url} did not answer within "
                                          f"{_figure(round(options.timeout, 1))} s "
                                          f"(waiting for {stage.now})")
        except Exception as exc:
            log.warning("check of %s failed: %r", url, exc)
            result = _engine_failure(exc, url)
        else:
            result = judge(reading, options)
        if options.redis:
            remaining = max(deadline - time.monotonic() - _SHUTDOWN_RESERVE, 0.05)
            try:
                async with asyncio.timeout(remaining):
                    verdict = await _check_redis(
                        runtime, settings, min(redis_share, remaining), stage)
            except TimeoutError:
                late = f"no answer in time from {stage.now}"
                verdict = _RedisVerdict(WARNING, (late,), (late,), ())
            summary = "; ".join((result.summary, *verdict.problems))
            result = CheckResult(_worst((result.state, verdict.state)), summary,
                                 (*result.perfdata, *verdict.perf),
                                 (*result.details, *verdict.lines))
        return result
    finally:
        try:
            async with asyncio.timeout(_SHUTDOWN_RESERVE):
                await runtime.aclose()
        except (TimeoutError, Exception):  # closing must never cost the verdict
            log.debug("closing the check's connections did not finish")


# ---- the command -----------------------------------------------------------------------


class _Watchdog:
    """Ends the process once the deadline is past: the hard edge behind the asyncio one.

    If the output was already written (the interpreter is only waiting for a stuck
    thread, e.g. a DNS lookup), it exits with that output's code; otherwise it prints
    UNKNOWN itself.
    """

    def __init__(self, seconds: float, as_json: bool,
                 exit: Callable[[int], None] = os._exit) -> None:
        self._lock = threading.Lock()
        self._code: int | None = None
        self._as_json = as_json
        self._seconds = seconds
        self._exit = exit
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def emit(self, result: CheckResult) -> int:
        """Write the result once (the watchdog may have written its own already)."""
        with self._lock:
            if self._code is not None:
                return self._code
            _write(result, self._as_json)
            self._code = result.state
            return result.state

    def _fire(self) -> None:
        with self._lock:
            if self._code is None:
                self._code = UNKNOWN
                _write(CheckResult(UNKNOWN, f"check did not finish within "
                                            f"{_figure(round(self._seconds, 1))} s"),
                       self._as_json)
            code = self._code
        self._exit(code)


def _write(result: CheckResult, as_json: bool) -> None:
    text = (json.dumps(result.as_json(), ensure_ascii=False) if as_json
            else "\n".join(result.lines()))
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except OSError:  # the monitoring agent went away: nothing left to tell
        pass


def _quiet_logging(verbose: bool) -> None:
    """No logging on stdout, ever; warnings to stderr with ``-v`` (secrets masked)."""
    from resync_tui.logging_setup import RedactingFilter

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.setLevel(logging.WARNING)
    else:
        handler = logging.NullHandler()  # and no lastResort handler printing to stderr
        root.setLevel(logging.CRITICAL + 1)
    root.addHandler(handler)


def check_command(args: argparse.Namespace) -> int:
    """``resync-tui check``: settings, then the check, under the hard deadline."""
    started = time.monotonic()
    options = CheckOptions(
        engine=args.engine, warn_failed=args.warn_failed, crit_failed=args.crit_failed,
        warn_stuck=args.warn_stuck, warn_ws_down=args.warn_ws_down, max_age=args.max_age,
        timeout=args.timeout, redis=args.redis)
    watchdog = _Watchdog(options.timeout + _WATCHDOG_GRACE, args.check_json)
    watchdog.start()
    _quiet_logging(args.check_verbose)
    return watchdog.emit(_check(args, options, started + options.timeout))


def _check(args: argparse.Namespace, options: CheckOptions, deadline: float) -> CheckResult:
    from resync_tui.logging_setup import register_secret
    from resync_tui.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.check_config or args.config)
    except SettingsError as exc:
        return CheckResult(UNKNOWN, f"bad settings: {exc.problems[0] if exc.problems else exc}",
                           details=exc.problems[1:])
    engines = [settings.hwa, *settings.engines.values()]
    for secret in (*(e.password for e in engines), *(e.token for e in engines),
                   settings.redis.password):
        if secret:
            register_secret(secret.reveal())
    try:
        return asyncio.run(run_check(settings, options, deadline))
    except KeyboardInterrupt:
        return CheckResult(UNKNOWN, "interrupted")
    except Exception as exc:  # a plugin reports, it never shows a traceback
        log.exception("check failed")
        return CheckResult(UNKNOWN, f"check failed: {type(exc).__name__}")
