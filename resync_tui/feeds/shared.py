"""The jobs feed shared through Redis: the leader polls the engine, followers read Redis.

:class:`SharedJobsFeed` wraps a :class:`~resync_tui.feeds.jobs.JobsFeed` and, for each
poll, does what this process's :class:`~resync_tui.share.lease.Election` role says:

- **leader**: polls the engine through the wrapped feed (at the engine interval),
  then publishes the change: a full snapshot when one is due (new leadership, or
  before the delta stream's trim reaches the last snapshot), else a delta of the rows
  added or changed and the ids removed, with the feed's health as meta;
- **follower**: never calls the engine; loads the snapshot once, then applies
  deltas as they come. Its health is the leader's (what the leader last read and
  when), so a follower of a leader that cannot reach the engine says so, and its
  data ages exactly as the leader's does;
- **alone** (Redis down): polls the engine itself, like a dashboard with no share.

The runner polls this feed at a short ``follow`` interval; the engine is still
polled only every ``engine_interval()`` seconds. A poll that has nothing new returns
the previous state object itself, which the runner does not publish again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

import msgspec
from redis.exceptions import RedisError

from resync_tui.feeds.engine import EngineState
from resync_tui.feeds.jobs import JobsFeed, JobsState, apply_sliced, load_plan
from resync_tui.feeds.runtime import Runtime
from resync_tui.feeds.status import FeedHealth
from resync_tui.feeds.streams import StreamsFeed, StreamsState
from resync_tui.feeds.workstations import WorkstationsState
from resync_tui.hwa.models import JobStreamInPlan, JobStreamRead
from resync_tui.model.job_row import JobRow
from resync_tui.model.streams import StreamRow
from resync_tui.share.channel import BaseMoved, Delta, Follower, Publisher, SnapshotMissing
from resync_tui.share.keys import ShareKeys
from resync_tui.share.lease import Election, Lease, Role

__all__ = ["SHARED_FEEDS", "SHARED_ROW_FIELDS", "Share", "SharedJobsFeed", "SharedStateFeed",
           "health_from_meta", "health_meta"]

log = logging.getLogger(__name__)

S = TypeVar("S")

_RECOUNT_SECONDS = 2.0
"""A follower's streams are counted again at most this often when its jobs move."""
_RECOUNT_BIG_JOBS = 20_000
"""Beyond this many jobs, a follower counts its streams only at the leader's cadence: a
count of 200k jobs costs ~0.2 s of CPU, and counted on every delta it was nearly all
that an idle follower spent (0.1 core each: 50 screens starved a 2-core host)."""

_TIME_FIELDS = ("started", "ended", "scheduled", "critical_start", "deadline")
SHARED_ROW_FIELDS: tuple[str, ...] = (
    "stream", "job", "workstation", "folder", "status", "common_status", "substatus",
    "duration", "estimated_duration", *_TIME_FIELDS)
"""``JobRow`` fields whose values repeat across a plan: a follower's decoded snapshot holds
each distinct value once (as the dashboard's own read does), ~90 MB less at 200k jobs."""


def _utc_offset(rows: Any) -> float:
    """The UTC offset (seconds) of the engine's times in these rows: msgpack carries an
    instant without its offset, and the table shows times as the engine wrote them."""
    for row in rows:
        for name in _TIME_FIELDS:
            value = getattr(row, name)
            if value is not None and (offset := value.utcoffset()) is not None:
                return float(offset.total_seconds())
    return 0.0


def _in_zone(rows: list[JobRow], offset: float) -> list[JobRow]:
    """The rows with their times in the engine's offset again (a no-op for UTC)."""
    if not offset:
        return rows
    zone = timezone(timedelta(seconds=offset))
    converted: dict[datetime, datetime] = {}  # each distinct time once: shared stays shared
    out = []
    for row in rows:
        changes = {}
        for name in _TIME_FIELDS:
            value = getattr(row, name)
            if value is not None:
                there = converted.get(value)
                if there is None:
                    there = converted[value] = value.astimezone(zone)
                changes[name] = there
        out.append(msgspec.structs.replace(row, **changes) if changes else row)
    return out


