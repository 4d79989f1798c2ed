"""The client's TLS context: an https engine's verifies against the CA bundle; a plain
HTTP engine (the demo's simulator) never shakes hands over TLS, so its client does not
load that bundle at start-up (a tenth of a second before the first read)."""

from __future__ import annotations

import asyncio
import ssl

from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.simulator import Simulator
from tests.hwa.conftest import SIM_PASSWORD, SIM_USER


def _transport_context(client: HwaClient) -> ssl.SSLContext:
    context = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


def test_an_https_engine_is_verified_against_the_ca_bundle() -> None:
    context = _transport_context(HwaClient("https://engine.example:31116"))
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


async def test_a_plain_http_engine_is_read_without_loading_the_ca_bundle(
        simulator: Simulator) -> None:
    client = HwaClient(simulator.base_url, user=SIM_USER, password=SIM_PASSWORD)
    try:
        context = _transport_context(client)
        assert context.cert_store_stats()["x509_ca"] == 0  # the bundle was never loaded
        assert context.verify_mode is ssl.CERT_REQUIRED  # and it would trust no one
        async with asyncio.timeout(10):
            read = await client.fetch_plan()
        assert len(read.jobs) == 50
    finally:
        await client.aclose()
