"""What the first frame does not need is not imported before it (issue 13: the demo's
first frame with data within 2.5x a bare Textual app's; ``bench/bench_startup.py``
measures it). Each screen opened on a key is imported when the key is pressed."""

from __future__ import annotations

import json
import subprocess
import sys

ON_A_KEY = (
    "resync_tui.ui.screens.help",  # ? (its Markdown pulls markdown-it and pygments in)
    "resync_tui.ui.screens.job_detail",  # Enter
    "resync_tui.ui.screens.bulk_action",  # A with marks
    "resync_tui.ui.screens.audit",  # L
    "resync_tui.ui.screens.alerts",  # !
    "resync_tui.ui.screens.export",  # E (its radio buttons, tempfile, csv)
    "resync_tui.ui.screens.confirm_action",  # a (the action menus, their option lists)
    "resync_tui.feeds.deps",  # Enter: the detail's loader (dependency chains, root causes)
    "resync_tui.model.rootcause",
    "markdown_it",
    "pygments",
)


_DASHBOARD_BUILT = (
    "import resync_tui.cli, resync_tui.ui.app\n"
    "from resync_tui.feeds.runtime import build_runtimes\n"
    "import dataclasses\n"
    "from resync_tui.settings import Settings\n"
    "base = Settings()\n"
    "engines = build_runtimes(base.replace(redis=dataclasses.replace(\n"
    "    base.redis, url='redis://127.0.0.1:6379/0')), lazy_redis=True)")
"""The dashboard's modules imported and its runtime built, as before its first frame."""


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_app_module_leaves_the_screens_opened_on_a_key_for_later() -> None:
    loaded = _imported_after("import resync_tui.ui.app")
    assert "resync_tui.ui.screens.dashboard" in loaded
    assert loaded.isdisjoint(ON_A_KEY), sorted(loaded & set(ON_A_KEY))


def test_the_demo_launches_its_engine_before_the_heavy_imports() -> None:
    """The simulator's process and the command line's own modules: no aiohttp, no plan,
    no Textual, no redis-py in the dashboard before the engine has been started."""
    loaded = _imported_after(
        "import resync_tui.cli, resync_tui.hwa.simulator.process, resync_tui.hwa.simulator.faults")
    heavy = {"aiohttp", "textual", "redis", "resync_tui.hwa.simulator.server",
             "resync_tui.hwa.simulator.plan"}
    assert loaded.isdisjoint(heavy), sorted(loaded & heavy)


def test_the_dashboard_is_built_without_redis_py() -> None:
    """redis-py takes a tenth of a second and more to import: the dashboard's modules, its
    settings and its runtime (the Redis client is built on first use, after the first
    frame with data) do without it."""
    loaded = _imported_after(_DASHBOARD_BUILT)
    assert not {m for m in loaded if m == "redis" or m.startswith("redis.")}


def test_the_dashboard_reads_no_package_metadata_before_its_first_frame() -> None:
    """importlib.metadata (zipfile, email, … 25 ms) answers ``--version`` and goes into a
    recording's header: the dashboard without ``--record`` never needs it."""
    loaded = _imported_after("import resync_tui.cli, resync_tui.ui.app")
    assert "importlib.metadata" not in loaded


def test_the_demo_starts_its_first_read_before_textual_is_imported() -> None:
    """``demo`` reads the plan while the UI is imported (``FirstRead``): building it, and
    the file logging set up before it, import neither Textual nor redis-py."""
    loaded = _imported_after(
        "import resync_tui.cli as cli\n"
        "from resync_tui.feeds.runtime import FirstRead\n"
        "import dataclasses, tempfile\n"
        "from resync_tui.settings import Settings\n"
        "base = Settings()\n"
        "settings = base.replace(redis=dataclasses.replace(\n"
        "    base.redis, url='redis://127.0.0.1:6379/0'), logging=dataclasses.replace(\n"
        "    base.logging, file=tempfile.mkdtemp() + '/app.log'))\n"
        "cli._setup_logging(settings, devtools=False)\n"
        "with FirstRead(settings) as first:\n"
        "    pass")
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "redis")}


def test_the_demo_without_a_recording_does_not_load_the_recording_format() -> None:
    """``demo`` catches a recording's error; the format behind it (every state's record
    type) is loaded only when ``--record`` asks for it."""
    loaded = _imported_after(
        "import resync_tui.cli, resync_tui.ui.app\n"
        "from resync_tui.feeds.runtime import FirstRead\n"
        "from resync_tui.record.errors import RecordingError\n"
        "from resync_tui.redis_server import EmbeddedRedisError")
    assert "resync_tui.record.format" not in loaded


def test_the_demo_command_line_leaves_the_other_commands_options_unbuilt() -> None:
    """Parsing ``demo`` builds only its own options: the check plugin's and ``jobs``'
    modules (and their options) stay out of the dashboard's start."""
    loaded = _imported_after(
        "import resync_tui.cli as cli\n"
        "argv = ['--config', 's.toml', 'demo', '--jobs', '10', '--no-faults']\n"
        "args = cli.build_parser(cli.command_word(argv)).parse_args(argv)\n"
        "assert (args.command, args.jobs, args.no_faults) == ('demo', 10, True), args")
    assert loaded.isdisjoint({"resync_tui.check", "resync_tui.jobs_command"}), \
        sorted(loaded & {"resync_tui.check", "resync_tui.jobs_command"})


def test_the_dashboard_is_built_without_prometheus_client() -> None:
    """prometheus_client's package loads its HTTP server and exposition modules (~8 ms):
    the runtime records the first read's requests and builds the registry later (the
    app, after its first frame; a scrape; a test)."""
    loaded = _imported_after(
        f"{_DASHBOARD_BUILT}\n"
        "engines.get(engines.names[0]).metrics.observe_request('GET /plan/job', 0.1, 'ok')")
    assert "prometheus_client" not in loaded


def test_the_dashboard_defines_no_dataclass_but_the_settings() -> None:
    """Defining a dataclass costs ~1 ms of the start (dataclasses ``exec``s the source of
    its methods), a ``msgspec.Struct`` ~13 us: the value objects on the start path are
    Structs. The settings stay dataclasses (``config check`` and the schema read their
    fields); a new dataclass on this path is a choice to make here, not by accident."""
    out = subprocess.run([sys.executable, "-c", (
        "import dataclasses, json\n"
        "made = []\n"
        "process = dataclasses._process_class\n"
        "def spy(cls, *args, **kwargs):\n"
        "    made.append(f'{cls.__module__}.{cls.__qualname__}')\n"
        "    return process(cls, *args, **kwargs)\n"
        "dataclasses._process_class = spy\n"
        f"{_DASHBOARD_BUILT}\n"
        "import resync_tui.settings as settings_module\n"
        "settings = sorted(f'resync_tui.settings.{cls.__qualname__}'\n"
        "                  for cls in vars(settings_module).values()\n"
        "                  if isinstance(cls, type) and dataclasses.is_dataclass(cls)\n"
        "                  and cls.__module__ == 'resync_tui.settings')\n"
        "print(json.dumps([sorted(m for m in made if m.startswith('resync_tui.')), settings]))"
    )], capture_output=True, text=True, timeout=120, check=True).stdout
    made, settings = json.loads(out.splitlines()[-1])
    assert "resync_tui.settings.Settings" in settings
    assert made == settings, sorted(set(made) - set(settings))