def _reusing(old: JobRow, new: JobRow) -> JobRow:
    """``new`` holding ``old``'s objects where the values are equal: a delta's rows come
    decoded with their own copies of every name and time, and over a day every job that
    runs would otherwise undo what the snapshot decode shared."""
    same = {name: there for name in SHARED_ROW_FIELDS
            if (there := getattr(old, name)) is not None
            and (value := getattr(new, name)) is not there and value == there
            and type(value) is type(there)
            and getattr(value, "tzinfo", None) is getattr(there, "tzinfo", None)}
    return msgspec.structs.replace(new, **same) if same else new


def _learn_clock(meta: dict[str, Any], sink: Callable[[float], None] | None) -> None:
    """A follower's engine clock: the engine time the leader published, taken as now
    (off by the publication's lag, well under a second)."""
    engine_now = meta.get("engine_now")
    if sink is not None and isinstance(engine_now, datetime):
        sink(engine_now.timestamp())


def health_meta(health: FeedHealth) -> dict[str, Any]:
    """What a follower needs to judge the leader's data as the leader does."""
    return {"ok": health.ok, "kind": health.kind, "reason": health.reason,
            "since": health.since, "last_success": health.last_success}


def health_from_meta(meta: dict[str, Any], polls: int) -> FeedHealth:
    def when(name: str) -> datetime | None:
        value = meta.get(name)
        return value if isinstance(value, datetime) else None

    kind = meta.get("kind", "")
    return FeedHealth(ok=bool(meta.get("ok", False)),
                      kind=kind if isinstance(kind, str) else "error",  # type: ignore[arg-type]
                      reason=str(meta.get("reason", "")), since=when("since"),
                      last_success=when("last_success"), polls=polls)


class _SharedFeed(Generic[S]):
    """What the shared feeds have in common: the poll of a leader or a lone process (the
    wrapped feed, at the engine interval; a new leader publishes what it holds at once),
    and a follower's, which reads Redis only. Subclasses say how a state is published
    (``_publish``, which sets ``_published_token`` on success) and followed."""

    name: str

    def __init__(self, inner: Any, election: Election, publisher: Publisher[Any],
                 follower: Follower[Any], *, engine_interval: float,
                 engine_clock: Callable[[], datetime] | None = None,
                 clock_sink: Callable[[float], None] | None = None) -> None:
        """``engine_clock``: the leader's engine time, published with the data;
        ``clock_sink``: where a follower puts it (its client's clock estimate)."""
        self.inner = inner
        self.election = election
        self.publisher = publisher
        self.follower = follower
        self.engine_interval = engine_interval
        self._engine_clock = engine_clock
        self._clock_sink = clock_sink
        self._last: S | None = None
        self._last_engine_poll = -float("inf")
        self._published_token: int | None = None
        """The lease token the last snapshot was published under (another: publish anew)."""
        self._loaded = False
        self._polls = 0

    def refresh(self) -> None:
        self.inner.refresh()
        self._last_engine_poll = -float("inf")

    async def poll(self) -> S:
        role = await self.election.ensure_started()
        if role is Role.FOLLOWER:
            return await self._follow()
        if role is Role.LEADER and self._published_token != self.publisher.lease.token:
            await self._take_over()
        self._loaded = False
        if self._last is not None and (
                time.monotonic() - self._last_engine_poll < self.engine_interval):
            if role is Role.LEADER and self._published_token != self.publisher.lease.token:
                # Just became leader: publish what this process holds (its own last read,
                # or the former leader's, with that one's health and age) before the next.
                await self._publish(self._last)
            return self._last
        state: S = await self.inner.poll()
        self._last_engine_poll = time.monotonic()
        if self.election.role is Role.LEADER:
            await self._publish(state)
        self._last = state
        return state

    def _engine_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        if self._engine_clock is not None:
            meta["engine_now"] = self._engine_clock()
        return meta

    async def _take_over(self) -> None:
        """Just became leader, before its first publication (nothing to do by default)."""

    async def _publish(self, state: S) -> None:
        raise NotImplementedError

    async def _follow(self) -> S:
        raise NotImplementedError


