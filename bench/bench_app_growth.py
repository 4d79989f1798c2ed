"""What grows in the whole dashboard, poll after poll, and who holds it.

The real app (``ResyncApp`` with every registry feed, as ``bench_jobs_pane`` builds it,
headless through ``run_test``) against the simulator in a subprocess (``--jobs``, the
plan moving at ``--time-scale``) over an embedded redis-server, every feed polling at
its settings' interval with the HWA poll interval set to ``--interval`` seconds.

tracemalloc (25 frames) starts after jobs poll ``--first - 1``; snapshots are taken after
poll ``--first`` and after poll ``--polls`` (a full collection before each). Figures:

* ``growth_kb_per_poll_<owner>``: Python memory kept between the two snapshots per jobs
  poll, by owner (the innermost ``resync_tui`` module on the allocation's traceback,
  else the innermost third-party package);
* ``site<N>_kb_per_poll``/``site<N>``: the top allocation sites by growth (traceback
  compare, innermost project frame named);
* ``objects_grown_<type>``: ``gc.get_objects()`` census difference (tracked objects only);
* ``sim_*``: the simulated plan's size at each end (does the plan itself grow?);
* ``rss_*_mb`` and ``load_1m``.

RSS under tracemalloc includes tracemalloc's own traces: compare the traced figures.

Measured (``--jobs 50000 --first 3 --polls 10 --interval 5``, 7 jobs polls = 525 s
between the snapshots, two runs side by side, load 3.1-3.3), before -> after this
branch's fixes: traced growth 298 -> 281 KB per jobs poll (~2.1 MB -> ~2.0 MB in 525 s),
of which the header 121 -> 104 KB (Rich's ``cached_cell_len`` LRU and Textual's Content
strings: a new header line each second, bounded at 4096 strings, so it plateaus after
~68 minutes), Textual 50 -> 80 (compositor/Strip FIFO caches, bounded; noisy),
``feeds/workstations`` 57 -> 37 (time-bucketed L1 key: before, kept up to
``l1_max_entries`` = 10k reads; after, the last ~21 reads of the 315 s stale window,
flat once that window is full), ``ui/widgets/_pane`` 26 -> 9 (hidden panes' repaint
regions), ``hwa/client`` 18 -> 24 (the decode of the poll in flight). The jobs view and
``model/job_row`` grew < 0.5 KB per poll. The plan does not grow: 50,000 jobs and 3,980
streams at both ends (HOLD 18,076 -> 12,368, SUCC 30,232 -> 35,806: jobs running).

``--every K`` (traced): a snapshot every K jobs polls from ``--first`` to ``--polls``; per
window the traced growth by owner (``wNN_polls<a>-<b>_owner_*_kb_per_poll``), per site the
KB held at each checkpoint (``topNN_held_kb_by_checkpoint``: a bounded cache levels off, a
leak keeps climbing), the entries of every ``functools.lru_cache`` and of the Textual
``LRUCache``/``FIFOCache`` the widgets hold against their bound (``cache_*``), and the
tracked objects by type. ``--side-speedup X`` divides the side panes' intervals by X (the
header's clock and the freshness tick stay at 1 s: what they feed grows by the second, not
by the poll); this bench's own records are left out of the traces.

Measured (``--jobs 2000 --first 5 --polls 65 --every 10 --interval 5 --side-speedup 2``:
60 jobs polls after the 5th, 26-29 min under tracemalloc, i.e. a 30-s dashboard's 30
minutes of polls; load 1.9-3.6 with other sessions' work), the code before -> after the
tab-mark fix, traced growth per jobs poll by window of 10 polls: before 126, 101, (252:
1.9 MB of this bench's own interned paths), 37, 37, 30 KB; after 141, 107, -4, 13, 2,
48. Traced total after: 4.4 MB at poll 35 (21.5 min), 4.6 at 45 and 55, 5.1 at 65 (the
last window's +0.4 MB is Textual's strip caches at that instant: its owner swings
1.0-1.5 MB from checkpoint to checkpoint). By owner and site:

* the header: 53 KB -> 622, 887, 1,065, then 1,075, 1,065, 1,057 KB: its per-second line
  (clock, data age) enters Rich's ``cached_cell_len`` (``lru_cache(4096)``, which Textual's
  ``Content.cell_length`` uses for every text, no length limit), 839 -> 3,076 -> 4,096
  entries at minute 14 and full from then on: bounded, its ceiling ~1.1 MB here (a 4096
  fill of 110-char strings: 1.06 MB, 160-char: 1.26 MB, measured alone), reached in
  ~15-20 minutes whatever the plan's size;
* Textual's geometry caches: ``Region.overlaps`` and ``Region.translate`` full (1,024 of
  1,024) by minute 7, ``Region.intersection`` still filling (473 -> 1,219 of 4,096;
  ~0.3 KB an entry, so <= ~0.9 MB to come): the ``<string>:1`` site (Region's
  ``__new__``), 121 -> 271 KB, and the Region objects (1,654 -> 3,923) are these;
  compositor and Strip ``FIFOCache`` s swing with what is drawn, no trend;
* the plan's rows as the 60x plan runs through its day (``model/job_row`` and
  ``model/jobs_view`` sort keys, ``hwa/client`` decode: 0 -> 224, 233, 115 KB, flat from
  poll 35 on): bounded by the plan (it stops moving once its jobs ran), not by time;
* ours per poll after poll 35: workstations, panes, jobs table, redis pool, feeds each
  within +-2 KB a poll with no trend (workstations 224-253 KB, panes 123-144, jobs table
  333-346);
* the one leak found, fixed here: in a terminal wide enough for the grid the tab bar is
  never mounted, but each tab's mark was still set on every change and a Textual ``Tab``
  posts itself a ``Relabelled`` per label it is given, which a tab never mounted never
  reads: before, ``dashboard.py`` (the label) -> ``message.py`` 2 -> 51, 97, 145, 190,
  215, 234 KB and ``_tabs.py`` 1 -> 138 KB, still rising at the end (~6 KB a 5-s poll
  here, more with a busier plan); after, not in the top sites
  (``tests/ui/test_tab_marks_memory.py``).

``--no-trace`` (no tracemalloc): after every jobs poll, RSS (and by mapping: glibc's main
heap, anonymous, files), glibc's ``mallinfo2()`` (``c_arena`` from the system, ``c_hblkhd``
mmapped chunks, ``c_uordblks`` in use, ``c_fordblks`` free chunks kept), pymalloc's
arenas (``py_arenas_mb``, ``sys._debugmallocstats``) and live blocks (``py_used_mb``),
the tracked objects and page faults; figures are each series' first/last/max and
``_growth`` (the last quarter's mean minus the first's, from poll ``--first``). The app's
malloc policy (``resync_tui.allocator.DASHBOARD_POLICY``, as ``cli.py`` applies it) is
applied first; ``--no-policy`` keeps glibc's defaults, ``--mallopt NAME=BYTES`` applies
only the settings named, ``--no-app-trim`` stops the jobs feed's ``malloc_trim``.

Measured (``--no-trace --jobs 200000 --interval 10 --first 3``, two runs side by side,
load 1.3-4.9; a full read every poll for the first ~5 min while the plan moves, then
every 60 s):

* glibc defaults (the app before ``allocator``), 60 polls, 12.6 min: RSS mean 268.4 MB,
  max 276.6, growth +8.2, a saw-tooth 258 -> 276: each trim after a full read drops it
  to ~259 and within ~10 s the app's allocations fault the trimmed pages back. The C heap
  holds 63-65 MB from the system, 29-31 in use, 32-36 MB in free chunks (fragmented: the
  multi-MB page bodies and tables come from the heap once glibc raised its mmap threshold
  after the first freed one); pymalloc 201 -> 205 MB of arenas for 163-166 MB live. Live
  objects do not grow (``py_used_mb`` growth -0.2, tracked objects flat). Trims 21 ms mean,
  173 ms max (in a thread, but holding the arena's lock).
* policy with 2 arenas (mmap 256 KiB, trim 1 MiB fixed), 60 polls: mean 253.1, max 257.2,
  growth +5.3 (pymalloc 200 -> 209 in one step at poll 13, then flat); the C heap 22-25 MB,
  3-7 free, 10-13 MB mmapped at a sample (given back when freed). CPU 193 s vs 185.
* ``DASHBOARD_POLICY`` (1 arena), 45 polls, 9 min: mean 250.6, max 254.2, growth +2.5
  (C heap 23 MB, 3.8 free; pymalloc 207 -> 209); trims 2.2 ms mean, 16.6 max. The same
  without the trim (``--no-app-trim``): mean 253.2, max 255.4, growth +3.8. Again later
  (load 1.3): mean 246.8, max 251.2, trims 6.1 ms mean, 40.7 max, 66.5k page faults per
  full read, CPU 166 s.
* one setting at a time, 45 polls side by side: the mmap threshold alone (256 KiB) mean
  250.5, max 254.1, growth +4.2, trims 3.8 ms, 76k page faults per full read, CPU 168 s;
  one arena alone (the threshold dynamic) mean 252.7, max 258.1, growth +5.8 (its heap
  grows 30 -> 39 MB resident, 10-35 MB free chunks), trims 9.6 ms, 11k faults per read,
  CPU 163 s. The threshold does most; its price is ~55-65k more page faults per full
  read (the page bodies, ~250 MB a read, mmapped and zero-filled each time): CPU within
  the runs' noise (+2-3 %). At 1 MiB instead of 256 KiB: mean 244.5, max 247.4, the same
  faults (66.7k; the bodies are over 1 MiB anyway), CPU 164 s: no difference beyond the
  noise between runs (pymalloc's arenas differ by ~5 MB from run to run).

What is left is pymalloc's: ~45 MB of its 205-209 MB arenas are free blocks between live
ones after the first re-read (161 -> 201 MB at the first poll that changed many rows);
pymalloc frees an arena only when it is empty and never returns pages inside one, and no
mallopt reaches it.

``--reread``: the jobs feed alone (``JobsFeed.poll`` with a full read forced every
``--interval`` s, no UI), pymalloc after each read (``py_arenas_mb``, ``py_used_mb``) and
at its highest within the read (``py_*_mid_read_mb``, sampled every 50 slices of 200 jobs);
``reread_transient_mb`` is live memory at a re-read's highest minus after the first read,
``arenas_step_mb`` the arenas the re-reads added for good. Measured (``--reread --jobs
200000 --polls 10 --interval 10``, old then new one after the other, load 2.5-7.5 from
other sessions), the code before -> after the ``read_plan`` branch:

* what a re-read held at its highest: +20.4 MB of live objects -> +0.6 MB. The cause:
  the client's record of the ids it had seen (to drop a job seen twice) kept the
  decoded id strings, ~16 MB for 200k (one 72-96 B string each), and the row mapper
  kept every distinct time and duration it decoded (~4 MB), both until the read ended,
  allocated between the page transients; the decoded models themselves (a few pages
  at a time) were small beside them. One change at a time on the same path (a scratch
  run, 122.3 MB live after the first read, live at a re-read's highest): before 143.1,
  the lite decode alone 142.9, with the view's ids 127.1, mapped without the table 123.1;
* pymalloc's arenas: 132 -> 154 MB at the first re-read, for good (each re-read then
  reused that slack: the step of ``bench_app_rss``), against 131 -> 132 now; RSS after
  the re-reads 191.9 MB (+12.3 over the first read) -> 171.2 (-8.1, the trim);
* a re-read 4.65 s -> 3.37 s mean (each job decoded as a ``PlanJob``, 13 of its 19
  fields, no ``JobInPlan``), the process's CPU for 10 reads 43.2 s -> 30.4 s.

Live memory (``py_used_mb``) grows by the same ~0.1 MB over the 10 reads in both: the
plan's rows filling as jobs run, not a leak.

    .venv/bin/python bench/bench_app_growth.py [--jobs 50000] [--polls 40] [--interval 5]
    .venv/bin/python bench/bench_app_growth.py --jobs 2000 --first 5 --polls 65 --every 10 \
        --interval 5 --side-speedup 2
    .venv/bin/python bench/bench_app_growth.py --reread --jobs 200000 --polls 10 --interval 10
    .venv/bin/python bench/bench_app_growth.py --no-trace --jobs 200000 --interval 10 \
        --polls 60 [--no-policy | --mallopt mmap_threshold=262144 ...] [--csv FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import dataclasses
import functools
import gc
import itertools
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
from bench_plan_fetch import PASSWORD, USER, report, start_simulator, stop_simulator

from resync_tui import allocator
from resync_tui.feeds import jobs as jobs_feed
from resync_tui.feeds.runtime import build_runtime
from resync_tui.model.jobs_view import JobsView, PlanDiff
from resync_tui.redis_server import EmbeddedRedis
from resync_tui.settings import Secret, Settings
from resync_tui.ui import app as app_module
from resync_tui.ui.app import ResyncApp

ROOT = Path(__file__).resolve().parent.parent
PKG = str(ROOT / "resync_tui")
SIZE = (120, 40)
DEADLINE = 600.0
"""Longest one jobs poll may take (tracemalloc makes the app several times slower)."""


class GrowthApp(ResyncApp):
    """The dashboard, counting the jobs feed's published states."""

    CSS_PATH = str(Path(app_module.__file__).parent / ResyncApp.CSS_PATH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs_polls = 0
        self.full_reads = 0
        self.polled = asyncio.Event()

    def _publish(self, name: str, state: Any) -> None:
        super()._publish(name, state)
        if name == "jobs":
            self.jobs_polls += 1
            self.full_reads += bool(getattr(state, "full_read", False))
            self.polled.set()


def owner_of(tb: tracemalloc.Traceback) -> str:
    """The innermost project module on the traceback, else the innermost package."""
    frames = list(tb)  # oldest first
    for frame in reversed(frames):
        if frame.filename.startswith(PKG):
            rel = os.path.relpath(frame.filename, PKG)
            return "resync_tui/" + rel.removesuffix(".py")
    frame = frames[-1]
    parts = frame.filename.split(os.sep)  # not pathlib: it interns every part it parses
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return os.path.splitext(parts[-1])[0]


def where(tb: tracemalloc.Traceback) -> str:
    """Innermost project frame, and the innermost frame if it is elsewhere."""
    frames = list(tb)
    inner = frames[-1]
    inner_s = f"{os.path.basename(inner.filename)}:{inner.lineno}"
    for frame in reversed(frames):
        if frame.filename.startswith(PKG):
            mine = f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno}"
            return mine if frame is inner else f"{mine} -> {inner_s}"
    return inner_s


