"""Command line: ``resync-tui``, ``demo``, ``sim``, ``snapshot``, ``config``, ``audit``, ``act``,
``check``.

These names and flags are a contract (scripts and CI call them): extend them,
never rename them. Heavy imports happen inside the sub-commands so that
``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from resync_tui.gcpolicy import hold_collections, release_collections
from resync_tui.sanitize import safe_text
from resync_tui.settings import (
    CONFIG_ENV,
    Secret,
    Settings,
    SettingsError,
    explain_settings,
    find_settings_file,
    load_settings,
)

if TYPE_CHECKING:
    from resync_tui.feeds.actions import ActionRequest, ActionResult, ActionService
    from resync_tui.hwa.models import JobInPlan, Workstation
    from resync_tui.hwa.simulator.process import SimulatorProcess

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # the simulator's published default, not a secret


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad size {text!r}; expected WIDTHxHEIGHT, e.g. 160x48") from None
    if not (20 <= width <= 1000 and 10 <= height <= 500):
        raise argparse.ArgumentTypeError(f"size {text!r} out of range (20x10 to 1000x500)")
    return width, height


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} out of range 0-65535")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """``90``, ``30s``, ``15m``, ``2h``, ``7d`` -> seconds."""
    number, unit = (text[:-1], text[-1]) if text[-1:].lower() in _DURATION_UNITS else (text, "s")
    try:
        value = float(number) * _DURATION_UNITS[unit.lower()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad duration {text!r}; expected e.g. 30s, 15m, 2h, 7d") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be more than 0")
    return value


class _Version(argparse.Action):
    """``--version``: looked up only when asked (the package's version is read lazily:
    ``demo`` starts its engine before anything slow is imported)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS,
                 help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from resync_tui import __version__

        sys.stdout.write(f"resync-tui {__version__}\n")
        parser.exit()


_VALUED_OPTIONS: Final = frozenset({"--config", "--metrics-port", "--record", "--engine",
                                    "--record-max-mb"})
"""The options before the command that take a value (``build_parser``'s)."""


def _demo_engine_options(parser: argparse.ArgumentParser) -> None:
    """What shapes the demo's simulated plan (also read on their own, first:
    :func:`_early_demo_simulator`)."""
    parser.add_argument("--jobs", type=_positive_int, default=5000, help="jobs in the plan")
    parser.add_argument("--seed", type=int, default=42, help="seed of the simulated plan")
    parser.add_argument("--time-scale", type=_non_negative_float, default=30.0,
                        help="simulated seconds per real second (default 30)")
    parser.add_argument("--no-faults", action="store_true",
                        help="no injected faults (by default a mild dose keeps breakers "
                             "moving)")


def _early_demo_simulator(argv: Sequence[str] | None,
                          ) -> tuple[SimulatorProcess, tuple[object, ...]] | None:
    """For ``demo``: its engine, started before the full command line is built (the
    check plugin's and the other commands' modules, asyncio: ~50 ms), so its process
    builds the plan that much sooner; with what it was started for. A guess from the
    words alone: ``main`` keeps it only when the real parse agrees."""
    words = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help", "--version"} & set(words):
        return None  # nothing is run
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _VALUED_OPTIONS else 1
    if index >= len(words) or words[index] != "demo":
        return None
    guess = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _demo_engine_options(guess)
    try:
        known, _ = guess.parse_known_args(words[index + 1:])
    except (argparse.ArgumentError, SystemExit):
        return None  # the real parse says what is wrong
    shape = (known.jobs, known.seed, known.time_scale, known.no_faults)
    return _demo_simulator(jobs=known.jobs, seed=known.seed, time_scale=known.time_scale,
                           faults=not known.no_faults), shape