class SharedJobsFeed(_SharedFeed[JobsState]):
    """A jobs feed that polls the engine only when this process is leader or alone."""

    name = "jobs"

    def __init__(self, inner: JobsFeed, election: Election, publisher: Publisher[JobRow],
                 follower: Follower[JobRow], *, engine_interval: float,
                 engine_clock: Callable[[], datetime] | None = None,
                 clock_sink: Callable[[float], None] | None = None) -> None:
        super().__init__(inner, election, publisher, follower,
                         engine_interval=engine_interval, engine_clock=engine_clock,
                         clock_sink=clock_sink)
        self.view = inner.view
        self.publish_errors = 0
        self._base: bytes | None = None
        """The stream entry this view is at, when it became leader holding the plan as a
        follower: its first publication is a delta against it, not a snapshot."""

    async def _take_over(self) -> None:
        """A follower that becomes leader holds the plan as of the stream's last entry,
        once it has read what the former leader published up to its end (nothing more
        can come: the former leader is fenced off). Its first engine read is then
        published as a delta against that entry, which every follower holds too: no
        follower reloads 200k rows, and no snapshot is encoded before the first news."""
        self._base = None
        if not self._loaded:
            return
        try:
            while (deltas := await self.follower.deltas(wait=False)):
                self._apply(deltas)
        except (RedisError, OSError, TimeoutError):
            return
        if deltas is not None:
            self._base = self.follower.last_id

    async def _publish(self, state: JobsState) -> None:
        pub = self.publisher
        meta = health_meta(state.health)
        meta["utcoffset"] = _utc_offset(self.view.rows_in(0, 50))
        meta["published"] = time.time()  # this host's clock: for lag figures, not for ages
        self._engine_meta(meta)
        try:
            token = pub.lease.token
            base, self._base = self._base, None
            if token != self._published_token and base is not None and not pub.snapshot_due:
                try:
                    if await pub.delta(*self._changes(state), meta, base=base):
                        self._published_token = token
                        log.info("shared feed: leading; first read published as a delta "
                                 "(%d changes)", len(state.change.changed_ids))
                    return
                except BaseMoved:
                    log.info("shared feed: the stream moved under the new leader; snapshot")
            if token != self._published_token:
                rows = self.view.rows_snapshot()
                if await pub.snapshot(rows, meta):
                    self._published_token = token
            elif pub.snapshot_due:
                # Due before the trim reaches the current snapshot: this poll as a delta
                # first, then the snapshot of the state it leaves, which followers that
                # applied it hold already (they go on; only new ones load it).
                if await pub.delta(*self._changes(state), meta):
                    await pub.snapshot(self.view.rows_snapshot(), meta, same_as_last=True)
            else:
                await pub.delta(*self._changes(state), meta)
        except (RedisError, OSError, TimeoutError) as exc:
            # The election notices Redis is gone and makes this process poll alone.
            self.publish_errors += 1
            log.info("shared feed: publishing failed (%s)", type(exc).__name__)

    def _changes(self, state: JobsState) -> tuple[list[JobRow], list[str]]:
        """The rows one poll added or changed, and the ids it removed."""
        change = state.change
        get = self.view.get
        changed = [row for job_id in (*change.added, *change.changed)
                   if (row := get(job_id)) is not None]
        return changed, list(change.removed)

    async def _follow(self) -> JobsState:
        try:
            if not self._loaded:
                snap = await self.follower.load()
                rows = _in_zone(snap.rows, float(snap.meta.get("utcoffset", 0.0)))
                # Into an empty view every row is new: built off the loop, as the jobs
                # feed's first read (200k rows applied at once held the loop ~1 s);
                # otherwise the diff, applied a slice a turn.
                if self.view.total:
                    changed, removed = self.view.diff(rows)
                    change = await apply_sliced(self.view, changed, removed)
                else:
                    change = await load_plan(self.view, rows)
                self._loaded = True
                return self._state(change, snap.meta)
            deltas = await self.follower.deltas()
        except SnapshotMissing:
            return self._waiting("no data from the leader yet")
        except (RedisError, OSError, TimeoutError) as exc:
            return self._waiting(f"Redis error while following ({type(exc).__name__})")
        if deltas is None:
            self._loaded = False
            return await self._follow()
        if not deltas:
            return self._last if self._last is not None else self._waiting("")
        return self._apply(deltas)

    def _apply(self, deltas: list[Delta[JobRow]]) -> JobsState:
        changed: dict[str, JobRow] = {}
        removed: set[str] = set()
        get = self.view.get
        for delta in deltas:
            for row in _in_zone(delta.changed, float(delta.meta.get("utcoffset", 0.0))):
                old = get(row.job_id)
                changed[row.job_id] = _reusing(old, row) if old is not None else row
                removed.discard(row.job_id)
            for job_id in delta.removed:
                changed.pop(job_id, None)
                removed.add(job_id)
        change = self.view.apply_changes(changed.values(), removed)
        return self._state(change, deltas[-1].meta)

    def _state(self, change: Any, meta: dict[str, Any]) -> JobsState:
        _learn_clock(meta, self._clock_sink)
        self._polls += 1
        state = JobsState(self.view, change, health_from_meta(meta, self._polls),
                          full_read=False)
        self._last = state
        return state

    def _waiting(self, why: str) -> JobsState:
        """Nothing new could be read: the last state, or one that says why there is none."""
        if self._last is not None:
            return self._last
        self._polls += 1
        health = FeedHealth(ok=False, kind="down", reason=why or "waiting for the leader",
                            polls=self._polls)
        self._last = JobsState(self.view, health=health)
        return self._last