class _Mallinfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (2.33+): every field a ``size_t``."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def mallinfo2() -> dict[str, float]:
    """The C heap in MB, summed over glibc's arenas: ``arena`` (from the system, not
    mmapped), ``hblkhd`` (mmapped chunks), ``uordblks`` (in use), ``fordblks`` (free
    chunks kept, RSS only where not trimmed), ``keepcost`` (trimmable top); {} elsewhere."""
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _Mallinfo2
    info = fn()
    return {name: round(getattr(info, name) / 2**20, 2)
            for name in ("arena", "hblkhd", "uordblks", "fordblks", "keepcost")}


def pymalloc_stats() -> dict[str, float]:
    """pymalloc's arenas (``sys._debugmallocstats``, written to C stderr: a temp file
    stands in for fd 2 meanwhile), and ``sys.getallocatedblocks()``."""
    out: dict[str, float] = {"blocks": sys.getallocatedblocks()}
    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode("ascii", "replace")
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            out["arenas"] = int(line.rsplit("=", 1)[1].replace(",", ""))
        elif line.startswith("# arenas highwater mark"):
            out["arenas_highwater"] = int(line.rsplit("=", 1)[1].replace(",", ""))
        elif line.startswith("Total") and "arenas_mb" not in out:  # the arenas' total
            out["arenas_mb"] = round(int(line.rsplit("=", 1)[1].replace(",", "")) / 2**20, 2)
        elif line.startswith("# bytes in allocated blocks"):
            out["used_mb"] = round(int(line.rsplit("=", 1)[1].replace(",", "")) / 2**20, 2)
    return out


