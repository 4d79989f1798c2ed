"""The simulator's HTTP side: an aiohttp app serving the HWA REST API V2 subset.

Runs either inside an existing event loop (``await sim.start()``) or in its own
thread (``sim.start_in_thread()``), which is what tests and the demo use. Admin
routes under ``/_sim`` need no auth and are never faulted; they are served on the
API port and on a second "admin" port that stays up while the API port refuses
connections (``outage: refused``).

The engine has its own clock, the plan clock: every answer's ``Date`` header is
that clock, not the host's. A frozen simulator (``time_scale`` 0, as tests and
snapshots use) starts at the pinned 2026-11-25T06:00Z so runs are byte-identical;
a living one starts now, on the current day. ``clock_offset`` puts the engine that
many seconds ahead of either (negative: behind).

``GET /_sim/stats`` counts the API requests the engine received since start, by
``"<METHOD> <path template>"``, and the answers by status (``"aborted"`` for a
connection cut by a fault), and job log reads by kind (``whole`` or ``from_line``:
following a log must re-read from its last line, not the whole log); ``/_sim`` routes
themselves are not counted. Pages'
``next``/``previous`` links name the engine by its own host name
(``_ENGINE_ORIGIN``), as engines behind a proxy or load balancer do.

Operator actions follow the spec to the letter: an operation the spec gives a
requestBody (rerun, confirm-succ, confirm-abend, single or bulk) answers 415
without ``Content-Type: application/json``, as a real engine does; the job-level
rerun, which the spec does not have, is a 404. ``GET /_sim/actions`` lists every
action request received, in order (method, path, query, content type, body, the
three Justification headers, the answer's status, the engine time);
``DELETE /_sim/actions`` clears the list. Tests prove with it what an engine was sent.
Workstation actions (``PUT /plan/workstation/{workstation_id}/action/{link,unlink,start,
stop,update-fence,update-limit}``) have no request body in the spec: none is required;
update-fence takes ``priority`` and update-limit ``limit`` as query parameters.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import hmac
import logging
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import formatdate
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web
from yarl import URL

from resync_tui.hwa.oql import OqlError
from resync_tui.hwa.simulator.faults import FaultDice, Faults
from resync_tui.hwa.simulator.plan import (
    ACTIONS,
    PINNED_START,
    STREAM_ACTIONS,
    WORKSTATION_ACTIONS,
    ActionError,
    Job,
    JobStream,
    Plan,
    Workstation,
)

__all__ = ["ACTIONS", "API_BASE", "Simulator", "serve_forever"]

log = logging.getLogger(__name__)

API_BASE = "/twsd/api/v2"
_JUSTIFICATION_HEADERS = {
    "Justification-Category": "category",
    "Justification-Description": "description",
    "Justification-Ticket-Num": "ticket",
}
_encode = msgspec.json.encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ENGINE_ORIGIN = "https://hwa-master.example.com:31116"
"""Where the simulated engine believes it lives: the origin of its ``next`` links."""
_ENGINE_URL = URL(_ENGINE_ORIGIN)
_JOB_ROUTE_ACTIONS = frozenset(a for a in ACTIONS if a != "rerun") | {"update-priority"}
"""Served at ``/plan/job/{job_id}/action/{action}`` (the spec reruns a run, not a job)."""
_BODY_ACTIONS = frozenset({"rerun", "confirm-succ", "confirm-abend"})
"""Job actions whose operation has a requestBody in the spec: JSON or 415."""
_ACTIONS_KEPT = 100_000
"""Most action records ``/_sim/actions`` keeps (the oldest go first)."""
_ACTION_TIMEOUT_HOLD = 120.0
"""Longest an ``action_timeout`` fault holds a connection before answering late."""


def _error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=_encode({"code": status, "message": message}),
        content_type="application/json",
    )


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_encode(data), content_type="application/json")


class _ApiError(Exception):
    """Raised by handlers; the middleware turns it into a JSON error answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _int_param(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _ApiError(400, f"{name} must be an integer, got {raw!r}") from None


class Simulator:
    """A living HWA plan behind a real HTTP server on loopback."""

    def __init__(
        self,
        jobs: int = 50,
        seed: int = 1,
        user: str = "demo",
        password: str = "demo",
        time_scale: float = 0.0,
        token: str | None = None,
        faults: Faults | None = None,
        start: datetime | None = None,
        clock_offset: float = 0.0,
    ) -> None:
        self._jobs = jobs
        self._seed = seed
        self._user = user
        self._password = password
        self._token = token
        self.time_scale = time_scale
        self.clock_offset = clock_offset
        self._start = start
        self._plan = Plan(jobs=jobs, seed=seed, start=self._start_epoch())
        self._stats_lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._joblog_reads: Counter[str] = Counter()
        self._actions: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=_ACTIONS_KEPT
        )
        self._faults = Faults()
        self._dice = FaultDice(0)
        self._host = "127.0.0.1"
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.BaseSite | None = None
        self._admin_site: web.TCPSite | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._outage_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.base_url = ""
        self.admin_url = ""
        if faults is not None:
            self.set_faults(faults)

    def __repr__(self) -> str:
        return f"Simulator(jobs={self._jobs}, seed={self._seed}, url={self.base_url!r})"

    # ---- public API ------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def faults(self) -> Faults:
        return self._faults

    def tick(self, seconds: float) -> str:
        """Advance the plan clock; returns the new clock as an ISO instant."""
        self._plan.tick(seconds)
        return self._plan.clock

    def set_faults(self, faults: Faults) -> None:
        """Swap the faults now (thread-safe); from another thread, waits until applied."""
        self._faults = faults
        self._dice = FaultDice(faults.seed)
        self._plan.set_hostile(faults.hostile_rate, faults.seed)
        loop = self._loop
        if loop is None or self._runner is None:
            return
        if self._in_loop_thread():
            task = loop.create_task(self._apply_outage(), name="sim-apply-outage")
            self._tasks.add(task)  # a strong reference until done (the loop keeps weak ones)
            task.add_done_callback(self._task_done)
        else:
            asyncio.run_coroutine_threadsafe(self._apply_outage(), loop).result(timeout=10)

    def _start_epoch(self) -> float | None:
        """The plan clock's first instant: pinned when frozen, now when living (+ offset)."""
        if self._start is not None:
            return self._start.timestamp() + self.clock_offset
        if self.time_scale > 0:
            return time.time() + self.clock_offset
        if self.clock_offset:
            return PINNED_START + self.clock_offset
        return None

    def set_credentials(self, user: str | None = None, password: str | None = None) -> None:
        """Change what the engine accepts (e.g. the operator fixed a password)."""
        if user is not None:
            self._user = user
        if password is not None:
            self._password = password

    def stats(self) -> dict[str, dict[str, int]]:
        """Requests received by ``"<METHOD> <path template>"`` and answers by status;
        ``"joblog"`` (once a log was read): log reads ``whole`` or ``from_line``."""
        with self._stats_lock:
            stats = {"requests": dict(self._requests), "responses": dict(self._responses)}
            if self._joblog_reads:
                stats["joblog"] = dict(self._joblog_reads)
            return stats

    def actions(self) -> list[dict[str, Any]]:
        """Every action request received so far, oldest first (see ``GET /_sim/actions``)."""
        with self._stats_lock:
            return [dict(record) for record in self._actions]

    def clear_actions(self) -> None:
        with self._stats_lock:
            self._actions.clear()

    def reset(self) -> None:
        """Rebuild the plan from its seed (faults stay as they are)."""
        plan = Plan(jobs=self._jobs, seed=self._seed, start=self._start_epoch())
        plan.set_hostile(self._faults.hostile_rate, self._faults.seed)
        self._plan = plan

    async def start(self, host: str = "127.0.0.1", port: int = 0, *,
                    sock: socket.socket | None = None) -> str:
        """Listen on ``host:port`` (0 = any free port) in the running loop; returns base URL.

        ``sock``: serve the API on this listening socket instead (bound to ``host`` by
        whoever started this process, which knew the URL before the plan was built)."""
        self._loop = asyncio.get_running_loop()
        self._outage_lock = asyncio.Lock()
        self._host = host
        self._plan.warm()
        app = self._make_app()
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        self._admin_site = web.TCPSite(self._runner, host, 0)
        await self._admin_site.start()
        self.admin_url = f"http://{_url_host(host)}:{self._admin_site.port}"
        if sock is None:
            site = web.TCPSite(self._runner, host, port)
            await site.start()
            self._port = site.port
            self._site = site
        else:
            self._site = web.SockSite(self._runner, sock)
            await self._site.start()
            self._port = int(sock.getsockname()[1])
        self.base_url = f"http://{_url_host(host)}:{self._port}"
        if self._faults.outage == "refused":
            await self._apply_outage()
        if self.time_scale > 0:
            self._clock_task = asyncio.create_task(self._run_clock())
        log.info("HWA simulator listening on %s", self.base_url)
        return self.base_url

    async def aclose(self) -> None:
        """Stop listening and drop connections."""
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
            self._clock_task = None
        pending = tuple(self._tasks)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._site = None
        self._admin_site = None

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Run the server in its own thread and event loop; returns once it is listening."""
        if self._thread is not None:
            return self.base_url
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start(host, port))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.aclose())
                loop.close()

        self._thread = threading.Thread(target=main, name="hwa-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=120):
            self.stop()
            raise TimeoutError("the HWA simulator did not start listening within 120 s")
        if failure:
            self._thread = None
            raise failure[0]
        return self.base_url

    def stop(self) -> None:
        """Stop a server started with :meth:`start_in_thread` and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        if thread.is_alive():
            log.warning("HWA simulator thread did not stop within 15 s; left as a daemon")
        self._thread = None
        self._loop = None

    def __enter__(self) -> Simulator:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- internals -------------------------------------------------------------------

    def _in_loop_thread(self) -> bool:
        loop = self._loop
        if loop is None:
            return False
        try:
            return asyncio.get_running_loop() is loop
        except RuntimeError:
            return False

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task %s failed", task.get_name(), exc_info=task.exception())

    async def _apply_outage(self) -> None:
        """Stop or resume listening on the API port to match ``outage``."""
        assert self._outage_lock is not None
        async with self._outage_lock:
            runner = self._runner
            if runner is None:
                return
            want_listening = self._faults.outage != "refused"
            if not want_listening and self._site is not None:
                await self._site.stop()
                self._site = None
            elif want_listening and self._site is None:
                site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
                await site.start()
                self._site = site

    async def _run_clock(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            try:
                self._plan.tick((now - last) * self.time_scale)
            except Exception:  # a plan bug must not stop the demo's clock for good
                log.exception("simulator clock tick failed")
            last = now

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self._token is not None:
            return hmac.compare_digest(value.strip().encode(), self._token.encode())
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return hmac.compare_digest(user.encode(), self._user.encode()) and hmac.compare_digest(
            password.encode(), self._password.encode()
        )

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**2)
        app.on_response_prepare.append(self._engine_date)
        base = API_BASE
        app.router.add_get("/_sim/stats", self._get_stats)
        app.router.add_put("/_sim/credentials", self._put_credentials)
        app.router.add_delete("/_sim/job/{job_id}", self._delete_job)
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_put("/_sim/faults", self._put_faults)
        app.router.add_post("/_sim/tick", self._post_tick)
        app.router.add_get("/_sim/state", self._get_state)
        app.router.add_post("/_sim/reset", self._post_reset)
        app.router.add_get("/_sim/actions", self._get_actions)
        app.router.add_delete("/_sim/actions", self._delete_actions)
        app.router.add_get(f"{base}/plan/job", self._list_jobs)
        app.router.add_get(f"{base}/plan/job/count", self._count_jobs)
        app.router.add_get(f"{base}/plan/job/run/{{run_id}}/joblog", self._joblog)
        app.router.add_put(f"{base}/plan/job/run/{{run_id}}/action/rerun", self._rerun_run)
        app.router.add_put(f"{base}/plan/job/action/{{action}}", self._bulk_jobs)
        app.router.add_put(f"{base}/plan/jobstream/action/{{action}}", self._bulk_streams)
        app.router.add_put(f"{base}/plan/jobstream/{{jobstream_id}}/action/{{action}}",
                           self._stream_action)  # fmt: skip
        app.router.add_get(f"{base}/plan/jobstream", self._list_streams)
        app.router.add_get(f"{base}/plan/jobstream/count", self._count_streams)
        app.router.add_get(f"{base}/plan/jobstream/{{jobstream_id}}", self._get_stream)
        app.router.add_get(f"{base}/plan/jobstream/{{jobstream_id}}/predecessors",
                           self._stream_predecessors)  # fmt: skip
        app.router.add_get(f"{base}/plan/jobstream/{{jobstream_id}}/successors",
                           self._stream_successors)  # fmt: skip
        app.router.add_get(f"{base}/plan/job/{{job_id}}", self._get_job)
        app.router.add_get(f"{base}/plan/job/{{job_id}}/predecessors", self._predecessors)
        app.router.add_get(f"{base}/plan/job/{{job_id}}/successors", self._successors)
        app.router.add_put(f"{base}/plan/job/{{job_id}}/action/{{action}}", self._action)
        app.router.add_get(f"{base}/plan/workstation", self._list_workstations)
        app.router.add_get(f"{base}/plan/workstation/{{workstation_id}}", self._get_workstation)
        app.router.add_put(f"{base}/plan/workstation/{{workstation_id}}/action/{{action}}",
                           self._workstation_action)  # fmt: skip
        app.router.add_get(f"{base}/engine/info", self._engine_info)
        return app

    async def _engine_date(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every answer is dated by the engine's own clock (aiohttp would use the host's)."""
        response.headers["Date"] = formatdate(self._plan.engine_time, usegmt=True)

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._stats_lock:
            counter[key] += 1

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_BASE):
            return await handler(request)
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else "(no route)"
        self._count(self._requests, f"{request.method} {template}")
        status = "aborted"
        record = await self._record_action(request)
        try:
            answer = await self._api(request, handler)
            status = str(answer.status)
            if record is not None:
                with self._stats_lock:
                    record["status"] = answer.status
                if self._faults.action_timeout and self._faults.applies_to(path, API_BASE):
                    await _hold_answer(request)  # applied; the client hears nothing in time
                with self._stats_lock:
                    record["answered"] = True
            return answer
        finally:
            self._count(self._responses, status)

    async def _record_action(self, request: web.Request) -> dict[str, Any] | None:
        """Note an operator action request as received (before anything else happens to it)."""
        if request.method != "PUT" or "/action/" not in request.path:
            return None
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                body = None
        record: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "content_type": request.headers.get("Content-Type"),
            "body": body,
            "body_bytes": len(raw),
            "headers": {name: request.headers.get(name) for name in _JUSTIFICATION_HEADERS},
            "status": None,
            "answered": False,
            "time": self._plan.clock,
        }
        with self._stats_lock:
            self._actions.append(record)
        return record

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        faults = self._faults
        faulted = faults.applies_to(path, API_BASE)
        if faulted:
            if faults.outage != "none":
                _abort(request)
                raise asyncio.CancelledError  # nothing more to say on a reset connection
            if faults.latency > 0:
                await asyncio.sleep(faults.latency)
            if self._dice.hit(faults.error_rate):
                status = self._dice.choice([500, 502, 503])
                return _error(status, f"simulated server error {status}")
        if not self._authorised(request):
            response = _error(401, "Not Authorized: missing or wrong credentials")
            response.headers["WWW-Authenticate"] = 'Basic realm="twsd"'
            return response
        try:
            answer = await handler(request)
        except _ApiError as exc:
            return _error(exc.status, exc.message)
        except web.HTTPException as exc:
            return _error(exc.status, exc.reason)
        if not faulted or not isinstance(answer, web.Response):
            return answer
        return await self._body_faults(request, answer, faults)

    async def _body_faults(
        self, request: web.Request, response: web.Response, faults: Faults
    ) -> web.StreamResponse:
        body = response.body
        if not isinstance(body, bytes):
            return response
        is_json = response.content_type == "application/json"
        if is_json and self._dice.hit(faults.malformed_json_rate):
            body = body[: max(1, len(body) // 2)] + b"\x00<html>502 Bad Gateway</html>"
        elif is_json and self._dice.hit(faults.wrong_shape_rate):
            body = _encode(_wrong_shape(msgspec.json.decode(body)))
        truncated = self._dice.hit(faults.truncated_rate)
        if not truncated and faults.slow_body <= 0 and body is response.body:
            return response
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_type = response.content_type
        stream.content_length = len(body)
        await stream.prepare(request)
        if truncated:
            await stream.write(body[: len(body) // 2])
            _abort(request)
            raise asyncio.CancelledError
        if faults.slow_body > 0:
            chunk = max(1, faults.slow_body // 20)
            for start in range(0, len(body), chunk):
                await stream.write(body[start : start + chunk])
                await asyncio.sleep(len(body[start : start + chunk]) / faults.slow_body)
        else:
            await stream.write(body)
        await stream.write_eof()
        return stream

    # ---- admin routes ----------------------------------------------------------------

    async def _get_stats(self, request: web.Request) -> web.Response:
        return _json(self.stats())

    async def _put_credentials(self, request: web.Request) -> web.Response:
        try:
            payload = msgspec.json.decode(await request.read())
            if not isinstance(payload, dict) or not all(
                isinstance(payload.get(k, ""), str) for k in ("user", "password")
            ):
                raise ValueError("expected {\"user\": str, \"password\": str}")
        except (msgspec.DecodeError, ValueError) as exc:
            return _error(400, f"bad credentials: {exc}")
        self.set_credentials(payload.get("user"), payload.get("password"))
        return _json({"user": self._user})

    async def _delete_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        try:
            self._plan.delete_job(job_id)
        except KeyError:
            return _error(404, f"no job with id {job_id!r} in the plan")
        return _json({"deleted": job_id})

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.Response(body=self._faults.to_json(), content_type="application/json")

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            changes = msgspec.json.decode(await request.read())
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object")
            faults = self._faults.updated(changes)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            return _error(400, f"bad faults: {exc}")
        self.set_faults(faults)
        await self._apply_outage()
        return web.Response(body=faults.to_json(), content_type="application/json")

    async def _post_tick(self, request: web.Request) -> web.Response:
        try:
            payload = msgspec.json.decode(await request.read() or b"{}")
            seconds = float(payload.get("seconds", 0))
            if seconds < 0:
                raise ValueError("seconds must be >= 0")
        except (msgspec.DecodeError, ValueError, TypeError, AttributeError) as exc:
            return _error(400, f"bad tick: {exc}")
        return _json({"clock": self.tick(seconds)})

    async def _get_state(self, request: web.Request) -> web.Response:
        state = self._plan.state()
        state["faults"] = msgspec.to_builtins(self._faults)
        return _json(state)

    async def _get_actions(self, request: web.Request) -> web.Response:
        return _json({"count": len(self._actions), "actions": self.actions()})

    async def _delete_actions(self, request: web.Request) -> web.Response:
        self.clear_actions()
        return _json({"count": 0, "actions": []})

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return _json(self._plan.state())

    # ---- API routes ------------------------------------------------------------------

    def _check_plan_id(self, request: web.Request) -> None:
        plan_id = request.query.get("plan_id", "current")
        if plan_id not in ("current", ""):
            raise _ApiError(400, f"unknown plan_id {plan_id!r}")

    def _page_bounds(self, request: web.Request) -> tuple[int, int]:
        limit = _int_param(request, "limit", 10000)
        offset = _int_param(request, "offset", 0)
        assert limit is not None and offset is not None
        if limit < 0 or offset < 0:
            raise _ApiError(400, "limit and offset must be >= 0")
        cap = self._faults.page_cap
        return (min(limit, cap) if cap > 0 else limit), offset

    def _paginated(
        self, request: web.Request, total: int, parts: list[bytes], limit: int, offset: int
    ) -> web.Response:
        pieces = [b"{"]
        counted = request.headers.get("Include-Count", "").strip().lower() == "true"
        if counted and not self._faults.no_count:
            pieces.append(b'"count":%d,' % total)
        pieces += [b'"results":[', b",".join(parts), b"]"]
        origin = _ENGINE_URL
        own = request.url.with_scheme(origin.scheme).with_host(origin.raw_host or "")
        own = own.with_port(origin.port)
        if limit > 0 and offset + limit < total:
            url = own.update_query(offset=offset + limit, limit=limit)
            pieces += [b',"next":', _encode(str(url))]
        if offset > 0:
            url = own.update_query(offset=max(0, offset - limit), limit=limit)
            pieces += [b',"previous":', _encode(str(url))]
        pieces.append(b"}")
        return web.Response(body=b"".join(pieces), content_type="application/json")

    async def _list_jobs(self, request: web.Request) -> web.Response:
        self._check_plan_id(request)
        limit, offset = self._page_bounds(request)
        plan = self._plan
        try:
            with plan.lock:
                selected = plan.select(request.query.get("oql"))
                page = selected[offset : offset + limit]
                parts = [plan.job_bytes(job) for job in page]
                total = len(selected)
        except OqlError as exc:
            return _error(400, f"invalid oql: {exc}")
        faults = self._faults
        if faults.bad_records:
            parts = _spoil(parts, faults.bad_records, _bad_job)
        answer = self._paginated(request, total, parts, limit, offset)
        if faults.delete_after_first_page and offset == 0:
            for job in page[: faults.delete_after_first_page]:
                with contextlib.suppress(KeyError):
                    plan.delete_job(job.id)
        return answer

    async def _count_jobs(self, request: web.Request) -> web.Response:
        raw = request.query.get("grouping_filters", "")
        groups = [g.strip() for g in raw.split(",") if g.strip()]
        try:
            total, grouped = self._plan.grouped_counts(groups)
        except ValueError as exc:
            return _error(400, str(exc))
        if not groups:
            return _json({"count": total})
        return _json({"count": total, "groupedCount": grouped})

    def _find_job(self, request: web.Request) -> Job:
        self._check_plan_id(request)
        job_id = request.match_info["job_id"]
        try:
            return self._plan.job(job_id)
        except KeyError:
            raise _ApiError(404, f"no job with id {job_id!r} in the plan") from None

    async def _get_job(self, request: web.Request) -> web.Response:
        job = self._find_job(request)
        plan = self._plan
        with plan.lock:
            body = plan.job_bytes(job)
        return web.Response(body=body, content_type="application/json")

    def _flow_nodes(self, jobs: list[Job]) -> web.Response:
        plan = self._plan
        with plan.lock:
            parts = [plan.job_bytes(job) for job in jobs]
        body = b'{"count":%d,"results":[%s]}' % (len(parts), b",".join(parts))
        return web.Response(body=body, content_type="application/json")

    async def _predecessors(self, request: web.Request) -> web.Response:
        return self._flow_nodes(list(self._find_job(request).preds))

    async def _successors(self, request: web.Request) -> web.Response:
        return self._flow_nodes(list(self._find_job(request).succs))

    async def _joblog(self, request: web.Request) -> web.Response:
        run_id = request.match_info["run_id"]
        content_only = request.query.get("contentOnly", "false").strip().lower() == "true"
        from_line = _int_param(request, "from_line", None)
        to_line = _int_param(request, "to_line", None)
        self._count(self._joblog_reads, "whole" if from_line is None else "from_line")
        try:
            lines = self._plan.joblog(run_id, content_only)
        except KeyError:
            return _error(404, f"no job run with id {run_id!r}")
        start = max(1, from_line or 1) - 1
        end = len(lines) if to_line is None else max(start, to_line)
        text = "".join(line + "\n" for line in lines[start:end])
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    def _justification(self, request: web.Request) -> dict[str, str]:
        return {
            key: request.headers[header]
            for header, key in _JUSTIFICATION_HEADERS.items()
            if header in request.headers
        }

    def _resource(self, request: web.Request, job: Job) -> web.Response:
        url = request.url.with_path(f"{API_BASE}/plan/job/{job.id}").with_query(None)
        return _json({"id": job.id, "url": str(url)})

    async def _action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in _JOB_ROUTE_ACTIONS:
            if action == "rerun":
                return _error(404, "no such operation: rerun a run with "
                                   "PUT /plan/job/run/{run_id}/action/rerun")  # fmt: skip
            return _error(404, f"action {action!r} is not supported by the simulator")
        await self._media_type(request, action in _BODY_ACTIONS)
        job = self._find_job(request)
        try:
            if action == "update-priority":
                priority = _int_param(request, "priority", None)
                if priority is None:
                    return _error(400, "the priority query parameter is required")
                self._plan.update_priority(job.id, priority, self._justification(request))
            else:
                self._plan.act(job.id, action, self._justification(request))
        except ActionError as exc:
            return _error(400, str(exc))
        return self._resource(request, job)

    async def _rerun_run(self, request: web.Request) -> web.Response:
        run_id = request.match_info["run_id"]
        await self._media_type(request, True)
        try:
            job = self._plan.rerun_run(run_id, self._justification(request))
        except KeyError:
            return _error(404, f"no job run with id {run_id!r}")
        except ActionError as exc:
            return _error(400, str(exc))
        return self._resource(request, job)

    async def _stream_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in STREAM_ACTIONS:
            return _error(404, f"job stream action {action!r} is not supported by the simulator")
        await self._media_type(request, False)
        stream_id = request.match_info["jobstream_id"]
        try:
            stream = self._plan.act_stream(stream_id, action, self._justification(request))
        except KeyError:
            return _error(404, f"no job stream with id {stream_id!r} in the plan")
        except ActionError as exc:
            return _error(400, str(exc))
        return self._stream_resource(request, stream)

    async def _bulk_jobs(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ACTIONS:
            return _error(404, f"bulk action {action!r} is not supported by the simulator")
        return await self._bulk(request, "job", action, action in _BODY_ACTIONS)

    async def _bulk_streams(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in STREAM_ACTIONS:
            return _error(404, f"bulk job stream action {action!r} is not supported")
        return await self._bulk(request, "jobstream", action, False)

    async def _bulk(
        self, request: web.Request, kind: str, action: str, takes_body: bool
    ) -> web.Response:
        """A bulk action on the objects an OQL filter selects: FilterActionResponseV2."""
        await self._media_type(request, takes_body)
        if request.query.get("plan_filter"):
            return _error(400, "plan_filter is not supported by the simulator: filter with oql")
        query = request.query.get("oql", "").strip()
        if not query:
            return _error(400, "a filter is required: oql (a bulk action never means all)")
        max_affected = _int_param(request, "max_object_affected", None)
        try:
            done, failed = self._plan.bulk(kind, action, query, max_affected,
                                           self._justification(request))  # fmt: skip
        except OqlError as exc:
            return _error(400, f"invalid oql: {exc}")
        except ActionError as exc:
            return _error(400, str(exc))

        def url(object_id: str) -> str:
            return str(request.url.with_path(f"{API_BASE}/plan/{kind}/{object_id}")
                       .with_query(None))  # fmt: skip

        return _json({
            "successfulResourceResponses": [
                {"id": i, "url": url(i), "isError": False, "error": False} for i in done],
            "failedResourceResponses": [
                {"id": i, "url": url(i), "message": why, "isError": True, "error": True}
                for i, why in failed],
        })  # fmt: skip

    async def _media_type(self, request: web.Request, takes_body: bool) -> Any:
        """The JSON body of an operation the spec gives a requestBody, or 415 like an engine.

        A real engine (JAX-RS) refuses such a request without ``Content-Type:
        application/json`` before looking at the path's ids; an empty JSON body is
        fine where the body is optional (all of ours). Other operations ignore bodies.
        """
        raw = await request.read()
        if not takes_body:
            return None
        if request.content_type != "application/json":
            sent = request.headers.get("Content-Type") or "none"
            raise _ApiError(415, f"Unsupported Media Type: this operation consumes "
                                 f"application/json (Content-Type sent: {sent})")  # fmt: skip
        if not raw.strip():
            return None
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise _ApiError(400, f"the request body is not valid JSON: {exc}") from None

    # ---- job streams (read) ----------------------------------------------------------

    async def _list_streams(self, request: web.Request) -> web.Response:
        """``GET /plan/jobstream``: paged like the job list (limit, offset, oql, Include-Count)."""
        self._check_plan_id(request)
        if request.query.get("plan_filter"):
            return _error(400, "plan_filter is not supported by the simulator: filter with oql")
        limit, offset = self._page_bounds(request)
        plan = self._plan
        try:
            with plan.lock:
                selected = plan.select_stream_list(request.query.get("oql"))
                page = selected[offset : offset + limit]
                parts = [plan.stream_bytes(stream) for stream in page]
        except OqlError as exc:
            return _error(400, f"invalid oql: {exc}")
        if self._faults.bad_records:
            parts = _spoil(parts, self._faults.bad_records, _bad_stream)
        return self._paginated(request, len(selected), parts, limit, offset)

    async def _count_streams(self, request: web.Request) -> web.Response:
        self._check_plan_id(request)
        raw = request.query.get("grouping_filters", "")
        groups = [g.strip() for g in raw.split(",") if g.strip()]
        try:
            total, grouped = self._plan.stream_grouped_counts(groups)
        except ValueError as exc:
            return _error(400, str(exc))
        if not groups:
            return _json({"count": total})
        return _json({"count": total, "groupedCount": grouped})

    def _find_stream(self, request: web.Request) -> JobStream:
        self._check_plan_id(request)
        stream_id = request.match_info["jobstream_id"]
        try:
            return self._plan.stream(stream_id)
        except KeyError:
            raise _ApiError(404, f"no job stream with id {stream_id!r} in the plan") from None

    async def _get_stream(self, request: web.Request) -> web.Response:
        body = self._plan.stream_bytes(self._find_stream(request))
        return web.Response(body=body, content_type="application/json")

    def _stream_nodes(self, request: web.Request, kind: str) -> web.Response:
        stream = self._find_stream(request)
        parts = self._plan.stream_neighbours(stream.id, kind)
        body = b'{"count":%d,"results":[%s]}' % (len(parts), b",".join(parts))
        return web.Response(body=body, content_type="application/json")

    async def _stream_predecessors(self, request: web.Request) -> web.Response:
        return self._stream_nodes(request, "predecessors")

    async def _stream_successors(self, request: web.Request) -> web.Response:
        return self._stream_nodes(request, "successors")

    def _stream_resource(self, request: web.Request, stream: JobStream) -> web.Response:
        url = request.url.with_path(f"{API_BASE}/plan/jobstream/{stream.id}").with_query(None)
        return _json({"id": stream.id, "url": str(url)})

    async def _list_workstations(self, request: web.Request) -> web.Response:
        limit, offset = self._page_bounds(request)
        plan = self._plan
        try:
            with plan.lock:
                selected: list[Workstation] = plan.select_workstations(request.query.get("oql"))
                page = selected[offset : offset + limit]
                parts = [_encode(plan.workstation_doc(ws)) for ws in page]
        except OqlError as exc:
            return _error(400, f"invalid oql: {exc}")
        if self._faults.bad_records:
            parts = _spoil(parts, self._faults.bad_records, _bad_workstation)
        return self._paginated(request, len(selected), parts, limit, offset)

    def _find_workstation(self, request: web.Request) -> Workstation:
        ws_id = request.match_info["workstation_id"]
        try:
            return self._plan.workstation(ws_id)
        except KeyError:
            raise _ApiError(404, f"no workstation with id {ws_id!r} in the plan") from None

    async def _get_workstation(self, request: web.Request) -> web.Response:
        plan = self._plan
        with plan.lock:
            doc = plan.workstation_doc(self._find_workstation(request))
        return _json(doc)

    async def _workstation_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in WORKSTATION_ACTIONS:
            return _error(404, f"workstation action {action!r} is not supported by the "
                               "simulator")  # fmt: skip
        await self._media_type(request, False)
        ws = self._find_workstation(request)
        value = None
        if action in ("update-fence", "update-limit"):
            name = "priority" if action == "update-fence" else "limit"
            value = _int_param(request, name, None)
            if value is None:
                return _error(400, f"the {name} query parameter is required")
        try:
            self._plan.act_workstation(ws.id, action, value)
        except ActionError as exc:
            return _error(400, str(exc))
        url = request.url.with_path(f"{API_BASE}/plan/workstation/{ws.id}").with_query(None)
        return _json({"id": ws.id, "url": str(url)})

    async def _engine_info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "displayVersion": "10.1.0.1",
                "fullVersion": "10.1.0.1 (simulated, build 20231130)",
                "referenceId": f"SIM-{self._seed}",
                "licenseType": "PERJOB",
                "locale": "en_US",
                "timezone": "UTC",
                "capabilities": {
                    "engine": {"name": "SIM_ENGINE", "type": "distributed", "plan": "current"},
                    "simulator": {"clock": self._plan.clock, "jobs": str(len(self._plan.jobs))},
                },
            }
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _hold_answer(request: web.Request) -> None:
    """Keep the client waiting (the ``action_timeout`` fault) until it hangs up, or long.

    When it has hung up there is nobody to answer: the handler ends like a cut
    connection (CancelledError); otherwise the answer goes out late.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _ACTION_TIMEOUT_HOLD
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            raise asyncio.CancelledError
        await asyncio.sleep(0.05)


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _spoil(parts: list[bytes], n: int, spoil: Callable[[dict[str, Any], int], None]) -> list[bytes]:
    """The first ``n`` records made unreadable (one field of the wrong kind each)."""
    spoiled = list(parts)
    for i in range(min(n, len(parts))):
        doc = msgspec.json.decode(parts[i])
        spoil(doc, i)
        spoiled[i] = _encode(doc)
    return spoiled


