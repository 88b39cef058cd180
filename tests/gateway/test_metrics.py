"""GET /metrics on the real gateway: who may read it, and, after a real conversation through the widget
socket, gateway and Rasa, that its counters moved."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import get_settings
from bot.store.db import get_engine
from bot.store.seed import seed_demo
from tests.gateway.conftest import Gateway, start_gateway, stop_gateway

EXPECTED_SERIES = (
    "varde_turns_total", "varde_turn_rasa_seconds_count", "varde_turn_gateway_seconds_count", "varde_open_sockets",
    "varde_queue_length", "varde_agents_available", "varde_errors_total",
)  # fmt: skip


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def total(found: dict, name: str) -> float:
    return sum(value for (sample, _), value in found.items() if sample == name)


@pytest_asyncio.fixture(loop_scope="function")
async def quiet_gateway(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    """A gateway with no Rasa behind it (the metrics page needs none), on a database of its own."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_demo(url)
    token = getattr(request, "param", "")
    started = await start_gateway(dataclasses.replace(get_settings(), database_url=url, metrics_token=token))
    try:
        yield started
    finally:
        await stop_gateway(started)
        get_engine(url).dispose()


@pytest.mark.asyncio(loop_scope="function")
async def test_this_machine_reads_metrics_without_a_token_and_a_proxied_request_does_not(
    quiet_gateway: Gateway,
) -> None:
    async with quiet_gateway.http.get(quiet_gateway.url("/metrics")) as response:
        assert response.status == 200 and response.content_type == "text/plain"
        found = samples(await response.text())
    for name in EXPECTED_SERIES:
        assert any(sample == name for sample, _ in found), name
    assert found[("varde_queue_length", ())] == 0
    # Through a reverse proxy on this machine, the request is from elsewhere: no token, no metrics.
    async with quiet_gateway.http.get(quiet_gateway.url("/metrics"), headers={"X-Forwarded-For": "203.0.113.9"}) as r:
        assert r.status == 403


@pytest.mark.parametrize("quiet_gateway", ["s3cret-metrics-token"], indirect=True)
@pytest.mark.asyncio(loop_scope="function")
async def test_with_a_metrics_token_only_that_token_reads_them(quiet_gateway: Gateway) -> None:
    url = quiet_gateway.url("/metrics")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-metrics-token"}):
        async with quiet_gateway.http.get(url, headers=headers) as response:
            assert response.status == 403, headers
    async with quiet_gateway.http.get(
        url, headers={"Authorization": "Bearer s3cret-metrics-token", "X-Forwarded-For": "203.0.113.9"}
    ) as response:
        assert response.status == 200


@pytest.mark.server
@pytest.mark.asyncio(loop_scope="function")
async def test_a_conversation_moves_the_counters(gateway: Gateway) -> None:
    async def scrape() -> dict:
        async with gateway.http.get(gateway.url("/metrics")) as response:
            assert response.status == 200
            return samples(await response.text())

    before = await scrape()
    widget = await gateway.widget()
    await widget.hello(language="nb")
    await widget.turn("hei")
    await widget.turn("jeg vil snakke med et menneske")
    during = await scrape()
    await widget.close()

    answered = ("varde_turns_total", (("outcome", "answered"),))
    assert during[answered] - before.get(answered, 0) >= 2
    assert total(during, "varde_turn_rasa_seconds_count") - total(before, "varde_turn_rasa_seconds_count") >= 2
    assert total(during, "varde_turn_gateway_seconds_count") - total(before, "varde_turn_gateway_seconds_count") >= 2
    assert total(during, "varde_turn_rasa_seconds_sum") > total(before, "varde_turn_rasa_seconds_sum")
    assert total(during, "varde_handoffs_total") - total(before, "varde_handoffs_total") == 1
    assert during[("varde_open_sockets", ())] >= 1
    # No ids in any label: only the few known names.
    labels = {name for _, pairs in during for name, _ in pairs}
    assert labels <= {"outcome", "reason", "queued", "kind", "le"}