def _demo_engine(args: argparse.Namespace,
                 early: tuple[SimulatorProcess, tuple[object, ...]] | None,
                 ) -> SimulatorProcess | None:
    """The demo's engine: the one started early when it is the one asked for."""
    shape = (args.jobs, args.seed, args.time_scale, args.no_faults) \
        if args.command == "demo" else None
    if early is not None:
        sim, guessed = early
        if guessed == shape:
            return sim
        sim.stop()
    if shape is None:
        return None
    return _demo_simulator(jobs=args.jobs, seed=args.seed, time_scale=args.time_scale,
                           faults=not args.no_faults)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. ``command``: the subcommand the words name (``command_word``):
    only its options are built, the others are listed by name and help (building all of
    them, with the check plugin's and ``jobs``' modules, costs every start ~8 ms)."""
    parser = argparse.ArgumentParser(
        prog="resync-tui",
        description="Terminal operations console for HCL Workload Automation (formerly IBM "
                    "TWS): job status, circuit breakers, cache and Redis health.",
        epilog=f"Settings: --config PATH, else ${CONFIG_ENV}, else the first of "
               "./settings.toml, $XDG_CONFIG_HOME/resync-tui/settings.toml (~/.config), "
               "/etc/resync-tui/settings.toml; none = built-in defaults. Any key can be "
               "overridden by RESYNC_<SECTION>__<KEY> environment variables. "
               "'resync-tui config check' lists every problem of the settings.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help=f"settings file (default: ${CONFIG_ENV}, else the first "
                             "found of ./settings.toml, ~/.config/resync-tui/settings.toml, "
                             "/etc/resync-tui/settings.toml)")
    parser.add_argument("--wall", action="store_true",
                        help="kiosk mode for a NOC wall: large figures, rotating panes")
    parser.add_argument("--metrics-port", type=_port, metavar="N",
                        help="serve Prometheus metrics on this port")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="record what the dashboard shows to FILE (replay it with "
                             "'resync-tui replay FILE')")
    parser.add_argument("--engine", metavar="NAME", dest="main_engine",
                        help="the [engines.NAME] to show first (or to act on, list, poll); "
                             "default: ui.engine, else the first [engines.NAME]")
    parser.add_argument("--record-max-mb", type=_positive_int, metavar="N",
                        default=1024,
                        help="stop recording (and say so in the log) once the file "
                             "reaches N MB (default %(default)s)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add) in _SUBCOMMANDS.items():
        if command is None or command == name:
            add(sub, help_text)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def command_word(argv: Sequence[str] | None) -> str | None:
    """The subcommand the words name (the first word after the options before it), or
    None when there is none or ``--help`` is asked for the whole command line."""
    words = list(sys.argv[1:] if argv is None else argv)
    index = 0
    while index < len(words) and words[index].startswith("-"):
        if words[index] in ("-h", "--help"):
            return None
        index += 2 if words[index] in _VALUED_OPTIONS else 1
    return words[index] if index < len(words) and words[index] in _SUBCOMMANDS else None


def _demo_parser(sub: Any, help_text: str) -> None:
    demo = sub.add_parser("demo", help=help_text)
    _demo_engine_options(demo)
    demo.add_argument("--wall", action="store_true", dest="sub_wall", help=argparse.SUPPRESS)
    demo.add_argument("--metrics-port", type=_port, dest="sub_metrics_port",
                      help=argparse.SUPPRESS)
    demo.add_argument("--record", type=Path, dest="sub_record", metavar="FILE",
                      help="record what the dashboard shows to FILE")


def _replay_parser(sub: Any, help_text: str) -> None:
    replay = sub.add_parser("replay", help=help_text)
    replay.add_argument("file", type=Path, metavar="FILE", help="a file made with --record")
    replay.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                        help="recorded seconds per second (default 1)")
    replay.add_argument("--at", metavar="TIME",
                        help="start at HH:MM[:SS] on the recording's day, or an ISO time")
    replay.add_argument("--config", type=Path, dest="replay_config", metavar="PATH",
                        help="settings for the look (theme, keys); [hwa] and [redis] "
                             "are never contacted")


_SIM_EPILOG = """\
control (not part of the HWA API), on the API's port and on the admin port it prints
at start, which stays up during an outage (end one there); BASE is either:
  GET    BASE/_sim/faults        the faults in force
  PUT    BASE/_sim/faults        a JSON object MERGED into the faults in force: a key
                                 not given keeps its value ({"outage": "none"} ends
                                 an outage, {"latency": 0} the added latency)
  POST   BASE/_sim/tick          {"seconds": N}: move the plan's clock on
  GET    BASE/_sim/stats         requests per endpoint, answers per status
  GET    BASE/_sim/actions       operator actions received (DELETE: forget them)
  PUT    BASE/_sim/credentials   {"password": "..."}: change the accepted password
  DELETE BASE/_sim/job/ID        remove a job from the plan
  GET    BASE/_sim/state         the plan's clock, counts and faults
  POST   BASE/_sim/reset         rebuild the plan from its seed
faults: latency (s), error_rate, outage (none | refused | reset), slow_body (bytes
  per second), truncated_rate, malformed_json_rate, wrong_shape_rate, hostile (true
  or a share), paths, bad_records, page_cap, no_count, delete_after_first_page,
  action_timeout, seed; rates are shares from 0 to 1; paths narrows the faults to some
  endpoints, but outage "refused" closes the port for all (use "reset" for one)
  e.g. curl -X PUT -d '{"outage": "refused"}' BASE/_sim/faults
       curl -X PUT -d '{"outage": "none"}' ADMIN/_sim/faults
