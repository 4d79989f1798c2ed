"""Load, validate and explain settings.

Settings come from three layers, later ones winning: the defaults below, a TOML
file (``settings.toml`` or ``--config PATH``), and environment variables named
``RESYNC_<SECTION>__<KEY>`` (``RESYNC_BREAKERS__HWA_API__MINIMUM_CALLS`` for a
nested table). A wrong value raises :class:`SettingsError` whose one-line
message names the file, the key, the bad value and what is allowed; the CLI
prints it and exits without a traceback.

Secrets (the engine password or token) are never stored in the file by default:
the file names where to read them (an environment variable or a file) and the
value is wrapped in :class:`Secret`, whose ``repr`` and ``str`` hide it.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

from resync_tui.sanitize import safe_text

ENV_PREFIX: Final = "RESYNC_"
DEFAULT_FILE_NAME: Final = "settings.toml"
#: Names the settings file when ``--config`` does not (it must then exist).
CONFIG_ENV: Final = "RESYNC_CONFIG"
#: The machine-wide settings directory, searched last.
SYSTEM_CONFIG_DIR: Final = Path("/etc/resync-tui")
BREAKER_NAMES: Final = ("hwa_api", "hwa_job_status", "redis")


class SettingsError(ValueError):
    """Settings are missing, unknown or out of range.

    ``problems`` holds every problem found, one line each (``config check`` prints them
    all); ``str()`` stays one line: the first problem, and how many more there are.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems))
        first = self.problems[0] if self.problems else "settings are not valid"
        more = len(self.problems) - 1
        super().__init__(first if more < 1 else
                         f"{first} (and {more} more; run 'resync-tui config check')")


class Secret:
    """A string that does not show itself: repr, str and format print ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return "***" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- a tiny declarative schema: each field states its type and what is allowed ---


def _spec(default: Any, *, doc: str = "", minimum: float | None = None,
          maximum: float | None = None, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={
        "doc": doc, "min": minimum, "max": maximum, "choices": choices,
    })


@dataclass(frozen=True)
class HwaSettings:
    """The HWA engine: where it is, how to log in, how patiently to talk to it."""

    url: str = _spec("http://127.0.0.1:31116", doc="engine base URL, without /twsd/api/v2")
    user: str = _spec("demo")
    password_env: str = _spec("RESYNC_HWA__PASSWORD", doc="env var holding the password")
    password_file: str = _spec("", doc="file holding the password (first line)")
    token_env: str = _spec("", doc="env var holding a JWT bearer token (instead of a password)")
    token_file: str = _spec("")
    auth_retry_seconds: float = _spec(
        300.0, minimum=1, maximum=86400,
        doc="after a 401/403, seconds before one call tries the credentials again")
    verify_tls: bool = _spec(True)
    ca_bundle: str = _spec("", doc="CA bundle path; empty = system trust store")
    connect_timeout: float = _spec(5.0, minimum=0.1, maximum=120)
    read_timeout: float = _spec(30.0, minimum=0.1, maximum=600)
    pool_timeout: float = _spec(5.0, minimum=0.1, maximum=120)
    call_deadline: float = _spec(60.0, minimum=1, maximum=3600)
    max_connections: int = _spec(8, minimum=1, maximum=256)
    poll_interval: float = _spec(10.0, minimum=0.5, maximum=3600)
    page_size: int = _spec(2000, minimum=1, maximum=100000)
    parallel_pages: int = _spec(4, minimum=1, maximum=32)
    plan_id: str = _spec("current")
    # Resolved at load time from password_env / password_file / token_*; never from TOML.
    password: Secret = field(default_factory=lambda: Secret(""), metadata={"resolved": True})
    token: Secret | None = field(default=None, metadata={"resolved": True})

    @property
    def verify(self) -> bool | str:
        """What httpx's ``verify`` wants: a CA bundle path, or a bool."""
        if not self.verify_tls:
            return False
        return self.ca_bundle or True


@dataclass(frozen=True)
class RedisSettings:
    """Where the L2 cache lives: a private embedded server, or an external Redis.

    After loading, ``url`` holds no user or password: a password written in the URL
    moves into ``password`` (a Secret) so no repr, error or log line can show it.
    """

    url: str = _spec("embedded", doc=(
        '"embedded", redis://host:port/db, rediss://..., unix:///path or '
        "redis+sentinel://HOST:PORT,HOST:PORT/MASTER/db"))
    sentinels: tuple[str, ...] = _spec((), doc=(
        "Redis Sentinels (HOST:PORT each) to ask for the primary of sentinel_master; "
        "when set, they are used instead of url"))
    sentinel_master: str = _spec("mymaster", doc="the Sentinel name of the primary")
    user: str = _spec("", doc="ACL user (or user@ in the URL); empty = the default user")
    password_env: str = _spec("RESYNC_REDIS__PASSWORD", doc="env var holding the password")
    password_file: str = _spec("", doc="file holding the password (first line)")
    ca_file: str = _spec("", doc="CA bundle of a rediss:// server; empty = system trust store")
    socket_timeout: float = _spec(0.5, minimum=0.01, maximum=60)
    connect_timeout: float = _spec(0.5, minimum=0.01, maximum=60)
    max_connections: int = _spec(16, minimum=1, maximum=1024)
    health_check_interval: float = _spec(10.0, minimum=0, maximum=3600)
    poll_interval: float = _spec(2.0, minimum=0.2, maximum=3600)
    # Resolved at load time from password_env / password_file / the URL; never from TOML.
    password: Secret = field(default_factory=lambda: Secret(""), metadata={"resolved": True})


@dataclass(frozen=True)
class CacheSettings:
    l1_max_entries: int = _spec(10000, minimum=1, maximum=10_000_000)
    l1_shards: int = _spec(16, minimum=1, maximum=1024)
    l1_ttl: float = _spec(5.0, minimum=0.0, maximum=86400)
    l2_ttl: float = _spec(300.0, minimum=0.0, maximum=604800)
    stale_while_revalidate: bool = _spec(True)
    negative_ttl: float = _spec(0.0, minimum=0.0, maximum=3600)
    namespace: str = _spec("resync")


@dataclass(frozen=True)
class BreakerSettings:
    failure_rate_threshold: float = _spec(50.0, minimum=1, maximum=100)
    window_seconds: float = _spec(60.0, minimum=1, maximum=3600)
    bucket_seconds: float = _spec(1.0, minimum=0.1, maximum=600)
    minimum_calls: int = _spec(10, minimum=1, maximum=100000)
    slow_call_seconds: float = _spec(0.0, minimum=0.0, maximum=3600, doc="0 = off")
    slow_call_rate_threshold: float = _spec(100.0, minimum=1, maximum=100)
    open_wait_seconds: float = _spec(15.0, minimum=0.1, maximum=3600)
    half_open_max_calls: int = _spec(1, minimum=1, maximum=1000)
    success_threshold: int = _spec(1, minimum=1, maximum=1000)


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = _spec(3, minimum=1, maximum=20)
    initial_backoff: float = _spec(0.2, minimum=0.0, maximum=60)
    max_backoff: float = _spec(5.0, minimum=0.0, maximum=600)
    deadline: float = _spec(20.0, minimum=0.1, maximum=3600)


