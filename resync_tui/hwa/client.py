"""Async client for the HWA REST API V2 endpoints resync-tui uses (httpx + msgspec).

One pooled ``httpx.AsyncClient`` per engine: keep-alive, a bounded pool and an
explicit timeout for each phase (connect, read, write, pool wait). On top of
those, every call runs under a whole-call deadline, so a server dripping a body
one byte at a time cannot hold a caller longer than ``call_timeout``.

Every failure is one of the typed errors of :mod:`resync_tui.hwa.errors`, naming
the endpoint as a template. The client does not retry (its transport has no
connection retries either) and has no breaker: the resilience layer wraps it and
decides with ``exc.transient``.

Operator actions (``job_action``, ``rerun_run``, ``update_priority``,
``jobstream_action``, ``bulk_*``) are not idempotent: a retried rerun runs the job
twice. Callers must send them through
``resilience.retry.call_resilient(..., idempotent=False)``, with an attempt timeout
longer than ``call_timeout`` so that the client's own verdict comes first. A
timeout or a lost connection once the request may have reached the engine raises
``ActionOutcomeUnknown`` ("check the job before trying again"), never transient; a
failure to connect before anything was sent is ``EngineUnreachable``; a refusal is
the 4xx error carrying the engine's message (raw: the UI sanitizes it). Operations
whose spec has a requestBody (rerun, confirm-succ, confirm-abend) are sent
``Content-Type: application/json`` with ``{}``; the others carry no body.

JSON is decoded straight from the response bytes into the structs of
:mod:`resync_tui.hwa.models`; the job log is text/plain and stays text. A big
page of jobs is decoded a slice at a time, giving the event loop a turn between
slices: msgspec holds the GIL while it decodes (a worker thread would not help),
and a whole 10,000-job page at once would stall the caller's UI for tens of ms.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import itertools
import logging
import os
import ssl
import statistics
import time
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Collection,
    Generator,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar, cast, get_args
from urllib.parse import quote

import httpx
import msgspec

from resync_tui.hwa.errors import (
    ActionOutcomeUnknown,
    BadRequest,
    CredentialsRejected,
    EngineRateLimited,
    EngineServerError,
    EngineTimeout,
    EngineUnreachable,
    HwaError,
    MalformedResponse,
    NotFound,
)
from resync_tui.hwa.models import (
    ActionResult,
    BulkActionResult,
    EngineInfo,
    FlowNode,
    FlowNodeList,
    GroupedCount,
    JobInPlan,
    JobPage,
    JobStreamInPlan,
    JobStreamPage,
    JobStreamRead,
    Page,
    PlanJob,
    PlanJobPage,
    PlanRead,
    PlanSignature,
    UnreadableRecord,
    Workstation,
    WorkstationPage,
    WorkstationRead,
)
from resync_tui.loop_turns import next_turn

__all__ = [
    "API_PATH",
    "JOBSTREAM_ACTIONS",
    "JOB_ACTIONS",
    "TRANSPORT_RETRIES",
    "WORKSTATION_ACTIONS",
    "HwaClient",
    "IdCanon",
    "JobAction",
    "JobSink",
    "JobStreamAction",
    "OnRequest",
    "PasswordProvider",
    "PlanJobSink",
    "WorkstationAction",
]

log = logging.getLogger(__name__)

API_PATH: Final = "/twsd/api/v2"
"""Where the V2 API lives under the engine's base URL."""

JobAction = Literal[
    "hold", "release", "rerun", "cancel", "kill", "confirm-succ", "confirm-abend",
    "release-all-dependencies",
]  # fmt: skip
JOB_ACTIONS: Final[tuple[str, ...]] = get_args(JobAction)
"""The operator actions on jobs the console offers (update-priority has its own method)."""

JobStreamAction = Literal["hold", "release", "cancel"]
JOBSTREAM_ACTIONS: Final[tuple[str, ...]] = get_args(JobStreamAction)
"""The operator actions on job streams the console offers."""

WorkstationAction = Literal["link", "unlink", "start", "stop", "update-fence", "update-limit"]
WORKSTATION_ACTIONS: Final[tuple[str, ...]] = get_args(WorkstationAction)
"""The operator actions on one workstation (``PUT /plan/workstation/{id}/action/*``)."""
_WORKSTATION_VALUE: Final = {"update-fence": "priority", "update-limit": "limit"}
"""The query parameter each valued workstation action takes, named as the spec names it
(update-fence's value is ``priority``: the fence is a job priority)."""

_BODY_ACTIONS: Final = frozenset({"rerun", "confirm-succ", "confirm-abend"})
"""Job actions whose operation has a requestBody in the spec: sent as JSON, ``{}``.
(A real engine answers 415 to a rerun without ``Content-Type: application/json``.)"""

OnRequest = Callable[[str, float, str], None]
"""Hook called after every HTTP call with (endpoint template, seconds, outcome).

``outcome`` is ``"ok"``, ``"cancelled"`` or an error's ``outcome`` word: a small
fixed set, fit for a Prometheus label.
"""

JobSink = Callable[[Sequence[JobInPlan]], object]
"""Takes the jobs of a plan read as they arrive (``HwaClient.fetch_plan(sink=...)``)."""

PlanJobSink = Callable[[Sequence[PlanJob]], object]
"""Takes the jobs of ``HwaClient.read_plan`` as they arrive, as ``PlanJob``s."""

IdCanon = Callable[[str], str]
"""Maps a job id to the caller's own equal string when it holds one (``read_plan``)."""

TRANSPORT_RETRIES: Final = 0
"""Connection retries of the httpx transport: none, so that no call is ever sent twice."""

_ALL_JOBS_FILTER: Final = "/@/@#/@/@.@"
_MAX_SERVER_MESSAGE: Final = 300
_MAX_HEADER_VALUE: Final = 1024

PasswordProvider = Callable[[], str | None]
"""Re-reads the password when the operator asks to retry rejected credentials."""

_REASON_MAX: Final = 120
"""Longest ``UnreadableRecord.reason`` kept (the decoder's message, cut)."""

_CLOCK_SAMPLES: Final = 9
"""Date-header samples whose median is the engine clock offset."""

_FAST_CLOCK: Final = 2.0
"""An engine clock running this many times faster than this machine's, or more, is a
simulated one (``resync-tui demo``'s runs at 30x); slower rates are taken as 1."""

_RATE_SAMPLES: Final = 32
"""(this machine's, engine's) time pairs ``clock_rate`` is judged on: several feeds'
answers, over a few of their intervals."""

_RATE_STRETCH: Final = 0.6
"""Seconds of this machine between two samples compared for ``clock_rate``: longer than
the simulator's clock step (half a second), so a fast clock always moves across one."""

_T = TypeVar("_T")
_Headers = Mapping[str, str] | Mapping[bytes, bytes]
_Body = bytes | bytearray

_SLICED_DECODE_BYTES: Final = 1 << 20
"""A job page body larger than this is decoded in slices, the event loop running between."""

_PAGE_SIZE: Final = 2_000
"""Jobs asked per page of a plan read. Each page in flight is a body (~1.5 KB a job) and
one is decoded at a time: at 10,000 a re-read of a 200k plan peaked ~85 MB above the
process's steady size (and glibc kept part of it), at 2,000 ~45 MB, the read no slower
against the simulator (100 pages instead of 20)."""

_DECODE_SLICE_JOBS: Final = 200
"""Jobs per slice, ~1 ms of decoding each. At 500 a full 200k refresh stalled the loop
p99 21 ms (bench_loop_latency, quiet machine); at 200, p99 10-11 ms, max 21-23 ms."""

_SINK_SLICE_JOBS: Final = 200
"""Jobs per call of ``fetch_plan``'s sink (mapping and diffing them takes ~5 µs a job,
~1 ms a slice: a frame at 60 Hz is 16 ms)."""


class _RawJobPage(msgspec.Struct, frozen=True):
    """A job page with each job kept as raw JSON (the cheap first pass of a sliced decode).

    Same fields and types as :class:`Page`, so a body this accepts differs from a
    valid ``JobPage`` only by the jobs themselves, which the slices check.
    """

    count: int | None = None
    results: list[msgspec.Raw] | None = None
    next: str | None = None
    previous: str | None = None


class _RecordId(msgspec.Struct):
    """Just the ``id`` of a record that failed to decode, to name it."""

    id: Any = None


_RAW_JOB_PAGE: Final = msgspec.json.Decoder(_RawJobPage)
_JOB_LISTS: Final[dict[Any, msgspec.json.Decoder[Any]]] = {
    JobInPlan: msgspec.json.Decoder(list[JobInPlan]),
    PlanJob: msgspec.json.Decoder(list[PlanJob]),
}
"""A slice of a page's jobs, by the type they are decoded as."""
_RECORD_ID: Final = msgspec.json.Decoder(_RecordId)

