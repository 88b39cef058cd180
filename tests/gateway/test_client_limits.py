"""Issue 16, finding 2: limits per socket and per client address. Attack tests against the real gateway
(behind a trusted proxy, so X-Forwarded-For names the client), Rasa and database; the last one with two
gateways sharing the counts through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.store.conversations import Conversation
from bot.store.db import session_scope
from bot.web.texts import text
from tests.gateway.conftest import SHOP_ORIGIN, Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.test_socket import transcript
from tests.gateway.widget_client import WidgetClient, messages
from tests.support import RasaStack

pytestmark = pytest.mark.server

REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"


async def widget_from(gateway: Gateway, address: str) -> WidgetClient:
    """A widget whose requests come through the shop's proxy (127.0.0.1) for `address`."""
    headers = {"Origin": SHOP_ORIGIN, "X-Forwarded-For": address}
    return WidgetClient(await gateway.http.ws_connect(gateway.url("/ws"), headers=headers))


async def say_hello(widget: WidgetClient, language: str = "nb", conversation_id: str | None = None) -> dict:
    """Send a hello; the welcome or the error it got."""
    await widget.ws.send_json(
        {"type": "hello", "conversation_id": conversation_id, "last_seq": 0, "language": language}
    )
    answer = (await widget.until(lambda f: f["type"] in ("welcome", "error")))[-1]
    if answer["type"] == "welcome":
        widget.conversation_id = answer["conversation_id"]
    return answer


def conversations() -> int:
    with session_scope() as session:
        return session.execute(select(func.count(Conversation.id))).scalar_one()


def refused(frame: dict, language: str = "nb", key: str = "busy_address") -> bool:
    retry = frame.get("retry_after")
    return (
        frame["type"] == "error"
        and frame["code"] == "rate_limited"
        and isinstance(retry, int)
        and 1 <= retry <= 60
        and frame["message"] == text(key, language, seconds=retry)
    )


@pytest_asyncio.fixture(loop_scope="function")
async def proxied(warm_stack: RasaStack) -> AsyncIterator[Gateway]:
    """The gateway behind the shop's proxy, with the default limits."""
    started = await start_gateway(gateway_settings(warm_stack, trusted_proxies=("127.0.0.1",)))
    try:
        yield started
    finally:
        await stop_gateway(started)


async def test_50_hellos_from_one_address_are_refused_past_the_limit_while_another_is_served(
    proxied: Gateway,
) -> None:
    limit = proxied.settings.max_new_conversations_per_address
    assert limit < 50
    before = conversations()
    answers = []
    for _ in range(50):
        widget = await widget_from(proxied, ATTACKER)
        answers.append(await say_hello(widget, language="sv"))
        await widget.close()
    assert [a["type"] for a in answers] == ["welcome"] * limit + ["error"] * (50 - limit)
    assert all(refused(a, "sv") for a in answers[limit:]), answers[limit]
    assert conversations() - before == limit  # a refused hello stores nothing
    neighbour = await widget_from(proxied, NEIGHBOUR)
    assert (await say_hello(neighbour))["type"] == "welcome"
    await neighbour.close()


async def test_hellos_on_one_socket_are_limited(proxied: Gateway) -> None:
    limit = proxied.settings.max_hellos_per_socket
    widget = await widget_from(proxied, ATTACKER)
    first = await say_hello(widget, language="da")
    answers = [first] + [await say_hello(widget, "da", first["conversation_id"]) for _ in range(limit + 4)]
    assert [a["type"] for a in answers] == ["welcome"] * limit + ["error"] * 5
    assert all(refused(a, "da") for a in answers[limit:])
    # The socket stays on its conversation, and still works.
    frames = await widget.turn("hei")
    assert messages(frames, "bot")
    await widget.close()


async def test_a_refused_message_keeps_everything_sent_before(warm_stack: RasaStack) -> None:
    gateway = await start_gateway(
        gateway_settings(warm_stack, trusted_proxies=("127.0.0.1",), max_messages_per_address=3)
    )
    try:
        first = await widget_from(gateway, ATTACKER)
        await say_hello(first)
        await first.turn("hei")
        await first.turn("hvor er ordre 10234?")
        second = await widget_from(gateway, ATTACKER)  # another chat from the same address counts too
        await say_hello(second)
        await second.turn("hei")
        kept = transcript(first.conversation_id)
        client_id = await first.say("hvor mange poeng har jeg?")
        [error] = (await first.until(lambda f: f["type"] == "error"))[-1:]
        assert refused(error, key="rate_limited") and error["client_id"] == client_id
        await asyncio.sleep(0.5)
        assert [(r.seq, r.text) for r in transcript(first.conversation_id)] == [(r.seq, r.text) for r in kept]
        assert [r.text for r in kept if r.role == "customer"] == ["hei", "hvor er ordre 10234?"]
        # Resuming shows all of it, and another address is served.
        neighbour = await widget_from(gateway, NEIGHBOUR)
        await say_hello(neighbour)
        assert messages(await neighbour.turn("hei"), "bot")
        for widget in (first, second, neighbour):
            await widget.close()
    finally:
        await stop_gateway(gateway)


async def test_sockets_per_address_are_limited_and_a_closed_one_frees_its_place(warm_stack: RasaStack) -> None:
    gateway = await start_gateway(
        gateway_settings(warm_stack, trusted_proxies=("127.0.0.1",), max_sockets_per_address=3)
    )
    try:
        open_ = [await widget_from(gateway, ATTACKER) for _ in range(3)]
        for widget in open_:
            assert (await say_hello(widget))["type"] == "welcome"
        extra = await widget_from(gateway, ATTACKER)
        assert refused(await say_hello(extra, language="en"), "en")
        closing = await extra.ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
        neighbour = await widget_from(gateway, NEIGHBOUR)
        assert (await say_hello(neighbour))["type"] == "welcome"
        await open_[0].close()
        await asyncio.sleep(0.3)
        again = await widget_from(gateway, ATTACKER)
        assert (await say_hello(again))["type"] == "welcome"
        for widget in (*open_[1:], neighbour, again):
            await widget.close()
    finally:
        await stop_gateway(gateway)


async def test_two_gateways_count_one_address_together(warm_stack: RasaStack) -> None:
    settings = gateway_settings(
        warm_stack, trusted_proxies=("127.0.0.1",), broker_url=REDIS_URL, max_new_conversations_per_address=4
    )
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"  # this run's own count in Redis
    first, second = await start_gateway(settings), await start_gateway(settings)
    try:
        answers = []
        for gateway in (first, second, first, second, first, second):
            widget = await widget_from(gateway, address)
            answers.append(await say_hello(widget))
            await widget.close()
        assert [a["type"] for a in answers] == ["welcome"] * 4 + ["error"] * 2
        assert all(refused(a) for a in answers[4:])
    finally:
        await stop_gateway(first)
        await stop_gateway(second)