@dataclass(frozen=True)
class UiSettings:
    theme: str = _spec("textual-dark", doc=(
        "theme at start-up: a Textual built-in (textual-dark, textual-light, nord, gruvbox, "
        "tokyo-night, dracula, ...) or the NAME of a [themes.NAME]"))
    alternate_theme: str = _spec("", doc=(
        "the theme t switches to and back from; empty = textual-light after a dark "
        "theme, textual-dark after a light one"))
    breakers_interval: float = _spec(1.0, minimum=0.2, maximum=3600)
    cache_interval: float = _spec(1.0, minimum=0.2, maximum=3600)
    workstations_interval: float = _spec(15.0, minimum=0.5, maximum=3600)
    wall_rotate_seconds: float = _spec(15.0, minimum=0.0, maximum=3600, doc="0 = fixed")
    engine: str = _spec("", doc=(
        "the [engines.NAME] shown at start-up (--engine NAME wins); empty = the first "
        "[engines.NAME] of the file"))
    engines_interval: float = _spec(30.0, minimum=1.0, maximum=3600, doc=(
        "seconds between the engines overview's count reads of the engines not shown "
        "(one GET /plan/job/count each, never a plan read)"))


@dataclass(frozen=True)
class ViewSettings:
    """A saved view of the job list, picked in the command palette ("View: NAME")."""

    query: str = _spec("", doc=(
        "the / filter: words and terms, e.g. \"group=failed ws=FTA_@ !status=SUCC\""))
    sort: str = _spec("", doc=(
        "a column (stream, job, workstation, folder, status, info, started, ended, "
        "duration), - before it to reverse; empty = the attention order"))


#: The colour keys of a [themes.NAME] (Textual's ``Theme`` fields of that name).
THEME_COLOURS: Final = ("primary", "secondary", "accent", "foreground", "background",
                        "surface", "panel", "boost", "success", "warning", "error")


@dataclass(frozen=True)
class ThemeSettings:
    """A user theme: Textual ``Theme`` fields; the colours left empty are derived."""

    primary: str = _spec("", doc="the main colour (required), e.g. \"#0178D4\"")
    secondary: str = _spec("")
    accent: str = _spec("")
    foreground: str = _spec("", doc="text colour")
    background: str = _spec("")
    surface: str = _spec("", doc="colour of the panes")
    panel: str = _spec("")
    boost: str = _spec("")
    success: str = _spec("")
    warning: str = _spec("")
    error: str = _spec("")
    dark: bool = _spec(True, doc="a dark theme (light text on a dark background)")
    luminosity_spread: float = _spec(0.15, minimum=0.0, maximum=1.0)
    text_alpha: float = _spec(0.95, minimum=0.0, maximum=1.0)
    variables: Mapping[str, str] = field(default_factory=dict, metadata={
        "doc": "Textual design variables, e.g. { \"footer-key-foreground\" = \"#88C0D0\" }"})