"""


def _sim_parser(sub: Any, help_text: str) -> None:
    sim = sub.add_parser(
        "sim", help=help_text, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The HWA REST API V2 simulator in the foreground, with its plan and "
                    "its faults switched through /_sim/ while it runs.",
        epilog=_SIM_EPILOG)
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    sim.add_argument("--jobs", type=_positive_int, default=5000,
                     help="jobs in the plan (default 5000)")
    sim.add_argument("--seed", type=int, default=42, help="the plan's seed (default 42)")
    sim.add_argument("--time-scale", type=_non_negative_float, default=1.0,
                     help="plan seconds per second (default 1; 0 freezes the clock)")
    sim.add_argument("--user", default=DEMO_USER)
    sim.add_argument("--password", default=DEMO_PASSWORD)
    sim.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS",
                     help="the engine's clock runs this many seconds ahead (negative: behind)")


def _snapshot_parser(sub: Any, help_text: str) -> None:
    snap = sub.add_parser("snapshot", help=help_text)
    snap.add_argument("--out", type=Path, required=True, metavar="FILE.svg")
    snap.add_argument("--size", type=_size, default=(160, 48), metavar="WxH")
    source = snap.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true",
                        help="against the built-in simulator (the default without --config)")
    source.add_argument("--config", type=Path, dest="snap_config", metavar="PATH")
    snap.add_argument("--seed", type=int, default=42)
    snap.add_argument("--jobs", type=_positive_int, default=5000)
    snap.add_argument("--wall", action="store_true", dest="snap_wall",
                      help="render the wall (kiosk) layout")
    snap.add_argument("--timeout", type=_non_negative_float, default=60.0,
                      help="seconds to wait for data before giving up")
    snap.add_argument("--replay", type=Path, metavar="FILE",
                      help="render a moment of a recording instead (with --at)")
    snap.add_argument("--at", dest="snap_at", metavar="TIME",
                      help="with --replay: HH:MM[:SS] on the recording's day, or an ISO time")


def _config_parser(sub: Any, help_text: str) -> None:
    config = sub.add_parser("config", help=help_text)
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="list every problem of the settings, one per line; exit 2 if any")
    show = actions.add_parser(
        "show", help="the effective settings and where each value came from (secrets masked)")
    for action in (check, show):
        action.add_argument("--config", type=Path, dest="config_file", metavar="PATH",
                            help="settings file (default: the same lookup as the dashboard)")
    actions.add_parser("schema", help="print the JSON Schema of settings.toml, for editors")


def _audit_parser(sub: Any, help_text: str) -> None:
    audit = sub.add_parser("audit", help=help_text)
    audit.add_argument("--verify", action="store_true",
                       help="check every writer's chain (gaps, duplicates, edits): one line "
                            "per problem, exit 0 only when every chain is whole")
    audit.add_argument("--since", type=_duration, metavar="DURATION",
                       help="only records of the last DURATION (30s, 15m, 2h, 7d)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.add_argument("--follow", action="store_true",
                       help="keep printing new records until interrupted")
    audit.add_argument("--config", type=Path, dest="audit_config", metavar="PATH")


def _poller_parser(sub: Any, help_text: str) -> None:
    poller = sub.add_parser(
        "poller", help=help_text,
        description="Poll the engine and publish through Redis for every dashboard with "
                    "[share] enabled (one poll for the whole NOC). Stands by while another "
                    "process leads. Logs to stderr, or to logging.file when set. "
                    "SIGTERM: exit 0 within 5 s.")
    poller.add_argument("--config", dest="poller_config", metavar="PATH",
                        help="settings file (default: as the dashboard finds it)")
    poller.add_argument("--metrics-port", type=_port, dest="poller_metrics_port", metavar="N",
                        help="serve Prometheus /metrics on this port (loopback)")


def _serve_parser(sub: Any, help_text: str) -> None:
    serve = sub.add_parser(
        "serve", help=help_text,
        description="Serve the dashboard to web browsers through textual-serve. Every "
                    "browser session follows the shared feed this server leads (one poll "
                    "of the engine for all). textual-serve has no authentication: it "
                    "listens on loopback unless --public; put it behind a reverse proxy "
                    "that authenticates.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on "
                       "(default 127.0.0.1; anything else needs --public)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--config", dest="serve_config", metavar="PATH",
                       help="settings file for the server and every session")
    serve.add_argument("--wall", dest="serve_wall", action="store_true",
                       help="serve the wall view")
    serve.add_argument("--public", action="store_true",
                       help="allow a non-loopback --host (no authentication!)")


def _act_parser(sub: Any, help_text: str) -> None:
    act = sub.add_parser(
        "act", help=help_text,
        description="Exit codes: 0 done, 1 refused by the engine (or not sent), 2 usage or "
                    "actions disabled, 3 outcome unknown (check the job before trying again).")
    act.add_argument("job_id", metavar="JOB_ID",
                     help="the job's id (with --workstation: the workstation's id)")
    act.add_argument("action", metavar="ACTION",
                     help="hold, release, rerun, cancel, kill, confirm-succ, confirm-abend, "
                          "release-all-dependencies, update-priority; with --workstation: "
                          "link, unlink, start, stop, update-fence, update-limit")
    act.add_argument("--priority", type=int, metavar="N",
                     help="for update-priority: 0-99, 100 = HI, 101 = GO")
    act.add_argument("--workstation", action="store_true",
                     help="JOB_ID is a workstation's id and ACTION a workstation action")
    act.add_argument("--value", type=int, metavar="N",
                     help="with --workstation, for update-fence (0-101) or update-limit "
                          "(0-1024)")
    act.add_argument("--justification", required=True, metavar="TEXT",
                     help="why (sent as Justification-Description, kept in the audit trail)")
    act.add_argument("--category", default="", metavar="C")
    act.add_argument("--ticket", default="", metavar="T")
    act.add_argument("--yes", action="store_true",
                     help="do not ask (without it, the action is shown and y/N read from "
                          "the terminal; no terminal: refused)")
    act.add_argument("--config", type=Path, dest="act_config", metavar="PATH")


def _check_parser(sub: Any, help_text: str) -> None:
    from resync_tui.check import add_check_parser

    add_check_parser(sub, help_text)


def _jobs_parser(sub: Any, help_text: str) -> None:
    from resync_tui.jobs_command import add_jobs_parser

    add_jobs_parser(sub, help_text)


_SUBCOMMANDS: Final[dict[str, tuple[str, Callable[[Any, str], None]]]] = {
    "demo": ("dashboard against a built-in simulator and Redis", _demo_parser),
    "replay": ("the dashboard as it was, from a recording (no engine, no Redis)",
               _replay_parser),
    "sim": ("run the HWA API simulator alone, in the foreground", _sim_parser),
    "snapshot": ("render the dashboard headless to an SVG and exit", _snapshot_parser),
    "config": ("check or show the settings, print their schema", _config_parser),
    "audit": ("list the audit trail of operator actions (after draining the spool), "
              "or verify it", _audit_parser),
    "poller": ("headless leader of the shared feed: poll the engine for a whole NOC",
               _poller_parser),
    "serve": ("the dashboard in a browser (textual-serve); sessions share one poll",
              _serve_parser),
    "act": ("one operator action on one job, audited (needs [actions] enabled = true)",
            _act_parser),
    "check": ("monitoring plugin (Nagios/Icinga/Checkmk): one status line, exit 0-3",
              _check_parser),
    "jobs": ("print the plan's jobs, filtered and sorted as the table does", _jobs_parser),
}
"""Every subcommand, in the order ``--help`` lists them: its one-line help and what adds
its options (only the named command's are built: see ``build_parser``)."""


@contextlib.contextmanager
def _embedded_redis(settings: Settings, *, data_dir: Path | None = None) -> Iterator[Settings]:
    """Start a private redis-server when settings ask for ``redis.url = "embedded"``;
    ``data_dir``: it persists there (append-only file) instead of keeping nothing."""
    if settings.redis.url != "embedded":
        yield settings
        return
    from resync_tui.redis_server import EmbeddedRedis

    with EmbeddedRedis(data_dir=data_dir) as server:
        server.supervise()  # nobody else would restart it: bring it back if it dies
        # Private socket, no password: credentials meant for an external Redis would
        # only make the embedded one refuse the login.
        yield settings.replace(redis=dataclasses.replace(
            settings.redis, url=server.url, user="", password=Secret(""), ca_file=""))


def _demo_simulator(*, jobs: int, seed: int, time_scale: float,
                    faults: bool) -> SimulatorProcess:
    """The demo's simulator, started: its process builds the plan while this one goes on."""
    from resync_tui.hwa.simulator.faults import Faults
    from resync_tui.hwa.simulator.process import SimulatorProcess

    # A stopped clock (time_scale 0: snapshots, benches) still shows today's plan: the
    # pinned test day would put the engine's clock days away from this machine's.
    start = datetime.now(UTC) if time_scale <= 0 else None
    sim = SimulatorProcess(jobs=jobs, seed=seed, user=DEMO_USER, password=DEMO_PASSWORD,
                           time_scale=time_scale, start=start,
                           faults=Faults.mild() if faults else None)
    sim.start()
    return sim


@contextlib.contextmanager
def _demo_environment(settings: Settings, *, jobs: int, seed: int, time_scale: float,
                      faults: bool, persist: bool = False, sim: SimulatorProcess | None = None,
                      ) -> Iterator[tuple[Settings, bool, Callable[[], None]]]:
    """A simulator on a free loopback port and an embedded Redis, settings aimed at both;
    whether that Redis persists; and a call that waits until that Redis answers (before
    anything uses it). ``persist``: it keeps its data (the audit trail) in
    ``$XDG_STATE_HOME/resync-tui/redis`` across restarts; when another demo holds that
    directory this one runs without (its records then stay in the spool). ``sim``: one
    started already (:func:`_demo_simulator`), else it is started here; stopped on exit.

    Both come up while the caller imports and starts its UI: the simulator in a process
    of its own (its URL is known at once, its first answers wait in the socket's backlog
    until the plan is built), the redis-server launched now and waited for later.
    """
    from resync_tui.redis_server import DataDirBusy, EmbeddedRedis, default_data_dir

    if sim is None:
        sim = _demo_simulator(jobs=jobs, seed=seed, time_scale=time_scale, faults=faults)
    url = sim.base_url
    try:
        sim.log_to(Path(settings.logging.file).expanduser())
        hwa = dataclasses.replace(settings.hwa, url=url, user=DEMO_USER,
                                  password=Secret(DEMO_PASSWORD), token=None, verify_tls=True)
        data_dir = default_data_dir() if persist else None
        server = EmbeddedRedis(data_dir=data_dir)
        try:
            server.begin()
        except DataDirBusy as exc:
            _fail(f"{exc}: this demo's Redis keeps nothing (audit records stay in the "
                  "spool)", 0)
            server.close()
            data_dir = None
            server = EmbeddedRedis().begin()
        try:
            # Private socket, no password: credentials meant for an external Redis would
            # only make the embedded one refuse the login.
            redis = dataclasses.replace(settings.redis, url=server.url, user="",
                                        password=Secret(""), ca_file="")

            def redis_ready() -> None:
                server.wait_ready()
                server.supervise()  # nobody else would restart it: bring it back if it dies

            # One simulated engine, whatever [engines] says.
            yield (settings.replace(hwa=hwa, engines={}, engine="", redis=redis),
                   data_dir is not None, redis_ready)
        finally:
            server.close()
    finally:
        sim.stop()


def _demo_command(settings: Settings, args: argparse.Namespace, sim: SimulatorProcess) -> int:
    """``demo``: the simulator (started before the settings were read) and Redis are
    launched before anything else (logging, the UI's imports), so they come up meanwhile
    instead of one after the other. ``--record FILE`` (here or before ``demo``) records
    what it shows, as for the dashboard."""
    from resync_tui.allocator import apply_policy
    from resync_tui.feeds.runtime import FirstRead
    from resync_tui.record.errors import RecordingError
    from resync_tui.redis_server import EmbeddedRedisError

    apply_policy()  # glibc malloc for a long-running dashboard, before its threads
    record: Path | None = args.sub_record or args.record
    wall = bool(args.wall or args.sub_wall)
    metrics_port = args.sub_metrics_port or args.metrics_port
    if metrics_port is None and settings.metrics.port:
        metrics_port = settings.metrics.port
    try:
        # The demo's Redis persists: the audit trail goes to it and outlives the demo.
        with _demo_environment(settings, jobs=args.jobs, seed=args.seed,
                               time_scale=args.time_scale, faults=not args.no_faults,
                               persist=True, sim=sim) as (ready, persistent, redis_ready):
            # The collector stays off through the UI's imports and the first read
            # (``main`` holds it until the first frame: ``gcpolicy.hold_collections``).
            try:
                _setup_logging(settings, devtools=False)  # Textual's own: with the UI
            except OSError as exc:
                return _fail(f"{settings.source}: key 'logging.file': cannot write "
                             f"{settings.logging.file!r} ({exc.strerror})")
            # The plan's first read starts now, on the loop the app will run on, and
            # the UI is imported in a thread meanwhile (the engine answers, the rows
            # are built while Textual and the panes load).
            first_read = FirstRead(ready, clock_rate=args.time_scale)
            try:
                run_dashboard = first_read.run(first_read.while_running(
                    partial(_dashboard, devtools_log=True)))
            except BaseException:
                first_read.close()
                raise
            with first_read:
                redis_ready()
                return run_dashboard(ready, wall=wall, metrics_port=metrics_port,
                                     private_redis=not persistent, record=record,
                                     record_max_bytes=args.record_max_mb * 1024 * 1024,
                                     first_read=first_read)
    except EmbeddedRedisError as exc:
        return _fail(f"embedded Redis: {exc}", 1)
    except RecordingError as exc:  # --record: the file could not be created
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130


def _dashboard(*, devtools_log: bool = False) -> Callable[..., int]:
    """``run_dashboard`` (importing it imports Textual's widgets and every pane);
    ``devtools_log``: then logging to Textual's devtools console too."""
    from resync_tui.ui.app import run_dashboard

    if devtools_log:
        from resync_tui.logging_setup import add_devtools_handler

        add_devtools_handler()
    return run_dashboard


def _setup_logging(settings: Settings, *, devtools: bool = True) -> None:
    """``devtools``: also to Textual's devtools console (that imports Textual)."""
    from resync_tui.logging_setup import configure_logging, register_secret

    engines = [settings.hwa, *settings.engines.values()]
    for secret in (*(e.password for e in engines), *(e.token for e in engines),
                   settings.redis.password):
        if secret:
            register_secret(secret.reveal())
    configure_logging(settings.logging.file, settings.logging.level,
                      settings.logging.max_bytes, settings.logging.backups,
                      devtools=devtools)


def _poller_command(settings: Settings, args: argparse.Namespace) -> int:
    """``poller``: logs to stderr unless the settings name a log file; one line and 2 on
    settings it cannot run with."""
    import asyncio
    import dataclasses

    from resync_tui.allocator import apply_policy
    from resync_tui.poller import PollerError, run_poller

    failed = _headless_logging(settings)
    if failed is not None:
        return failed
    apply_policy()  # it reads the whole plan every poll for days, as the dashboard does
    settings = settings.replace(share=dataclasses.replace(settings.share, enabled=True))
    port = args.poller_metrics_port or settings.metrics.port or None
    try:
        return asyncio.run(run_poller(settings, metrics_port=port))
    except PollerError as exc:
        return _fail(f"poller: {exc}")
    except KeyboardInterrupt:
        return 0


def _serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """``serve``: logs to stderr unless the settings name a log file, like ``poller``."""
    from resync_tui.serve import ServeError, is_loopback, serve

    if not args.public and not is_loopback(args.host):  # before anything starts
        return _fail(f"serve: refusing to listen on {args.host}: textual-serve has no "
                     "authentication; use --host 127.0.0.1 behind a reverse proxy that "
                     "authenticates, or --public")
    failed = _headless_logging(settings)
    if failed is not None:
        return failed
    try:
        return serve(settings, host=args.host, port=args.port, config=args.serve_config
                     or args.config, wall=bool(args.serve_wall or args.wall),
                     public=args.public)
    except ServeError as exc:
        return _fail(f"serve: {exc}")
    except KeyboardInterrupt:
        return 0


def _headless_logging(settings: Settings) -> int | None:
    """Logging of a command with no screen: stderr, or ``logging.file`` when set."""
    from resync_tui.logging_setup import configure_stderr_logging

    try:
        if "logging.file" in settings.origins:
            _setup_logging(settings)
        else:
            configure_stderr_logging(settings.logging.level,
                                     [s.reveal() for s in (settings.hwa.password,
                                                           settings.hwa.token,
                                                           settings.redis.password) if s])
    except OSError as exc:
        return _fail(f"{settings.source}: key 'logging.file': cannot write "
                     f"{settings.logging.file!r} ({exc.strerror})")
    return None


def _replay_command(settings: Settings, args: argparse.Namespace) -> int:
    """``replay FILE`` and ``snapshot --replay FILE --at TIME``: no engine, no Redis."""
    from resync_tui.record.format import RecordingError, read_recording
    from resync_tui.record.replay import parse_at

    path: Path = args.file if args.command == "replay" else args.replay
    try:
        recording = read_recording(path)
    except RecordingError as exc:
        return _fail(str(exc), 1)
    text = args.at if args.command == "replay" else args.snap_at
    try:
        at = parse_at(text, recording) if text else None
    except ValueError as exc:
        return _fail(str(exc))
    if recording.torn:
        print(f"resync-tui: {str(path)!r}: its last frame was cut short (a crash while "
              "recording?); replaying what came before it", file=sys.stderr)
    if args.command == "replay":
        from resync_tui.ui.replay import run_replay

        return run_replay(recording, settings, speed=args.speed, at=at)
    from resync_tui.ui.replay import replay_snapshot

    try:
        svg = replay_snapshot(recording, settings, at=at, size=args.size, timeout=args.timeout)
    except TimeoutError:
        return _fail(f"snapshot: the replay showed nothing within {args.timeout:g}s", 1)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        return _fail(f"snapshot: cannot write {str(args.out)!r} ({exc.strerror})", 1)
    return 0


def _import_dashboard() -> Callable[..., int]:
    """``run_dashboard``, imported with the collector off and then frozen out of its reach
    (as ``demo`` does): the UI's imports build objects that live as long as the process,
    which every full collection would otherwise rescan on the event loop."""
    from resync_tui.allocator import apply_policy

    apply_policy()  # glibc malloc for a long-running dashboard, before its threads
    collecting = gc.isenabled()
    gc.disable()
    try:
        from resync_tui.ui.app import run_dashboard
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return run_dashboard


def _fail(message: str, code: int = 2) -> int:
    print(f"resync-tui: {message}", file=sys.stderr)
    return code


def _config_command(args: argparse.Namespace) -> int:
    """``config check`` / ``show`` / ``schema``: nothing is started, nothing is logged."""
    if args.config_action == "schema":
        from resync_tui.settings_schema import schema_text

        sys.stdout.write(schema_text())
        return 0
    path = args.config_file or args.config
    try:
        found = find_settings_file(path)
        settings = load_settings(found)
    except SettingsError as exc:
        if args.config_action == "check":  # the problems are this command's report
            print("\n".join(exc.problems))
            return 2
        for problem in exc.problems:
            _fail(problem)
        return 2
    where = str(found) if found is not None else "defaults (no settings file found)"
    if args.config_action == "check":
        print(f"settings OK: {where}")
        return 0
    print(f"# settings file: {where}")
    print("\n".join(explain_settings(settings)))
    return 0


def _audit_line(record: dict[str, Any]) -> str:
    """One record for a terminal: every field from the spool or Redis made safe."""
    outcome = record.get("outcome") or {}
    result = outcome.get("result", "") if isinstance(outcome, dict) else ""
    if result == "refused":
        result = f"refused {outcome.get('status')} {outcome.get('message', '')}"
    elif result == "unknown":
        result = f"unknown ({outcome.get('message', '')})"
    why = record.get("justification") or {}
    parts = [record.get("time"), record.get("kind"), record.get("action"),
             record.get("job_id"), f"{record.get('os_user')}@{record.get('host')}",
             f"hwa:{record.get('hwa_user')}", result,
             why.get("description", "") if isinstance(why, dict) else ""]
    return "  ".join(safe_text(str(part), 200) for part in parts if part not in (None, ""))


def _audit_command(settings: Settings, *, verify: bool, since: float | None, as_json: bool,
                   follow: bool) -> int:
    """``audit``: drain the spool, then list or verify the stream and the spool."""
    import asyncio

    from resync_tui.audit import default_spool_dir

    spool_dir = (Path(settings.audit.spool_dir).expanduser() if settings.audit.spool_dir
                 else default_spool_dir())
    return asyncio.run(_audit(settings, spool_dir, verify=verify, since=since, as_json=as_json,
                              follow=follow))


async def _audit(settings: Settings, spool_dir: Path, *, verify: bool, since: float | None,
                 as_json: bool, follow: bool) -> int:
    import asyncio
    import time

    from redis.exceptions import RedisError

    from resync_tui.audit import AuditLog
    from resync_tui.audit.record import canonical, parse_time
    from resync_tui.audit.verify import check, collect
    from resync_tui.resilience.redis_pool import (
        RedisClientConfig,
        describe_redis_error,
        make_redis_client,
    )

    rs = settings.redis
    redis = None
    if rs.url == "embedded":
        _fail('redis.url is "embedded" (a private Redis of each dashboard): reading the '
              "spool only", 0)
    else:
        redis = make_redis_client(RedisClientConfig(
            url=rs.url, username=rs.user, password=rs.password.reveal(), ca_file=rs.ca_file,
            max_connections=2, socket_timeout=max(rs.socket_timeout, 2.0),
            socket_connect_timeout=rs.connect_timeout, pool_timeout=5.0))
    stream = settings.audit.stream
    try:
        log = AuditLog(spool_dir, redis, stream=stream, max_len=settings.audit.max_len,
                       outcome_grace=settings.audit.outcome_grace, lock_wait=10.0)
        drained = await log.drain()
        if drained.error:
            _fail(f"audit: the spool could not be sent to Redis ({drained.error}); "
                  "listing what is readable", 0)
        try:
            entries, spooled = await collect(redis, spool_dir, stream=stream)
        except (RedisError, OSError) as exc:  # Redis down: say it in words, show the spool
            _fail(f"audit: cannot read the stream: {describe_redis_error(exc)}", 0)
            entries, spooled = [], log.spool.read()[0]
        if verify:
            report = check(entries, spooled)
            for problem in report.problems:
                print(safe_text(problem, 400))
            if report.ok:
                print(f"audit trail whole: {report.records} records of "
                      f"{report.writers} writers")
            return 0 if report.ok else 1
        cutoff = None if since is None else time.time() - since
        seen: set[str] = set()

        def show(record: dict[str, Any]) -> None:
            if record["id"] in seen:
                return
            seen.add(record["id"])
            if cutoff is not None:
                try:
                    if parse_time(str(record.get("time"))) < cutoff:
                        return
                except ValueError:
                    pass
            print(canonical(record) if as_json else _audit_line(record), flush=True)

        last = "-"
        for entry_id, record in entries:
            last = entry_id
            if record is not None:
                show(record)
        for record in spooled:
            show(record)
        while follow:
            await asyncio.sleep(1.0)
            await log.drain()
            if log.stream is None:
                for record in log.spool.read()[0]:
                    show(record)
                continue
            try:
                async for entry_id, record in log.stream.entries(
                        "-" if last == "-" else f"({last}"):
                    last = entry_id
                    if record is not None:
                        show(record)
            except (RedisError, OSError) as exc:
                _fail(f"audit: {describe_redis_error(exc)}", 0)
        return 0
    finally:
        if redis is not None:
            await redis.aclose()


#: ``act`` exit codes by result (a contract: scripts test them).
ACT_EXIT = {"done": 0, "refused": 1, "not_sent": 1, "invalid": 2, "disabled": 2, "unknown": 3}


def _act_command(settings: Settings, args: argparse.Namespace) -> int:
    """``act``: the same validation, confirmation and audit path as the dashboard's."""
    import asyncio

    from resync_tui.audit import Justification
    from resync_tui.feeds.actions import ActionRequest

    request = ActionRequest(args.job_id, args.action,
                            Justification(args.category, args.justification, args.ticket),
                            args.priority, value=args.value,
                            target="workstation" if args.workstation else "job")
    return asyncio.run(_act(settings, request, assume_yes=args.yes))


def _act_line(result: ActionResult) -> str:
    """One line per job: result, action, job, and what the engine said or what it is now."""
    request = result.request
    parts: list[str] = [result.result, request.audit_action, request.job_id]
    parts += [f"{name}={value}" for name, value in request.parameters.items()]
    if result.job is not None:
        parts.append(f"status now {result.job.status or '?'}")
    if result.result == "refused" and result.status:
        parts.append(f"HTTP {result.status}")
    if result.message:
        parts.append(result.message)
    return "  ".join(safe_text(str(part), 300) for part in parts)


def _confirm(settings: Settings, request: ActionRequest, job: JobInPlan | None,
             workstation: Workstation | None = None) -> bool:
    """Say exactly what will happen, then y/N from the terminal (anything else: no)."""
    from resync_tui.feeds.actions import DANGEROUS_ACTIONS

    def safe(value: object) -> str:
        return safe_text(str(value or ""), 200)

    why = request.justification
    lines = [f"engine:  {safe(settings.hwa.url)} (as {safe(settings.hwa.user)})"]
    if request.target == "workstation":
        if workstation is None:
            lines.append(f"workstation: {safe(request.job_id)} (could not be read: the engine "
                         "decides)")
        else:
            lines.append(f"workstation: {safe(workstation.name)} (id {safe(request.job_id)}), "
                         f"{safe(','.join(workstation.active_states)) or 'no active state'}, "
                         f"fence {workstation.fence}, limit {workstation.limit}")
    elif job is None:
        lines.append(f"job:     {safe(request.job_id)} (could not be read: the engine decides)")
    else:
        lines.append(f"job:     {safe(job.job_stream_name)}.{safe(job.name)} on "
                     f"{safe(job.workstation)} (id {safe(request.job_id)}), status "
                     f"{safe(job.status) or '?'}")
    danger = ("  (its jobs stop being launched)" if request.target == "workstation"
              else "  (cannot be undone)") if request.audit_action in DANGEROUS_ACTIONS else ""
    lines.append(f"action:  {safe(request.action)}{danger}")
    params = [f"{name}={value}" for name, value in request.parameters.items()]
    params += [f"{name}={safe(value)!r}" for name, value in
               (("justification", why.description), ("category", why.category),
                ("ticket", why.ticket)) if value]
    lines.append(f"params:  {', '.join(params) or '-'}")
    sys.stderr.write("\n".join(lines) + "\nSend it? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


async def _act(settings: Settings, request: ActionRequest, *, assume_yes: bool) -> int:
    import msgspec

    from resync_tui.feeds.actions import ActionService, build_audit_log, job_ref
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.hwa.errors import HwaError
    from resync_tui.resilience.breaker import CircuitOpenError

    embedded = settings.redis.url == "embedded"
    if embedded:
        # A private Redis of this one command would take the records off the spool and
        # lose them when it stops: they stay in the spool for a process with a shared Redis.
        _fail('redis.url is "embedded": the audit records stay in the spool', 0)
        # The runtime's Redis (the cache) is never used by an action; redis-py connects
        # lazily, so this placeholder is never dialled.
        settings = settings.replace(redis=dataclasses.replace(
            settings.redis, url="unix:///nonexistent/resync-tui-act-no-redis"))
    runtime = build_runtime(settings)
    try:
        service = ActionService(runtime, build_audit_log(
            settings, None if embedded else runtime.redis))
        refusal = service.validate(request)
        if refusal is not None:
            return _fail(safe_text(refusal.message, 400), ACT_EXIT[refusal.result])
        job = None
        if not assume_yes and not sys.stdin.isatty():
            return _fail("no terminal to confirm on: pass --yes to act without asking")
        if request.target == "workstation":
            return await _act_on_workstation(settings, service, request, assume_yes=assume_yes)
        if not assume_yes:
            try:
                job = await service.read_job(request.job_id)
            except (HwaError, CircuitOpenError, TimeoutError) as exc:
                _fail(f"cannot read job {safe_text(request.job_id, 200)}: "
                      f"{safe_text(str(exc), 300)}", 0)
            if not _confirm(settings, request, job):
                return _fail("not confirmed: nothing sent")
        if job is not None:  # the audit names the job as the operator was shown it
            request = msgspec.structs.replace(request, job=job_ref(request.job_id, job))
        result = await service.perform(request)
        print(_act_line(result), flush=True)
        return ACT_EXIT[result.result]
    finally:
        await runtime.aclose()


async def _act_on_workstation(settings: Settings, service: ActionService,
                              request: ActionRequest, *, assume_yes: bool) -> int:
    """``act --workstation``: the workstation read first (a GET, for the confirmation and
    the audit record's name; the engine still judges if that read fails), then sent once."""
    import msgspec

    from resync_tui.audit import JobRef
    from resync_tui.feeds._calls import hwa_call
    from resync_tui.hwa.errors import HwaError
    from resync_tui.resilience.breaker import CircuitOpenError

    runtime = service.runtime
    workstation = None
    try:
        workstation = await hwa_call(
            runtime, lambda: runtime.client.get_workstation(request.job_id),
            breaker=runtime.hwa_api, operation="get_workstation")
    except (HwaError, CircuitOpenError, TimeoutError) as exc:
        _fail(f"cannot read workstation {safe_text(request.job_id, 200)}: "
              f"{safe_text(str(exc), 300)}", 0)
    if not assume_yes and not _confirm(settings, request, None, workstation):
        return _fail("not confirmed: nothing sent")
    if workstation is not None:
        name = workstation.name or request.job_id
        request = msgspec.structs.replace(request, job=JobRef(request.job_id, name, "", name))
    result = await service.perform(request)
    print(_act_line(result), flush=True)
    return ACT_EXIT[result.result]


def main(argv: Sequence[str] | None = None) -> int:
    word = command_word(argv)
    if word in _DASHBOARD_COMMANDS:
        # Nothing to collect before the first frame, only what the process keeps: the
        # app turns the collector back on once it has drawn (``resync_tui.gcpolicy``).
        hold_collections()
    try:
        return _run(argv, word)
    finally:
        release_collections()  # an app that ended before drawing, or a refused command


_DASHBOARD_COMMANDS: Final = (None, "demo")
"""The command words that start the dashboard (none: ``resync-tui [options]``)."""


def _run(argv: Sequence[str] | None, word: str | None) -> int:
    early = _early_demo_simulator(argv)  # the demo's engine first: it builds the plan meanwhile
    parser = build_parser(word)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a monitoring plugin's bad usage is UNKNOWN (3), not 2
        if early is not None:
            early[0].stop()  # the guess saw a demo the real parse refuses
        from resync_tui.check import is_check_argv, usage_unknown

        if exc.code not in (0, None) and is_check_argv(sys.argv[1:] if argv is None else argv):
            return usage_unknown()
        raise
    command = args.command

    if command == "check":  # before the settings: a bad file is UNKNOWN, said on stdout
        from resync_tui.check import check_command

        return check_command(args)

    if command == "config":
        return _config_command(args)

    if command == "sim":
        from resync_tui.hwa.simulator import serve_forever

        return serve_forever(args.host, args.port, args.jobs, args.seed, args.time_scale,
                             args.user, args.password, clock_offset=args.clock_offset)

    config = (getattr(args, "snap_config", None) or getattr(args, "audit_config", None)
              or getattr(args, "act_config", None) or getattr(args, "poller_config", None)
              or getattr(args, "serve_config", None) or getattr(args, "jobs_config", None)
              or getattr(args, "replay_config", None) or args.config)
    # The demo's engine first: its process builds the plan while this one reads the
    # settings and imports the UI.
    sim = _demo_engine(args, early)
    try:
        settings = load_settings(config)
    except SettingsError as exc:  # every problem, one line each
        if sim is not None:
            sim.stop()
        for problem in exc.problems:
            _fail(problem)
        return 2
    if args.main_engine is not None:
        if args.main_engine not in settings.engines:
            if sim is not None:
                sim.stop()
            known = ", ".join(settings.engines) or "none: only the single engine of [hwa]"
            return _fail(f"--engine: no engine {safe_text(args.main_engine, 40)!r}; "
                         f"allowed: {known}")
        settings = settings.for_engine(args.main_engine)
    if sim is not None:
        return _demo_command(settings, args, sim)
    if command == "poller":
        return _poller_command(settings, args)
    if command == "serve":
        return _serve_command(settings, args)
    try:
        _setup_logging(settings)
    except OSError as exc:
        return _fail(f"{settings.source}: key 'logging.file': cannot write "
                     f"{settings.logging.file!r} ({exc.strerror})")

    if command == "audit":
        try:
            return _audit_command(settings, verify=args.verify, since=args.since,
                                     as_json=args.json, follow=args.follow)
        except KeyboardInterrupt:
            return 130

    if command == "act":
        try:
            return _act_command(settings, args)
        except KeyboardInterrupt:
            return 130

    if command == "jobs":
        from resync_tui.jobs_command import jobs_command

        return jobs_command(settings, args)

    if command == "replay" or (command == "snapshot" and args.replay is not None):
        return _replay_command(settings, args)

    wall = bool(args.wall or getattr(args, "sub_wall", False))
    metrics_port = getattr(args, "sub_metrics_port", None) or args.metrics_port
    if metrics_port is None and settings.metrics.port:
        metrics_port = settings.metrics.port

    from resync_tui.record.errors import RecordingError
    from resync_tui.redis_server import EmbeddedRedisError

    record: Path | None = getattr(args, "sub_record", None) or args.record
    try:
        if command == "snapshot":
            from resync_tui.snapshot import take_snapshot

            if args.snap_config is None:  # a throw-away Redis: no trail in the picture
                with _demo_environment(settings, jobs=args.jobs, seed=args.seed,
                                       time_scale=0.0, faults=False) as (ready, _, wait):
                    wait()
                    return take_snapshot(ready, args.out, args.size, timeout=args.timeout,
                                         wall=wall or args.snap_wall)
            with _embedded_redis(settings) as ready:
                return take_snapshot(ready, args.out, args.size, timeout=args.timeout,
                                     wall=wall or args.snap_wall)

        run_dashboard = _import_dashboard()

        with _embedded_redis(settings) as ready:
            return run_dashboard(ready, wall=wall, metrics_port=metrics_port,
                                 private_redis=ready.redis.url != settings.redis.url,
                                 record=record,
                                 record_max_bytes=args.record_max_mb * 1024 * 1024)
    except EmbeddedRedisError as exc:
        return _fail(f"embedded Redis: {exc}", 1)
    except RecordingError as exc:  # --record: the file could not be created
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
