"""The widget socket against the real gateway, Rasa, action server and database (docs/gateway-protocol.md)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from sqlalchemy import select

from bot.identity import sign_customer_token
from bot.store.conversations import Conversation, Message
from bot.store.db import session_scope
from tests.gateway.conftest import Gateway
from tests.gateway.widget_client import WidgetClient, messages, texts
from tests.support import rasa_admin_token

pytestmark = pytest.mark.server


def transcript(conversation_id: str) -> list[Message]:
    with session_scope() as session:
        query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        return list(session.execute(query).scalars())


async def wait_for_rows(conversation_id: str, count: int, timeout: float = 15) -> list[Message]:
    deadline = time.monotonic() + timeout
    while True:
        rows = transcript(conversation_id)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def test_kari_asks_for_order_10234(gateway: Gateway) -> None:
    widget = await gateway.widget()
    welcome = await widget.hello(token=sign_customer_token("C-1001"))
    assert welcome["state"] == "bot" and welcome["conversation_id"]

    frames = await widget.turn("hvor er ordre 10234?")
    echo = messages(frames)[0]
    assert (echo["role"], echo["text"], echo["seq"]) == ("customer", "hvor er ordre 10234?", 1)
    assert echo["ts"].endswith("+00:00")
    reply = texts(frames)
    for fact in ("10234", "Bring", "70712345678901234", "Fjellsko Tinde GTX"):
        assert fact in reply
    # Typing shows while Rasa works and goes away after the answer.
    typing_on = frames.index({"type": "typing", "role": "bot", "on": True})
    first_bot = frames.index(messages(frames, "bot")[0])
    assert typing_on < first_bot and frames[-1] == {"type": "typing", "role": "bot", "on": False}
    assert [m["seq"] for m in messages(frames)] == list(range(1, len(messages(frames)) + 1))
    await widget.close()


async def test_buttons_and_button_payloads(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token("C-1001"))
    frames = await widget.turn("Hei!")
    buttons = [b for m in messages(frames, "bot") for b in m["buttons"]]
    points = next(b for b in buttons if b["payload"] == "/check_points")
    # A button's title is what the customer sees; its payload is what Rasa gets.
    frames = await widget.turn(points["title"], payload=points["payload"])
    assert messages(frames)[0]["text"] == points["title"]
    assert "poeng" in texts(frames)
    rows = transcript(widget.conversation_id)
    clicked = next(r for r in rows if r.payload == "/check_points")
    assert (clicked.text, clicked.intent, clicked.confidence) == (points["title"], "check_points", 1.0)
    await widget.close()


async def test_transcript_keeps_every_turn_with_intent_confidence_and_language(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token("C-1001"), language="nb")
    hostile = "<img src=x onerror=alert(1)> hvor er ordre 10234?"
    frames = await widget.turn(hostile)
    assert messages(frames)[0]["text"] == hostile  # echoed verbatim, for the widget to show as text
    await widget.turn("where is my order?")

    with session_scope() as session:
        conversation = session.get(Conversation, widget.conversation_id)
        assert conversation is not None
        assert (conversation.customer_id, conversation.state) == ("C-1001", "bot")
    rows = transcript(widget.conversation_id)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    customer = [r for r in rows if r.role == "customer"]
    assert customer[0].text == hostile  # stored verbatim, never interpreted
    assert customer[0].intent == "order_status" and customer[0].confidence > 0.5
    assert customer[0].language == "nb"
    assert customer[1].intent == "order_status" and customer[1].language == "en"
    assert conversation.language == "en"  # the conversation follows what the customer writes
    bot = [r for r in rows if r.role == "bot"]
    assert bot and all(r.language in ("nb", "en") and r.intent is None for r in bot)
    assert all(r.client_id for r in customer) and not any(r.client_id for r in bot)
    await widget.close()


async def test_resume_sends_exactly_the_missed_messages_in_order(gateway: Gateway) -> None:
    token = sign_customer_token("C-1001")
    first = await gateway.widget()
    await first.hello(token=token)
    await first.turn("Hei!")
    seen = max(m["seq"] for m in messages(first.frames))
    # The customer asks and the connection drops before the answer comes.
    await first.say("hvor er ordre 10234?")
    echo = await first.until(lambda f: f["type"] == "message")
    assert echo[-1]["seq"] == seen + 1
    await first.close()
    rows = await wait_for_rows(first.conversation_id, seen + 2)
    assert rows[-1].role == "bot"
    await asyncio.sleep(0.5)  # let every reply of the turn be written
    rows = transcript(first.conversation_id)

    again = await gateway.widget()
    welcome = await again.hello(first.conversation_id, last_seq=seen + 1, token=token)
    assert welcome["conversation_id"] == first.conversation_id
    missed = await again.quiet_for(1.5)
    assert [(m["seq"], m["text"]) for m in missed] == [(r.seq, r.text) for r in rows[seen + 1 :]]
    assert "Bring" in texts(missed)

    # After a reload the widget says last_seq 0 and gets the whole history again.
    reloaded = await gateway.widget()
    await reloaded.hello(first.conversation_id, last_seq=0, token=token)
    history = await reloaded.quiet_for(1.5)
    assert [m["seq"] for m in history] == [r.seq for r in rows]
    for widget in (again, reloaded):
        await widget.close()


async def test_another_customer_never_resumes_karis_conversation(gateway: Gateway) -> None:
    kari = await gateway.widget()
    await kari.hello(token=sign_customer_token("C-1001"))
    await kari.turn("hvor er ordre 10234?")
    await kari.close()
    for token in (sign_customer_token("C-1002"), None):
        other = await gateway.widget()
        welcome = await other.hello(kari.conversation_id, last_seq=0, token=token)
        assert welcome["conversation_id"] != kari.conversation_id
        assert await other.quiet_for(1) == []
        await other.close()


async def test_a_resent_client_id_is_stored_and_answered_once(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token("C-1001"))
    client_id = "0b5c2a52-8e0c-4d6e-9a43-0d9a5e0f5c11"
    first = await widget.turn("hvor er ordre 10234?", client_id=client_id)
    await widget.say("hvor er ordre 10234?", client_id=client_id)
    assert await widget.quiet_for(2) == []

    # The same after a reconnect, when the widget never saw its echo: the replay has it, nothing more.
    await widget.close()
    again = await gateway.widget()
    last_seq = messages(first)[0]["seq"] - 1
    await again.hello(widget.conversation_id, last_seq=last_seq, token=sign_customer_token("C-1001"))
    await again.say("hvor er ordre 10234?", client_id=client_id)
    replay = await again.quiet_for(2)
    assert [m["seq"] for m in replay] == [m["seq"] for m in messages(first)]
    rows = transcript(widget.conversation_id)
    assert sum(1 for r in rows if r.client_id == client_id) == 1
    assert sum(1 for r in rows if r.role == "bot") == len(messages(first, "bot"))
    await again.close()


async def test_too_long_message_is_refused_with_its_client_id(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(language="en")
    client_id = await widget.say("x" * 2001)
    error = await widget.next()
    assert error["type"] == "error" and error["code"] == "too_long" and error["client_id"] == client_id
    assert "2000" in error["message"]
    assert transcript(widget.conversation_id) == []
    frames = await widget.turn("æ" * 2000)  # exactly the limit is fine
    assert messages(frames)[0]["text"] == "æ" * 2000
    await widget.close()


async def test_more_than_20_messages_a_minute_are_refused(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(language="nb")
    for _ in range(20):
        await widget.say("takk")
    refused = await widget.say("takk")
    frames = await widget.until(lambda f: f["type"] == "error", timeout=60)
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["client_id"] == refused
    assert "Vent litt" in frames[-1]["message"]  # in the conversation's language
    await widget.quiet_for(1)
    rows = transcript(widget.conversation_id)
    assert sum(1 for r in rows if r.role == "customer") == 20
    assert refused not in {r.client_id for r in rows}
    await widget.close()


async def test_a_frame_over_16_kib_closes_the_socket_with_1009(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello()
    await widget.ws.send_str('{"type": "message", "client_id": "a", "text": "' + "x" * 17000 + '"}')
    closing = await widget.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert widget.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


@pytest.mark.parametrize("origin", ["http://evil.test", None])
async def test_a_page_not_on_the_allow_list_is_refused(gateway: Gateway, origin: str | None) -> None:
    widget = await gateway.widget(origin=origin)
    error = await widget.next()
    assert error["type"] == "error" and error["code"] == "bad_origin"
    closing = await widget.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert widget.ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_the_gateways_own_page_may_connect(gateway: Gateway) -> None:
    widget = await gateway.widget(origin=gateway.url("/").rstrip("/"))
    assert (await widget.hello())["type"] == "welcome"
    await widget.close()


async def test_malformed_frames_get_bad_frame_and_the_socket_stays(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.ws.send_json({"type": "message", "client_id": "a", "text": "before hello"})
    for raw in ("not json", "[1, 2]", '{"type": "launch"}'):
        await widget.ws.send_str(raw)
    await widget.ws.send_json({"type": "hello", "last_seq": -3})
    errors = [await widget.next() for _ in range(5)]
    assert [e["code"] for e in errors] == ["bad_frame"] * 5
    await widget.hello()
    await widget.ws.send_json({"type": "message", "client_id": "b", "text": "   "})
    empty = await widget.next()
    assert (empty["code"], empty["client_id"]) == ("bad_frame", "b")
    await widget.ws.send_json({"type": "typing", "on": True})  # accepted quietly
    assert await widget.quiet_for(0.5) == []
    await widget.close()


async def _converse(widget: WidgetClient, lines: list[str]) -> list[dict]:
    for line in lines:
        await widget.say(line)  # all at once: the gateway must keep them in order
    frames = await widget.until(
        lambda f: f["type"] == "message" and f["role"] != "customer" and "Bare hyggelig" in f["text"], timeout=120
    )
    return frames


async def test_many_conversations_at_once_each_in_order(gateway: Gateway) -> None:
    lines = ["hvor er ordre 10234?", "hvor mange poeng har jeg?", "takk"]
    widgets = [await gateway.widget() for _ in range(10)]
    for widget in widgets:
        await widget.hello(token=sign_customer_token("C-1001"))
    started = time.monotonic()
    results = await asyncio.gather(*(_converse(widget, lines) for widget in widgets))
    elapsed = time.monotonic() - started
    token = rasa_admin_token(gateway.settings.rasa_jwt_secret)
    for widget, frames in zip(widgets, results, strict=True):
        shown = messages(frames)
        assert [m["seq"] for m in shown] == list(range(1, len(shown) + 1))
        assert [m["text"] for m in messages(frames, "customer")] == lines
        # Each answer follows its own question: order first, then points, then thanks.
        bot = texts(frames)
        assert bot.index("70712345678901234") < bot.index("poeng") < bot.index("Bare hyggelig")
        rows = transcript(widget.conversation_id)
        assert [r.intent for r in rows if r.role == "customer"] == ["order_status", "check_points", "thanks"]
        # Rasa got them one at a time, in the order the customer sent them.
        url = f"{gateway.settings.rasa_url}/conversations/{widget.conversation_id}/tracker"
        async with gateway.http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            tracker = await response.json()
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == lines
        await widget.close()
    print(f"\n10 conversations x 3 turns in {elapsed:.1f} s")


async def test_bot_turns_carry_the_conversations_language_so_the_widget_can_follow_a_switch(gateway: Gateway) -> None:
    """A guest on a Norwegian page who writes English: the answers say they are English, so the widget's own
    words ("Sending …", "The assistant is typing …") can switch too; the gateway's refusals switch with them."""
    widget = await gateway.widget()
    await widget.hello(language="nb")
    frames = await widget.turn("hei")
    assert {f.get("language") for f in messages(frames, "bot")} == {"nb"}
    frames = await widget.turn("where is my order?")
    assert "language" not in messages(frames, "customer")[0]  # a customer's turn is not read yet when echoed
    assert messages(frames, "bot") and {f.get("language") for f in messages(frames, "bot")} == {"en"}

    client_id = await widget.say("x" * 2001)
    error = (await widget.until(lambda f: f["type"] == "error"))[-1]
    assert (error["code"], error["client_id"]) == ("too_long", client_id)
    assert error["message"] == "That message is too long. Could you keep it under 2000 characters?"

    # After a reload the history says it again: the latest answer's language is the conversation's.
    again = await gateway.widget()
    await again.hello(widget.conversation_id, resume_secret=widget.resume_secret, language="nb")
    replayed = await again.until(lambda f: f["type"] == "message" and f["seq"] == len(messages(widget.frames)))
    assert messages(replayed, "bot")[-1]["language"] == "en"
    await again.close()
    await widget.close()