@dataclass(frozen=True)
class LoggingSettings:
    file: str = _spec("~/.local/state/resync-tui/resync-tui.log")
    level: str = _spec("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    max_bytes: int = _spec(5_000_000, minimum=10_000, maximum=1_000_000_000)
    backups: int = _spec(3, minimum=0, maximum=100)


@dataclass(frozen=True)
class MetricsSettings:
    port: int = _spec(0, minimum=0, maximum=65535, doc="0 = no /metrics endpoint")
    host: str = _spec("127.0.0.1")


@dataclass(frozen=True)
class AuditSettings:
    """Where operator actions are recorded: a local write-ahead spool, then a Redis Stream."""

    spool_dir: str = _spec("", doc=(
        "write-ahead spool directory (created 0700); empty = "
        "$XDG_STATE_HOME/resync-tui/audit, i.e. ~/.local/state/resync-tui/audit"))
    stream: str = _spec("resync:audit", doc="Redis Stream of the audit records")
    max_len: int = _spec(1_000_000, minimum=1000, maximum=1_000_000_000,
                         doc="approximate MAXLEN of the stream (oldest records trimmed)")
    outcome_grace: float = _spec(
        900.0, minimum=1, maximum=604800,
        doc="seconds after which an intent with no outcome is recorded as outcome unknown "
            "(at once when its process is gone)")


#: Justification fields an operator may be asked for ([actions] require).
JUSTIFICATION_FIELDS: Final = ("category", "description", "ticket")


#: What an [[alerts]] rule may fire on (``resync_tui.alerts.ALERT_KINDS``, which a test
#: keeps equal: settings do not import the alerts package).
ALERT_EVENTS: Final = ("job_failed", "critical_late", "workstation_down", "engine_unreachable",
                       "breaker_open", "audit_spool")
#: What an [[alerts]] ``match`` table may name (``resync_tui.alerts.MATCH_FIELDS``).
ALERT_MATCH_FIELDS: Final = ("stream", "job", "workstation", "folder")


@dataclass(frozen=True)
class AlertSettings:
    """One [[alerts]] rule: what fires it, for how long first, and where it goes."""

    name: str = _spec("", doc="the rule's name (metrics label, alerts screen); required, unique")
    on: str = _spec("job_failed", choices=ALERT_EVENTS, doc=(
        "job_failed (a job enters the failed group), critical_late, workstation_down, "
        "engine_unreachable, breaker_open, audit_spool (records waiting in the spool)"))
    for_seconds: float = _spec(0.0, minimum=0.0, maximum=86400,
                               doc="the condition must hold this long before it fires")
    bell: bool = _spec(False, doc="ring the terminal bell")
    notify: bool = _spec(False, doc="desktop notification through the terminal (OSC 9 / 777)")
    webhook: str = _spec("", doc="POST the event as JSON to this http(s) URL; empty = none")
    webhook_format: str = _spec("generic", choices=("generic", "slack", "teams"),
                                doc="generic (every field), slack or teams ({\"text\": ...})")
    rate_limit: int = _spec(10, minimum=1, maximum=100000,
                            doc="at most this many events per rate_window; the rest are counted")
    rate_window: float = _spec(60.0, minimum=1.0, maximum=86400)
    match: Mapping[str, str] = field(default_factory=dict, metadata={
        "resolved": True,
        "doc": "HWA patterns (@ any characters, ? one) on stream, job, workstation, folder"})


@dataclass(frozen=True)
class ActionsSettings:
    """Operator actions (rerun, hold, kill...): off unless enabled; read-only by default."""

    enabled: bool = _spec(False, doc=(
        "allow operator actions; false = read-only, nothing is ever sent "
        "(env RESYNC_ACTIONS__ENABLED=true)"))
    max_bulk: int = _spec(500, minimum=1, maximum=100_000,
                          doc="most jobs one bulk action may touch without a second "
                              "confirmation")
    require: tuple[str, ...] = _spec(("description",), choices=JUSTIFICATION_FIELDS, doc=(
        "justification fields an action must carry (any of category, description, ticket; "
        "[] = none); env: comma-separated"))


@dataclass(frozen=True)
class ShareSettings:
    """One poll of the engine for a whole NOC: the leader polls, the others read Redis."""

    enabled: bool = _spec(False, doc=(
        "share one poll of the engine through Redis between every dashboard of this engine "
        "(env RESYNC_SHARE__ENABLED=true); needs a Redis all of them reach"))
    lease_ttl: float = _spec(15.0, minimum=1, maximum=600, doc=(
        "seconds the leader's lease lasts unrenewed (renewed every third): a dead leader is "
        "replaced within this plus one poll interval"))
    follow_interval: float = _spec(0.5, minimum=0.05, maximum=60, doc=(
        "seconds between a follower's reads of the leader's changes"))
    max_deltas: int = _spec(1000, minimum=20, maximum=1_000_000, doc=(
        "approximate length of each feed's delta stream; the leader publishes a full "
        "snapshot every max_deltas/2 deltas"))
    chunk_rows: int = _spec(5000, minimum=100, maximum=1_000_000, doc=(
        "rows per compressed chunk of a snapshot (no Redis value is one whole plan)"))
    key_prefix: str = _spec("resync", doc="prefix of the shared keys ({PREFIX:ENGINE}:...)")


#: The one source of each breaker's defaults (settings.toml repeats them, a test checks it).
#: hwa_job_status guards the per-job status calls: slow ones count. redis must give up
#: quickly and come back quickly: the cache rides on L1 meanwhile.
BREAKER_DEFAULTS: Final[Mapping[str, BreakerSettings]] = {
    "hwa_api": BreakerSettings(),
    "hwa_job_status": BreakerSettings(minimum_calls=5, slow_call_seconds=20.0,
                                      slow_call_rate_threshold=80.0),
    "redis": BreakerSettings(window_seconds=30.0, minimum_calls=5, open_wait_seconds=5.0,
                             success_threshold=2),
}


def _default_breakers() -> dict[str, BreakerSettings]:
    return dict(BREAKER_DEFAULTS)


@dataclass(frozen=True)
class Settings:
    hwa: HwaSettings = field(default_factory=HwaSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    breakers: Mapping[str, BreakerSettings] = field(default_factory=_default_breakers)
    retry: RetrySettings = field(default_factory=RetrySettings)
    ui: UiSettings = field(default_factory=UiSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    actions: ActionsSettings = field(default_factory=ActionsSettings)
    share: ShareSettings = field(default_factory=ShareSettings)
    #: [keymap]: binding id ("jobs.next_failure") -> keys ("x", "ctrl+x,f5"), as written.
    keymap: Mapping[str, str] = field(default_factory=dict)
    #: [themes.NAME]: user themes by name.
    themes: Mapping[str, ThemeSettings] = field(default_factory=dict)
    #: [[alerts]]: alert rules, in file order.
    alerts: tuple[AlertSettings, ...] = ()
    #: [views.NAME]: saved views of the job list (query + sort), by name.
    views: Mapping[str, ViewSettings] = field(default_factory=dict)
    #: [engines.NAME]: the engines to switch between, in file order, each with the keys
    #: of [hwa] (secrets resolved); empty: the single engine of [hwa].
    engines: Mapping[str, HwaSettings] = field(default_factory=dict)
    #: The [engines.NAME] that ``hwa`` holds; "" for the single-engine form ([hwa]).
    engine: str = ""
    source: str = "defaults"
    #: Where each value came from, by dotted key ("hwa.url"): the settings file's path
    #: or the environment variable's name; a key not listed has its default.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def replace(self, **sections: Any) -> Settings:
        return dataclasses.replace(self, **sections)

    @property
    def engine_names(self) -> tuple[str, ...]:
        """The [engines.NAME] names in file order; empty for the single-engine form."""
        return tuple(self.engines)

    def for_engine(self, name: str) -> Settings:
        """These settings with ``hwa`` = the engine ``name`` (``KeyError`` if none): what
        every feed, the check and the client of that engine read."""
        return dataclasses.replace(self, hwa=self.engines[name], engine=name)


#: Keys refused in a settings file: they are secrets, read from the environment or a file.
SENTINEL_SCHEME: Final = "redis+sentinel"

_FILE_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "hwa": ("password", "token"), "redis": ("password",)}

#: Every table of a settings file with fixed keys, and the dataclass it fills.
SECTIONS: Final[Mapping[str, type[Any]]] = {
    "hwa": HwaSettings, "redis": RedisSettings, "cache": CacheSettings,
    "retry": RetrySettings, "ui": UiSettings, "logging": LoggingSettings,
    "metrics": MetricsSettings, "audit": AuditSettings,
    "actions": ActionsSettings, "share": ShareSettings,
}
#: Tables whose keys are names: [breakers.NAME], [keymap] (binding ids), [themes.NAME],
#: [views.NAME], [engines.NAME].
NAMED_SECTIONS: Final = ("breakers", "keymap", "themes", "views", "engines")
#: What an engine may be called: it names the engine in the header, in cache keys, in
#: metric labels and in RESYNC_ENGINES__NAME__KEY (so no spaces, no colons).
ENGINE_NAME_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
#: Arrays of tables: [[alerts]].
ARRAY_SECTIONS: Final = ("alerts",)


def _describe(f: dataclasses.Field[Any]) -> str:
    meta = f.metadata
    kind = _type_words(f)
    if str(f.type).startswith("tuple") and meta.get("choices"):
        return "a list of any of " + ", ".join(meta["choices"])
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    return kind


def _type_words(f: dataclasses.Field[Any]) -> str:
    return {"bool": "true or false", "int": "an integer", "float": "a number",
            "str": "a string"}.get(str(f.type), "a value")


def _name(text: str) -> str:
    """A key or section name from a file or the environment, safe to print on a terminal."""
    return safe_text(text, 80)


def _env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper().replace('.', '__')}__{key.upper()}"


def _suggest(section: str, key: str, fields: Sequence[str]) -> str:
    """``did you mean 'redis.socket_timeout'? `` for a key that belongs in another section,
    else ``did you mean 'hwa.url'? `` for a near miss (difflib); empty when nothing is close."""
    if not section.startswith("breakers"):
        for other, cls in SECTIONS.items():
            if other != section and key in {f.name for f in dataclasses.fields(cls)
                                            if not f.metadata.get("resolved")}:
                return f"did you mean '{other}.{_name(key)}'? "
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    return f"did you mean '{section}.{close[0]}'? " if close else ""


def _coerce(raw: Any, f: dataclasses.Field[Any], where: str) -> Any:
    """Turn a TOML or environment value into the field's type, or explain why not."""
    type_name = str(f.type)
    from_env = isinstance(raw, str) and where.startswith("environment")
    value: Any = raw

    def fail() -> SettingsError:
        return SettingsError(f"{where}: bad value {raw!r}; allowed: {_describe(f)}")

    if type_name.startswith("tuple"):  # a list of choices; env: comma-separated
        items = ([part.strip() for part in raw.split(",") if part.strip()] if from_env
                 else raw)
        choices = f.metadata.get("choices") or ()
        if not isinstance(items, list) or not all(
                isinstance(item, str) and (not choices or item in choices) for item in items):
            raise fail()
        return tuple(dict.fromkeys(items))
    if type_name == "bool":
        if from_env:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                value = True
            elif lowered in ("0", "false", "no", "off"):
                value = False
            else:
                raise fail()
        elif not isinstance(raw, bool):
            raise fail()
    elif type_name in ("int", "float"):
        if isinstance(raw, bool):
            raise fail()
        if from_env:
            try:
                value = int(raw) if type_name == "int" else float(raw)
            except ValueError:
                raise fail() from None
        elif not isinstance(raw, int if type_name == "int" else int | float):
            raise fail()
        value = int(value) if type_name == "int" else float(value)
        if value != value:  # NaN
            raise fail()
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise fail()
    elif type_name == "str":
        if not isinstance(raw, str):
            raise fail()
        choices = f.metadata.get("choices")
        if choices and raw not in choices:
            raise fail()
    return value


#: Environment overrides of one section: key -> (value, the variable's name).
_EnvKeys = Mapping[str, tuple[str, str]]


def _build(cls: type[Any], table: Any, origin: str, section: str, env_keys: _EnvKeys,
           problems: list[str], origins: dict[str, str], base: Any = None) -> Any:
    """Build one section's dataclass from its TOML table and environment overrides
    (on top of ``base``, e.g. a breaker's own defaults, else the class defaults).

    A wrong key or value becomes a line in ``problems`` and keeps its default, so one
    pass finds every problem; ``origins`` learns where each accepted value came from.
    """
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("resolved")}
    values: dict[str, Any] = {}
    if not isinstance(table, Mapping):
        problems.append(f"{origin}: [{section}] must be a table, got {table!r}")
        table = {}
    for key, raw in table.items():
        if key not in fields:
            if key in _FILE_SECRETS.get(section, ()):
                problems.append(
                    f"{origin}: key '{section}.{key}' is not read from files; put the value in "
                    f"the environment variable {_env_name(section, key)} or "
                    f"name a file with '{section}.{key}_file'")
            else:
                problems.append(
                    f"{origin}: unknown key '{section}.{_name(key)}'; "
                    f"{_suggest(section, key, list(fields))}allowed: {', '.join(fields)}")
            continue
        try:
            values[key] = _coerce(raw, fields[key], f"{origin}: key '{section}.{key}'")
        except SettingsError as exc:
            problems.extend(exc.problems)
            continue
        origins[f"{section}.{key}"] = origin
    for key, (raw, name) in env_keys.items():
        if key not in fields:
            problems.append(
                f"environment: unknown key '{section}.{_name(key)}' (from {_name(name)}); "
                f"{_suggest(section, key, list(fields))}allowed: {', '.join(fields)}")
            continue
        try:
            values[key] = _coerce(raw, fields[key],
                                  f"environment: key '{section}.{key}' ({name})")
        except SettingsError as exc:
            problems.extend(exc.problems)
            continue
        origins[f"{section}.{key}"] = name
    return cls(**values) if base is None else dataclasses.replace(base, **values)


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """Group RESYNC_SECTION__KEY (and RESYNC_BREAKERS__NAME__KEY) by section path."""
    grouped: dict[str, dict[str, tuple[str, str]]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) == 2 and parts[1] in _FILE_SECRETS.get(parts[0], ()):
            continue  # secrets are resolved separately, never validated into output
        if len(parts) == 3 and parts[0] == "engines" and parts[2] in _FILE_SECRETS["hwa"]:
            continue  # RESYNC_ENGINES__NAME__PASSWORD: an engine's secret, the same way
        if len(parts) < 2 or not all(parts):
            continue
        grouped.setdefault(".".join(parts[:-1]), {})[parts[-1]] = (value, name)
    return grouped