def census() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


async def sim_stats(admin: httpx.AsyncClient) -> dict[str, float]:
    try:
        response = await admin.get("/_sim/state")
        data = response.json()
    except (httpx.HTTPError, ValueError):
        return {}
    out = {k: v for k, v in data.items() if isinstance(v, (int, float))}
    out.update({f"count_{k}": v for k, v in (data.get("counts") or {}).items()
                if isinstance(v, (int, float))})
    return out


async def wait_polls(app: GrowthApp, n: int) -> None:
    """Until the jobs feed published ``n`` states (each within ``DEADLINE``)."""
    while app.jobs_polls < n:
        app.polled.clear()
        async with asyncio.timeout(DEADLINE):
            await app.polled.wait()
        print(f"jobs poll {app.jobs_polls}", file=sys.stderr, flush=True)


def settings_for(args: argparse.Namespace, url: str, redis_url: str) -> Settings:
    """The bench's settings; ``--side-speedup X`` divides the side panes' intervals (breakers,
    cache, Redis, workstations and streams) by X, down to each setting's minimum, so a
    short run holds as many of their polls as a longer one (the header's clock and the
    freshness tick stay at 1 s: those grow by the second)."""
    base = Settings()
    speed = max(getattr(args, "side_speedup", 1.0), 1.0)
    ui = dataclasses.replace(
        base.ui, breakers_interval=max(base.ui.breakers_interval / speed, 0.2),
        cache_interval=max(base.ui.cache_interval / speed, 0.2),
        workstations_interval=max(base.ui.workstations_interval / speed, 0.5))
    return base.replace(
        hwa=dataclasses.replace(base.hwa, url=url, user=USER, password=Secret(PASSWORD),
                                poll_interval=args.interval, read_timeout=60.0),
        redis=dataclasses.replace(base.redis, url=redis_url,
                                  poll_interval=max(base.redis.poll_interval / speed, 0.2)),
        ui=ui)