class SharedStateFeed(_SharedFeed[S]):
    """A small feed (engine info, workstations) shared whole: the leader publishes each
    poll's state as a one-row snapshot; followers load the newest one."""

    def __init__(self, inner: Any, election: Election, publisher: Publisher[S],
                 follower: Follower[S], *, engine_interval: float, empty: S,
                 engine_clock: Callable[[], datetime] | None = None,
                 clock_sink: Callable[[float], None] | None = None) -> None:
        """``empty``: the state (a Struct with ``health``) shown before any data."""
        super().__init__(inner, election, publisher, follower,
                         engine_interval=engine_interval, engine_clock=engine_clock,
                         clock_sink=clock_sink)
        self._empty = empty
        self.name = inner.name

    async def _publish(self, state: S) -> None:
        token = self.publisher.lease.token
        try:
            if await self.publisher.snapshot([state], self._engine_meta({})):
                self._published_token = token
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("shared feed %s: publishing failed (%s)", self.name, type(exc).__name__)

    async def _follow(self) -> S:
        """The leader's newest state; the last one if nothing new; until the leader has
        published one, a state that says so (a NOC starting all at once must not send
        every screen to the engine)."""
        try:
            if self._loaded:
                deltas = await self.follower.deltas()
                if deltas is not None:
                    return self._last if self._last is not None else self._waiting()
            snap = await self.follower.load()
        except (SnapshotMissing, RedisError, OSError, TimeoutError):
            return self._last if self._last is not None else self._waiting()
        self._loaded = True
        _learn_clock(snap.meta, self._clock_sink)
        if not snap.rows:
            return self._last if self._last is not None else self._waiting()
        state: S = snap.rows[0]
        health = getattr(state, "health", None)
        if isinstance(health, FeedHealth):
            self._polls += 1
            state = msgspec.structs.replace(  # type: ignore[type-var]
                state, health=msgspec.structs.replace(health, polls=self._polls))
        self._last = state
        return state

    def _waiting(self) -> S:
        self._polls += 1
        return msgspec.structs.replace(self._empty, health=FeedHealth(  # type: ignore[type-var]
            ok=False, kind="down", reason="waiting for the leader's first data",
            polls=self._polls))