def _read_secret(env: Mapping[str, str], env_name: str, file_name: str, what: str,
                 origin: str, section: str = "hwa") -> tuple[str, str]:
    """(the secret, where it came from: the variable's name or the file's path)."""
    if env_name and env.get(env_name):
        return env[env_name], env_name
    if file_name:
        path = Path(file_name).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SettingsError(
                f"{origin}: key '{section}.{what}_file': cannot read {str(path)!r} "
                f"({exc.strerror}); allowed: a readable file holding the {what}"
            ) from None
        return (lines[0].strip() if lines else ""), str(path)
    return "", "default"


def _masked_url(url: str) -> str:
    """``url`` with a password in it replaced by ``***`` (it may be shown in an error)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # unparsable (an unclosed [IPv6 bracket): hide all user info
        scheme, sep, rest = url.rpartition("://")
        return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}" if "@" in rest else url
    if parts.password is None:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query,
                       parts.fragment))


def _split_credentials(url: str) -> tuple[str, str, str]:
    """(``url`` without user and password, user, password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, "", ""
    host = parts.netloc.rsplit("@", 1)[1]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if not host and not bare.startswith(f"{parts.scheme}://"):
        # ``unix://user:pw@/path``: urlunsplit writes ``unix:/path`` for a scheme it does
        # not know to have a netloc, and redis-py 8.2 refuses a URL without ``//``.
        bare = f"{parts.scheme}://{bare[len(parts.scheme) + 1:]}"
    return bare, unquote(parts.username or ""), unquote(parts.password or "")


def _validate_url(url: str, origin: str, key: str, schemes: tuple[str, ...]) -> None:
    try:
        parts = urlsplit(url)
        located = bool(parts.path) if parts.scheme == "unix" else bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [IPv6 bracket
        located = False
        parts = urlsplit("")
    if parts.scheme not in schemes or not located:
        raise SettingsError(
            f"{origin}: key '{key}': bad value {_masked_url(url)!r}; allowed: a URL starting "
            "with " + " or ".join(f"{s}://" for s in schemes)
        )


def settings_search_path(env: Mapping[str, str] | None = None, *, cwd: Path | None = None,
                         system_dir: Path = SYSTEM_CONFIG_DIR) -> list[Path]:
    """Where a settings file is looked for when neither --config nor RESYNC_CONFIG names
    one, first found wins: ./settings.toml, $XDG_CONFIG_HOME/resync-tui/settings.toml
    (default ~/.config), /etc/resync-tui/settings.toml."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if not xdg or not Path(xdg).is_absolute():  # the XDG spec: a relative value is ignored
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        xdg = str(home / ".config")
    return [(cwd if cwd is not None else Path.cwd()) / DEFAULT_FILE_NAME,
            Path(xdg) / "resync-tui" / DEFAULT_FILE_NAME,
            system_dir / DEFAULT_FILE_NAME]


def find_settings_file(path: Path | str | None = None, env: Mapping[str, str] | None = None,
                       *, cwd: Path | None = None,
                       system_dir: Path = SYSTEM_CONFIG_DIR) -> Path | None:
    """The settings file to read: ``path`` (--config), else $RESYNC_CONFIG, else the first
    of :func:`settings_search_path` that exists; None means code defaults.

    A file named by --config or RESYNC_CONFIG must exist (a typo must not silently run
    the defaults); the searched places are just skipped.
    """
    env = os.environ if env is None else env
    if path is not None and str(path):
        named = Path(path).expanduser()
        if not named.exists():
            raise SettingsError(f"{named}: settings file not found")
        return named
    if env.get(CONFIG_ENV):
        named = Path(env[CONFIG_ENV]).expanduser()
        if not named.exists():
            raise SettingsError(f"{named}: settings file not found (named by {CONFIG_ENV})")
        return named
    for candidate in settings_search_path(env, cwd=cwd, system_dir=system_dir):
        if candidate.is_file():
            return candidate
    return None


def _read_document(file_path: Path | None) -> tuple[dict[str, Any], str]:
    if file_path is None:
        return {}, "defaults"
    origin = str(file_path)
    try:
        with file_path.open("rb") as fh:
            return tomllib.load(fh), origin
    except FileNotFoundError:
        raise SettingsError(f"{origin}: settings file not found") from None
    except OSError as exc:
        raise SettingsError(f"{origin}: cannot read settings file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{origin}: not valid TOML ({exc})") from None


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None,
                  *, cwd: Path | None = None,
                  system_dir: Path = SYSTEM_CONFIG_DIR) -> Settings:
    """Read settings from the file :func:`find_settings_file` picks, then the environment.

    No file found means defaults plus environment. Raises :class:`SettingsError` listing
    every problem (a file that cannot be read or parsed is the only one then).
    """
    env = os.environ if env is None else env
    document, origin = _read_document(
        find_settings_file(path, env, cwd=cwd, system_dir=system_dir))
    problems: list[str] = []
    origins: dict[str, str] = {}

    overrides = _env_overrides(env)
    known = [*SECTIONS, *NAMED_SECTIONS, *ARRAY_SECTIONS]
    for section in document:
        if section not in known:
            close = difflib.get_close_matches(section, known, n=1, cutoff=0.6)
            hint = f"did you mean [{close[0]}]? " if close else ""
            problems.append(f"{origin}: unknown section [{_name(section)}]; {hint}"
                            f"allowed: {', '.join(sorted(known))}")
    for section in list(overrides):
        top = section.split(".")[0]
        names = ", ".join(sorted(_name(name) for _, name in overrides[section].values()))
        if section == "breakers":
            problems.append(f"environment: {names} names no breaker; allowed: "
                            f"{ENV_PREFIX}BREAKERS__<NAME>__<KEY>, NAME one of "
                            f"{', '.join(BREAKER_NAMES)} (or a [breakers.<name>] of the file)")
            del overrides[section]
        elif top not in known:
            problems.append(f"environment: unknown section '{_name(top)}' in {names}; "
                            f"allowed: {', '.join(sorted(known))}")
            del overrides[section]

    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        sections[name] = _build(cls, document.get(name, {}), origin, name,
                                overrides.get(name, {}), problems, origins)

    breaker_tables = document.get("breakers", {})
    if not isinstance(breaker_tables, Mapping):
        problems.append(f"{origin}: [breakers] must be a table of [breakers.<name>] tables")
        breaker_tables = {}
    breaker_names = list(BREAKER_NAMES) + [n for n in breaker_tables if n not in BREAKER_NAMES]
    breaker_names += [s.split(".", 1)[1] for s in overrides
                      if s.startswith("breakers.") and s.split(".", 1)[1] not in breaker_names]
    sections["breakers"] = {
        name: _build(BreakerSettings, breaker_tables.get(name, {}), origin, f"breakers.{name}",
                     overrides.get(f"breakers.{name}", {}), problems, origins,
                     base=BREAKER_DEFAULTS.get(name))
        for name in breaker_names
    }

    sections["keymap"] = _load_keymap(document.get("keymap", {}), origin, overrides,
                                      problems, origins)
    sections["themes"], declared = _load_themes(document.get("themes", {}), origin,
                                                overrides, problems, origins)
    sections["alerts"] = _load_alerts(document.get("alerts", []), origin, overrides,
                                      problems, origins)
    sections["views"] = _load_views(document.get("views", {}), origin, overrides,
                                    problems, origins)
    where = {key: ("environment" if value.startswith(ENV_PREFIX) else value)
             for key, value in origins.items()}
    problems.extend(_theme_choice_problems(sections["ui"], declared, where, origin))
    engines = _load_engines(document.get("engines", {}), origin, overrides, env, problems,
                            origins)
    if engines:
        hwa_given = ("hwa" in document, "hwa" in overrides)
        if any(hwa_given):
            by = origin if hwa_given[0] else ", ".join(
                sorted(_name(n) for _, n in overrides["hwa"].values()))
            problems.append(
                f"{by}: [hwa] and [engines.<name>] both given; allowed: one of them ([hwa] "
                "is the single-engine form: move its keys into an [engines.<name>])")
        sections["engines"] = engines
        chosen = sections["ui"].engine or next(iter(engines))
        if chosen not in engines:
            problems.append(
                f"{where.get('ui.engine', origin)}: key 'ui.engine': bad value "
                f"{_name(chosen)!r}; allowed: empty or one of {', '.join(engines)}")
        else:
            sections["hwa"], sections["engine"] = engines[chosen], chosen
    else:
        if sections["ui"].engine:
            problems.append(
                f"{where.get('ui.engine', origin)}: key 'ui.engine': bad value "
                f"{_name(sections['ui'].engine)!r}; allowed: empty (there is no "
                "[engines.<name>], only the single engine of [hwa])")
        sections["hwa"] = _resolve_hwa(sections["hwa"], "hwa", env, origin, where, origins,
                                       problems)
    try:
        sections["redis"] = _resolve_redis(sections["redis"], env, where, origins)
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)
    return Settings(**sections, source=origin,
                    origins={k: v for k, v in origins.items() if v != "default"})


def _resolve_hwa(hwa: HwaSettings, section: str, env: Mapping[str, str], origin: str,
                 where: Mapping[str, str], origins: dict[str, str],
                 problems: list[str]) -> HwaSettings:
    """One engine's URL and CA bundle checked, its password and token read: [hwa] from
    RESYNC_HWA__PASSWORD / __TOKEN, an [engines.NAME] from RESYNC_ENGINES__NAME__PASSWORD
    / __TOKEN, else the variable ``password_env`` / ``token_env`` names, else the file."""
    before = len(problems)
    try:
        _validate_url(hwa.url, where.get(f"{section}.url", origin), f"{section}.url",
                      ("http", "https"))
    except SettingsError as exc:
        problems.extend(exc.problems)
    if hwa.ca_bundle and not Path(hwa.ca_bundle).expanduser().is_file():
        problems.append(
            f"{where.get(f'{section}.ca_bundle', origin)}: key '{section}.ca_bundle': bad "
            f"value {hwa.ca_bundle!r}; allowed: an existing CA bundle file, or empty for the "
            "system trust store")
    secrets: dict[str, str] = {}
    for what, env_key, file_key in (("password", hwa.password_env, hwa.password_file),
                                    ("token", hwa.token_env, hwa.token_file)):
        direct = f"{ENV_PREFIX}{section.upper().replace('.', '__')}__{what.upper()}"
        try:
            secrets[what], origins[f"{section}.{what}"] = (
                (env[direct], direct) if env.get(direct) else
                _read_secret(env, env_key, file_key, what,
                             where.get(f"{section}.{what}_file", origin), section=section))
        except SettingsError as exc:
            problems.extend(exc.problems)
    if len(problems) != before:
        return hwa
    token = secrets.get("token", "")
    return dataclasses.replace(hwa, password=Secret(secrets.get("password", "")),
                               token=Secret(token) if token else None)


def _load_engines(tables: Any, origin: str, overrides: dict[str, dict[str, tuple[str, str]]],
                  env: Mapping[str, str], problems: list[str],
                  origins: dict[str, str]) -> dict[str, HwaSettings]:
    """[engines.NAME] tables (and RESYNC_ENGINES__NAME__KEY), each checked like [hwa]:
    the good engines by name, in file order. A name is unique ignoring case (the
    environment spells it in capitals), and each engine's password comes by default
    from RESYNC_ENGINES__NAME__PASSWORD, never from another engine's variable."""
    import re

    if not isinstance(tables, Mapping) or not all(
            isinstance(t, Mapping) for t in tables.values()):
        problems.append(f"{origin}: [engines] must be a table of [engines.<name>] tables")
        tables = {}
    if "engines" in overrides:
        found = ", ".join(sorted(_name(n) for _, n in overrides.pop("engines").values()))
        problems.append(f"environment: {found} names no engine; allowed: "
                        f"{ENV_PREFIX}ENGINES__<NAME>__<KEY> for an [engines.<name>]")
    by_folded: dict[str, str] = {}
    names: list[str] = []
    for name in tables:
        if name.lower() in by_folded:
            problems.append(f"{origin}: [engines.{_name(name)}]: the name is used twice "
                            f"(as {_name(by_folded[name.lower()])!r} too; names are compared "
                            "ignoring case); allowed: a name no other engine has")
            continue
        by_folded[name.lower()] = name
        names.append(name)
    env_tables: dict[str, dict[str, tuple[str, str]]] = {}
    for section in [s for s in overrides if s.startswith("engines.")]:
        folded = section.split(".", 1)[1]
        name = by_folded.get(folded)
        if name is None:  # an engine named only in the environment
            name = by_folded[folded] = folded
            names.append(name)
        env_tables[name] = overrides.pop(section)
    engines: dict[str, HwaSettings] = {}
    for name in names:
        section = f"engines.{name}"
        if "." in name or not re.fullmatch(ENGINE_NAME_PATTERN, name):
            problems.append(f"{origin}: [engines.{_name(name)}]: bad engine name; allowed: "
                            "letters, digits, _ and -, at most 32, a letter or digit first")
            continue
        before = len(problems)
        base = HwaSettings(password_env=f"{ENV_PREFIX}ENGINES__{name.upper()}__PASSWORD")
        hwa = _build(HwaSettings, tables.get(name, {}), origin, section,
                     env_tables.get(name, {}), problems, origins, base=base)
        where = {k: ("environment" if v.startswith(ENV_PREFIX) else v)
                 for k, v in origins.items()}
        hwa = _resolve_hwa(hwa, section, env, origin, where, origins, problems)
        if len(problems) == before:
            engines[name] = hwa
    return engines


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"jobs": {"next_failure": "x"}}`` (an unquoted ``jobs.next_failure = "x"``) ->
    ``{"jobs.next_failure": "x"}``: both spellings of a binding id work."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _load_alerts(tables: Any, origin: str, overrides: dict[str, dict[str, tuple[str, str]]],
                 problems: list[str], origins: dict[str, str]) -> tuple[AlertSettings, ...]:
    """[[alerts]] tables, each checked like a section; names required and unique, the
    webhook an http(s) URL, ``match`` a table of patterns on the known fields. Rules
    come from the file only (an array has no environment spelling)."""
    for section in [s for s in overrides if s == "alerts" or s.startswith("alerts.")]:
        names = ", ".join(sorted(_name(n) for _, n in overrides.pop(section).values()))
        problems.append(f"environment: {names}: alert rules are set in the settings file "
                        "only ([[alerts]] tables)")
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        problems.append(f"{origin}: alerts must be [[alerts]] tables (an array of tables)")
        return ()
    rules: list[AlertSettings] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        section = f"alerts[{index}]"
        before = len(problems)
        body = {key: value for key, value in table.items() if key != "match"}
        rule: AlertSettings = _build(AlertSettings, body, origin, section, {}, problems, origins)
        match = table.get("match", {})
        if not isinstance(match, Mapping) or not all(
                key in ALERT_MATCH_FIELDS and isinstance(value, str) and value
                for key, value in match.items()):
            problems.append(f"{origin}: key '{section}.match': bad value {_name(str(match))}; "
                            f"allowed: a table of {', '.join(ALERT_MATCH_FIELDS)} = \"PATTERN\" "
                            "(@ any characters, ? one)")
            match = {}
        if not rule.name:
            problems.append(f"{origin}: key '{section}.name': missing; allowed: a name for "
                            "the rule (unique)")
        elif rule.name in seen:
            problems.append(f"{origin}: key '{section}.name': bad value {_name(rule.name)!r}; "
                            "allowed: a name no other [[alerts]] rule has")
        seen.add(rule.name)
        if rule.webhook:
            try:
                _validate_url(rule.webhook, origin, f"{section}.webhook", ("http", "https"))
            except SettingsError as exc:
                problems.extend(exc.problems)
        if match:
            origins[f"{section}.match"] = origin
        if len(problems) == before:
            rules.append(dataclasses.replace(rule, match=dict(match)))
    return tuple(rules)


