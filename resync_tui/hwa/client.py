"""Async client for the HWA REST API V2 endpoints resync-tui uses (httpx + msgspec).

One pooled ``httpx.AsyncClient`` per engine: keep-alive, a bounded pool and an
explicit timeout for each phase (connect, read, write, pool wait). On top of
those, every call runs under a whole-call deadline, so a server dripping a body
one byte at a time cannot hold a caller longer than ``call_timeout``.

Every failure is one of the typed errors of :mod:`resync_tui.hwa.errors`, naming
the endpoint as a template. The client does not retry and has no breaker: the
resilience layer wraps it and decides with ``exc.transient``.

JSON is decoded straight from the response bytes into the structs of
:mod:`resync_tui.hwa.models`; the job log is text/plain and stays text. A big
page of jobs is decoded a slice at a time, giving the event loop a turn between
slices: msgspec holds the GIL while it decodes (a worker thread would not help),
and a whole 10,000-job page at once would stall the caller's UI for tens of ms.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import ssl
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar, cast, get_args
from urllib.parse import quote

import httpx
import msgspec

from resync_tui.hwa.errors import (
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
    EngineInfo,
    FlowNode,
    FlowNodeList,
    GroupedCount,
    JobInPlan,
    JobPage,
    Page,
    PlanSignature,
    Workstation,
    WorkstationPage,
)

__all__ = ["API_PATH", "JOB_ACTIONS", "HwaClient", "JobAction", "OnRequest"]

log = logging.getLogger(__name__)

API_PATH: Final = "/twsd/api/v2"
"""Where the V2 API lives under the engine's base URL."""

JobAction = Literal["hold", "release", "rerun", "cancel", "kill", "confirm-succ", "confirm-abend"]
JOB_ACTIONS: Final[tuple[str, ...]] = get_args(JobAction)
"""The operator actions the console offers."""

OnRequest = Callable[[str, float, str], None]
"""Hook called after every HTTP call with (endpoint template, seconds, outcome).

``outcome`` is ``"ok"``, ``"cancelled"`` or an error's ``outcome`` word: a small
fixed set, fit for a Prometheus label.
"""

_ALL_JOBS_FILTER: Final = "/@/@#/@/@.@"
_MAX_SERVER_MESSAGE: Final = 300
_MAX_HEADER_VALUE: Final = 1024

_T = TypeVar("_T")
_Headers = Mapping[str, str] | Mapping[bytes, bytes]
_Body = bytes | bytearray

_SLICED_DECODE_BYTES: Final = 1 << 20
"""A job page body larger than this is decoded in slices, the event loop running between."""

_DECODE_SLICE_JOBS: Final = 1000
"""Jobs per slice: a few ms of decoding each, even on a busy machine."""


class _RawJobPage(msgspec.Struct, frozen=True):
    """A job page with each job kept as raw JSON (the cheap first pass of a sliced decode).

    Same fields and types as :class:`Page`, so a body this accepts differs from a
    valid ``JobPage`` only by the jobs themselves, which the slices check.
    """

    count: int | None = None
    results: list[msgspec.Raw] | None = None
    next: str | None = None
    previous: str | None = None


_RAW_JOB_PAGE: Final = msgspec.json.Decoder(_RawJobPage)
_JOB_LIST: Final = msgspec.json.Decoder(list[JobInPlan])

