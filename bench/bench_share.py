"""One poll for the whole NOC, with one process per dashboard: engine load, Redis load,
follower data age, failover, first plan.

The real path, every part in its own process: ``resync-tui sim`` (a living plan,
``--time-scale 1``: the engine's clock is this host's, so data ages are seconds), a real
redis-server, the leader as the real ``resync-tui poller``, and K followers, each a
``bench/share_follower.py`` process: the app's shared feeds (engine, jobs,
workstations, streams) built as ``ResyncApp.on_mount`` builds them, from the real
settings (``RESYNC_*`` environment, the defaults for everything not listed below),
without widgets. Every follower decodes the leader's snapshot into its own
``JobsView`` and applies each delta, as a dashboard does.

For each plan size (``--sizes``, default 5,000 and 200,000 jobs; figures prefixed
``j5k_``, ``j200k_``) and each K (``--ks``), one window of ``--seconds`` once every
follower shows the plan:

* ``k{K}_requests_per_poll``: engine requests (the simulator's ``/_sim/stats``
  counters) per poll interval made by the poller and the K followers, against
  ``k{K}_alone_requests_per_poll``: ONE dashboard without sharing
  (``share_follower.py --alone``) polling the same engine through the same window (so
  both see the same plan activity: a poll whose counts did not move skips the full
  read); ``k{K}_ratio`` = shared / alone (target ≤ 1.05 at K = 50). Each dashboard
  process counts the HTTP requests it sends itself: ``k{K}_follower_engine_requests``
  (the followers', 0 while the poller leads) and ``k{K}_follower_plan_polls`` (0).
  ``k{K}_ratio_per_poll`` divides by the plan polls each side made (the leader's:
  its deltas in the window): a 200k window holds a few polls, one more or less moves
  the per-interval ratio a lot.
* ``k{K}_redis_cmds_per_s``, ``k{K}_redis_kb_per_s``: Redis ``INFO stats`` deltas over
  the window (commands; bytes in + out), leader and followers together;
  ``k{K}_delta_rows_per_poll``: rows changed or removed per published delta.
* ``k{K}_age_p50_s`` / ``_p99_s``: the followers' data age, sampled every 0.1 s in each
  follower (this host's clock minus the ``last_success`` of the jobs state it shows),
  against ``k{K}_leader_age_...``: the leader's age at the same instants (its newest
  read published by then); ``k{K}_age_p99_over_leader_s`` = follower p99 minus leader
  p99 (target ≤ 1 s). ``k{K}_lag_p50_ms`` / ``_p99_ms``: from the leader's publication
  of a delta to a follower applying it.
* ``k{K}_failover_lease_s``, ``k{K}_failover_fresh_s``: the poller is ``kill -9``'d;
  seconds until a follower holds the lease, and until it has published a plan it read
  from the engine itself (target ``failover_target_s`` = ttl + one poll interval).
* ``k{K}_follower_rss_mb`` (largest at the end), ``_hwm_mb`` (largest peak),
  ``k{K}_followers_rss_total_mb`` / ``_pss_total_mb`` (shared pages counted once): the
  followers holding the plan; ``k{K}_ready_p50_s`` / ``_max_s``: a follower process's
  spawn to its first full plan shown (``k{K}_start_all_s``: all of them, in batches).
* ``k{K}_followers_streams_ok``: followers whose streams pane has the leader's data.
* ``k{K}_measured_k`` (and ``k{K}_fits`` = 0 when memory made it smaller, below).
* ``first_plan_{redis,engine}_s`` and ``_rss_mb`` (at the largest size): a fresh
  process's first full plan from the poller's snapshot in Redis, against reading it
  from the engine; each in its own process (best of 2), peak RSS from ``VmHWM``.

Memory, and the choice made: a follower holding the 200k plan measured 350-720 MB RSS
on the project machine before 2026-12-01's changes (its decoded snapshot held its own
copy of every name, status and time: ~90 MB more than the values it needs); it now
holds each distinct value once and measures ~240 MB, so 50 of them need ~12 GB: they
fit the default ``--budget-gb`` (13 GB) on the 24 GiB machine. Before each K the bench
projects K times the largest follower RSS seen at that size (or ``--follower-mb``); a K
that would not fit is cut to the largest that does, and said (``k{K}_fits: 0``,
``k{K}_measured_k``); while starting it also stops if the machine's ``MemAvailable``
falls under ``--keep-free-gb`` (3). The followers start in batches of ``--batch`` (5),
each batch showing the plan before the next starts, so decode peaks do not add up.

CPU: ``k{K}_follower_cpu_pct`` is a follower's CPU through the window (``/proc/PID/stat``;
it only follows: deltas applied, the leader's counted streams shown),
``k{K}_followers_cpu_cores`` all of them together, ``k{K}_leader_cpu_pct`` the leader's.
Failover: ``k{K}_failover_read_s`` is the new leader's first read, from taking the lease
to publishing it; ``k{K}_failover_as_delta`` 1 when that publication was a delta (the
followers keep their plan: ``k{K}_failover_reloads`` counts those that loaded it again).

Settings: 5k: ``hwa.poll_interval`` = ``--interval`` (2 s), ``share.lease_ttl`` =
``--ttl`` (3 s); 200k (``--big-from`` jobs and more): ``--big-interval`` (5 s; a 200k read
takes seconds) and ``--big-ttl`` (10 s); the rest (``share.follow_interval`` 0.5 s,
``redis.socket_timeout`` 0.5 s, ``ui.workstations_interval`` 15 s, ...) as shipped.

Last figures, 200k jobs, K = 1 / 10 / 50, one run on 2026-12-01 17:20-17:28 UTC (load 2.5 at
the start, 3.2 / 6.5 / 14.9 at each failover, 18 in the K = 50 window), against the run
before (K = 1 / 10 / 19, and K = 50 at load 43-51):

* follower CPU through the window 0.9 / 1.2 / 1.4 % each (0.70 cores for 50); an idle
  follower measured 9.3 % before (a 200k stream count on every delta);
* follower RSS 233 / 235 / 237 MB (11.6 GB for 50; was ~360 MB, 17.8 GB);
* engine requests vs one dashboard alone 0.89 / 0.98 / 0.74 (was 1.08, 0.80, 0.50 starved);
  followers' engine requests 0;
* follower age p99 over the leader's 0.31 / 0.05 / 0.19 s (was <= 0.31 s);
* failover: lease 10.0 / 7.7 / 6.2 s, first fresh publication 18.0 / 19.5 / 14.3 s (target
  15; was 21-57 s, and none within 90 s at K = 50), always a delta: 0 followers reloaded
  the plan. What is over 15 s is the new leader's 200k read, 8.0 / 11.8 / 8.1 s, with the
  unshared baseline dashboard reading the same simulator at the same time;
* first 200k plan from Redis 2.04 s, 216 MB peak, against 4.91 s, 221 MB from the engine
  (was 5.97 s, 315 MB against 6.90 s, 506 MB).

Usage: ``.venv/bin/python bench/bench_share.py [--sizes 5000,200000] [--ks 1,10,50]
[--seconds 20] [--big-seconds 30] [--quick]`` (``--quick``: 5k, K = 1 and 10, 10 s).
A script, not a test: pytest does not collect ``bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec
import redis
import zstandard

from resync_tui.redis_server import EmbeddedRedis
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Holder

REPO = Path(__file__).resolve().parents[1]
FOLLOWER = REPO / "bench" / "share_follower.py"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def mem_available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU (user + system) a process has used, from ``/proc/PID/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (the interpreter, libraries) counted once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextmanager
def simulator(jobs: int, time_scale: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "resync_tui", "sim", "--port", "0", "--jobs", str(jobs),
         "--time-scale", str(time_scale)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"simulator did not start: {line!r}")
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(30)


def engine_requests(url: str) -> int:
    stats = httpx.get(f"{url}/_sim/stats", timeout=30).json()
    return sum(n for path, n in stats["requests"].items() if "/_sim" not in path)


def redis_totals(r: redis.Redis) -> tuple[int, int]:
    info: dict[str, Any] = r.info("stats")
    return (int(info["total_commands_processed"]),
            int(info["total_net_input_bytes"]) + int(info["total_net_output_bytes"]))


@dataclass
class Size:
    """One plan size's run: the engine, and the settings every process reads."""

    jobs: int
    url: str
    redis_url: str
    interval: float
    ttl: float
    home: str
    logs: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "RESYNC_CONFIG": "", "HOME": self.home,
                "XDG_STATE_HOME": self.home, "RESYNC_HWA__URL": self.url,
                "RESYNC_HWA__USER": "demo", "RESYNC_HWA__PASSWORD": "demo",
                "RESYNC_REDIS__URL": self.redis_url, "RESYNC_SHARE__ENABLED": "true",
                "RESYNC_SHARE__LEASE_TTL": str(self.ttl),
                "RESYNC_HWA__POLL_INTERVAL": str(self.interval)}

    @property
    def keys(self) -> ShareKeys:
        return ShareKeys.for_engine(self.url)