def _load_keymap(table: Any, origin: str, overrides: dict[str, dict[str, tuple[str, str]]],
                 problems: list[str], origins: dict[str, str]) -> dict[str, str]:
    """[keymap] and RESYNC_KEYMAP__JOBS__NEXT_FAILURE=x, checked against the app's
    bindings (unknown ids, bad keys, clashes). The check imports the UI's binding
    tables, so it runs only when a keymap is given."""
    if not isinstance(table, Mapping):
        problems.append(f"{origin}: [keymap] must be a table of binding id = \"key\"")
        table = {}
    keymap: dict[str, Any] = _flatten(table)
    for bid in keymap:
        origins[f"keymap.{bid}"] = origin
    for section in [s for s in overrides if s == "keymap" or s.startswith("keymap.")]:
        for key, (value, name) in overrides.pop(section).items():
            bid = ".".join([*section.split(".")[1:], key])
            keymap[bid] = value
            origins[f"keymap.{bid}"] = name
    if not keymap:
        return {}
    from resync_tui.ui.keymap import keymap_problems

    found = keymap_problems(keymap, lambda bid: origins.get(f"keymap.{bid}", origin))
    problems.extend(found)
    return {} if found else {bid: str(keys) for bid, keys in keymap.items()}


def _load_themes(tables: Any, origin: str, overrides: dict[str, dict[str, tuple[str, str]]],
                 problems: list[str], origins: dict[str, str]
                 ) -> tuple[dict[str, ThemeSettings], list[str]]:
    """[themes.NAME] tables (and RESYNC_THEMES__NAME__KEY), colours checked: the good
    themes, and every name declared (a bad theme is reported once, not again by the
    ui.theme naming it)."""
    if not isinstance(tables, Mapping):
        problems.append(f"{origin}: [themes] must be a table of [themes.<name>] tables")
        tables = {}
    names = list(tables) + [s.split(".", 1)[1] for s in overrides
                            if s.startswith("themes.") and s.split(".", 1)[1] not in tables]
    if "themes" in overrides:
        found = ", ".join(sorted(_name(n) for _, n in overrides.pop("themes").values()))
        problems.append(f"environment: {found} names no theme; allowed: "
                        f"{ENV_PREFIX}THEMES__<NAME>__<KEY> for a [themes.<name>]")
    if not names:
        return {}, []
    from resync_tui.ui.themes import theme_problems

    themes: dict[str, ThemeSettings] = {}
    for name in names:
        before = len(problems)
        theme = _build(ThemeSettings, tables.get(name, {}), origin, f"themes.{name}",
                       overrides.pop(f"themes.{name}", {}), problems, origins)
        where = {k: ("environment" if v.startswith(ENV_PREFIX) else v)
                 for k, v in origins.items()}
        problems.extend(theme_problems(name, theme, where, origin))
        if len(problems) == before:
            themes[name] = theme
    return themes, names