class SharedStreamsFeed(_SharedFeed[StreamsState]):
    """The job streams pane shared. The leader publishes the engine's stream list (a
    snapshot per read) and, with ``rows`` given, the streams as it counted them from
    its jobs view (feed ``streamrows``): followers show those as they are, for they hold
    the same jobs. Counting 200k jobs costs ~0.2 s of CPU, and it was most of what an
    idle follower spent. A follower of a leader that publishes no counted rows (an
    older version) counts each stream's jobs from its own jobs view as before, again
    whenever a new list comes and every ``engine_interval``."""

    name = "streams"

    def __init__(self, inner: StreamsFeed, election: Election,
                 publisher: Publisher[JobStreamInPlan], follower: Follower[JobStreamInPlan],
                 *, engine_interval: float,
                 rows: tuple[Publisher[StreamRow], Follower[StreamRow]] | None = None,
                 engine_clock: Callable[[], datetime] | None = None,
                 clock_sink: Callable[[float], None] | None = None) -> None:
        super().__init__(inner, election, publisher, follower,
                         engine_interval=engine_interval, engine_clock=engine_clock,
                         clock_sink=clock_sink)
        self._rows = rows
        self._rows_loaded = False
        self._last_count = -float("inf")
        self._read: JobStreamRead | None = None
        self._health = FeedHealth()
        self._counted_version: int | None = None

    def refresh(self) -> None:
        super().refresh()
        self._last_count = -float("inf")

    async def poll(self) -> StreamsState:
        state = await super().poll()
        read = self.inner.last_read
        if (self.election.role is not Role.FOLLOWER and not state.jobs_counted
                and self.inner.jobs_total > 0 and read is not None):
            # The stream list came before the first job list: count now, not a stream
            # interval later (followers show these counts as they are).
            state = self._last = await self.inner.show_read(read, state.health)
            if self.election.role is Role.LEADER:
                await self._publish(state)
        return state

    async def _publish(self, state: StreamsState) -> None:
        read = self.inner.last_read
        if read is None:
            return
        meta = self._engine_meta(health_meta(state.health))
        token = self.publisher.lease.token
        try:
            if await self.publisher.snapshot(read.streams, meta):
                self._published_token = token
            if self._rows is not None:
                meta["jobs_counted"] = state.jobs_counted
                await self._rows[0].snapshot(self.inner.view.all_rows(), meta)
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("shared feed streams: publishing failed (%s)", type(exc).__name__)

    async def _follow(self) -> StreamsState:
        if self._rows is not None:
            shown = await self._follow_rows(self._rows[1])
            # Rows the leader could not count (its stream list came before its first job
            # list) while this view holds jobs: counted here until its next list, not
            # every stream shown with 0 jobs for a whole stream interval.
            if shown is not None and (shown.jobs_counted or self.inner.jobs_total == 0):
                return shown
        return await self._follow_and_count()

    async def _follow_rows(self, follower: Follower[StreamRow]) -> StreamsState | None:
        """The leader's counted streams, when it publishes them (else None)."""
        try:
            if self._rows_loaded and self._last is not None and (
                    await follower.deltas() is not None):
                return self._last  # nothing new
            snap = await follower.load()
        except SnapshotMissing:
            self._rows_loaded = False
            return None
        except (RedisError, OSError, TimeoutError):
            return self._last
        self._rows_loaded = True
        _learn_clock(snap.meta, self._clock_sink)
        counted = snap.meta.get("jobs_counted", 0)
        self._last = await self.inner.show_rows(
            snap.rows, health_from_meta(snap.meta, 0),
            counted if isinstance(counted, int) else 0)
        return self._last

    async def _follow_and_count(self) -> StreamsState:
        fresh = False
        try:
            if self._loaded and await self.follower.deltas() is None:
                self._loaded = False
            if not self._loaded:
                snap = await self.follower.load()
                self._loaded = fresh = True
                _learn_clock(snap.meta, self._clock_sink)
                self._read = JobStreamRead(snap.rows)
                self._health = health_from_meta(snap.meta, 0)
        except (SnapshotMissing, RedisError, OSError, TimeoutError):
            pass
        since = time.monotonic() - self._last_count
        jobs_version = self.inner.jobs_version
        # Counted again when a new stream list comes (the leader's cadence: a dashboard
        # alone counts at each of its stream reads), every engine_interval anyway (late
        # jobs, worst job) and, for a small plan, when the jobs moved (at most every few
        # seconds). A big plan's counts wait for the next list: what a dashboard alone
        # shows, at a fraction of the CPU of a count per delta.
        first_jobs = self._last is not None and not self._last.jobs_counted and (
            self.inner.jobs_total > 0)  # counted before the job list came: count now
        moved = (jobs_version != self._counted_version and since >= _RECOUNT_SECONDS
                 and self.inner.jobs_total <= _RECOUNT_BIG_JOBS)
        recount = first_jobs or since >= self.engine_interval or moved
        if self._read is None:
            if self._last is None:
                self._last = await self.inner.show_read(JobStreamRead([]), FeedHealth(
                    ok=False, kind="down", reason="waiting for the leader's first data"))
            return self._last
        if fresh or recount or self._last is None:
            self._last_count = time.monotonic()
            self._counted_version = jobs_version
            self._last = await self.inner.show_read(self._read, self._health)
        return self._last