@dataclass
class Dashboard:
    """One ``share_follower.py`` process and what it said."""

    proc: subprocess.Popen[str]
    log: str
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    ready: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    spawned: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, size: Size, name: str, *, alone: bool = False) -> Dashboard:
        path = size.logs / f"{name}.err"
        with path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, str(FOLLOWER), *(["--alone"] if alone else [])],
                env=size.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, cwd=REPO)
        dash = cls(proc, str(path))
        threading.Thread(target=dash._read, daemon=True).start()
        return dash

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event["after_spawn_s"] = time.monotonic() - self.spawned
            self.events.put(event)

    def wait(self, event: str, deadline: float) -> dict[str, Any]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"follower {self.proc.pid}: no {event!r} in time; its stderr "
                                 f"ends: {Path(self.log).read_text()[-1500:]}")
            try:
                got = self.events.get(timeout=min(left, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise SystemExit(f"follower {self.proc.pid} exited "
                                     f"{self.proc.returncode} before {event!r}") from None
                continue
            if got.get("event") == event:
                setattr(self, event, got)
                return got

    def ask_report(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("report\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class Poller:
    """``resync-tui poller``, the real headless leader, in its own process."""

    def __init__(self, size: Size, r: redis.Redis) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resync_tui", "poller"], env=size.env, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=(size.logs / "poller.err").open("a"))
        keys = size.keys
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # it leads, and its plan snapshot is in Redis
            holder = Holder.parse(r.get(keys.lease))
            if (holder is not None and holder.where.endswith(f":{self.proc.pid}")
                    and r.hget(keys.snapshot("jobs"), "version")):
                self.token = holder.token
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"the poller exited {self.proc.returncode}")
            time.sleep(0.1)
        raise SystemExit("the poller published no plan in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


_DELTA = msgspec.msgpack.Decoder()


def _timestamp(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def publications(r: redis.Redis, keys: ShareKeys, after: bytes | None = None
                 ) -> list[dict[str, Any]]:
    """The leader's jobs deltas still in the stream (those after the id ``after``): when
    published, the read they carry (its ``last_success``), the fence, and how many rows
    changed."""
    out = []
    start = b"(" + after if after is not None else "-"
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]],
                   r.xrange(keys.deltas("jobs"), min=start))
    for entry_id, fields in entries:
        if fields.get(b"kind") != b"delta":
            continue
        changed, removed, meta = _DELTA.decode(
            zstandard.ZstdDecompressor().decompress(fields[b"d"]))
        out.append({"id": entry_id, "fence": int(fields[b"fence"]), "ok": bool(meta.get("ok")),
                    "reason": str(meta.get("reason", "")),
                    "published": meta.get("published"),
                    "last_success": _timestamp(meta.get("last_success")),
                    "rows": len(changed) + len(removed)})
    return out


def snapshot_read_after(r: redis.Redis, keys: ShareKeys, fence: int, after: float) -> bool:
    """Whether the jobs snapshot is under ``fence`` and carries a read made after ``after``
    (a new leader publishes its first own read as a snapshot)."""
    got = cast(list[bytes | None], r.hmget(keys.snapshot("jobs"), ["fence", "meta"]))
    if got[0] is None or int(got[0]) != fence or got[1] is None:
        return False
    meta = _DELTA.decode(got[1])
    return (_timestamp(meta.get("last_success")) or 0) > after


def leader_age(timeline: list[tuple[float, float]], at: float) -> float | None:
    """The leader's data age at ``at``: ``at`` minus its newest read published by then."""
    best: float | None = None
    for published, last_success in timeline:
        if published > at:
            break
        best = last_success
    return None if best is None else at - best


def sweep_k(size: Size, r: redis.Redis, k: int, seconds: float, *, batch: int,
            budget_mb: float, keep_free_gb: float,
            per_follower_mb: float) -> tuple[dict[str, float], float]:
    """Poller + K followers; the figures, and the largest follower RSS seen."""
    p = f"k{k}_"
    out: dict[str, float] = {}
    fits = per_follower_mb * k <= budget_mb if per_follower_mb else True
    want = k if fits else max(1, int(budget_mb // per_follower_mb))
    if not fits:
        out[f"{p}fits"] = 0
        print(f"# {size.jobs} jobs: K={k} needs ~{per_follower_mb * k / 1024:.1f} GB "
              f"({per_follower_mb:.0f} MB each), over the {budget_mb / 1024:.0f} GB budget: "
              f"measuring K={want}", file=sys.stderr)
    r.flushall()
    poller = Poller(size, r)
    followers: list[Dashboard] = []
    # One dashboard alone (no sharing) polls the same engine through the same window:
    # the baseline sees the same plan activity (a poll whose counts did not move skips
    # the full read, so requests per poll follow how much the plan moves).
    alone = Dashboard.start(size, f"k{k}-alone", alone=True)
    try:
        alone.wait("ready", time.monotonic() + 600)
        started = time.monotonic()
        while len(followers) < want:
            if mem_available_gb() < keep_free_gb:
                print(f"# {size.jobs} jobs: MemAvailable under {keep_free_gb} GB after "
                      f"{len(followers)} followers: stopping there", file=sys.stderr)
                out[f"{p}fits"] = 0
                break
            group = [Dashboard.start(size, f"k{k}-{len(followers) + i}")
                     for i in range(min(batch, want - len(followers)))]
            followers += group
            for dash in group:
                dash.wait("ready", time.monotonic() + 600)
        out[f"{p}measured_k"] = len(followers)
        out[f"{p}start_all_s"] = time.monotonic() - started
        time.sleep(1.0)
        # Who leads now: the poller, unless it lost its lease while the followers started
        # (an overloaded host can stall a renewal past the ttl); then that follower leads.
        holder = Holder.parse(r.get(size.keys.lease))
        leader_token = holder.token if holder is not None else poller.token
        leader_pid = int(holder.where.split(":")[1]) if holder is not None else poller.proc.pid
        out[f"{p}poller_led"] = int(leader_pid == poller.proc.pid)
        t0 = time.time()
        req0 = engine_requests(size.url)
        cmds0, bytes0 = redis_totals(r)
        mates_pids = [d.proc.pid for d in followers if d.proc.pid != leader_pid]
        cpu0 = {pid: cpu_seconds(pid) for pid in (*mates_pids, leader_pid)}
        time.sleep(seconds)
        cpu1 = {pid: cpu_seconds(pid) for pid in cpu0}
        cmds1, bytes1 = redis_totals(r)
        total = engine_requests(size.url) - req0
        t1 = time.time()
        # What following costs: each follower's CPU in the window (it only applies deltas).
        spent = [(cpu1[pid] - cpu0[pid]) / (t1 - t0) for pid in mates_pids]
        out[f"{p}follower_cpu_pct"] = 100 * sum(spent) / max(len(spent), 1)
        out[f"{p}followers_cpu_cores"] = sum(spent)
        out[f"{p}leader_cpu_pct"] = 100 * (cpu1[leader_pid] - cpu0[leader_pid]) / (t1 - t0)
        out[f"{p}window_load_1min"] = os.getloadavg()[0]
        timeline_all = publications(r, size.keys)
        # Memory of the followers holding the plan, before the failover (a follower that
        # becomes leader reads the plan from the engine: that peak is a leader's).
        holding = [d.proc.pid for d in followers if d.proc.pid != leader_pid]
        rss = [rss_mb(pid) for pid in holding]
        out[f"{p}followers_pss_total_mb"] = sum(pss_mb(pid) for pid in holding)
        end = Holder.parse(r.get(size.keys.lease))
        out[f"{p}lease_kept_in_window"] = int(end is not None and end.token == leader_token)
        out[f"{p}lease_takeovers"] = (end.token - poller.token) if end is not None else -1

        # kill -9 the leader: lease taken by a follower, then its own fresh read published
        killed_at = time.time()
        killed = time.monotonic()
        os.kill(leader_pid, signal.SIGKILL)
        if leader_pid == poller.proc.pid:
            poller.proc.wait(10)
        target = size.ttl + size.interval
        lease_s = fresh_s = float("nan")
        new_token: int | None = None
        last_id = max((e["id"] for e in timeline_all), default=None,
                      key=lambda i: tuple(map(int, i.split(b"-"))))
        while time.monotonic() - killed < 4 * target + 30:
            if new_token is None:
                holder = Holder.parse(r.get(size.keys.lease))
                if holder is not None and holder.token != leader_token:
                    lease_s = time.monotonic() - killed
                    new_token = holder.token
            else:
                fresh = [e for e in publications(r, size.keys, last_id)
                         if e["fence"] == new_token and (e["last_success"] or 0) > killed_at]
                if fresh or snapshot_read_after(r, size.keys, new_token, killed_at):
                    fresh_s = time.monotonic() - killed
                    out[f"{p}failover_as_delta"] = int(bool(fresh))
                    break
            time.sleep(0.02)
        out[f"{p}failover_lease_s"] = lease_s
        out[f"{p}failover_fresh_s"] = fresh_s  # nan: none within the deadline below
        # The new leader's first read, from taking the lease to publishing it.
        out[f"{p}failover_read_s"] = fresh_s - lease_s
        out[f"{p}failover_load_1min"] = os.getloadavg()[0]
        out[f"{p}failover_deadline_s"] = 4 * target + 30

        alive = [d for d in (alone, *followers) if d.proc.pid != leader_pid]
        for dash in alive:
            dash.ask_report()
        deadline = time.monotonic() + 120
        for dash in alive:
            dash.wait("report", deadline)
    finally:
        for dash in (alone, *followers):
            dash.kill()
        poller.stop()

    # The followers' own requests: every process but the one that led in the window.
    reports = [d.report for d in followers if d.report is not None]
    mates = [d.report for d in followers if d.report is not None and d.proc.pid != leader_pid]
    readies = [d.ready for d in followers if d.ready is not None]
    assert alone.report is not None
    windowed = [at for at in alone.report["request_times"] if t0 <= at <= t1]
    alone_requests = len(windowed)
    follower_requests = sum(1 for rep in mates for at in rep["request_times"]
                            if t0 <= at <= t1)
    shared = total - alone_requests  # the poller's and the followers' requests
    polls_per_window = (t1 - t0) / size.interval
    out[f"{p}alone_requests_per_poll"] = alone_requests / polls_per_window
    out[f"{p}requests_per_poll"] = shared / polls_per_window
    out[f"{p}ratio"] = shared / max(alone_requests, 1)
    in_window = [e for e in timeline_all if e["fence"] == leader_token
                 and t0 <= (e["published"] or 0) <= t1]
    alone_polls = sum(1 for at in alone.report["poll_times"] if t0 <= at <= t1)
    out[f"{p}leader_plan_polls"] = len(in_window)
    # The leader's own health as it published it: a leader whose reads fail (a 200k read
    # past its deadline on a starved host) keeps publishing its last good data, ageing.
    out[f"{p}leader_ok_polls"] = sum(1 for e in in_window if e["ok"])
    for reason in sorted({e["reason"] for e in in_window if not e["ok"]}):
        print(f"# {size.jobs} jobs, K={k}: the leader published: {reason}", file=sys.stderr)
    out[f"{p}alone_plan_polls"] = alone_polls
    out[f"{p}ratio_per_poll"] = ((shared / max(len(in_window), 1))
                                 / (alone_requests / max(alone_polls, 1) or 1))
    out[f"{p}follower_engine_requests"] = follower_requests
    out[f"{p}follower_plan_polls"] = sum(1 for rep in mates for at in rep["poll_times"]
                                         if t0 <= at <= t1)
    out[f"{p}delta_rows_per_poll"] = (sum(e["rows"] for e in in_window)
                                      / max(len(in_window), 1))
    out[f"{p}redis_cmds_per_s"] = (cmds1 - cmds0) / (t1 - t0)
    out[f"{p}redis_kb_per_s"] = (bytes1 - bytes0) / (t1 - t0) / 1024

    timeline = sorted((e["published"], e["last_success"]) for e in timeline_all
                      if e["fence"] == leader_token and e["published"] and e["last_success"])
    ages: list[float] = []
    leader: list[float] = []
    for rep in mates:
        for at, age in rep["ages"]:
            if not t0 <= at <= t1:
                continue
            theirs = leader_age(timeline, at)
            if theirs is None:
                continue
            ages.append(age)
            leader.append(theirs)
    out[f"{p}age_p50_s"] = pct(ages, 50)
    out[f"{p}age_p99_s"] = pct(ages, 99)
    out[f"{p}leader_age_p50_s"] = pct(leader, 50)
    out[f"{p}leader_age_p99_s"] = pct(leader, 99)
    out[f"{p}age_p99_over_leader_s"] = out[f"{p}age_p99_s"] - out[f"{p}leader_age_p99_s"]
    out[f"{p}age_samples"] = len(ages)
    lags = [lag for rep in mates for at, lag in rep["lags"] if t0 <= at <= t1]
    out[f"{p}lag_p50_ms"] = pct(lags, 50) * 1000
    out[f"{p}lag_p99_ms"] = pct(lags, 99) * 1000
    biggest = max(rss, default=0.0)
    out[f"{p}follower_rss_mb"] = max(rss, default=float("nan"))
    out[f"{p}follower_hwm_mb"] = max((float(rep["hwm_mb"]) for rep in mates
                                      if rep["role"] == "follower"), default=float("nan"))
    out[f"{p}followers_rss_total_mb"] = sum(rss)
    out[f"{p}ready_p50_s"] = pct([float(rd["after_spawn_s"]) for rd in readies], 50)
    out[f"{p}ready_max_s"] = max((float(rd["after_spawn_s"]) for rd in readies),
                                 default=float("nan"))
    out[f"{p}followers_streams_ok"] = sum(1 for rep in reports if rep["streams_ok"])
    # Followers that loaded the whole plan again after the kill (a new leader's first
    # publication as a snapshot makes every one of them reload it; as a delta, none).
    out[f"{p}failover_reloads"] = sum(1 for rep in mates for at in rep["snapshot_loads"]
                                      if at > killed_at and rep["role"] == "follower")
    return out, biggest


def first_plan_child(mode: str, url: str, redis_url: str) -> None:
    """In a fresh process: the first full plan, from Redis or from the engine."""
    import asyncio
    import dataclasses

    from resync_tui.feeds.jobs import JobsFeed
    from resync_tui.feeds.runtime import build_runtime
    from resync_tui.feeds.shared import Share
    from resync_tui.model.jobs_view import JobsView
    from resync_tui.settings import load_settings
    from resync_tui.share.lease import Role

    async def main() -> float:
        settings = load_settings()
        settings = settings.replace(hwa=dataclasses.replace(settings.hwa, poll_interval=3600))
        runtime = build_runtime(settings)
        view = JobsView(clock=runtime.clock)
        started = time.perf_counter()
        if mode == "engine":
            state = await JobsFeed(runtime, view).poll()
            assert state.health.ok, state.health.reason
        else:
            share = Share(runtime, owner="bench:1:x")
            assert await share.election.step() is Role.FOLLOWER
            feed = share.wrap(JobsFeed(runtime, view), 3600)
            state = await feed.poll()
            assert state.health.ok, state.health.reason
        took = time.perf_counter() - started
        total = view.total
        await runtime.aclose()
        assert total > 0
        return took

    took = asyncio.run(main())
    hwm = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    print(json.dumps({"seconds": took, "rss_mb": hwm}))


def first_plan(size: Size, r: redis.Redis) -> dict[str, float]:
    """A fresh process's first plan from the poller's snapshot, against from the engine."""
    r.flushall()
    poller = Poller(size, r)
    out: dict[str, float] = {"first_jobs": size.jobs}
    try:
        for mode in ("engine", "redis"):
            best: dict[str, float] | None = None
            for _ in range(2):
                child = subprocess.run(
                    [sys.executable, __file__, "--child", mode, size.url, size.redis_url],
                    capture_output=True, text=True, cwd=REPO, timeout=600, env=size.env)
                if child.returncode != 0:
                    raise SystemExit(child.stderr[-2000:])
                got = json.loads(child.stdout.strip().splitlines()[-1])
                if best is None or got["seconds"] < best["seconds"]:
                    best = got
            assert best is not None
            out[f"first_plan_{mode}_s"] = best["seconds"]
            out[f"first_plan_{mode}_rss_mb"] = best["rss_mb"]
    finally:
        poller.stop()
    out["first_plan_speedup"] = out["first_plan_engine_s"] / out["first_plan_redis_s"]
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        first_plan_child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,200000")
    parser.add_argument("--ks", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--big-seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--ttl", type=float, default=3.0)
    parser.add_argument("--big-from", type=int, default=100_000)
    parser.add_argument("--big-interval", type=float, default=5.0)
    parser.add_argument("--big-ttl", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--budget-gb", type=float, default=13.0)
    parser.add_argument("--keep-free-gb", type=float, default=3.0)
    parser.add_argument("--follower-mb", type=float, default=0.0,
                        help="one follower's RSS at this size, if known (else from K=1 first)")
    parser.add_argument("--no-first-plan", action="store_true")
    parser.add_argument("--logs", type=Path, help="keep every process's stderr here")
    parser.add_argument("--quick", action="store_true", help="5k, K = 1 and 10, 10 s")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.ks, args.seconds, args.no_first_plan = "5000", "1,10", 10.0, True
    sizes = [int(s) for s in args.sizes.split(",") if s]
    ks = [int(k) for k in args.ks.split(",") if k]
    figures: dict[str, float] = {"load_1min": os.getloadavg()[0]}
    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as tmp:
        r = redis.Redis.from_url(redis_server.url, socket_timeout=30)
        for jobs in sizes:
            big = jobs >= args.big_from
            with simulator(jobs, time_scale=1.0) as url:
                logs = (args.logs or Path(tmp)) / str(jobs)
                logs.mkdir(parents=True, exist_ok=True)
                size = Size(jobs, url, redis_server.url,
                            args.big_interval if big else args.interval,
                            args.big_ttl if big else args.ttl, tmp, logs)
                prefix = f"j{jobs // 1000}k_"
                got: dict[str, float] = {"interval_s": size.interval, "lease_ttl_s": size.ttl,
                                         "failover_target_s": size.ttl + size.interval}
                seconds = args.big_seconds if big else args.seconds
                per_follower = args.follower_mb
                for k in ks:
                    figs, biggest = sweep_k(size, r, k, seconds, batch=args.batch,
                                            budget_mb=args.budget_gb * 1024,
                                            keep_free_gb=args.keep_free_gb,
                                            per_follower_mb=per_follower)
                    per_follower = max(per_follower, biggest)
                    got.update(figs)
                    got[f"k{k}_load_1min"] = os.getloadavg()[0]
                if big and not args.no_first_plan and jobs == max(sizes):
                    figures.update(first_plan(size, r))
                figures.update({prefix + name: value for name, value in got.items()})
        r.close()
    figures["load_1min_end"] = os.getloadavg()[0]
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