_DEFAULT_THEMES: Final = frozenset({"textual-dark", "textual-light"})
"""Built-ins known without importing Textual (a quarter second that ``check``, run by a
monitoring system every minute, and the other commands without a screen need not pay)."""


def _load_views(tables: Any, origin: str, overrides: dict[str, dict[str, tuple[str, str]]],
                problems: list[str], origins: dict[str, str]) -> dict[str, ViewSettings]:
    """[views.NAME] tables (and RESYNC_VIEWS__NAME__QUERY): each query compiled and each
    sort checked here, so a typo is a settings error naming the view, not a view that
    silently shows everything."""
    from resync_tui.model.jobs_view import parse_sort
    from resync_tui.model.query import parse_query

    if not isinstance(tables, Mapping):
        problems.append(f"{origin}: [views] must be a table of [views.<name>] tables")
        tables = {}
    names = list(tables) + [s.split(".", 1)[1] for s in overrides
                            if s.startswith("views.") and s.split(".", 1)[1] not in tables]
    if "views" in overrides:
        found = ", ".join(sorted(_name(n) for _, n in overrides.pop("views").values()))
        problems.append(f"environment: {found} names no view; allowed: "
                        f"{ENV_PREFIX}VIEWS__<NAME>__<KEY> for a [views.<name>]")
    views: dict[str, ViewSettings] = {}
    for name in names:
        before = len(problems)
        view = _build(ViewSettings, tables.get(name, {}), origin, f"views.{name}",
                      overrides.pop(f"views.{name}", {}), problems, origins)
        for key in ("query", "sort"):
            where = origins.get(f"views.{name}.{key}", origin)
            where = "environment" if where.startswith(ENV_PREFIX) else where
            value = getattr(view, key)
            if key == "query":
                message = parse_query(value).error
            else:
                try:
                    parse_sort(value)
                    message = None
                except ValueError as exc:
                    message = str(exc)
            if message is not None:
                problems.append(f"{where}: key 'views.{_name(name)}.{key}': bad value "
                                f"{value!r}; {message}")
        if len(problems) == before:
            views[name] = view
    return views