#: The feeds one leader polls for everybody (the others are local: breakers, cache, Redis).
SHARED_FEEDS: tuple[str, ...] = ("engine", "jobs", "workstations", "streams")


class Share:
    """This process's part in the shared feed of one engine: its election, and the
    wrapping of the feeds it shares. The app runs :meth:`run`; the header shows
    :meth:`describe`."""

    def __init__(self, runtime: Runtime, *, owner: str | None = None) -> None:
        settings = runtime.settings
        share = settings.share
        self.settings = share
        self.redis = runtime.redis
        self.keys = ShareKeys.for_engine(settings.hwa.url, settings.hwa.plan_id,
                                         prefix=share.key_prefix)
        self.lease = Lease(runtime.redis, self.keys, ttl=share.lease_ttl, owner=owner)
        self.election = Election(self.lease)
        # A blocked XREAD must end before the client's socket timeout says Redis is dead.
        self.block = max(0.01, min(share.follow_interval, settings.redis.socket_timeout / 2))
        self._engine_clock = runtime.clock
        self._clock_sink = runtime.client.add_clock_sample

    def describe(self) -> str:
        return self.election.describe()

    def wrap(self, feed: Any, engine_interval: float) -> Any:
        """The shared form of a feed of :data:`SHARED_FEEDS` (others are returned as they are)."""
        share = self.settings
        publisher: Publisher[Any] = Publisher(self.lease, feed.name, chunk_rows=share.chunk_rows,
                                              max_deltas=share.max_deltas)
        clocks: dict[str, Any] = {"engine_clock": self._engine_clock,
                                  "clock_sink": self._clock_sink}
        if isinstance(feed, StreamsFeed):
            rows: tuple[Publisher[StreamRow], Follower[StreamRow]] = (
                Publisher(self.lease, "streamrows", chunk_rows=share.chunk_rows,
                          max_deltas=share.max_deltas),
                Follower(self.redis, self.keys, "streamrows", StreamRow, block=self.block))
            return SharedStreamsFeed(
                feed, self.election, publisher,
                Follower(self.redis, self.keys, "streams", JobStreamInPlan, block=self.block),
                engine_interval=engine_interval, rows=rows, **clocks)
        if isinstance(feed, JobsFeed):
            return SharedJobsFeed(feed, self.election, publisher,
                                  Follower(self.redis, self.keys, "jobs", JobRow,
                                           block=self.block, shared_fields=SHARED_ROW_FIELDS),
                                  engine_interval=engine_interval, **clocks)
        state_types: dict[str, type[Any]] = {"engine": EngineState,
                                             "workstations": WorkstationsState}
        if feed.name not in state_types:
            return feed
        state_type = state_types[feed.name]
        empty = getattr(feed, "_last", None)
        return SharedStateFeed(feed, self.election, publisher,
                               Follower(self.redis, self.keys, feed.name, state_type,
                                        block=self.block),
                               engine_interval=engine_interval,
                               empty=empty if isinstance(empty, state_type) else state_type(),
                               **clocks)

    async def run(self, stop: asyncio.Event,
                  on_change: Callable[[Role], None] | None = None) -> None:
        await self.election.run(stop, on_change)
