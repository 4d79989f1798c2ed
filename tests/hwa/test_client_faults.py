"""HwaClient when things go wrong: every fault becomes one typed error, within a deadline.

The simulator injects transport and body faults; a tiny canned HTTP server on
loopback serves the answers the simulator has no switch for (429 with
Retry-After, 403, redirects, future enum values, odd timestamps).
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import ssl
import threading
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from resync_tui.hwa.client import HwaClient
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
    is_transient,
)
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.faults import Faults
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER

# ---- simulator faults -------------------------------------------------------------------


def make_client(url: str, **options: object) -> HwaClient:
    settings: dict[str, object] = {
        "user": SIM_USER,
        "password": SIM_PASSWORD,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "call_timeout": 10.0,
        "plan_timeout": 20.0,
        "trust_env": False,
    }
    settings.update(options)
    return HwaClient(url, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[HwaClient]:
    async with make_client(simulator.base_url, page_size=20) as hwa:
        yield hwa


@pytest.mark.parametrize("outage", ["refused", "reset"])
async def test_outage_is_engine_unreachable(
    client: HwaClient, simulator: Simulator, outage: str
) -> None:
    simulator.set_faults(Faults(outage=outage))  # type: ignore[arg-type]
    with pytest.raises(EngineUnreachable) as caught:
        await client.fetch_plan()
    assert type(caught.value) is EngineUnreachable
    assert caught.value.endpoint == "GET /plan/job"
    assert caught.value.transient and is_transient(caught.value)


async def test_the_client_recovers_when_the_outage_ends(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(outage="refused"))
    with pytest.raises(EngineUnreachable):
        await client.engine_info()
    simulator.set_faults(Faults())
    assert (await client.engine_info()).display_version


async def test_server_errors_are_transient_with_their_status(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(error_rate=1.0, seed=3))
    statuses = set()
    for _ in range(8):
        with pytest.raises(EngineServerError) as caught:
            await client.engine_info()
        assert caught.value.transient
        assert caught.value.endpoint == "GET /engine/info"
        statuses.add(caught.value.status)
    assert statuses <= {500, 502, 503} and statuses


async def test_truncated_body_is_malformed_naming_the_endpoint(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(truncated_rate=1.0))
    with pytest.raises(MalformedResponse) as caught:
        await client.fetch_plan()
    assert caught.value.endpoint == "GET /plan/job"
    assert "truncated" in caught.value.message
    assert caught.value.transient  # the network cut it short, not the engine's data


async def test_invalid_json_is_malformed_naming_the_endpoint(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(malformed_json_rate=1.0))
    for call, endpoint in (
        (client.fetch_plan(), "GET /plan/job"),
        (client.engine_info(), "GET /engine/info"),
        (client.job_counts(), "GET /plan/job/count"),
    ):
        with pytest.raises(MalformedResponse) as caught:
            await call
        assert caught.value.endpoint == endpoint
        assert "invalid JSON" in caught.value.message
        assert not caught.value.transient


async def test_wrong_shape_is_malformed_saying_what_was_wrong(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(wrong_shape_rate=1.0))
    with pytest.raises(MalformedResponse) as plan_error:
        await client.fetch_plan()
    assert str(plan_error.value) == (
        "GET /plan/job: unexpected shape: Expected `array | null`, got `object` - at `$.results`"
    )
    with pytest.raises(MalformedResponse) as info_error:
        await client.engine_info()
    assert "Expected `str | null`, got `int` - at `$.displayVersion`" in info_error.value.message
    with pytest.raises(MalformedResponse):
        await client.workstations()
    with pytest.raises(MalformedResponse):
        await client.job_counts()


async def test_faults_on_one_path_leave_the_others_working(
    client: HwaClient, simulator: Simulator
) -> None:
    simulator.set_faults(Faults(malformed_json_rate=1.0, paths=["/engine/info"]))
    with pytest.raises(MalformedResponse):
        await client.engine_info()
    assert len((await client.fetch_plan()).jobs) == 50


async def test_latency_beyond_the_read_timeout_is_engine_timeout(simulator: Simulator) -> None:
    simulator.set_faults(Faults(latency=1.0, paths=["/engine/info"]))
    async with make_client(simulator.base_url, read_timeout=0.2) as hwa:
        with pytest.raises(EngineTimeout) as caught:
            await hwa.engine_info()
    assert caught.value.message == "read timeout"
    assert caught.value.endpoint == "GET /engine/info"
    assert caught.value.transient


async def test_a_body_dripping_past_the_call_deadline_is_engine_timeout(
    simulator: Simulator,
) -> None:
    # Each chunk arrives well within the read timeout; only the whole-call deadline stops it.
    simulator.set_faults(Faults(slow_body=200, paths=["/engine/info"]))
    async with make_client(simulator.base_url, read_timeout=5.0, call_timeout=0.5) as hwa:
        with pytest.raises(EngineTimeout) as caught:
            await hwa.engine_info()
    assert "no complete answer within 0.5 s" in caught.value.message


async def test_on_request_reports_templates_and_outcomes(simulator: Simulator) -> None:
    calls: list[tuple[str, str]] = []
    seconds: list[float] = []

    def record(endpoint: str, elapsed: float, outcome: str) -> None:
        calls.append((endpoint, outcome))
        seconds.append(elapsed)

    async with make_client(simulator.base_url, on_request=record) as hwa:
        job = (await hwa.fetch_plan()).jobs[0]
        await hwa.get_job(job.id)
        with pytest.raises(NotFound):
            await hwa.get_job("missing")
        simulator.set_faults(Faults(error_rate=1.0))
        with pytest.raises(EngineServerError):
            await hwa.job_counts()
    assert calls == [
        ("GET /plan/job", "ok"),
        ("GET /plan/job/{job_id}", "ok"),
        ("GET /plan/job/{job_id}", "not_found"),
        ("GET /plan/job/count", "server_error"),
    ]
    assert all(s >= 0 for s in seconds)


async def test_a_failing_on_request_hook_does_not_break_the_call(simulator: Simulator) -> None:
    def broken(endpoint: str, elapsed: float, outcome: str) -> None:
        raise RuntimeError("metrics are down")

    async with make_client(simulator.base_url, on_request=broken) as hwa:
        assert (await hwa.engine_info()).timezone == "UTC"


async def test_a_call_failing_outside_the_transport_is_not_reported_as_ok(
    simulator: Simulator,
) -> None:
    outcomes: list[str] = []
    hwa = make_client(simulator.base_url, on_request=lambda e, s, o: outcomes.append(o))
    await hwa.aclose()
    with pytest.raises(RuntimeError):  # a closed client is a programming error
        await hwa.engine_info()
    assert outcomes == ["error"]


async def test_nothing_listening_is_engine_unreachable() -> None:
    with socket_bound_but_closed() as url:
        async with make_client(url) as hwa:
            with pytest.raises(EngineUnreachable) as caught:
                await hwa.engine_info()
    assert "cannot connect" in caught.value.message


def test_errors_survive_pickling_with_their_fields() -> None:
    error = EngineRateLimited("rate limited", endpoint="GET /plan/job", status=429, retry_after=2.5)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.retry_after, copy.transient) == (
        EngineRateLimited,
        "GET /plan/job: rate limited",
        2.5,
        True,
    )


def test_only_unreachable_timeouts_5xx_and_429_are_transient() -> None:
    transient = {EngineUnreachable, EngineTimeout, EngineServerError, EngineRateLimited}
    for kind in (*transient, CredentialsRejected, NotFound, BadRequest, MalformedResponse):
        assert issubclass(kind, HwaError)
        assert kind("x", endpoint="GET /engine/info").transient == (kind in transient)
    assert not is_transient(ValueError("not ours"))


# ---- canned answers over loopback -------------------------------------------------------


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Canned:
    """Answers by path (without query): (status, headers, body)."""

    url: str
    answers: dict[str, Answer | Callable[[dict[str, str]], Answer]] = field(default_factory=dict)

    def answer(
        self, path: str, status: int, body: bytes | str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.answers["/twsd/api/v2" + path] = (status, headers or {}, data)


@contextlib.contextmanager
def canned_server(tls: ssl.SSLContext | None = None) -> Iterator[Canned]:
    """A loopback HTTP(S) server answering from ``Canned.answers``."""
    holder: list[Canned] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            answer = holder[0].answers.get(path, (404, {}, b"{}"))
            if callable(answer):
                answer = answer(dict(urllib.parse.parse_qsl(query)))
            status, headers, body = answer
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    holder.append(Canned(url=f"{scheme}://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def canned() -> Iterator[Canned]:
    with canned_server() as server:
        yield server


# A self-signed certificate for 127.0.0.1, valid until 2126: TLS tests need no tool at run time.
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIB2zCCAYKgAwIBAgIUGW8zRc1ttoQfvTcIaBHAl3T19oAwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWcmVzeW5jLXR1aSB0ZXN0IGVuZ2luZTAgFw0yNjExMjUxNDIz
MTNaGA8yMTI2MTEwMTE0MjMxM1owITEfMB0GA1UEAwwWcmVzeW5jLXR1aSB0ZXN0
IGVuZ2luZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABI20DEFApfx4VVU4GEl0
eADt8VNM0im8qA3Gisfu5VJVDIMNVzKJmfGz+aXVGbeKgEncSqEfB0kEloyHHSAK
82GjgZUwgZIwHQYDVR0OBBYEFA4S7Kw4JYXh3bVvyuZaEqvLMVoWMB8GA1UdIwQY
MBaAFA4S7Kw4JYXh3bVvyuZaEqvLMVoWMBoGA1UdEQQTMBGHBH8AAAGCCWxvY2Fs
aG9zdDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIChDATBgNVHSUEDDAK
BggrBgEFBQcDATAKBggqhkjOPQQDAgNHADBEAiA53MOua5SZ5hKGq4fKaQjE1Nt1
5qmgGBMMs5VAhkuRDAIgMEHaXqB+AfUXCAETvsWYrUCZMJUdlHf0Ctq+4v7GyvQ=
-----END CERTIFICATE-----
"""
TEST_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2s0VOeM1DkOHhG8j
Wak3ThhSDLI5ktrYE4xoWMnA4M6hRANCAASNtAxBQKX8eFVVOBhJdHgA7fFTTNIp
vKgNxorH7uVSVQyDDVcyiZnxs/ml1Rm3ioBJ3EqhHwdJBJaMhx0gCvNh
-----END PRIVATE KEY-----
"""


@pytest.fixture
def tls_engine(tmp_path: Path) -> Iterator[tuple[Canned, str]]:
    """An HTTPS engine with a self-signed certificate, and the path of its CA bundle."""
    cert, key = tmp_path / "engine.pem", tmp_path / "engine.key"
    cert.write_text(TEST_CERT)
    key.write_text(TEST_KEY)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with canned_server(context) as server:
        server.answer("/engine/info", 200, b'{"displayVersion":"10.1.0.1"}')
        yield server, str(cert)


async def test_an_untrusted_certificate_is_refused_by_default(
    tls_engine: tuple[Canned, str],
) -> None:
    server, _ = tls_engine
    async with make_client(server.url) as hwa:
        with pytest.raises(EngineUnreachable) as caught:
            await hwa.engine_info()
    assert "certificate verification failed" in caught.value.message
    assert not caught.value.transient  # retrying will not make the certificate trusted


async def test_a_ca_bundle_path_makes_the_engine_trusted(tls_engine: tuple[Canned, str]) -> None:
    server, ca_bundle = tls_engine
    async with make_client(server.url, verify=ca_bundle) as hwa:
        assert (await hwa.engine_info()).display_version == "10.1.0.1"


async def test_429_is_rate_limited_with_retry_after(canned: Canned) -> None:
    canned.answer("/engine/info", 429, '{"message":"slow down"}', {"Retry-After": "7"})
    async with make_client(canned.url) as hwa:
        with pytest.raises(EngineRateLimited) as caught:
            await hwa.engine_info()
    assert caught.value.retry_after == 7.0
    assert caught.value.transient
    assert "slow down" in caught.value.message


async def test_retry_after_as_an_http_date_in_the_past_means_now(canned: Canned) -> None:
    canned.answer(
        "/engine/info", 503, "busy", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    async with make_client(canned.url) as hwa:
        with pytest.raises(EngineServerError) as caught:
            await hwa.engine_info()
    assert caught.value.retry_after == 0.0
    assert caught.value.status == 503


async def test_403_is_credentials_rejected(canned: Canned) -> None:
    canned.answer("/plan/job", 403, '{"message":"role lacks DISPLAY"}')
    async with make_client(canned.url) as hwa:
        with pytest.raises(CredentialsRejected) as caught:
            await hwa.fetch_plan()
    assert caught.value.message == (
        f"credentials rejected (HTTP 403) for user demo at {canned.url}/twsd/api/v2")


async def test_a_redirect_to_a_login_page_is_not_followed(canned: Canned) -> None:
    canned.answer("/engine/info", 302, "", {"Location": "https://sso.example/login?x=1"})
    async with make_client(canned.url) as hwa:
        with pytest.raises(MalformedResponse) as caught:
            await hwa.engine_info()
    assert caught.value.message == "unexpected HTTP 302"


async def test_an_html_error_page_is_malformed(canned: Canned) -> None:
    canned.answer("/engine/info", 200, "<html><body>Proxy login</body></html>")
    async with make_client(canned.url) as hwa:
        with pytest.raises(MalformedResponse) as caught:
            await hwa.engine_info()
    assert caught.value.message.startswith("invalid JSON")


async def test_error_messages_from_the_server_are_short_and_printable(canned: Canned) -> None:
    canned.answer("/plan/job", 400, '{"message":"bad \\u001b[2J oql' + "x" * 5000 + '"}')
    async with make_client(canned.url) as hwa:
        with pytest.raises(BadRequest) as caught:
            await hwa.fetch_plan("whatever")
    assert "\x1b" not in caught.value.message
    assert len(caught.value.message) < 400


async def test_unknown_enum_values_from_a_newer_engine_are_kept(canned: Canned) -> None:
    canned.answer(
        "/plan/job",
        200,
        b'{"count":1,"results":[{"id":"J1","name":"N","futureField":{"x":[1]},'
        b'"lastRunCompositeStatus":{"status":"QUANTUM_WAIT","substatus":"NEW_SUB"},'
        b'"lastRunCommonStatus":"TELEPORTED",'
        b'"jobruns":[{"id":"R1","commonStatus":"TELEPORTED","rerunType":"RERUN_NEW",'
        b'"compositeStatus":{"status":"QUANTUM_WAIT"}}]}]}',
    )
    canned.answer(
        "/plan/workstation",
        200,
        b'{"results":[{"id":"W1","name":"WS","type":"QUANTUM_AGENT",'
        b'"activeStates":["LINKED","RUNNING","WARP_DRIVE"]}]}',
    )
    async with make_client(canned.url) as hwa:
        (job,) = (await hwa.fetch_plan()).jobs
        (ws,) = (await hwa.workstations()).workstations
    assert (job.status, job.substatus) == ("QUANTUM_WAIT", "NEW_SUB")
    assert job.common_status == "TELEPORTED"
    assert job.last_run is not None and job.last_run.rerun_type == "RERUN_NEW"
    assert ws.type == "QUANTUM_AGENT" and "WARP_DRIVE" in ws.active_states
    assert not ws.needs_attention
    assert repr(job.status) == "'QUANTUM_WAIT'" and f"{job.status}" == "QUANTUM_WAIT"


async def test_a_flood_of_distinct_status_values_still_decodes(canned: Canned) -> None:
    jobs = ",".join(
        f'{{"id":"J{i}","lastRunCompositeStatus":{{"status":"NEW_{i}"}}}}' for i in range(3000)
    )
    canned.answer("/plan/job", 200, f'{{"count":3000,"results":[{jobs}]}}')
    async with make_client(canned.url) as hwa:
        plan = (await hwa.fetch_plan()).jobs
    assert [job.status for job in plan] == [f"NEW_{i}" for i in range(3000)]


async def test_missing_optional_fields_are_none(canned: Canned) -> None:
    canned.answer("/plan/job/J1", 200, b'{"id":"J1"}')
    async with make_client(canned.url) as hwa:
        job = await hwa.get_job("J1")
    assert job.name is None and job.status is None and job.last_run is None
    assert job.duration is None and job.return_code is None and job.rerun_count == 0


async def test_a_timestamp_that_is_not_one_is_malformed_not_a_crash(canned: Canned) -> None:
    canned.answer("/plan/job/J1", 200, b'{"id":"J1","schedTime":"yesterday-ish"}')
    canned.answer("/plan/job/J2", 200, b'{"id":"J2","jobruns":[{"timeInfo":{"elapsedTime":7}}]}')
    async with make_client(canned.url) as hwa:
        with pytest.raises(MalformedResponse) as bad_time:
            await hwa.get_job("J1")
        with pytest.raises(MalformedResponse) as bad_duration:
            await hwa.get_job("J2")
    assert "at `$.schedTime`" in bad_time.value.message
    assert "at `$.jobruns[0].timeInfo.elapsedTime`" in bad_duration.value.message


async def test_a_page_without_results_is_malformed_not_an_empty_plan(canned: Canned) -> None:
    canned.answer("/plan/job", 200, b'{"count":3,"items":[{"id":"a"},{"id":"b"},{"id":"c"}]}')
    async with make_client(canned.url) as hwa:
        with pytest.raises(MalformedResponse) as caught:
            await hwa.fetch_plan()
    assert "`results`" in caught.value.message


async def test_an_engine_capping_its_page_size_is_still_read_to_the_end(canned: Canned) -> None:
    ids = [f"J{i:02d}" for i in range(10)]
    limits: list[str] = []

    def capped_at_three(query: dict[str, str]) -> Answer:
        limits.append(query["limit"])
        offset = int(query["offset"])
        page = ",".join(f'{{"id":"{job_id}"}}' for job_id in ids[offset : offset + 3])
        return 200, {}, f'{{"count":{len(ids)},"results":[{page}]}}'.encode()

    canned.answers["/twsd/api/v2/plan/job"] = capped_at_three
    async with make_client(canned.url, page_size=100) as hwa:
        jobs = (await hwa.fetch_plan()).jobs
    assert [job.id for job in jobs] == ids
    assert limits[0] == "100" and set(limits[1:]) == {"3"}


async def test_an_empty_plan_is_an_empty_list(canned: Canned) -> None:
    canned.answer("/plan/job", 200, b'{"count":0}')
    async with make_client(canned.url) as hwa:
        assert (await hwa.fetch_plan()).jobs == []


async def test_a_body_over_the_size_limit_is_refused(canned: Canned) -> None:
    canned.answer("/engine/info", 200, b'{"displayVersion":"' + b"x" * 5000 + b'"}')
    async with make_client(canned.url, max_body_bytes=1000) as hwa:
        with pytest.raises(MalformedResponse) as caught:
            await hwa.engine_info()
    assert "larger than 1000 bytes" in caught.value.message


async def test_the_job_log_is_never_parsed_as_json(canned: Canned) -> None:
    log_text = '{"not": "json, just a log line"}\n\x1b[31mRED\x1b[0m é\n'
    canned.answer(
        "/plan/job/run/R1/joblog", 200, log_text, {"Content-Type": "text/plain; charset=utf-8"}
    )
    async with make_client(canned.url) as hwa:
        assert await hwa.job_log("R1") == log_text


# ---- helpers ----------------------------------------------------------------------------


class socket_bound_but_closed:
    """A loopback URL on a port that was free a moment ago: connecting is refused."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        return None