def _theme_choice_problems(ui: UiSettings, themes: Sequence[str],
                           where: Mapping[str, str], origin: str) -> list[str]:
    """ui.theme and ui.alternate_theme name a built-in or a [themes.NAME]."""
    problems: list[str] = []
    for key in ("theme", "alternate_theme"):
        value = getattr(ui, key)
        if (key == "alternate_theme" and not value) or value in themes \
                or value in _DEFAULT_THEMES:
            continue
        from textual.theme import BUILTIN_THEMES

        if value in BUILTIN_THEMES:
            continue
        mine = "".join(f", {_name(n)}" for n in themes)
        problems.append(
            f"{where.get(f'ui.{key}', origin)}: key 'ui.{key}': bad value {value!r}; allowed: "
            f"{'empty, or ' if key == 'alternate_theme' else ''}one of "
            f"{', '.join(BUILTIN_THEMES)}{mine} (or the name of a [themes.<name>])")
    return problems


def _resolve_sentinels(rs: RedisSettings, where: Mapping[str, str]) -> RedisSettings:
    """``sentinels`` (with ``sentinel_master``) or a redis+sentinel:// URL: both checked,
    and both ways end as the URL (which holds every sentinel, the master and the db)."""
    from resync_tui.resilience.redis_pool import parse_sentinel_url, parse_sentinels

    if rs.sentinels:
        try:
            hosts = parse_sentinels(rs.sentinels)
        except ValueError as exc:
            raise SettingsError(
                f"{where.get('redis.sentinels', 'defaults')}: key 'redis.sentinels': bad value "
                f"{list(rs.sentinels)!r}; allowed: HOST:PORT entries ({exc})") from None
        if not rs.sentinel_master:
            raise SettingsError(
                f"{where.get('redis.sentinel_master', 'defaults')}: key "
                "'redis.sentinel_master': bad value ''; allowed: the Sentinel name of the primary")
        db = 0
        if rs.url.startswith(("redis://", "rediss://")):
            path = urlsplit(rs.url).path.strip("/")
            db = int(path) if path.isdigit() else 0
        joined = ",".join(f"{h}:{p}" for h, p in hosts)
        return dataclasses.replace(rs, url=f"{SENTINEL_SCHEME}://{joined}/{rs.sentinel_master}/{db}")
    if rs.url.startswith(f"{SENTINEL_SCHEME}://"):
        try:
            parse_sentinel_url(rs.url)
        except ValueError as exc:
            raise SettingsError(
                f"{where.get('redis.url', 'defaults')}: key 'redis.url': bad value "
                f"{_masked_url(rs.url)!r}; allowed: {SENTINEL_SCHEME}://HOST:PORT[,HOST:PORT]"
                f"/MASTER[/DB] ({exc})") from None
    return rs


