"""The gateway's HTTP side: health of every part, the demo token, the demo page and the widget script."""

from __future__ import annotations

import dataclasses

import pytest

from bot.identity import verify_customer_token
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.support import RasaStack

pytestmark = pytest.mark.server


async def test_health_reports_every_part(gateway: Gateway) -> None:
    async with gateway.http.get(gateway.url("/health")) as response:
        assert response.status == 200
        report = await response.json()
    assert report["status"] == "ok"
    assert set(report["parts"]) == {"gateway", "rasa", "action_server", "database"}
    assert all(part["ok"] for part in report["parts"].values())
    assert report["parts"]["rasa"]["model_id"]


async def test_health_is_503_naming_the_part_that_is_missing(warm_stack: RasaStack) -> None:
    # Nothing listens on these ports: the shared stack keeps running for the other tests.
    settings = gateway_settings(warm_stack, rasa_url="http://127.0.0.1:9", action_server_url="http://127.0.0.1:9")
    gateway = await start_gateway(settings)
    try:
        async with gateway.http.get(gateway.url("/health")) as response:
            assert response.status == 503
            report = await response.json()
    finally:
        await stop_gateway(gateway)
    assert report["status"] == "unavailable"
    assert report["parts"]["rasa"] == {"ok": False, "error": "unreachable"}
    assert report["parts"]["action_server"] == {"ok": False, "error": "unreachable"}
    assert report["parts"]["database"]["ok"] and report["parts"]["gateway"]["ok"]


async def test_health_sees_rasa_refuse_a_wrong_jwt_secret(warm_stack: RasaStack) -> None:
    gateway = await start_gateway(gateway_settings(warm_stack, rasa_jwt_secret="not-the-secret-rasa-was-started-with"))
    try:
        async with gateway.http.get(gateway.url("/health")) as response:
            report = await response.json()
    finally:
        await stop_gateway(gateway)
    assert report["parts"]["rasa"] == {"ok": False, "error": "ClientResponseError"}


async def test_demo_token_signs_a_customer(gateway: Gateway) -> None:
    async with gateway.http.post(gateway.url("/demo/token"), json={"customer_id": "C-1001"}) as response:
        assert response.status == 200
        token = (await response.json())["token"]
    assert verify_customer_token(token) == "C-1001"
    for body in ({"customer_id": "<script>"}, {"customer_id": 1001}, [], {}):
        async with gateway.http.post(gateway.url("/demo/token"), json=body) as response:
            assert response.status == 400
    async with gateway.http.post(gateway.url("/demo/token"), data="not json") as response:
        assert response.status == 400


async def test_demo_token_does_not_exist_in_production(warm_stack: RasaStack) -> None:
    settings = dataclasses.replace(gateway_settings(warm_stack), env="production")
    gateway = await start_gateway(settings)
    try:
        async with gateway.http.post(gateway.url("/demo/token"), json={"customer_id": "C-1001"}) as response:
            assert response.status == 404
    finally:
        await stop_gateway(gateway)


async def test_demo_page_widget_script_and_static_files(gateway: Gateway) -> None:
    async with gateway.http.get(gateway.url("/")) as response:
        assert response.status == 200 and response.content_type == "text/html"
        assert "/widget.js" in await response.text()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with gateway.http.get(gateway.url("/widget.js")) as response:
        assert response.status == 200 and response.content_type == "text/javascript"
    async with gateway.http.get(gateway.url("/static/demo.css")) as response:
        assert response.status == 200
    for path in ("/static/", "/static/../settings.py", "/static/%2e%2e/app.py"):
        async with gateway.http.get(gateway.url(path)) as response:
            assert response.status in (403, 404), path