_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {
    model: msgspec.json.Decoder(model)
    for model in (JobPage, JobInPlan, WorkstationPage, EngineInfo, GroupedCount, FlowNodeList,
                  ActionResult)
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

    def __repr__(self) -> str:
        return "_Redactor(***)"


class HwaClient:
    """The HWA REST API V2, as typed async calls. Use ``async with`` or call :meth:`aclose`.

    ``base_url`` is the engine's address (``https://host:port``), with or
    without the ``/twsd/api/v2`` suffix; credentials go in ``user``/``password``
    or ``token``, never in the URL. ``verify`` is True (system CAs), False, a CA
    bundle path or an ``ssl.SSLContext``. ``call_timeout`` bounds one HTTP call
    from start to last byte; ``plan_timeout`` bounds a whole :meth:`fetch_plan`.
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
        page_size: int = 10_000,
        parallel_pages: int = 4,
        plan_id: str = "current",
        max_body_bytes: int = 512 * 1024 * 1024,
        trust_env: bool = True,
        on_request: OnRequest | None = None,
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
        self._http = httpx.AsyncClient(
            base_url=root,
            auth=auth,
            verify=_ssl_context(verify),
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=pool_timeout
            ),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=30.0,
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
        """One page of ``GET /plan/job``; ``count`` is set only with ``include_count``."""
        return await self._job_page(
            oql, self._page_size if limit is None else limit, offset, include_count
        )

    async def fetch_plan(self, oql: str | None = None) -> list[JobInPlan]:
        """Every job matching ``oql`` (all jobs if None), in the engine's order.

        Reads the first page with Include-Count, then the remaining pages by
        offset, ``parallel_pages`` at a time, and stops at the first short page. An
        engine that serves fewer jobs per page than asked (a server-side cap) is
        paged by the size it serves.
        If the plan changes during the read, a job seen twice (shifted by an
        insertion) is kept once; one shifted out by a deletion is picked up by
        the next read.
        """
        return await self._within_plan_timeout(
            self._fetch_all_jobs(oql), "the plan", "GET /plan/job")

    async def _fetch_all_jobs(self, oql: str | None) -> list[JobInPlan]:
        jobs: list[JobInPlan] = []
        seen: set[str] = set()
        decoding = asyncio.Lock()  # one page decoded at a time: one slice per loop turn
        first = await self._job_page(oql, self._page_size, 0, True, decoding)
        size = self._page_size
        served = len(first.results or ())
        if first.count is not None and 0 < served < min(size, first.count):
            size = served  # the engine caps its pages below what we asked: page by its size

        def absorb(page: JobPage) -> bool:
            """Append new jobs; True if the page was full and brought news (read on)."""
            results = page.results or ()
            fresh = {job.id for job in results}
            if len(fresh) == len(results) and seen.isdisjoint(fresh):
                seen.update(fresh)  # the usual case: no job seen twice, one C-level pass
                jobs.extend(results)
                return len(results) >= size
            before = len(jobs)
            for job in results:
                if job.id not in seen:
                    seen.add(job.id)
                    jobs.append(job)
            if len(results) >= size and len(jobs) == before:
                # A full page of jobs already read: the engine ignores offset (or the
                # plan shifted by a whole page). Stop rather than page forever.
                log.warning("GET /plan/job: a full page repeated known jobs; read stopped")
                return False
            return len(results) >= size

        if not absorb(first):
            return jobs
        offset = size
        announced = first.count
        while True:
            if announced is not None and offset <= announced:
                # Up to and including the page that should come back short.
                pages = (announced - offset) // size + 1
            else:
                pages = self._parallel_pages
            offsets = [offset + i * size for i in range(pages)]
            for page in await self._job_pages(oql, size, offsets, decoding):
                if not absorb(page):
                    return jobs
                await asyncio.sleep(0)  # a few ms per page: absorb them with loop turns between
            offset = offsets[-1] + size
            announced = None  # the plan grew past its announced count: keep reading

    async def _job_pages(
        self, oql: str | None, limit: int, offsets: list[int], decoding: asyncio.Lock
    ) -> list[JobPage]:
        """Pages at ``offsets``, at most ``parallel_pages`` in flight, in offset order."""
        gate = asyncio.Semaphore(self._parallel_pages)

        async def one(offset: int) -> JobPage:
            async with gate:
                return await self._job_page(oql, limit, offset, False, decoding)

        tasks = [asyncio.ensure_future(one(offset)) for offset in offsets]
        try:
            return await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _job_page(
        self,
        oql: str | None,
        limit: int,
        offset: int,
        include_count: bool,
        decoding: asyncio.Lock | None = None,
    ) -> JobPage:
        endpoint = "GET /plan/job"
        params: dict[str, str | int] = {"limit": limit, "offset": offset, "plan_id": self._plan_id}
        if oql:
            params["oql"] = oql
        headers = {"Include-Count": "true" if include_count else "false"}
        body = await self._call("GET", endpoint, "/plan/job", params=params, headers=headers)
        if len(body) > _SLICED_DECODE_BYTES:
            async with decoding or asyncio.Lock():
                page = await _decode_job_page_sliced(body)
            if page is not None:
                return page
        # Small, or not a well-formed page: decoding it whole names the fault exactly.
        return self._page(endpoint, JobPage, body)

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
        the job's last run is looked up first.
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
        body = await self._call(
            "PUT", endpoint, f"/plan/job/{_segment(job_id)}/action/{action}", headers=headers
        )
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
        body = await self._call(
            "PUT", endpoint, f"/plan/job/run/{_segment(run_id)}/action/rerun", headers=headers
        )
        return self._decode_action(endpoint, body)

    def _decode_action(self, endpoint: str, body: _Body) -> ActionResult:
        if not body.strip():
            return ActionResult()  # an empty 200/204 is a success too
        return self._decode(endpoint, ActionResult, body)

    # ---- workstations -----------------------------------------------------------------

    async def workstations(self, oql: str | None = None) -> list[Workstation]:
        """Every workstation in the plan (``GET /plan/workstation``), page after page.

        Bounded like :meth:`fetch_plan`: within ``plan_timeout``, and a full page that
        brings no workstation not seen before ends the read (an engine ignoring
        ``offset`` would otherwise be paged forever).
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

    async def _all_workstations(self, oql: str | None) -> list[Workstation]:
        endpoint = "GET /plan/workstation"
        found: list[Workstation] = []
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
            results = self._page(endpoint, WorkstationPage, body).results or ()
            before = len(found)
            for ws in results:
                key = ws.id or ws.name
                if key is None or key not in seen:
                    if key is not None:
                        seen.add(key)
                    found.append(ws)
            if len(results) < self._page_size or len(found) == before:
                return found
            offset += self._page_size

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
    ) -> tuple[_Body, str | None]:
        """One HTTP call under the whole-call deadline; reports to ``on_request``."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            try:
                async with asyncio.timeout(self._call_timeout):
                    return await self._send(method, endpoint, path, params, headers)
            except TimeoutError:
                raise EngineTimeout(
                    f"no complete answer within {self._call_timeout:g} s", endpoint=endpoint
                ) from None
        except HwaError as exc:
            outcome = exc.outcome
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:  # not one of ours (a bug, a closed client): never reported as "ok"
            outcome = "error"
            raise
        finally:
            elapsed = time.perf_counter() - started
            log.debug("%s -> %s in %.3f s", endpoint, outcome, elapsed)
            if self._on_request is not None:
                try:
                    self._on_request(endpoint, elapsed, outcome)
                except Exception:
                    log.exception("on_request hook failed for %s", endpoint)

    async def _send(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Mapping[str, str | int] | None,
        headers: _Headers | None,
    ) -> tuple[_Body, str | None]:
        request = self._http.build_request(method, path, params=params, headers=headers)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(endpoint, exc, reading_body=False) from None
        try:
            body = await self._read_body(endpoint, response)
        finally:
            await response.aclose()
        if response.status_code >= 300:
            raise _status_error(endpoint, response, body)
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


async def _decode_job_page_sliced(body: _Body) -> JobPage | None:
    """A big job page, decoded ``_DECODE_SLICE_JOBS`` jobs at a time with a loop turn between.

    None if the body is not a valid page with results (the caller decodes it whole
    to report why, or to apply the empty-page rule).
    """
    try:
        raw = _RAW_JOB_PAGE.decode(body)  # checks the JSON, splits the jobs: no job built yet
    except msgspec.DecodeError:  # ValidationError included
        return None
    items = raw.results
    if items is None:
        return None
    jobs: list[JobInPlan] = []
    for start in range(0, len(items), _DECODE_SLICE_JOBS):
        await asyncio.sleep(0)
        chunk = b"".join((b"[", b",".join(items[start : start + _DECODE_SLICE_JOBS]), b"]"))
        try:
            jobs += _JOB_LIST.decode(chunk)
        except msgspec.DecodeError:
            return None
    return JobPage(count=raw.count, results=tuple(jobs), next=raw.next, previous=raw.previous)


def _segment(value: str) -> str:
    """A path segment, quoted so that an id can never change the path."""
    return quote(value, safe="")


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


def _status_error(endpoint: str, response: httpx.Response, body: _Body) -> HwaError:
    status = response.status_code
    if status in (401, 403):
        return CredentialsRejected(
            f"credentials rejected (HTTP {status})", endpoint=endpoint, status=status
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
