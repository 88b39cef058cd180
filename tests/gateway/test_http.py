"""The gateway's HTTP side: health of every part, the demo token, the demo page and the widget script."""

from __future__ import annotations

import dataclasses

import pytest

from bot.identity import verify_customer_token
from bot.settings import DEMO_SESSION_SECRET
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


# --- issue 16: attack tests for the gateway's defaults ----------------------------------------------
async def test_demo_token_is_off_unless_the_development_setting_turns_it_on(warm_stack: RasaStack) -> None:
    """A development build that someone exposes signs no tokens unless BOT_DEMO_TOKENS=1 was set on purpose."""
    gateway = await start_gateway(gateway_settings(warm_stack, demo_tokens=False))
    try:
        async with gateway.http.post(gateway.url("/demo/token"), json={"customer_id": "C-1001"}) as response:
            assert response.status == 404
            assert "token" not in await response.text()
    finally:
        await stop_gateway(gateway)


async def test_demo_token_refuses_a_request_that_came_through_a_proxy(gateway: Gateway) -> None:
    """On, but reached through a reverse proxy (so from elsewhere than this machine): no token."""
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        headers = {header: "203.0.113.7"}
        async with gateway.http.post(
            gateway.url("/demo/token"), json={"customer_id": "C-1001"}, headers=headers
        ) as response:
            assert response.status == 404, header


REAL_SECRETS = {"identity_secret": "i" * 40, "rasa_jwt_secret": "r" * 40, "session_secret": "s" * 40}


def test_demo_tokens_are_refused_on_a_gateway_bound_beyond_loopback() -> None:
    from bot.gateway.local import check_bind
    from bot.settings import Settings, SettingsError

    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(Settings(demo_tokens=True, gateway_host=host))
    for host in ("0.0.0.0", "::", "192.0.2.10", "shop.example"):
        check_bind(Settings(demo_tokens=False, gateway_host=host, **REAL_SECRETS))  # off: any bind
        with pytest.raises(SettingsError, match="BOT_DEMO_TOKENS"):
            check_bind(Settings(demo_tokens=True, gateway_host=host, **REAL_SECRETS))


def test_the_public_demo_secrets_are_refused_on_a_gateway_bound_beyond_loopback() -> None:
    """Development with BOT_ENV unset but served to the world: anyone could sign a customer's token."""
    from bot.gateway.local import check_bind
    from bot.settings import Settings, SettingsError

    check_bind(Settings(gateway_host="127.0.0.1"))  # the demo on this machine
    for host in ("0.0.0.0", "192.0.2.10"):
        with pytest.raises(SettingsError, match="BOT_IDENTITY_SECRET, BOT_RASA_JWT_SECRET, BOT_SESSION_SECRET"):
            check_bind(Settings(gateway_host=host))
        with pytest.raises(SettingsError, match="BOT_SESSION_SECRET still"):
            check_bind(Settings(gateway_host=host, **{**REAL_SECRETS, "session_secret": DEMO_SESSION_SECRET}))


def test_the_gateway_command_refuses_to_start_with_the_demo_secrets_on_a_public_bind() -> None:
    from tests.support import free_port, run_bot

    port = str(free_port())  # refused before it binds; were it not, the test would wait for run_bot's timeout
    result = run_bot("gateway", "--port", port, BOT_GATEWAY_HOST="0.0.0.0")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "demo values" in result.stderr and "loopback" in result.stderr


def test_the_gateway_command_refuses_to_start_with_demo_tokens_on_a_public_bind() -> None:
    from tests.support import free_port, run_bot

    port = str(free_port())  # refused before it binds; were it not, the test would wait for run_bot's timeout
    result = run_bot("gateway", "--port", port, BOT_DEMO_TOKENS="1", BOT_GATEWAY_HOST="0.0.0.0")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "BOT_DEMO_TOKENS" in result.stderr and "loopback" in result.stderr


async def test_public_health_says_only_ok_or_not_per_part(warm_stack: RasaStack) -> None:
    """From outside this machine (through a trusted proxy), /health names no model, no file, no error."""
    gateway = await start_gateway(gateway_settings(warm_stack, trusted_proxies=("127.0.0.1",)))
    try:
        for headers in ({"X-Forwarded-For": "203.0.113.7"}, {"Forwarded": "for=203.0.113.7"}):
            async with gateway.http.get(gateway.url("/health"), headers=headers) as response:
                assert response.status == 200
                report = await response.json()
            assert report == {"status": "ok", "parts": {part: {"ok": True} for part in report["parts"]}}, report
            assert set(report["parts"]) == {"gateway", "rasa", "action_server", "database"}
        # From this machine itself (the supervisor, an operator's curl): the details.
        async with gateway.http.get(gateway.url("/health")) as response:
            assert (await response.json())["parts"]["rasa"]["model_id"]
    finally:
        await stop_gateway(gateway)


async def test_public_health_of_a_broken_part_says_not_ok_without_why(warm_stack: RasaStack) -> None:
    settings = gateway_settings(warm_stack, rasa_url="http://127.0.0.1:9")
    gateway = await start_gateway(settings)
    try:
        async with gateway.http.get(gateway.url("/health"), headers={"X-Forwarded-For": "203.0.113.7"}) as response:
            assert response.status == 503
            report = await response.json()
    finally:
        await stop_gateway(gateway)
    assert report["status"] == "unavailable" and report["parts"]["rasa"] == {"ok": False}