def _ignoring_offset(kind: str, count: int) -> Callable[[dict[str, str]], Answer]:
    """An engine that serves the same full first page whatever the offset."""

    def answer(query: dict[str, str]) -> Answer:
        limit = int(query["limit"])
        page = ",".join(f'{{"id":"{kind}{i}","name":"{kind}{i}"}}' for i in range(limit))
        return 200, {}, f'{{"count":{count},"results":[{page}]}}'.encode()

    return answer


async def test_an_engine_ignoring_offset_cannot_make_paging_endless(canned: Canned) -> None:
    canned.answers["/twsd/api/v2/plan/job"] = _ignoring_offset("J", 20)
    canned.answers["/twsd/api/v2/plan/workstation"] = _ignoring_offset("W", 20)
    async with make_client(canned.url, page_size=5) as hwa:
        jobs = (await asyncio.wait_for(hwa.fetch_plan(), 10)).jobs
        stations = (await asyncio.wait_for(hwa.workstations(), 10)).workstations
    assert [job.id for job in jobs] == [f"J{i}" for i in range(5)]
    assert [ws.name for ws in stations] == [f"W{i}" for i in range(5)]


async def test_a_workstation_list_that_never_ends_is_bounded_by_the_plan_timeout(
    canned: Canned,
) -> None:
    served = 0

    def always_new(query: dict[str, str]) -> Answer:
        nonlocal served
        served += 1
        page = ",".join(f'{{"id":"W{served}-{i}"}}' for i in range(int(query["limit"])))
        return 200, {}, f'{{"results":[{page}]}}'.encode()

    canned.answers["/twsd/api/v2/plan/workstation"] = always_new
    async with make_client(canned.url, page_size=2, plan_timeout=0.3) as hwa:
        with pytest.raises(EngineTimeout) as caught:
            await asyncio.wait_for(hwa.workstations(), 10)
    assert caught.value.endpoint == "GET /plan/workstation"