_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {
    model: msgspec.json.Decoder(model)
    for model in (JobPage, JobInPlan, PlanJobPage, PlanJob, WorkstationPage, Workstation,
                  EngineInfo, GroupedCount, FlowNodeList, ActionResult, BulkActionResult)
}  # fmt: skip


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer``; its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(token=***)"


class _Redactor:
    """Masks the secrets in a text (error details come from lower layers); its repr shows none."""

    __slots__ = ("_secrets",)

    def __init__(self, *secrets: str | None) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def adding(self, secret: str) -> _Redactor:
        """A redactor masking this one's secrets and ``secret`` too."""
        return _Redactor(*self._secrets, secret)

    def __repr__(self) -> str:
        return "_Redactor(***)"


class HwaClient:
    """The HWA REST API V2, as typed async calls. Use ``async with`` or call :meth:`aclose`.

    ``base_url`` is the engine's address (``https://host:port``), with or
    without the ``/twsd/api/v2`` suffix; credentials go in ``user``/``password``
    or ``token``, never in the URL. ``verify`` is True (system CAs), False, a CA
    bundle path or an ``ssl.SSLContext``. ``call_timeout`` bounds one HTTP call
    from start to last byte; ``plan_timeout`` bounds a whole :meth:`fetch_plan`.

    Credentials are never hammered: after a 401/403 every call fails at once with
    ``CredentialsRejected``, without touching the network (an LDAP-backed engine
    locks an account after a few bad logins), until :meth:`retry_credentials` or
    ``auth_retry_seconds`` later, when exactly one call goes through as a probe.
    ``password_provider`` re-reads the password for :meth:`retry_credentials`.

    Every answer's ``Date`` header feeds :attr:`clock_offset` / :meth:`engine_now`:
    lateness is judged on the engine's clock, not on this machine's.
    """

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_timeout: float = 5.0,
        call_timeout: float | None = None,
        plan_timeout: float = 300.0,
        max_connections: int = 8,
        page_size: int = _PAGE_SIZE,
        parallel_pages: int = 4,
        plan_id: str = "current",
        max_body_bytes: int = 512 * 1024 * 1024,
        trust_env: bool = True,
        on_request: OnRequest | None = None,
        auth_retry_seconds: float = 300.0,
        password_provider: PasswordProvider | None = None,
    ) -> None:
        if page_size < 1 or parallel_pages < 1 or max_connections < 1:
            raise ValueError("page_size, parallel_pages and max_connections must be >= 1")
        if token is not None and (user is not None or password is not None):
            raise ValueError("give either user/password or token, not both")
        if (user is None) != (password is None):
            raise ValueError("user and password go together")
        url = httpx.URL(base_url)
        if url.userinfo:
            raise ValueError("put credentials in user/password or token, not in the URL")
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an http(s) URL with a host")
        root = str(url.copy_with(query=None, fragment=None)).rstrip("/")
        if not root.endswith(API_PATH):
            root += API_PATH
        self._base_url = root
        self._user = user
        self._redactor = _Redactor(password, token)
        self._page_size = page_size
        self._parallel_pages = parallel_pages
        self._plan_id = plan_id
        self._max_body_bytes = max_body_bytes
        self._call_timeout = (
            call_timeout
            if call_timeout is not None
            else pool_timeout + connect_timeout + 2 * read_timeout
        )
        self._plan_timeout = plan_timeout
        self._on_request = on_request
        self._verify_label = verify if isinstance(verify, bool) else "custom-ca"
        auth: httpx.Auth | None = None
        if user is not None and password is not None:
            auth = httpx.BasicAuth(user, password)
        elif token is not None:
            auth = _BearerAuth(token)
        self._auth_label = f"basic:{user}" if user is not None else ("bearer" if token else "none")
        self._password_provider = password_provider
        self._auth_retry_seconds = auth_retry_seconds
        self._rejected: CredentialsRejected | None = None
        self._rejected_at = 0.0
        self._probe_armed = False
        self._probing = False
        self._clock_samples: collections.deque[float] = collections.deque(maxlen=_CLOCK_SAMPLES)
        self._clock_pairs: collections.deque[tuple[float, float]] = collections.deque(
            maxlen=_RATE_SAMPLES)
        self._clock_rate = 1.0
        self._expected_rate: float | None = None
        ssl_verify = _ssl_context(verify)
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        )
        self._http = httpx.AsyncClient(
            base_url=root,
            auth=auth,
            verify=ssl_verify,
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=pool_timeout
            ),
            limits=limits,
            # Explicitly no transport retries: an action must reach the engine at most once.
            transport=httpx.AsyncHTTPTransport(
                verify=ssl_verify if url.scheme == "https" else _trusts_nothing(),
                limits=limits, trust_env=trust_env, retries=TRANSPORT_RETRIES
            ),
            headers={"Accept": "application/json", "User-Agent": "resync-tui"},
            follow_redirects=False,
            trust_env=trust_env,
        )

    def __repr__(self) -> str:
        return (
            f"HwaClient(base_url={self._base_url!r}, auth={self._auth_label!r}, "
            f"verify={self._verify_label!r}, plan_id={self._plan_id!r})"
        )

    @property
    def base_url(self) -> str:
        """The API root actually called (ends with ``/twsd/api/v2``)."""
        return self._base_url

    @property
    def user(self) -> str | None:
        """The Basic-auth user (None with a bearer token or no auth)."""
        return self._user

    @property
    def credentials_rejected(self) -> CredentialsRejected | None:
        """The rejection every call fails with now, or None: credentials not known bad."""
        return self._rejected

    def retry_credentials(self) -> None:
        """The operator asks to try the credentials again: re-read the password, let one call by.

        The password comes from ``password_provider`` when one was given (None or an
        empty answer keeps the current one). Only the next call reaches the engine;
        if it is rejected again, calls fail fast as before.
        """
        provider = self._password_provider
        if provider is not None and self._user is not None:
            try:
                password = provider()
            except Exception as exc:  # a missing file must not crash the key press
                log.warning("could not re-read the password: %s", type(exc).__name__)
                password = None
            if password:
                self._redactor = self._redactor.adding(password)  # old and new stay masked
                self._http.auth = httpx.BasicAuth(self._user, password)
        if self._rejected is not None:
            self._probe_armed = True

    @property
    def clock_offset(self) -> float | None:
        """Seconds the engine's clock is ahead of this machine's (negative: behind).

        Estimated from each answer's ``Date`` header: a sample is the header (1 s
        resolution, so +0.5 s, the middle of its second) minus this machine's time
        half-way through the round trip; the offset is the median of the last
        ``_CLOCK_SAMPLES`` samples, which ignores a slow answer or a proxy's
        Date. None before any answer.

        An engine clock running fast (``clock_rate``: a simulator's time scale) is ahead
        by more each second: the offset is then where ``engine_now`` puts it now, not
        the median of samples taken as it ran (which lagged it by minutes at 30x: the
        header said "+4m50s" beside a time 7 minutes ahead).
        """
        samples = self._clock_samples
        if not samples:
            return None
        if self._clock_rate != 1.0:
            return (self.engine_now() - datetime.now(UTC)).total_seconds()
        return statistics.median(samples)

    @property
    def clock_rate(self) -> float:
        """Engine seconds per second of this machine: 1.0 for a real engine; a simulator's
        time scale (``demo``: 30) when its ``Date`` headers show it.

        Why: a pane's data is judged old on the engine's clock against its poll interval,
        which is in this machine's seconds. At 30x every answer moves the engine clock
        on by 30 s a second, and data read 2 s ago is a minute old there: every pane
        said STALE, "no new answer yet", while each answered on time.

        Taken only when every stretch of 0.6 s or more between the recent samples
        shows the engine at least twice as fast, the headers' 1 s steps allowed for, and
        there are two such stretches: a real engine's clock is never estimated off 1,
        and one step of it (an NTP correction) is one fast stretch among slow ones."""
        return self._clock_rate

    def expect_clock_rate(self, rate: float) -> None:
        """The engine is known to run ``rate`` times as fast as this machine (``resync-tui
        demo`` started its simulator so): taken from its first answer until the answers
        show enough to judge (``clock_rate``). Measured alone, a demo's 30x clock was
        known only some 10-15 s in, the polls being 10 s apart: meanwhile a job list
        read on time was "⚠ STALE, 4m 36s old" and the clock stepped 5 minutes at each
        poll. Rates under ``_FAST_CLOCK`` are not taken (a real engine's is 1)."""
        self._expected_rate = rate if rate >= _FAST_CLOCK else None
        self._clock_rate = self._measure_rate()

    def _measure_rate(self) -> float:
        """``clock_rate`` from the kept pairs (when one is added: the clock is read often);
        until they are enough to judge, the rate expected (``expect_clock_rate``), if any."""
        pairs = self._clock_pairs
        expected = self._expected_rate if pairs and self._expected_rate is not None else 1.0
        if len(pairs) < 3:
            return expected
        stretches = 0
        (local0, engine0) = anchor = pairs[0]
        for local, engine in itertools.islice(pairs, 1, None):
            span = local - anchor[0]
            if span < _RATE_STRETCH:
                continue
            if (engine - anchor[1] - 1.0) / span < _FAST_CLOCK:
                return 1.0
            stretches += 1
            anchor = (local, engine)
        local1, engine1 = pairs[-1]
        if stretches < 2:
            return expected
        return (engine1 - engine0) / (local1 - local0)

    def add_clock_sample(self, engine_timestamp: float, local_timestamp: float | None = None
                         ) -> None:
        """One engine-minus-local sample learnt elsewhere (a shared feed's follower never
        calls the engine: the leader's publications carry the engine's time)."""
        local = time.time() if local_timestamp is None else local_timestamp
        self._clock_samples.append(engine_timestamp - local)
        self._clock_pairs.append((local, engine_timestamp))
        self._clock_rate = self._measure_rate()

    def engine_now(self) -> datetime:
        """The engine's current time (aware, UTC); this machine's until an answer came.

        An engine whose clock runs fast (``clock_rate``: a simulator's time scale) is
        followed from its latest answer at its own rate: the median offset, right for
        a real engine, lags such a clock by half its samples (minutes at 30x)."""
        now = datetime.now(UTC)
        rate = self.clock_rate
        if rate != 1.0:
            local, engine = self._clock_pairs[-1]
            return datetime.fromtimestamp(engine + rate * (now.timestamp() - local), UTC)
        offset = self.clock_offset
        return now if offset is None else now + timedelta(seconds=offset)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections. The client cannot be used afterwards."""
        await self._http.aclose()

    # ---- engine ---------------------------------------------------------------------

    async def engine_info(self) -> EngineInfo:
        """``GET /engine/info``: version and time zone; the cheap "is it up" probe."""
        body = await self._call("GET", "GET /engine/info", "/engine/info")
        return self._decode("GET /engine/info", EngineInfo, body)

    # ---- jobs in the plan -------------------------------------------------------------

    async def list_jobs(
        self,
        oql: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_count: bool = False,
    ) -> JobPage:
        """One page of ``GET /plan/job``; ``count`` is set only with ``include_count``.

        Records that cannot be decoded are left out of ``results`` (``fetch_plan``
        reports them).
        """
        read = await self._job_page(
            oql, self._page_size if limit is None else limit, offset, include_count
        )
        return read.page

    async def fetch_plan(self, oql: str | None = None, *, sink: JobSink | None = None
                         ) -> PlanRead:
        """Every job matching ``oql`` (all jobs if None), in the engine's order.

        Reads the first page with Include-Count, then the remaining pages by
        offset, ``parallel_pages`` at a time (each also with its count, to see the
        plan move), and stops at the first short page. An engine that serves fewer
        jobs per page than asked (a server-side cap) is paged by the size it serves.
        An engine that sends no count is read page after page, following its
        ``next`` links (their path and query only: the base URL stays ours), and a
        short first page is checked for more behind it before the read ends.

        A record that cannot be decoded is reported in ``unreadable``; the rest of
        its page is kept. If the plan changes during the read, a job seen twice
        (shifted by an insertion) is kept once, and ``complete`` is False: a job
        shifted out by a deletion may be missing (see :class:`PlanRead`).

        ``sink``: each job is handed to it as soon as its page is read (each once, in
        plan order, lists of at most 200 with a loop turn between) and not kept:
        ``PlanRead.jobs`` is then empty and ``PlanRead.received`` counts them. The caller
        keeps what it needs and the decoded pages are freed as the read goes, instead of
        the whole decoded plan (over 1 KB a job) being held until the read ends. A read
        that fails part-way has already fed the sink some jobs: use a new sink per call.
        """
        return await self._within_plan_timeout(
            self._fetch_all_jobs(oql, _PlanAccumulator(sink)), "the plan", "GET /plan/job")

    async def read_plan(self, sink: PlanJobSink, *, oql: str | None = None,
                        canonical: IdCanon | None = None) -> PlanRead:
        """``fetch_plan(oql, sink=sink)`` with each job decoded as a ``PlanJob``: only the
        fields a row of the job table is made of, the rest of each record skipped.

        Why: a re-read of a 200k plan decoded ~35 objects a job into ``JobInPlan``s that
        the caller mapped to rows and dropped; the lite records are about half as many
        objects and bytes, decoded faster. Paging, the checks of ``complete``, the
        records that cannot be decoded (a field a ``PlanJob`` has must still match the
        spec's type) and the ``PlanRead`` are ``fetch_plan``'s.

        ``canonical``: the read keeps every id it saw until it ends (to see a job come
        twice); it keeps ``canonical(id)`` instead, the caller's own equal string when it
        holds one, so a re-read does not hold a second copy of 200k ids (~16 MB) that
        then pinned pymalloc's arenas.
        """
        acc = _PlanAccumulator(sink, item=PlanJob, canonical=canonical)
        return await self._within_plan_timeout(
            self._fetch_all_jobs(oql, acc), "the plan", "GET /plan/job")

    async def _fetch_all_jobs(self, oql: str | None, acc: _PlanAccumulator) -> PlanRead:
        decoding = asyncio.Lock()  # one page decoded at a time: one slice per loop turn
        first = await self._job_page(oql, self._page_size, 0, True, decoding, acc.item)
        if first.page.count is None:
            await self._read_uncounted(oql, first, acc, decoding)
        else:
            await self._read_counted(oql, first, acc, decoding)
        result = acc.result()
        await acc.release()
        return result

    async def _read_counted(
        self, oql: str | None, first: _PageRead, acc: _PlanAccumulator, decoding: asyncio.Lock
    ) -> None:
        """Offset paging, pages in parallel: the engine said how many jobs to expect."""
        size = self._page_size
        count = first.page.count
        assert count is not None
        if 0 < first.served < min(size, count):
            size = first.served  # the engine caps its pages below what we asked: page by its size

        async def absorb(read: _PageRead) -> bool:
            """Keep the page's news; True if it was full and brought news (read on)."""
            fresh = await acc.absorb(read)
            if read.page.count is not None and read.page.count != count:
                acc.shifted()  # the plan grew or shrank between two pages
            if read.served >= size and not fresh:
                # A full page of jobs already read: the engine ignores offset (or the
                # plan shifted by a whole page). Stop rather than page forever.
                log.warning("GET /plan/job: a full page repeated known jobs; read stopped")
                acc.shifted()
                return False
            return read.served >= size

        try:
            if not await absorb(first):
                return
            offset = size
            announced: int | None = count
            while True:
                if announced is not None and offset <= announced:
                    # Up to and including the page that should come back short.
                    pages = (announced - offset) // size + 1
                else:
                    pages = self._parallel_pages
                    acc.shifted()  # the plan grew past its announced count
                offsets = [offset + i * size for i in range(pages)]
                async with contextlib.aclosing(
                        self._job_pages(oql, size, offsets, decoding, acc.item)) as reads:
                    async for read in reads:
                        if not await absorb(read):
                            return
                        await next_turn()  # absorbed with loop turns between pages
                offset = offsets[-1] + size
                announced = None  # the plan grew past its announced count: keep reading
        finally:
            if acc.records != count:
                acc.shifted()

    async def _read_uncounted(
        self, oql: str | None, first: _PageRead, acc: _PlanAccumulator, decoding: asyncio.Lock
    ) -> None:
        """Page after page for an engine without Include-Count: ``next`` links, else offsets.

        Without a count nothing proves that a page boundary did not skip a job, so a
        read of more than one page is never ``complete``.
        """
        size = self._page_size
        read, offset, pages = first, 0, 1
        learned = links = False
        while True:
            fresh = await acc.absorb(read)
            served = read.served
            if served == 0:
                break
            if served >= size and not fresh:
                log.warning("GET /plan/job: a full page repeated known jobs; read stopped")
                acc.shifted()
                break
            params = self._next_params(read.page.next)
            if params is not None:
                links = True
                if not learned and served < size:
                    size, learned = served, True  # the engine caps its pages
                read = await self._job_page_params(params, decoding, item=acc.item)
            elif served < size:
                if learned or links:
                    break  # a short page after the size is known: the end
                learned = True  # a short first page: the end, or a cap? Look past it once.
                probe = await self._job_page(oql, self._page_size, offset + served, True,
                                             decoding, acc.item)  # fmt: skip
                if probe.served == 0:
                    break
                size = served
                read = probe
            else:
                read = await self._job_page(oql, self._page_size, offset + served, True,
                                            decoding, acc.item)  # fmt: skip
            offset += served
            pages += 1
            await next_turn()
        if pages > 1:
            acc.shifted()

    def _next_params(self, link: str | None) -> dict[str, str] | None:
        """The query of an engine's ``next`` link, if it points at the job list again.

        The link is absolute with the engine's own idea of its host (often not the
        address we reach it by): only its path after ``/twsd/api/v2`` and its query
        are used, and only if that path is ``/plan/job``.
        """
        if not link:
            return None
        try:
            url = httpx.URL(link)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        path = url.path
        at = path.find(API_PATH)
        if at < 0 or path[at + len(API_PATH):].rstrip("/") != "/plan/job":
            return None
        params = dict(url.params)
        if "offset" not in params:
            return None
        return params

    async def _job_pages(
        self, oql: str | None, limit: int, offsets: list[int], decoding: asyncio.Lock,
        item: type[Any] = JobInPlan,
    ) -> AsyncGenerator[_PageRead, None]:
        """Pages at ``offsets`` in offset order, at most ``parallel_pages`` in flight.

        Bodies are read in parallel, but a big one is decoded only when the pages before
        it have been handed on and taken: one decoded page exists at a time (10,000
        decoded jobs are ~15 MB), not one per page in flight, nor the whole plan.
        """
        pending: collections.deque[tuple[asyncio.Event, asyncio.Future[_PageRead]]] = (
            collections.deque())
        ahead = iter(offsets)

        def start(offset: int) -> None:
            turn = asyncio.Event()
            pending.append((turn, asyncio.ensure_future(
                self._job_page(oql, limit, offset, True, _Turn(turn, decoding), item))))

        try:
            for offset in itertools.islice(ahead, self._parallel_pages):
                start(offset)
            while pending:
                turn, task = pending[0]
                turn.set()  # every page before this one has been taken: decode it
                read = await task
                pending.popleft()
                following = next(ahead, None)
                if following is not None:
                    start(following)
                yield read
                del read
        finally:
            for _, task in pending:
                task.cancel()
            await asyncio.gather(*(task for _, task in pending), return_exceptions=True)

    async def _job_page(
        self,
        oql: str | None,
        limit: int,
        offset: int,
        include_count: bool,
        decoding: _Gate | None = None,
        item: type[Any] = JobInPlan,
    ) -> _PageRead:
        params: dict[str, str | int] = {"limit": limit, "offset": offset, "plan_id": self._plan_id}
        if oql:
            params["oql"] = oql
        headers = {"Include-Count": "true" if include_count else "false"}
        return await self._job_page_params(params, decoding, headers, item)

    async def _job_page_params(
        self,
        params: Mapping[str, str | int],
        decoding: _Gate | None,
        headers: Mapping[str, str] | None = None,
        item: type[Any] = JobInPlan,
    ) -> _PageRead:
        """One page of jobs decoded as ``item`` (``JobInPlan``, or ``PlanJob``: read_plan)."""
        endpoint = "GET /plan/job"
        body = await self._call("GET", endpoint, "/plan/job", params=params,
                                headers=headers or {"Include-Count": "true"})  # fmt: skip
        if len(body) > _SLICED_DECODE_BYTES:
            async with decoding or asyncio.Lock():
                sliced = await _decode_job_page_sliced(body, item)
            if sliced is not None:
                return sliced
        # Small, or not a well-formed page: decoding it whole names the fault exactly.
        model = PlanJobPage if item is PlanJob else JobPage
        page, unreadable = self._page_records(endpoint, model, item, body)
        return _PageRead(page, unreadable)

    async def job_counts(self) -> dict[str, int]:
        """Jobs per internal status (``GET /plan/job/count?grouping_filters=status``)."""
        return dict((await self._grouped_count()).grouped_count)

    async def plan_signature(self) -> PlanSignature:
        """A cheap change check: total and per-status counts in one small call.

        Equal signatures mean "probably unchanged": status moves that leave every
        count equal go unseen, so a periodic full read is still needed.
        """
        grouped = await self._grouped_count()
        counts = grouped.grouped_count
        total = grouped.count if grouped.count is not None else sum(counts.values())
        return total, tuple(sorted(counts.items()))

    async def _grouped_count(self) -> GroupedCount:
        endpoint = "GET /plan/job/count"
        params = {
            "grouping_filters": "status",
            "plan_filter": _ALL_JOBS_FILTER,
            "plan_id": self._plan_id,
        }
        body = await self._call("GET", endpoint, "/plan/job/count", params=params)
        return self._decode(endpoint, GroupedCount, body)

    async def get_job(self, job_id: str) -> JobInPlan:
        """``GET /plan/job/{job_id}``; NotFound if it is not in the plan."""
        endpoint = "GET /plan/job/{job_id}"
        body = await self._call(
            "GET", endpoint, f"/plan/job/{_segment(job_id)}", params={"plan_id": self._plan_id}
        )
        return self._decode(endpoint, JobInPlan, body)

    async def job_log(
        self,
        run_id: str,
        from_line: int | None = None,
        to_line: int | None = None,
        content_only: bool = False,
    ) -> str:
        """The job log of a run, as text (the endpoint answers text/plain, never JSON)."""
        endpoint = "GET /plan/job/run/{run_id}/joblog"
        params: dict[str, str | int] = {"plan_id": self._plan_id}
        if from_line is not None:
            params["from_line"] = from_line
        if to_line is not None:
            params["to_line"] = to_line
        if content_only:
            params["contentOnly"] = "true"
        body, charset = await self._call_text(
            endpoint, f"/plan/job/run/{_segment(run_id)}/joblog", params
        )
        try:
            return body.decode(charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return body.decode("utf-8", errors="replace")

    async def predecessors(self, job_id: str, depth: int | None = None) -> list[FlowNode]:
        """``GET /plan/job/{job_id}/predecessors``: jobs and streams this job waits for."""
        return await self._flow_nodes("predecessors", job_id, depth)

    async def successors(self, job_id: str, depth: int | None = None) -> list[FlowNode]:
        """``GET /plan/job/{job_id}/successors``: jobs and streams waiting for this job."""
        return await self._flow_nodes("successors", job_id, depth)

    async def _flow_nodes(self, kind: str, job_id: str, depth: int | None) -> list[FlowNode]:
        endpoint = f"GET /plan/job/{{job_id}}/{kind}"
        params: dict[str, str | int] = {"plan_id": self._plan_id}
        if depth is not None:
            params["depth"] = depth
        body = await self._call("GET", endpoint, f"/plan/job/{_segment(job_id)}/{kind}", params)
        nodes = self._decode(endpoint, FlowNodeList, body)
        return list(nodes.results)

    # ---- actions ----------------------------------------------------------------------
    #
    # Actions are not idempotent (a rerun sent twice runs the job twice): the client
    # never retries them (no transport retries either), and callers must go through
    # ``resilience.retry.call_resilient(..., idempotent=False)``. A timeout or a lost
    # connection after the request may have reached the engine raises
    # ``ActionOutcomeUnknown``; a failure to connect (nothing sent) ``EngineUnreachable``;
    # a refusal the 4xx error with the engine's message (``BadRequest``, ``NotFound``...).

    async def job_action(
        self,
        job_id: str,
        action: JobAction,
        *,
        justification_category: str | None = None,
        justification_description: str | None = None,
        justification_ticket: str | None = None,
    ) -> ActionResult:
        """Apply an operator action, with the engine's audit headers (Justification-*).

        ``rerun`` exists in the spec only per run (``/plan/job/run/{run_id}/action/rerun``):
        the job's last run is looked up first (a GET, safe to repeat).
        """
        if action not in JOB_ACTIONS:
            raise ValueError(f"unsupported action {action!r}; one of {', '.join(JOB_ACTIONS)}")
        headers = _justification_headers(
            justification_category, justification_description, justification_ticket
        )
        if action == "rerun":
            job = await self.get_job(job_id)
            run = job.last_run
            if run is None or not run.id:
                raise BadRequest(
                    "the job has no run to rerun",
                    endpoint="PUT /plan/job/run/{run_id}/action/rerun",
                )
            return await self._rerun(run.id, headers)
        endpoint = f"PUT /plan/job/{{job_id}}/action/{action}"
        body = await self._action(
            endpoint, f"/plan/job/{_segment(job_id)}/action/{action}", headers,
            with_body=action in _BODY_ACTIONS,
        )  # fmt: skip
        return self._decode_action(endpoint, body)

    async def rerun_run(
        self,
        run_id: str,
        *,
        justification_category: str | None = None,
        justification_description: str | None = None,
        justification_ticket: str | None = None,
    ) -> ActionResult:
        """Rerun a job from one of its runs (``PUT /plan/job/run/{run_id}/action/rerun``)."""
        headers = _justification_headers(
            justification_category, justification_description, justification_ticket
        )
        return await self._rerun(run_id, headers)

    async def _rerun(self, run_id: str, headers: dict[bytes, bytes]) -> ActionResult:
        endpoint = "PUT /plan/job/run/{run_id}/action/rerun"
        body = await self._action(
            endpoint, f"/plan/job/run/{_segment(run_id)}/action/rerun", headers, with_body=True
        )
        return self._decode_action(endpoint, body)

    async def update_priority(self, job_id: str, priority: int) -> ActionResult:
        """``PUT /plan/job/{job_id}/action/update-priority?priority=N`` (0-99, 100 HI, 101 GO).

        The spec gives this operation no request body and no Justification headers:
        none are sent (the audit trail records the justification on our side).
        """
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 101:
            raise ValueError(f"priority must be an integer from 0 to 101, got {priority!r}")
        endpoint = "PUT /plan/job/{job_id}/action/update-priority"
        body = await self._action(
            endpoint, f"/plan/job/{_segment(job_id)}/action/update-priority", {},
            params={"priority": priority},
        )  # fmt: skip
        return self._decode_action(endpoint, body)

    async def jobstream_action(
        self,
        jobstream_id: str,
        action: JobStreamAction,
        *,
        justification_category: str | None = None,
        justification_description: str | None = None,
        justification_ticket: str | None = None,
    ) -> ActionResult:
        """Hold, release or cancel a job stream (``PUT /plan/jobstream/{id}/action/*``)."""
        if action not in JOBSTREAM_ACTIONS:
            raise ValueError(
                f"unsupported job stream action {action!r}; one of {', '.join(JOBSTREAM_ACTIONS)}"
            )
        headers = _justification_headers(
            justification_category, justification_description, justification_ticket
        )
        endpoint = f"PUT /plan/jobstream/{{jobstream_id}}/action/{action}"
        body = await self._action(
            endpoint, f"/plan/jobstream/{_segment(jobstream_id)}/action/{action}", headers
        )
        return self._decode_action(endpoint, body)

    async def bulk_job_action(
        self,
        action: JobAction,
        *,
        oql: str,
        max_object_affected: int | None = None,
        justification_category: str | None = None,
        justification_description: str | None = None,
        justification_ticket: str | None = None,
    ) -> BulkActionResult:
        """One action on every job matching ``oql`` (``PUT /plan/job/action/{action}``).

        The filter is required: an empty one would act on the whole plan.
        ``max_object_affected`` lets the engine refuse when more jobs match.
        """
        if action not in JOB_ACTIONS:
            raise ValueError(f"unsupported action {action!r}; one of {', '.join(JOB_ACTIONS)}")
        return await self._bulk("job", action, oql, max_object_affected, _justification_headers(
            justification_category, justification_description, justification_ticket))

    async def bulk_jobstream_action(
        self,
        action: JobStreamAction,
        *,
        oql: str,
        max_object_affected: int | None = None,
        justification_category: str | None = None,
        justification_description: str | None = None,
        justification_ticket: str | None = None,
    ) -> BulkActionResult:
        """One action on every job stream matching ``oql`` (``PUT /plan/jobstream/action/*``)."""
        if action not in JOBSTREAM_ACTIONS:
            raise ValueError(
                f"unsupported job stream action {action!r}; one of {', '.join(JOBSTREAM_ACTIONS)}"
            )
        return await self._bulk("jobstream", action, oql, max_object_affected,
                                _justification_headers(justification_category,
                                                       justification_description,
                                                       justification_ticket))  # fmt: skip

    async def _bulk(
        self,
        kind: str,
        action: str,
        oql: str,
        max_object_affected: int | None,
        headers: dict[bytes, bytes],
    ) -> BulkActionResult:
        if not oql.strip():
            raise ValueError("a bulk action needs a filter (oql)")
        params: dict[str, str | int] = {"oql": oql}
        if max_object_affected is not None:
            params["max_object_affected"] = max_object_affected
        endpoint = f"PUT /plan/{kind}/action/{action}"
        body = await self._action(
            endpoint, f"/plan/{kind}/action/{action}", headers, params=params,
            with_body=kind == "job" and action in _BODY_ACTIONS,
        )  # fmt: skip
        if not body.strip():
            return BulkActionResult()
        return self._decode(endpoint, BulkActionResult, body)

    async def _action(
        self,
        endpoint: str,
        path: str,
        headers: dict[bytes, bytes],
        *,
        params: Mapping[str, str | int] | None = None,
        with_body: bool = False,
    ) -> _Body:
        """One action call: a JSON body (``{}``) where the spec gives one, sent at most once."""
        if with_body:
            headers = {**headers, b"Content-Type": b"application/json"}
        body, _ = await self._exchange(
            "PUT", endpoint, path, params, headers,
            content=b"{}" if with_body else None, action=True,
        )  # fmt: skip
        return body

    def _decode_action(self, endpoint: str, body: _Body) -> ActionResult:
        if not body.strip():
            return ActionResult()  # an empty 200/204 is a success too
        return self._decode(endpoint, ActionResult, body)

    async def workstation_action(
        self, workstation_id: str, action: WorkstationAction, value: int | None = None
    ) -> ActionResult:
        """Link, unlink, start, stop, or set the fence or limit of one workstation
        (``PUT /plan/workstation/{workstation_id}/action/*``).

        To the letter of the spec: no request body and no Justification headers (these
        operations declare neither; the audit trail keeps the justification on our
        side); ``update-fence`` takes the fence as ``priority`` and ``update-limit`` as
        ``limit``, both query parameters. Sent once, like every action.
        """
        if action not in WORKSTATION_ACTIONS:
            raise ValueError(
                f"unsupported workstation action {action!r}; one of "
                f"{', '.join(WORKSTATION_ACTIONS)}"
            )
        name = _WORKSTATION_VALUE.get(action)
        if name is None and value is not None:
            raise ValueError(f"{action} takes no value")
        if name is not None and (isinstance(value, bool) or not isinstance(value, int)
                                 or value < 0):
            raise ValueError(f"{action} needs a value of 0 or more, got {value!r}")
        endpoint = f"PUT /plan/workstation/{{workstation_id}}/action/{action}"
        body = await self._action(
            endpoint, f"/plan/workstation/{_segment(workstation_id)}/action/{action}", {},
            params={name: value} if name is not None and value is not None else None,
        )  # fmt: skip
        return self._decode_action(endpoint, body)

    async def get_workstation(self, workstation_id: str) -> Workstation:
        """One workstation as the engine has it now (``GET /plan/workstation/{id}``)."""
        endpoint = "GET /plan/workstation/{workstation_id}"
        body = await self._call("GET", endpoint,
                                f"/plan/workstation/{_segment(workstation_id)}")
        return self._decode(endpoint, Workstation, body)

    # ---- workstations -----------------------------------------------------------------

    async def workstations(self, oql: str | None = None) -> WorkstationRead:
        """Every workstation in the plan (``GET /plan/workstation``), page after page.

        Bounded like :meth:`fetch_plan`: within ``plan_timeout``, and a full page that
        brings no workstation not seen before ends the read (an engine ignoring
        ``offset`` would otherwise be paged forever). A record that cannot be
        decoded is reported in ``unreadable``; the rest of its page is kept.
        """
        return await self._within_plan_timeout(
            self._all_workstations(oql), "the workstations", "GET /plan/workstation")

    async def _within_plan_timeout(self, read: Awaitable[_T], what: str, endpoint: str) -> _T:
        """A paged read of the whole plan is bounded as one: ``plan_timeout``."""
        try:
            async with asyncio.timeout(self._plan_timeout):
                return await read
        except TimeoutError:
            raise EngineTimeout(
                f"could not read {what} within {self._plan_timeout:g} s",
                endpoint=endpoint,
            ) from None

    async def _all_workstations(self, oql: str | None) -> WorkstationRead:
        endpoint = "GET /plan/workstation"
        found: list[Workstation] = []
        unreadable: list[UnreadableRecord] = []
        seen: set[str] = set()
        offset = 0
        while True:
            params: dict[str, str | int] = {
                "limit": self._page_size,
                "offset": offset,
                "plan_id": self._plan_id,
            }
            if oql:
                params["oql"] = oql
            body = await self._call("GET", endpoint, "/plan/workstation", params=params)
            page, bad = self._page_records(endpoint, WorkstationPage, Workstation, body)
            results = page.results or ()
            before = len(found) + len(unreadable)
            for ws in results:
                key = ws.id or ws.name
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    found.append(ws)
            for record in bad:
                key = record.job_id
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    unreadable.append(record)
            served = len(results) + len(bad)
            if served < self._page_size or len(found) + len(unreadable) == before:
                return WorkstationRead(found, tuple(unreadable))
            offset += self._page_size

    # ---- job streams ------------------------------------------------------------------

    async def job_streams(self, oql: str | None = None) -> JobStreamRead:
        """Every job stream of the plan (``GET /plan/jobstream``), page after page.

        Bounded like :meth:`workstations`: within ``plan_timeout``; a short page, or a
        full page that brings no stream not seen before (an engine ignoring ``offset``),
        ends the read. A record that cannot be decoded is reported in ``unreadable``.
        """
        return await self._within_plan_timeout(
            self._all_streams(oql), "the job streams", "GET /plan/jobstream")

    async def _all_streams(self, oql: str | None) -> JobStreamRead:
        endpoint = "GET /plan/jobstream"
        found: list[JobStreamInPlan] = []
        unreadable: list[UnreadableRecord] = []
        seen: set[str] = set()
        offset = 0
        while True:
            params: dict[str, str | int] = {
                "limit": self._page_size, "offset": offset, "plan_id": self._plan_id}
            if oql:
                params["oql"] = oql
            body = await self._call("GET", endpoint, "/plan/jobstream", params=params,
                                    headers={"Include-Count": "false"})  # fmt: skip
            page, bad = self._page_records(endpoint, JobStreamPage, JobStreamInPlan, body)
            results = page.results or ()
            before = len(found) + len(unreadable)
            for stream in results:
                key = stream.id
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    found.append(stream)
            for record in bad:
                key = record.job_id
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    unreadable.append(record)
            served = len(results) + len(bad)
            if served < self._page_size or len(found) + len(unreadable) == before:
                return JobStreamRead(found, tuple(unreadable))
            offset += self._page_size
            await next_turn()

    async def get_job_stream(self, jobstream_id: str) -> JobStreamInPlan:
        """``GET /plan/jobstream/{jobstream_id}``; NotFound if it is not in the plan."""
        endpoint = "GET /plan/jobstream/{jobstream_id}"
        body = await self._call("GET", endpoint, f"/plan/jobstream/{_segment(jobstream_id)}",
                                params={"plan_id": self._plan_id})  # fmt: skip
        return self._decode(endpoint, JobStreamInPlan, body)

    async def job_stream_predecessors(
        self, jobstream_id: str, depth: int | None = None
    ) -> list[FlowNode]:
        """``GET /plan/jobstream/{jobstream_id}/predecessors``: what the stream waits for."""
        return await self._stream_nodes("predecessors", jobstream_id, depth)

    async def job_stream_successors(
        self, jobstream_id: str, depth: int | None = None
    ) -> list[FlowNode]:
        """``GET /plan/jobstream/{jobstream_id}/successors``: what waits for the stream."""
        return await self._stream_nodes("successors", jobstream_id, depth)

    async def _stream_nodes(self, kind: str, jobstream_id: str,
                            depth: int | None) -> list[FlowNode]:
        endpoint = f"GET /plan/jobstream/{{jobstream_id}}/{kind}"
        params: dict[str, str | int] = {"plan_id": self._plan_id}
        if depth is not None:
            params["depth"] = depth
        body = await self._call("GET", endpoint,
                                f"/plan/jobstream/{_segment(jobstream_id)}/{kind}", params)
        return list(self._decode(endpoint, FlowNodeList, body).results)

    async def job_stream_counts(self, grouping: str = "status") -> GroupedCount:
        """``GET /plan/jobstream/count``: streams in total and per group (``status``,
        ``workstation``, ``folder``, comma-separated; empty: the total only)."""
        endpoint = "GET /plan/jobstream/count"
        params: dict[str, str | int] = {"plan_id": self._plan_id}
        if grouping:
            params["grouping_filters"] = grouping
        body = await self._call("GET", endpoint, "/plan/jobstream/count", params=params)
        return self._decode(endpoint, GroupedCount, body)

    # ---- transport --------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: _Headers | None = None,
    ) -> _Body:
        body, _ = await self._exchange(method, endpoint, path, params, headers)
        return body

    async def _call_text(
        self, endpoint: str, path: str, params: Mapping[str, str | int]
    ) -> tuple[_Body, str | None]:
        return await self._exchange(
            "GET", endpoint, path, params, {"Accept": "text/plain, */*;q=0.5"}
        )

    async def _exchange(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Mapping[str, str | int] | None,
        headers: _Headers | None,
        *,
        content: bytes | None = None,
        action: bool = False,
    ) -> tuple[_Body, str | None]:
        """One HTTP call under the whole-call deadline; reports to ``on_request``.

        While the credentials are known bad, fails at once (see :meth:`_admit`).
        For an ``action``, a timeout or lost connection once the request may have
        reached the engine is ``ActionOutcomeUnknown``, not a retryable timeout.
        """
        probe = self._admit(endpoint)
        started = time.perf_counter()
        outcome = "ok"
        sent = _Sent()
        try:
            try:
                async with asyncio.timeout(self._call_timeout):
                    answer = await self._send(method, endpoint, path, params, headers,
                                              content, sent if action else None)  # fmt: skip
            except TimeoutError:
                if action and sent.started:
                    raise _outcome_unknown(
                        endpoint, f"no answer within {self._call_timeout:g} s"
                    ) from None
                raise EngineTimeout(
                    f"no complete answer within {self._call_timeout:g} s", endpoint=endpoint
                ) from None
            self._credentials_answered(accepted=True)
            return answer
        except CredentialsRejected as exc:
            outcome = exc.outcome
            self._credentials_answered(accepted=False, rejection=exc)
            exc.retry_after = self._auth_retry_seconds  # when the next probe goes by itself
            raise
        except HwaError as exc:
            outcome = exc.outcome
            # An HTTP answer other than 401/403 means the engine took the credentials;
            # no answer at all proves nothing: a probe then waits its turn again.
            self._credentials_answered(accepted=exc.status is not None)
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:  # not one of ours (a bug, a closed client): never reported as "ok"
            outcome = "error"
            raise
        finally:
            if probe:
                self._probing = False
                if self._rejected is not None:
                    self._rejected_at = time.monotonic()
            elapsed = time.perf_counter() - started
            log.debug("%s -> %s in %.3f s", endpoint, outcome, elapsed)
            if self._on_request is not None:
                try:
                    self._on_request(endpoint, elapsed, outcome)
                except Exception:
                    log.exception("on_request hook failed for %s", endpoint)

    def _admit(self, endpoint: str) -> bool:
        """Whether a call may reach the engine; True if it is the one probe after a rejection.

        Raises ``CredentialsRejected`` (no network) while the credentials are known bad
        and it is not yet time to probe, or another call is probing right now.
        """
        rejected = self._rejected
        if rejected is None:
            return False
        due = time.monotonic() - self._rejected_at >= self._auth_retry_seconds
        if not self._probing and (self._probe_armed or due):
            self._probing = True
            self._probe_armed = False
            return True
        raise CredentialsRejected(rejected.message, endpoint=endpoint, status=rejected.status,
                                  retry_after=self._auth_retry_seconds)

    def _credentials_answered(
        self, *, accepted: bool, rejection: CredentialsRejected | None = None
    ) -> None:
        """Record what the engine said of the credentials; log only when that changes."""
        if accepted:
            if self._rejected is not None:
                self._rejected = None
                log.warning("credentials accepted again for %s at %s", self._who, self._base_url)
            return
        if rejection is None:
            return
        if self._rejected is None:
            log.warning(
                "%s; no call reaches the engine until retried (or in %g s)",
                rejection.message, self._auth_retry_seconds,
            )
        self._rejected = rejection
        self._rejected_at = time.monotonic()

    @property
    def _who(self) -> str:
        return f"user {self._user}" if self._user is not None else self._auth_label

    def _sample_clock(self, date: str | None, sent: float, received: float) -> None:
        """One engine-minus-local clock sample from a ``Date`` header (see :attr:`clock_offset`)."""
        if not date:
            return
        try:
            when = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        local = (sent + received) / 2
        engine = when.timestamp() + 0.5
        self._clock_samples.append(engine - local)
        self._clock_pairs.append((local, engine))
        self._clock_rate = self._measure_rate()

    async def _send(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Mapping[str, str | int] | None,
        headers: _Headers | None,
        content: bytes | None = None,
        action: _Sent | None = None,
    ) -> tuple[_Body, str | None]:
        extensions = None if action is None else {"trace": action.trace}
        request = self._http.build_request(method, path, params=params, headers=headers,
                                           content=content, extensions=extensions)  # fmt: skip
        sent = time.time()
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            if action is not None and action.started:
                raise _outcome_unknown(endpoint, self._transport_error(
                    endpoint, exc, reading_body=False).message) from None
            raise self._transport_error(endpoint, exc, reading_body=False) from None
        self._sample_clock(response.headers.get("Date"), sent, time.time())
        try:
            body = await self._read_body(endpoint, response)
        except HwaError as exc:
            if action is not None and response.status_code < 300:
                raise _outcome_unknown(endpoint, exc.message) from None
            raise
        finally:
            await response.aclose()
        if response.status_code >= 300:
            raise _status_error(endpoint, response, body, f"{self._who} at {self._base_url}")
        return body, response.charset_encoding

    async def _read_body(self, endpoint: str, response: httpx.Response) -> bytearray:
        """The whole body, in one growing buffer (no chunk list + join: half the peak)."""
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_body_bytes:
                    raise MalformedResponse(
                        f"body larger than {self._max_body_bytes} bytes", endpoint=endpoint
                    )
        except httpx.HTTPError as exc:
            raise self._transport_error(endpoint, exc, reading_body=True) from None
        return body

    def _transport_error(
        self, endpoint: str, exc: httpx.HTTPError, *, reading_body: bool
    ) -> HwaError:
        detail = self._redact(str(exc) or type(exc).__name__)
        if isinstance(exc, httpx.TimeoutException):
            phase = {
                httpx.ConnectTimeout: "connect",
                httpx.ReadTimeout: "read",
                httpx.WriteTimeout: "write",
                httpx.PoolTimeout: "connection pool",
            }.get(type(exc), "network")
            return EngineTimeout(f"{phase} timeout", endpoint=endpoint)
        if reading_body and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            # Headers came, the body did not all come: the answer is cut short.
            return MalformedResponse(
                f"truncated body: {detail}", endpoint=endpoint, transient=True
            )
        if isinstance(exc, httpx.DecodingError):
            return MalformedResponse(f"undecodable body: {detail}", endpoint=endpoint)
        tls = _tls_failure(exc)
        if tls is not None:
            return EngineUnreachable(
                f"TLS failure: {self._redact(tls)}",
                endpoint=endpoint,
                transient=_find_cause(exc, ssl.SSLCertVerificationError) is None,
            )
        if isinstance(exc, httpx.ConnectError):
            return EngineUnreachable(f"cannot connect: {detail}", endpoint=endpoint)
        if isinstance(exc, httpx.TransportError):
            return EngineUnreachable(f"connection failed: {detail}", endpoint=endpoint)
        return EngineUnreachable(f"request failed: {detail}", endpoint=endpoint)

    def _redact(self, text: str) -> str:
        return self._redactor(text)

    def _decode(self, endpoint: str, model: type[_T], body: _Body) -> _T:
        decoder = _DECODERS.get(model)
        if decoder is None:
            decoder = _DECODERS[model] = msgspec.json.Decoder(model)
        try:
            return cast(_T, decoder.decode(body))
        except msgspec.ValidationError as exc:
            raise MalformedResponse(f"unexpected shape: {exc}", endpoint=endpoint) from None
        except msgspec.DecodeError as exc:
            what = "empty body" if not body.strip() else f"invalid JSON: {exc}"
            raise MalformedResponse(what, endpoint=endpoint) from None

    def _page_records(
        self, endpoint: str, model: type[Page[_T]], item: type[_T], body: _Body
    ) -> tuple[Page[_T], list[UnreadableRecord]]:
        """A page decoded whole (the fast path); if that fails, record by record.

        Only a page whose envelope is sound and whose fault lies in some records
        is kept, without those records; anything else is ``MalformedResponse``.
        """
        try:
            return self._page(endpoint, model, body), []
        except MalformedResponse as whole:
            try:
                raw = _RAW_JOB_PAGE.decode(body)  # the envelope only: records stay raw JSON
            except msgspec.DecodeError:
                raise whole from None
            if raw.results is None:
                raise whole from None
            decoder = _DECODERS.get(item)
            if decoder is None:
                decoder = _DECODERS[item] = msgspec.json.Decoder(item)
            good, bad = _decode_each(raw.results, decoder)
            if not bad:
                raise whole from None
            page = model(count=raw.count, results=tuple(good), next=raw.next,
                         previous=raw.previous)  # fmt: skip
            log.debug("%s: %d unreadable records kept out of the page", endpoint, len(bad))
            return page, bad

    def _page(self, endpoint: str, model: type[Page[_T]], body: _Body) -> Page[_T]:
        page = self._decode(endpoint, model, body)
        if page.results is None:
            if page.count == 0:
                return msgspec.structs.replace(page, results=())
            raise MalformedResponse(
                "unexpected shape: Object missing field `results` - at `$`", endpoint=endpoint
            )
        return page


# ---- helpers ---------------------------------------------------------------------------


class _Sent:
    """Whether an action request may have reached the engine (httpcore's trace says so).

    Everything before the request headers start going out (pool wait, DNS, TCP,
    TLS) leaves the engine untouched: a failure there is a plain, safe
    ``EngineUnreachable``. From the first header byte on, the outcome is unknown.
    """

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        if name.endswith("send_request_headers.started"):
            self.started = True


def _outcome_unknown(endpoint: str, why: str) -> ActionOutcomeUnknown:
    return ActionOutcomeUnknown(
        f"outcome unknown ({why}) — check the job before trying again", endpoint=endpoint
    )


_Gate = contextlib.AbstractAsyncContextManager[object]
"""Held while a big page is decoded (a lock: one page at a time)."""


class _Turn(contextlib.AbstractAsyncContextManager[object]):
    """A page's turn to be decoded: once ``turn`` is set, then under ``lock``."""

    __slots__ = ("_lock", "_turn")

    def __init__(self, turn: asyncio.Event, lock: asyncio.Lock) -> None:
        self._turn = turn
        self._lock = lock

    async def __aenter__(self) -> object:
        await self._turn.wait()
        await self._lock.acquire()
        return None

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class _PageRead:
    """One page of jobs as read: the decoded page and the records that would not decode."""

    __slots__ = ("page", "served", "unreadable")

    def __init__(self, page: Page[Any], unreadable: list[UnreadableRecord]) -> None:
        self.page = page
        self.unreadable = unreadable
        self.served = len(page.results or ()) + len(unreadable)


_SEEN_PART: Final = 21_000
"""Ids a part of ``_SeenIds`` takes: under two thirds of a 32,768-slot table, so a part's
last rehash moves ~11,000 ids (~1 ms) and never more."""


class _SeenIds:
    """The ids a plan read has seen, in dicts of at most ``_SEEN_PART`` ids each.

    One dict grown to a 200k plan rehashed every id it held each time it grew, in one
    call: at 87k and 175k ids that held the event loop 27-44 ms of a re-read. Here a
    full part is left as it is and a new one started; a page's ids are checked against
    each part in C (``isdisjoint``: ~10 parts at 200k, well under a millisecond a page).
    Dicts of strings, not sets: a dict of strings is never tracked by the garbage
    collector, a set always is (a young collection visited a 200k set's slots, 15-20 ms).
    """

    __slots__ = ("_full", "_open")

    def __init__(self) -> None:
        self._full: list[dict[str, None]] = []
        self._open: dict[str, None] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._open or any(key in part for part in self._full)

    def _room(self, count: int) -> dict[str, None]:
        if self._open and len(self._open) + count > _SEEN_PART:
            self._full.append(self._open)
            self._open = {}
        return self._open

    def add(self, key: str) -> None:
        self._room(1)[key] = None

    def add_all_new(self, keys: Collection[str]) -> bool:
        """Add ``keys`` and return True if none of them was seen; else add none, False."""
        if not self._open.keys().isdisjoint(keys):
            return False
        if not all(part.keys().isdisjoint(keys) for part in self._full):
            return False
        self._room(len(keys)).update(dict.fromkeys(keys))
        return True

    def release(self) -> bool:
        """Let go of one part (~1 ms of decrefs); True once none is left."""
        if self._full:
            self._full.pop().clear()
            return False
        self._open.clear()
        return True


class _PlanAccumulator:
    """The jobs of a plan read so far, each once, and whether the read can be trusted whole.

    With a ``sink`` the jobs are handed to it instead of kept (see ``fetch_plan``); they
    are decoded as ``item`` (``read_plan``: ``PlanJob``), and ``seen`` keeps
    ``canonical(id)`` (see ``read_plan``).
    """

    __slots__ = ("canonical", "complete", "item", "jobs", "received", "seen", "sink",
                 "unreadable", "unreadable_ids")

    def __init__(self, sink: Callable[[Sequence[Any]], object] | None = None, *,
                 item: type[Any] = JobInPlan, canonical: IdCanon | None = None) -> None:
        self.sink = sink
        self.item = item
        self.canonical = canonical
        self.received = 0
        self.jobs: list[JobInPlan] = []
        self.seen = _SeenIds()
        self.unreadable: list[UnreadableRecord] = []
        self.unreadable_ids: set[str] = set()
        self.complete = True

    @property
    def records(self) -> int:
        return self.received + len(self.unreadable)

    def shifted(self) -> None:
        """Evidence that the plan moved under the read: a job may have been skipped."""
        self.complete = False

    async def absorb(self, read: _PageRead) -> int:
        """Append (or hand to the sink) the page's records not seen yet; returns how many."""
        results: Sequence[Any] = read.page.results or ()
        seen = self.seen
        canonical = self.canonical
        fresh = ({job.id for job in results} if canonical is None
                 else {canonical(job.id) for job in results})
        if len(fresh) != len(results) or not seen.add_all_new(fresh):
            self.complete = False  # a job seen twice: the plan shifted between pages
            kept: list[Any] = []
            for job in results:
                if job.id not in seen:
                    seen.add(job.id if canonical is None else canonical(job.id))
                    kept.append(job)
            results = kept
        del fresh
        new = len(results)
        self.received += new
        sink = self.sink
        if sink is None:
            self.jobs.extend(results)
        else:
            # The page's jobs are the sink's now: the caller may keep the page (the first
            # one is kept for its count) without its 10,000 decoded jobs, and each slice
            # is freed once taken (freeing a whole page at once holds the loop ~10 ms).
            read.page = msgspec.structs.replace(read.page, results=())
            queue = list(results)
            del results
            while queue:
                await next_turn()
                part = queue[:_SINK_SLICE_JOBS]
                del queue[:_SINK_SLICE_JOBS]
                sink(part)
                del part
        for record in read.unreadable:
            key = record.job_id
            if key is None or (key not in self.unreadable_ids and key not in seen):
                if key is not None:
                    self.unreadable_ids.add(key)
                self.unreadable.append(record)
                new += 1
        return new

    async def release(self) -> None:
        """Let go of the ids seen a part at a time, loop turns between: 200k strings
        freed at once hold the loop ~10 ms."""
        while not self.seen.release():
            await next_turn()

    def result(self) -> PlanRead:
        return PlanRead(self.jobs, tuple(self.unreadable), self.complete,
                        received=self.received)


def _unreadable(raw: msgspec.Raw, exc: Exception) -> UnreadableRecord:
    """Name a record that failed to decode: its id if it has a readable one, and why."""
    job_id: str | None = None
    try:
        found = _RECORD_ID.decode(raw).id
    except msgspec.DecodeError:
        found = None
    if isinstance(found, str):
        job_id = found[:_REASON_MAX]
    reason = str(exc) or type(exc).__name__
    if len(reason) > _REASON_MAX:
        reason = reason[: _REASON_MAX - 1] + "…"
    return UnreadableRecord(job_id, reason)


def _decode_each(
    items: list[msgspec.Raw], decoder: msgspec.json.Decoder[_T]
) -> tuple[list[_T], list[UnreadableRecord]]:
    """Decode records one by one: the readable ones, and the others named."""
    good: list[_T] = []
    bad: list[UnreadableRecord] = []
    for raw in items:
        try:
            good.append(decoder.decode(raw))
        except msgspec.DecodeError as exc:  # ValidationError included
            bad.append(_unreadable(raw, exc))
    return good, bad


async def _decode_job_page_sliced(body: _Body, item: type[Any] = JobInPlan
                                  ) -> _PageRead | None:
    """A big job page, decoded ``_DECODE_SLICE_JOBS`` jobs at a time with a loop turn between.

    A slice that fails is decoded job by job, keeping the readable ones. None if
    the body is not a valid page with results (the caller decodes it whole to
    report why, or to apply the empty-page rule).
    """
    try:
        raw = _RAW_JOB_PAGE.decode(body)  # checks the JSON, splits the jobs: no job built yet
    except msgspec.DecodeError:  # ValidationError included
        return None
    items = raw.results
    if items is None:
        return None
    jobs: list[Any] = []
    unreadable: list[UnreadableRecord] = []
    decode_list = _JOB_LISTS[item].decode
    for start in range(0, len(items), _DECODE_SLICE_JOBS):
        await next_turn()
        part = items[start : start + _DECODE_SLICE_JOBS]
        chunk = b"".join((b"[", b",".join(part), b"]"))
        try:
            jobs += decode_list(chunk)
        except msgspec.DecodeError:
            good, bad = _decode_each(part, _DECODERS[item])
            jobs += good
            unreadable += bad
    page_type = PlanJobPage if item is PlanJob else JobPage
    page = page_type(count=raw.count, results=tuple(jobs), next=raw.next, previous=raw.previous)
    return _PageRead(page, unreadable)


def _segment(value: str) -> str:
    """A path segment, quoted so that an id can never change the path."""
    return quote(value, safe="")


def _trusts_nothing() -> ssl.SSLContext:
    """The transport's context for a plain-HTTP engine, which never shakes hands over TLS
    (no redirects are followed): it verifies and trusts no certificate, so it fails
    closed, and it does not load the CA bundle (a tenth of a second at start-up)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _ssl_context(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return verify


def _clean_header(value: str) -> bytes:
    """A header value the engine can store: no control characters, bounded, UTF-8 bytes."""
    text = "".join(ch if ch.isprintable() else " " for ch in value).strip()
    return text[:_MAX_HEADER_VALUE].encode("utf-8")


def _justification_headers(
    category: str | None, description: str | None, ticket: str | None
) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    for name, value in (
        (b"Justification-Category", category),
        (b"Justification-Description", description),
        (b"Justification-Ticket-Num", ticket),
    ):
        if value:
            headers[name] = _clean_header(value)
    return headers


def _status_error(endpoint: str, response: httpx.Response, body: _Body, who: str) -> HwaError:
    status = response.status_code
    if status in (401, 403):
        return CredentialsRejected(
            f"credentials rejected (HTTP {status}) for {who}", endpoint=endpoint, status=status
        )
    server = _server_message(body)
    suffix = f": {server}" if server else ""
    if status == 404:
        return NotFound(f"not found (HTTP 404){suffix}", endpoint=endpoint, status=status)
    if status == 408:
        return EngineTimeout(f"the engine timed out (HTTP 408){suffix}", endpoint=endpoint)
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return EngineRateLimited(
            f"rate limited (HTTP 429){suffix}",
            endpoint=endpoint,
            status=status,
            retry_after=retry_after,
        )
    if status >= 500:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return EngineServerError(
            f"server error (HTTP {status}){suffix}",
            endpoint=endpoint,
            status=status,
            retry_after=retry_after,
        )
    if status >= 400:
        return BadRequest(f"rejected (HTTP {status}){suffix}", endpoint=endpoint, status=status)
    # 3xx: redirects are not followed (a login page is not an API answer).
    return MalformedResponse(f"unexpected HTTP {status}", endpoint=endpoint, status=status)


def _server_message(body: _Body) -> str:
    """The engine's own explanation from an error body (JSON or text), short and printable."""
    if not body:
        return ""
    text = ""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        text = body[: _MAX_SERVER_MESSAGE * 4].decode("utf-8", errors="replace")
    else:
        text = _message_from_json(data)
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(cleaned) > _MAX_SERVER_MESSAGE:
        cleaned = cleaned[: _MAX_SERVER_MESSAGE - 1] + "…"
    return cleaned


def _message_from_json(data: object) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "; ".join(filter(None, (_message_from_json(item) for item in data[:5])))
    if isinstance(data, dict):
        for key in ("message", "errorMessage", "detail", "error", "title", "messages", "errors"):
            if key in data:
                found = _message_from_json(data[key])
                if found:
                    return found
    return ""


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _tls_failure(exc: BaseException) -> str | None:
    cause = _find_cause(exc, ssl.SSLError)
    if not isinstance(cause, ssl.SSLError):
        return None
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verification failed ({cause.verify_message})"
    return cause.reason or type(cause).__name__