def _bad_job(doc: dict[str, Any], i: int) -> None:
    if i % 2 == 0:
        doc["schedTime"] = "tomorrow at nine"
    else:
        doc["priority"] = "high"


def _bad_stream(doc: dict[str, Any], i: int) -> None:
    doc["schedTime"] = "not a time"
    doc["priority"] = "high"


def _bad_workstation(doc: dict[str, Any], i: int) -> None:
    if i % 2 == 0:
        doc["timeStarted"] = "since Monday"
    else:
        doc["tcpPort"] = "31111/tcp"


def _wrong_shape(data: Any) -> Any:
    """Valid JSON, wrong shape: the kind of drift a newer or broken engine could send."""
    if isinstance(data, dict):
        if isinstance(data.get("results"), list):
            return {**data, "results": {"unexpected": data["results"][:1]}}
        if data:
            key = next(iter(data))
            value = data[key]
            return {**data, key: 12345 if isinstance(value, str) else "wrong type"}
        return ["unexpected", "array"]
    return {"unexpected": data}


def serve_forever(
    host: str,
    port: int,
    jobs: int,
    seed: int,
    time_scale: float,
    user: str,
    password: str,
    faults: Faults | None = None,
    clock_offset: float = 0.0,
) -> int:
    """Run a simulator in the foreground until Ctrl-C or SIGTERM (backs ``resync-tui sim``).

    The first stdout line is ``listening on http://HOST:PORT``; the second gives the
    credentials and the admin URL. ``clock_offset`` puts the engine's clock that many
    seconds ahead of this host's.
    """

    async def main() -> int:
        sim = Simulator(jobs=jobs, seed=seed, user=user, password=password,
                        time_scale=time_scale, faults=faults,
                        clock_offset=clock_offset)  # fmt: skip
        try:
            url = await sim.start(host, port)
        except OSError as exc:  # the port taken, a host not of this machine: one line
            await sim.aclose()
            why = exc.strerror or str(exc)
            sys.stderr.write(f"resync-tui sim: cannot listen on {host}:{port}: {why}\n")
            return 1
        out = sys.stdout
        out.write(f"listening on {url}\n")
        out.flush()
        out.write(
            f"credentials: user={user} password={password}  "
            f"api={url}{API_BASE}  admin={sim.admin_url}/_sim/state\n"
        )
        out.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await sim.aclose()
        return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0