def _resolve_redis(rs: RedisSettings, env: Mapping[str, str], where: Mapping[str, str],
                   origins: dict[str, str]) -> RedisSettings:
    """Check the URL and CA file; take user and password out of the URL; read the password.

    The password comes from RESYNC_REDIS__PASSWORD, the variable named by
    ``password_env``, ``password_file``, or (accepted, not advised) the URL itself.
    ``where`` says, by key, which file (or "environment") set a value.
    """
    rs = _resolve_sentinels(rs, where)
    if rs.url == "embedded":
        return rs
    if not rs.url.startswith(f"{SENTINEL_SCHEME}://"):
        _validate_url(rs.url, where.get("redis.url", "defaults"), "redis.url",
                      ("redis", "rediss", "unix", SENTINEL_SCHEME))
    url, url_user, url_password = _split_credentials(rs.url)
    problems: list[str] = []
    if rs.ca_file:
        ca_where = where.get("redis.ca_file", "defaults")
        if urlsplit(url).scheme != "rediss":
            problems.append(
                f"{ca_where}: key 'redis.ca_file': bad value {rs.ca_file!r}; allowed: empty "
                "unless redis.url starts with rediss:// (TLS)")
        elif not Path(rs.ca_file).expanduser().is_file():
            problems.append(
                f"{ca_where}: key 'redis.ca_file': bad value {rs.ca_file!r}; allowed: an "
                "existing CA bundle file, or empty for the system trust store")
    password, source = "", "default"
    try:
        password, source = (
            (env[f"{ENV_PREFIX}REDIS__PASSWORD"], f"{ENV_PREFIX}REDIS__PASSWORD")
            if env.get(f"{ENV_PREFIX}REDIS__PASSWORD") else
            _read_secret(env, rs.password_env, rs.password_file, "password",
                         where.get("redis.password_file", "defaults"), section="redis"))
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)
    url_origin = origins.get("redis.url", "default")
    if not password and url_password:
        password, source = url_password, url_origin
    origins["redis.password"] = source
    if not rs.user and url_user:
        origins["redis.user"] = url_origin
    return dataclasses.replace(
        rs, url=url, user=rs.user or url_user, password=Secret(password),
        ca_file=str(Path(rs.ca_file).expanduser()) if rs.ca_file else "")


def _tables(settings: Settings) -> list[tuple[str, Any]]:
    tables: list[tuple[str, Any]] = [(name, getattr(settings, name)) for name in SECTIONS
                                     if not (name == "hwa" and settings.engines)]
    tables += [(f"breakers.{name}", bs) for name, bs in settings.breakers.items()]
    tables += [(f"themes.{name}", ts) for name, ts in settings.themes.items()]
    tables += [(f"views.{name}", vs) for name, vs in settings.views.items()]
    tables += [(f"engines.{name}", es) for name, es in settings.engines.items()]
    return tables + [(f"alerts[{index}]", rule) for index, rule in enumerate(settings.alerts)]


def _masked_webhook(url: str) -> str:
    """Scheme and host only: a Slack or Teams webhook's path is its credential."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    return f"{parts.scheme}://{parts.hostname or ''}/***"


def _toml_value(value: Any) -> str:
    """``value`` as a TOML literal; strings are escaped (json's escapes are TOML's), so
    nothing a file or the environment holds can reach the terminal as a control code."""
    if isinstance(value, Secret):
        return '"***"' if value else '""'
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}"
                                for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(str(value))


def explain_settings(settings: Settings) -> list[str]:
    """The effective settings for ``config show``: one ``section.key = value  # source``
    line per key (source: ``default``, the file's path or the variable's name), secrets
    as ``"***"``."""
    rows: list[tuple[str, str]] = []
    for name, section in _tables(settings):
        for f in dataclasses.fields(section):
            key = f"{name}.{f.name}"
            value = getattr(section, f.name)
            if isinstance(section, AlertSettings) and f.name == "webhook" and value:
                value = _masked_webhook(value)
            rows.append((f"{key} = {_toml_value(value)}",
                         _name(settings.origins.get(key, "default"))))
    from resync_tui.ui.keymap import binding_catalog  # the app's live binding ids

    for bid, info in binding_catalog().items():
        keys = settings.keymap.get(bid, ",".join(info.keys))
        rows.append((f"keymap.{bid} = {_toml_value(keys)}",
                     _name(settings.origins.get(f"keymap.{bid}", "default"))))
    width = max(len(assignment) for assignment, _ in rows)
    return [f"{assignment:<{width}}  # {source}" for assignment, source in rows]


def describe_settings() -> str:
    """Every key with its default and what is allowed: for ``--help`` and the docs."""
    lines: list[str] = []
    for name, section in _tables(Settings()):
        lines.append(f"[{name}]")
        for f in dataclasses.fields(section):
            if f.metadata.get("resolved"):
                continue
            lines.append(f"  {f.name} = {getattr(section, f.name)!r}  ({_describe(f)})")
    return "\n".join(lines)