def resident_by_mapping() -> dict[str, float]:
    """Resident MB by kind of mapping (``/proc/self/smaps``): ``rss_heap`` (glibc's main
    arena), ``rss_anon`` (anonymous: pymalloc's 1 MiB arenas, which the kernel merges
    when adjacent, glibc's thread arenas, mmapped chunks, stacks), ``rss_file`` (code)."""
    out = dict.fromkeys(("rss_heap", "rss_anon", "rss_file"), 0.0)
    kind = "rss_anon"
    try:
        with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
            for line in smaps:
                head = line.split(None, 5)
                if "-" in head[0] and not head[0].endswith(":"):
                    name = head[5].strip() if len(head) > 5 else ""
                    if name == "[heap]":
                        kind = "rss_heap"
                    elif name.startswith("/"):
                        kind = "rss_file"
                    else:
                        kind = "rss_anon"
                elif head[0] == "Rss:":
                    out[kind] += int(head[1]) / 1024
    except OSError:
        return {}
    return {k: round(v, 1) for k, v in out.items()}


def memory_sample() -> dict[str, float]:
    """RSS by mapping, the C heap (``c_*``), pymalloc (``py_*``), the tracked objects."""
    out: dict[str, float] = {"rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1)}
    out.update(resident_by_mapping())
    out.update({f"c_{k}": v for k, v in mallinfo2().items()})
    out.update({f"py_{k}": v for k, v in pymalloc_stats().items()})
    out["objects"] = len(gc.get_objects())
    out["minflt"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt  # page faults so far
    return out


def write_csv(path: Path, series: list[dict[str, float]]) -> None:
    keys = list(series[0])
    lines = [",".join(keys), *(",".join(f"{row.get(k, '')}" for k in keys) for row in series)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


TRIMS: list[float] = []
"""Wall ms of each trim the jobs feed made (``--no-trace``)."""


def instrument_trim(enabled: bool) -> None:
    """Time the jobs feed's trim after a read, or (``--no-app-trim``) make it do nothing."""
    original = jobs_feed._trim_heap

    async def timed() -> None:
        if not enabled:
            return
        started = time.perf_counter()
        await original()
        TRIMS.append((time.perf_counter() - started) * 1e3)

    jobs_feed._trim_heap = timed


async def run_untraced(args: argparse.Namespace, url: str, redis_url: str) -> dict[str, Any]:
    """``--no-trace``: a memory sample after every jobs poll, nothing traced."""
    settings = settings_for(args, url, redis_url)
    runtime = build_runtime(settings)
    app = GrowthApp(runtime, settings)
    figures: dict[str, Any] = {"jobs": args.jobs, "polls": args.polls,
                               "interval_s": args.interval, "time_scale": args.time_scale,
                               "policy": args.policy_applied}
    series: list[dict[str, float]] = []
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        while app.jobs_polls < args.polls:
            await wait_polls(app, app.jobs_polls + 1)
            await pilot.pause()
            row = {"poll": float(app.jobs_polls), "full": float(app.full_reads),
                   "t_s": round(time.monotonic() - started, 1), "trims": float(len(TRIMS)),
                   **memory_sample()}
            series.append(row)
            print(" ".join(f"{k}={v:g}" for k, v in row.items()), file=sys.stderr, flush=True)
    await runtime.aclose()
    if args.csv:
        write_csv(Path(args.csv), series)
    steady = [r for r in series if r["poll"] >= args.first]
    quarter = max(len(steady) // 4, 1)
    for key in ("rss_mb", "rss_heap", "rss_anon", "rss_file", "c_arena", "c_hblkhd",
                "c_uordblks", "c_fordblks", "py_arenas_mb",
                "py_used_mb", "objects"):
        values = [r[key] for r in steady if key in r]
        if not values:
            continue
        figures[f"{key}_first"] = values[0]
        figures[f"{key}_last"] = values[-1]
        figures[f"{key}_max"] = max(values)
        figures[f"{key}_growth"] = round(
            sum(values[-quarter:]) / quarter - sum(values[:quarter]) / quarter, 2)
    figures["rss_steady_mean_mb"] = round(sum(r["rss_mb"] for r in steady) / len(steady), 1)
    figures["full_reads"] = steady[-1]["full"] - steady[0]["full"]
    figures["minutes_steady"] = round((steady[-1]["t_s"] - steady[0]["t_s"]) / 60, 1)
    if TRIMS:
        figures["trims"] = len(TRIMS)
        figures["trim_ms_mean"] = round(sum(TRIMS) / len(TRIMS), 1)
        figures["trim_ms_max"] = round(max(TRIMS), 1)
    figures["cpu_s"] = round(sum(psutil.Process().cpu_times()[:2]), 1)
    figures["minor_faults_per_full_read"] = round(
        (steady[-1]["minflt"] - steady[0]["minflt"]) / max(figures["full_reads"], 1))
    figures["load_1m"] = round(os.getloadavg()[0], 2)
    return figures


def traced(snapshot: tracemalloc.Snapshot) -> dict[tracemalloc.Traceback, int]:
    """Bytes held per allocation traceback (tracemalloc's own and importlib's left out)."""
    filters = [tracemalloc.Filter(False, tracemalloc.__file__),
               tracemalloc.Filter(False, "<frozen importlib._bootstrap*"),
               tracemalloc.Filter(False, __file__)]  # this bench's own records
    return {stat.traceback: stat.size
            for stat in snapshot.filter_traces(filters).statistics("traceback")}


def _lru_wrappers() -> dict[str, Any]:
    """Every ``functools.lru_cache`` of Rich, Textual and ours, found by walking the
    modules and their classes (``gc.get_objects`` cannot: the app freezes what was alive
    after the first read, ``resync_tui.gcpolicy``)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    for name, module in list(sorted(sys.modules.items())):
        if module is None or not name.startswith(("rich", "textual", "resync_tui")):
            continue
        for attr, value in list(vars(module).items()):
            values = [(attr, value)]
            if isinstance(value, type) and value.__module__ == name:
                values = [(f"{attr}.{k}", getattr(v, "__func__", v))
                          for k, v in vars(value).items()]
            for label, item in values:
                if isinstance(item, functools._lru_cache_wrapper) and id(item) not in seen:
                    seen.add(id(item))  # one cache, imported by several modules
                    found[f"lru:{name}.{label}"] = item
    return found


def cache_sizes(app: GrowthApp) -> dict[str, tuple[int, int | None]]:
    """Entries (and the bound) of every ``functools.lru_cache`` and of the Textual
    ``LRUCache`` / ``FIFOCache`` held by a widget or the app (instances of one size
    summed): a bounded cache still filling shows as entries below its bound."""
    from textual.cache import FIFOCache, LRUCache

    out: dict[str, tuple[int, int | None]] = {}
    for name, wrapper in _lru_wrappers().items():
        info = wrapper.cache_info()
        if info.currsize:
            out[name] = (info.currsize, info.maxsize)
    owners: list[Any] = [app, *app.screen_stack]
    for screen in app.screen_stack:
        owners.extend(screen.walk_children(with_self=False))
    seen: set[int] = set()
    for owner in owners:
        for slot in ("__dict__",):
            for value in getattr(owner, slot, {}).values():
                if isinstance(value, (LRUCache, FIFOCache)) and id(value) not in seen:
                    seen.add(id(value))
                    key = f"textual:{type(value).__name__}({value._maxsize})"
                    n, bound = out.get(key, (0, 0))
                    out[key] = (n + len(value), (bound or 0) + value._maxsize)
    return out


def by_owner(sizes: dict[tracemalloc.Traceback, int]) -> collections.Counter[str]:
    owners: collections.Counter[str] = collections.Counter()
    for tb, size in sizes.items():
        owners[owner_of(tb)] += size
    return owners


def by_site(sizes: dict[tracemalloc.Traceback, int]) -> collections.Counter[str]:
    sites: collections.Counter[str] = collections.Counter()
    for tb, size in sizes.items():
        sites[where(tb)] += size
    return sites


async def checkpoints(app: GrowthApp, args: argparse.Namespace) -> dict[str, Any]:
    """``--every K``: a snapshot every K jobs polls from ``--first`` to ``--polls``; per
    window, the growth by owner and by site (innermost project frame) in KB per poll and
    per minute, so a bounded cache (growth falling to ~0) shows apart from a leak
    (steady growth). Only the owners' and sites' totals are kept between snapshots."""
    figures: dict[str, Any] = {}
    gc.collect()
    sizes = traced(tracemalloc.take_snapshot())
    marks = [(app.jobs_polls, time.monotonic(), by_owner(sizes), by_site(sizes),
              sum(sizes.values()), len(gc.get_objects()))]
    caches = [cache_sizes(app)]
    censuses = [census()]
    del sizes
    while app.jobs_polls < args.polls:
        await wait_polls(app, min(app.jobs_polls + args.every, args.polls))
        gc.collect()
        sizes = traced(tracemalloc.take_snapshot())
        marks.append((app.jobs_polls, time.monotonic(), by_owner(sizes), by_site(sizes),
                      sum(sizes.values()), len(gc.get_objects())))
        caches.append(cache_sizes(app))
        censuses.append(census())
        del sizes
        poll, at, _, _, total, objects = marks[-1]
        prev = marks[-2]
        print(f"checkpoint poll {poll}: traced {total / 2**20:.1f} MB "
              f"(+{(total - prev[4]) / 1024:.0f} KB in {poll - prev[0]} polls, "
              f"{at - prev[1]:.0f} s), objects {objects}", file=sys.stderr, flush=True)
        window = marks[-1][3].copy()
        window.subtract(prev[3])
        for site, size in window.most_common(6):
            print(f"  {size / 1024:+8.1f} KB  {site}", file=sys.stderr, flush=True)
    first_owners, last_owners = marks[0][2], marks[-1][2]
    grown = last_owners.copy()
    grown.subtract(first_owners)
    first_sites, last_sites = marks[0][3], marks[-1][3]
    site_grown = last_sites.copy()
    site_grown.subtract(first_sites)
    top_owners = [o for o, v in grown.most_common(12) if v > 0]
    top_sites = [s for s, v in site_grown.most_common(20) if v > 0]
    for n, (a, b) in enumerate(itertools.pairwise(marks)):
        polls, minutes = max(b[0] - a[0], 1), max((b[1] - a[1]) / 60, 1e-6)
        tag = f"w{n:02d}_polls{a[0]}-{b[0]}"
        figures[f"{tag}_minutes"] = round((b[1] - a[1]) / 60, 2)
        figures[f"{tag}_traced_kb_per_poll"] = round((b[4] - a[4]) / 1024 / polls, 1)
        figures[f"{tag}_traced_kb_per_min"] = round((b[4] - a[4]) / 1024 / minutes, 1)
        figures[f"{tag}_objects_per_poll"] = round((b[5] - a[5]) / polls, 1)
        for owner in top_owners:
            figures[f"{tag}_owner_{owner}_kb_per_poll"] = round(
                (b[2][owner] - a[2][owner]) / 1024 / polls, 1)
    for k, site in enumerate(top_sites):
        figures[f"top{k:02d}_site"] = site
        figures[f"top{k:02d}_held_first_kb"] = round(first_sites[site] / 1024, 1)
        figures[f"top{k:02d}_held_kb_by_checkpoint"] = " ".join(
            f"{m[3][site] / 1024:.0f}" for m in marks)
    for owner in top_owners:
        figures[f"owner_{owner}_held_kb_by_checkpoint"] = " ".join(
            f"{m[2][owner] / 1024:.0f}" for m in marks)
    for name in sorted(set(caches[0]) | set(caches[-1])):
        first_n, last_n = caches[0].get(name, (0, 0))[0], caches[-1].get(name, (0, 0))[0]
        if last_n != first_n:
            bound = caches[-1].get(name, (0, None))[1]
            figures[f"cache_{name}_entries_by_checkpoint"] = " ".join(
                str(c.get(name, (0, 0))[0]) for c in caches) + f" (bound {bound})"
    grown_types = censuses[-1].copy()
    grown_types.subtract(censuses[0])
    for name, count in grown_types.most_common(12):
        if count > 0:
            figures[f"objects_{name}_by_checkpoint"] = " ".join(
                str(c[name]) for c in censuses)
    figures["checkpoint_polls"] = " ".join(str(m[0]) for m in marks)
    figures["checkpoint_minutes"] = " ".join(f"{(m[1] - marks[0][1]) / 60:.1f}" for m in marks)
    return figures


async def run(args: argparse.Namespace, url: str, redis_url: str) -> dict[str, Any]:
    settings = settings_for(args, url, redis_url)
    runtime = build_runtime(settings)
    app = GrowthApp(runtime, settings)
    process = psutil.Process()
    figures: dict[str, Any] = {"jobs": args.jobs, "polls": args.polls,
                               "interval_s": args.interval, "time_scale": args.time_scale}
    async with httpx.AsyncClient(base_url=url, timeout=30.0, trust_env=False) as admin, \
            app.run_test(size=SIZE) as pilot:
        await wait_polls(app, args.first - 1)
        tracemalloc.start(args.frames)
        await wait_polls(app, args.first)
        await pilot.pause()
        if args.every:
            figures.update(await checkpoints(app, args))
            figures["rss_last_mb"] = round(process.memory_info().rss / 2**20, 1)
            for k, v in (await sim_stats(admin)).items():
                figures[f"sim_last_{k}"] = v
            tracemalloc.stop()
            await runtime.aclose()
            figures["load_1m"] = round(os.getloadavg()[0], 2)
            return figures
        gc.collect()
        first_census = census()
        first = tracemalloc.take_snapshot()
        figures["rss_first_mb"] = round(process.memory_info().rss / 2**20, 1)
        for k, v in (await sim_stats(admin)).items():
            figures[f"sim_first_{k}"] = v
        started = time.monotonic()
        await wait_polls(app, args.polls)
        await pilot.pause()
        gc.collect()
        last = tracemalloc.take_snapshot()
        last_census = census()
        figures["rss_last_mb"] = round(process.memory_info().rss / 2**20, 1)
        figures["seconds_between"] = round(time.monotonic() - started, 1)
        for k, v in (await sim_stats(admin)).items():
            figures[f"sim_last_{k}"] = v
        tracemalloc.stop()
    await runtime.aclose()
    polls = max(args.polls - args.first, 1)
    filters = [tracemalloc.Filter(False, tracemalloc.__file__),
               tracemalloc.Filter(False, "<frozen importlib._bootstrap*")]
    first, last = first.filter_traces(filters), last.filter_traces(filters)
    diff = last.compare_to(first, "traceback")
    figures["traced_growth_kb_per_poll"] = round(sum(d.size_diff for d in diff) / 1024 / polls, 1)
    owners: collections.Counter[str] = collections.Counter()
    for stat in diff:
        owners[owner_of(stat.traceback)] += stat.size_diff
    for owner, size in owners.most_common():
        if abs(size) / 1024 / polls >= 0.5:
            figures[f"growth_kb_per_poll_{owner}"] = round(size / 1024 / polls, 1)
    for n, stat in enumerate(sorted(diff, key=lambda d: d.size_diff, reverse=True)[:30]):
        figures[f"site{n:02d}_kb_per_poll"] = round(stat.size_diff / 1024 / polls, 2)
        figures[f"site{n:02d}_count_diff"] = stat.count_diff
        figures[f"site{n:02d}"] = where(stat.traceback)
    grown = last_census.copy()
    grown.subtract(first_census)
    for name, count in sorted(grown.items(), key=lambda kv: -kv[1])[:15]:
        if count > 0:
            figures[f"objects_grown_{name}"] = count
    figures["load_1m"] = round(os.getloadavg()[0], 2)
    return figures


class _ProbedView(JobsView):
    """The feed's view, sampling pymalloc every ``PROBE_EVERY`` slices a read hands over."""

    PROBE_EVERY = 50

    def __init__(self) -> None:
        super().__init__()
        self.slices = 0
        self.peak: dict[str, float] = {}

    def plan_diff(self, mapper: Any = None) -> PlanDiff:
        return _ProbedDiff(self) if mapper is None else _ProbedDiff(self, mapper)


class _ProbedDiff(PlanDiff):
    __slots__ = ()

    def add(self, rows: Any) -> None:
        super().add(rows)
        view = self._view
        assert isinstance(view, _ProbedView)
        view.slices += 1
        if view.slices % view.PROBE_EVERY == 0:
            stats = pymalloc_stats()
            for key in ("arenas_mb", "used_mb"):
                view.peak[key] = max(view.peak.get(key, 0.0), stats.get(key, 0.0))


async def run_reread(args: argparse.Namespace, url: str, redis_url: str) -> dict[str, Any]:
    """``--reread``: the jobs feed alone (``JobsFeed.poll``, a full read forced each
    time, as the app's minute re-read), no UI: pymalloc after each poll and at its
    highest while the read runs (sampled every 50 slices of 200 jobs)."""
    settings = settings_for(args, url, redis_url)
    runtime = build_runtime(settings)
    view = _ProbedView()
    feed = jobs_feed.JobsFeed(runtime, view)
    figures: dict[str, Any] = {"jobs": args.jobs, "polls": args.polls,
                               "interval_s": args.interval, "mode": "reread"}
    series: list[dict[str, float]] = []
    try:
        for poll in range(1, args.polls + 1):
            view.peak = {}
            feed.force_full_read()
            started = time.monotonic()
            async with asyncio.timeout(DEADLINE):
                state = await feed.poll()
            if not state.health.ok:
                raise SystemExit(f"poll {poll} failed: {state.health.reason}")
            took = time.monotonic() - started
            gc.collect()
            stats = pymalloc_stats()
            row = {"poll": float(poll), "read_s": round(took, 2),
                   "changed": float(len(state.change.changed_ids)),
                   "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
                   "py_arenas_mb": stats.get("arenas_mb", 0.0),
                   "py_used_mb": stats.get("used_mb", 0.0),
                   "py_arenas_mid_read_mb": view.peak.get("arenas_mb", 0.0),
                   "py_used_mid_read_mb": view.peak.get("used_mb", 0.0)}
            series.append(row)
            print(" ".join(f"{k}={v:g}" for k, v in row.items()), file=sys.stderr, flush=True)
            await asyncio.sleep(max(args.interval - took, 0.0))
    finally:
        await runtime.aclose()
    if args.csv:
        write_csv(Path(args.csv), series)
    loaded, rereads = series[0], series[1:]
    figures["after_first_read_py_arenas_mb"] = loaded["py_arenas_mb"]
    figures["after_first_read_py_used_mb"] = loaded["py_used_mb"]
    figures["after_first_read_rss_mb"] = loaded["rss_mb"]
    if rereads:
        last = rereads[-1]
        figures["reread_py_used_mid_read_max_mb"] = max(r["py_used_mid_read_mb"]
                                                        for r in rereads)
        figures["reread_transient_mb"] = round(
            figures["reread_py_used_mid_read_max_mb"] - loaded["py_used_mb"], 2)
        figures["last_py_arenas_mb"] = last["py_arenas_mb"]
        figures["last_py_used_mb"] = last["py_used_mb"]
        figures["arenas_step_mb"] = round(last["py_arenas_mb"] - loaded["py_arenas_mb"], 2)
        figures["last_rss_mb"] = last["rss_mb"]
        figures["rss_step_mb"] = round(last["rss_mb"] - loaded["rss_mb"], 1)
        figures["reread_s_mean"] = round(sum(r["read_s"] for r in rereads) / len(rereads), 2)
    figures["cpu_s"] = round(sum(psutil.Process().cpu_times()[:2]), 1)
    figures["load_1m"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0,
                        help="hwa.poll_interval: the jobs feed's (and engine's) interval")
    parser.add_argument("--first", type=int, default=3, help="jobs poll of the first snapshot")
    parser.add_argument("--polls", type=int, default=40, help="jobs poll of the last snapshot")
    parser.add_argument("--frames", type=int, default=25,
                        help="tracemalloc's traceback depth (fewer: faster, coarser owners)")
    parser.add_argument("--every", type=int, default=0,
                        help="traced: a snapshot every N jobs polls, growth per window")
    parser.add_argument("--side-speedup", type=float, default=1.0,
                        help="divide the side panes' poll intervals by this")
    parser.add_argument("--no-trace", action="store_true",
                        help="no tracemalloc: RSS, mallinfo2 and pymalloc after every jobs poll")
    parser.add_argument("--csv", help="--no-trace: write the per-poll samples here")
    parser.add_argument("--no-policy", action="store_true",
                        help="leave glibc malloc's defaults (the app applies "
                             "allocator.DASHBOARD_POLICY at start)")
    parser.add_argument("--mallopt", action="append", default=[], metavar="NAME=BYTES",
                        help="instead of the app's policy: mmap_threshold, trim_threshold, "
                             "top_pad or arena_max (repeatable; with --no-policy: only these)")
    parser.add_argument("--no-app-trim", action="store_true",
                        help="the jobs feed does not malloc_trim after a big read")
    parser.add_argument("--reread", action="store_true",
                        help="the jobs feed alone, a full read every --interval seconds, no "
                             "UI: pymalloc after each read and at its highest within it")
    args = parser.parse_args()
    args.first = max(args.first, 2)
    args.polls = max(args.polls, args.first + 1)
    # As the app does at start (cli.py), before any thread or big allocation.
    chosen = {} if (args.no_policy or args.mallopt) else msgspec.structs.asdict(
        allocator.DASHBOARD_POLICY)
    for item in args.mallopt:
        name, _, value = item.partition("=")
        chosen[name] = int(value)
    args.policy_applied = " ".join(
        f"{k}={chosen[k]}:{'ok' if ok else 'refused'}"
        for k, ok in allocator.apply_policy(allocator.MallocPolicy(**chosen)).items()) or "none"
    instrument_trim(not args.no_app_trim)
    proc, url = start_simulator(args.jobs, args.time_scale)
    try:
        with EmbeddedRedis() as redis:
            runner = run_reread if args.reread else run_untraced if args.no_trace else run
            figures = asyncio.run(runner(args, url, redis.url))
    finally:
        stop_simulator(proc)
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
