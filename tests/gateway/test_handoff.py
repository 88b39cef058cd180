"""Handoff to people, end to end against the real gateway, Rasa, action server and database.

Customers are test widgets on the real socket; agents are logged in to the real console over HTTP and
its socket. Customer-service hours are judged by the gateway's BOT_CLOCK (a Tuesday at 11, or a Sunday).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.identity import sign_customer_token
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.console_client import ConsoleClient, queued_ids
from tests.gateway.desk_support import CLOSED, OPEN, handoff_of, quiet_desk, state_of, tickets_of
from tests.gateway.test_socket import transcript
from tests.gateway.widget_client import WidgetClient, messages, texts
from tests.support import RasaStack, http_json, rasa_admin_token

pytestmark = pytest.mark.server

ASK_FOR_A_PERSON = "kan jeg få snakke med et menneske?"


@pytest_asyncio.fixture(loop_scope="function")
async def anne(desk: Gateway) -> AsyncIterator[ConsoleClient]:
    """Agent Anne: logged in, available, her console open."""
    client = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    await client.set_available()
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


async def customer(gateway: Gateway, who: str | None = "C-1001", language: str = "nb") -> WidgetClient:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token(who) if who else None, language=language)
    return widget


def states(frames: list[dict]) -> list[str]:
    return [f["state"] for f in frames if f["type"] == "state"]


def rasa_tracker(stack: RasaStack, conversation_id: str) -> dict:
    token = rasa_admin_token(stack.env["BOT_RASA_JWT_SECRET"])
    return http_json(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker", headers={"Authorization": f"Bearer {token}"}
    )


# --- triggers -------------------------------------------------------------------------------------
async def test_asking_for_a_person_queues_the_chat_and_the_agent_sees_it_live(
    desk: Gateway, anne: ConsoleClient
) -> None:
    kari = await customer(desk)
    frames = await kari.turn(ASK_FOR_A_PERSON)
    reply = texts(frames)
    assert "Du er nummer 1 i køen" in reply and "omtrent 3 minutter" in reply, reply
    assert states(frames) == ["queued"]
    assert state_of(kari.conversation_id) == ("queued", None)
    snapshot = await anne.snapshot_where(lambda s: kari.conversation_id in queued_ids(s))
    [entry] = snapshot["queue"]
    assert (entry["customer"], entry["tier_label"], entry["reason_text"], entry["last_message"]) == (
        "Kari Nordmann",
        "Gold",
        "Asked for a person",
        ASK_FOR_A_PERSON,
    )
    await kari.close()


async def handed_over(widget: WidgetClient, lines: list[str]) -> list[dict]:
    frames: list[dict] = []
    for line in lines:
        frames += await widget.turn(line, timeout=30)
    return frames


@pytest.mark.parametrize(
    ("lines", "reason", "detail", "said"),
    [
        (["sålen løsnet fra de nye fjellskoene mine etter én tur"], "complaint", None, "Reklamasjoner"),
        (["blorf snibbet kvakk", "florp zibbel wonk"], "misunderstood", None, "nummer 1 i køen"),
        (["dette er helt håpløst, hvor er pakken min"], "frustration", "angry_words", "Beklager at dette"),
        (["HVOR ER PAKKEN MIN"], "frustration", "shouting", "Beklager at dette"),
        (["hvor mange poeng har jeg?", "hvor mange poeng har jeg?"], "frustration", "repeat", "Beklager at dette"),
    ],
    ids=["complaint", "misunderstood-twice", "angry", "shouting", "asked-again"],
)
async def test_each_trigger_hands_over_with_its_reason(
    desk: Gateway, anne: ConsoleClient, lines: list[str], reason: str, detail: str | None, said: str
) -> None:
    widget = await customer(desk, who=None)
    frames = await handed_over(widget, lines)
    assert said in texts(frames), texts(frames)
    assert "nummer 1 i køen" in texts(frames)
    assert states(frames) == ["queued"]
    request = handoff_of(widget.conversation_id)
    assert (request.reason, request.detail, request.status) == (reason, detail, "waiting")
    snapshot = await anne.snapshot_where(lambda s: widget.conversation_id in queued_ids(s))
    assert snapshot["queue"][0]["reason"] == reason
    # The transcript keeps what NLU made of the message, not the request_human it was turned into.
    customer_rows = [r for r in transcript(widget.conversation_id) if r.role == "customer"]
    if reason == "frustration":
        assert customer_rows[-1].intent != "request_human"
    await widget.close()


async def test_the_same_question_about_another_order_is_answered(desk: Gateway, anne: ConsoleClient) -> None:
    kari = await customer(desk)
    await kari.turn("hvor er ordre 10234?")
    frames = await kari.turn("hvor er ordre 10235?")
    assert "10235" in texts(frames) and states(frames) == []
    assert handoff_of(kari.conversation_id) is None
    await kari.close()


async def test_in_hours_with_no_agent_available_the_bot_says_so_and_offers_a_message(desk: Gateway) -> None:
    widget = await customer(desk, who=None, language="en")
    frames = await widget.turn("I'd like to talk to a real person please")
    reply = texts(frames)
    assert "No one on our customer service team is free" in reply, reply
    assert "Which e-mail address should we answer you at?" in reply
    assert states(frames) == [] and state_of(widget.conversation_id) == ("bot", None)
    await widget.close()


# --- a person has the conversation ------------------------------------------------------------------
async def test_agent_and_customer_talk_in_real_time_and_the_bot_carries_on_after_handback(
    desk: Gateway, anne: ConsoleClient, warm_stack: RasaStack
) -> None:
    kari = await customer(desk)
    await kari.turn(ASK_FOR_A_PERSON)
    conversation_id = kari.conversation_id
    await anne.snapshot_where(lambda s: conversation_id in queued_ids(s))

    status, body = await anne.claim(conversation_id)
    assert status == 200 and body["url"] == f"/console/conversations/{conversation_id}"
    joined = await kari.until(lambda f: f["type"] == "state")
    assert "Anne fra kundeservice har kommet inn i chatten." in texts(joined, "system")
    assert joined[-1]["state"] == "agent" and state_of(conversation_id) == ("agent", "agent.anne")
    snapshot = await anne.snapshot_where(lambda s: s["mine"] and not s["queue"])
    assert snapshot["mine"][0]["customer"] == "Kari Nordmann"

    status, page = await anne.page(f"/console/conversations/{conversation_id}")
    assert status == 200 and "Fjellsko Tinde GTX × 1" in page and "6230" in page  # her card: orders, points
    await anne.watch(conversation_id)
    history = await anne.until(lambda f: f["type"] == "message" and f["role"] == "system")
    assert next(f["text"] for f in history if f["type"] == "message") == ASK_FOR_A_PERSON

    # The customer types and writes; the agent sees both, and Rasa gets nothing.
    await kari.ws.send_json({"type": "typing", "on": True})
    typing = await anne.until(lambda f: f["type"] == "typing")
    assert typing[-1] == {"type": "typing", "role": "customer", "on": True, "conversation_id": conversation_id}
    for _ in range(10):  # a widget that floods typing frames: no news, so nothing passed on
        await kari.ws.send_json({"type": "typing", "on": True})
    await kari.say("Hei Anne, skoene mine er for små. Kan jeg bytte?")
    seen = await anne.until(lambda f: f["type"] == "message" and f["role"] == "customer")
    assert seen[-1]["text"] == "Hei Anne, skoene mine er for små. Kan jeg bytte?"
    assert not [f for f in seen if f["type"] == "typing"]

    # The agent types and answers; the customer sees both, with her name.
    await anne.send({"type": "typing", "conversation_id": conversation_id, "on": True})
    agent_typing = await kari.until(lambda f: f["type"] == "typing" and f["role"] == "agent")
    assert agent_typing[-1]["on"] is True
    status, _ = await anne.reply(conversation_id, "Ja, det ordner jeg. Hvilken størrelse trenger du?")
    assert status == 200
    answer = await kari.until(lambda f: f["type"] == "message" and f["role"] == "agent")
    assert (answer[-1]["text"], answer[-1]["author"]) == ("Ja, det ordner jeg. Hvilken størrelse trenger du?", "Anne")
    # The bot stayed silent the whole time.
    assert not [f for f in kari.frames if f["type"] == "message" and f["role"] == "bot" and f["seq"] > joined[0]["seq"]]
    rows = transcript(conversation_id)
    held = next(r for r in rows if r.text.startswith("Hei Anne"))
    assert held.intent is None  # never went to Rasa
    assert "Hei Anne" not in str([e.get("text") for e in rasa_tracker(warm_stack, conversation_id)["events"]])

    # Hand back: Rasa gets the agent's turn, and answers the next question with what it knew.
    status, _ = await anne.post(f"/console/conversations/{conversation_id}/handback")
    assert status == 200
    back = await kari.until(lambda f: f["type"] == "state")
    assert back[-1]["state"] == "bot" and "gitt chatten tilbake til assistenten" in texts(back, "system")
    events = rasa_tracker(warm_stack, conversation_id)["events"]
    agent_turns = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")]
    assert [e["text"] for e in agent_turns] == ["Ja, det ordner jeg. Hvilken størrelse trenger du?"]
    frames = await kari.turn("hvor er ordre 10234?")
    assert "70712345678901234" in texts(frames) and "Fjellsko Tinde GTX" in texts(frames)
    assert state_of(conversation_id) == ("bot", None)
    await kari.close()


async def test_two_agents_claiming_at_once_one_wins_and_the_other_is_told(desk: Gateway, anne: ConsoleClient) -> None:
    per = await ConsoleClient.logged_in(desk.url("/"), "agent.per")
    try:
        for _ in range(3):
            widget = await customer(desk, who=None)
            await widget.turn(ASK_FOR_A_PERSON)
            results = await asyncio.gather(anne.claim(widget.conversation_id), per.claim(widget.conversation_id))
            statuses = sorted(status for status, _ in results)
            assert statuses == [200, 409], results
            (_, won), (_, lost) = sorted(results, key=lambda r: r[0])
            winner = state_of(widget.conversation_id)[1]
            name = {"agent.anne": "Anne", "agent.per": "Per"}[winner]
            assert won["claimed"] is True and lost["error"] == f"{name} has already taken this conversation."
            joined = await widget.until(lambda f: f["type"] == "state")
            assert len(messages(joined, "system")) == 1  # one "has joined", from the winner only
            await widget.close()
    finally:
        await per.close()


async def test_closing_with_a_resolution_tells_the_customer_and_asks_for_a_rating(
    desk: Gateway, anne: ConsoleClient
) -> None:
    widget = await customer(desk, who=None, language="en")
    await widget.turn("can I talk to a human?")
    assert (await anne.claim(widget.conversation_id))[0] == 200
    status, _body = await anne.post(f"/console/conversations/{widget.conversation_id}/close", resolution="nonsense")
    assert status == 400
    status, _ = await anne.post(
        f"/console/conversations/{widget.conversation_id}/close", resolution="solved", note="Sent a new label"
    )
    assert status == 200
    closed = await widget.until(lambda f: f["type"] == "state" and f["state"] == "closed")
    assert "Anne has closed the chat. Thank you for getting in touch!" in texts(closed, "system")
    # The close asks the customer for a rating, in the conversation's language.
    asked = await widget.until(lambda f: f["type"] == "rating_request")
    assert asked[-1] == {"type": "rating_request", "language": "en"}
    request = handoff_of(widget.conversation_id)
    assert (request.status, request.resolution, request.resolution_note) == ("closed", "solved", "Sent a new label")
    # The customer writes again: the bot carries on.
    frames = await widget.turn("what are your opening hours?")
    assert states(frames) == ["bot"] and messages(frames, "bot")
    await widget.close()


# --- no one there -------------------------------------------------------------------------------
async def test_outside_hours_the_message_is_taken_as_a_ticket_and_shown_in_the_console(warm_stack: RasaStack) -> None:
    quiet_desk()
    gateway = await start_gateway(gateway_settings(warm_stack, clock=CLOSED))
    anne = await ConsoleClient.logged_in(gateway.url("/"), "agent.anne")
    try:
        await anne.set_available()  # available in the console, but customer service is closed on Sundays
        await anne.connect()
        widget = await customer(gateway, who=None, language="en")
        frames = await widget.turn("I want to talk to a person")
        reply = texts(frames)
        assert "isn't at work right now" in reply and "We open tomorrow (Monday, 7 January) 08:00" in reply, reply
        assert "Which e-mail address should we answer you at?" in reply
        assert state_of(widget.conversation_id) == ("bot", None) and states(frames) == []
        frames = await widget.turn("sure, it is guest.one@example.no")
        assert "We'll answer you at guest.one@example.no" in texts(frames), texts(frames)
        message = "My jacket has a hole in the sleeve <script>alert(1)</script> after one week"
        frames = await widget.turn(message)
        [ticket] = tickets_of(widget.conversation_id)
        assert (ticket.email, ticket.message, ticket.status) == ("guest.one@example.no", message, "open")
        assert f"case {ticket.id}" in texts(frames) and "after we open, tomorrow (Monday, 7 January) 08:00" in texts(
            frames
        )
        snapshot = await anne.snapshot_where(lambda s: any(t["id"] == ticket.id for t in s["tickets"]))
        shown = next(t for t in snapshot["tickets"] if t["id"] == ticket.id)
        assert (shown["email"], shown["message"], shown["reason_text"]) == (
            "guest.one@example.no",
            message,
            "Asked for a person",
        )
        status, page = await anne.page(f"/console/tickets/{ticket.id}")
        assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
        # Nothing the customer wrote is lost: the whole chat is on the ticket's page.
        for row in transcript(widget.conversation_id):
            if row.role == "customer":
                assert _escaped(row.text) in page
        status, _ = await anne.post(f"/console/tickets/{ticket.id}/done")
        assert status == 200 and tickets_of(widget.conversation_id)[0].done_by == "agent.anne"
        await widget.close()
    finally:
        await anne.close()
        await stop_gateway(gateway)


async def test_a_customer_who_would_rather_not_leave_a_message_says_no(warm_stack: RasaStack) -> None:
    quiet_desk()
    gateway = await start_gateway(gateway_settings(warm_stack, clock=CLOSED))
    try:
        widget = await customer(gateway, who=None)
        await widget.turn(ASK_FOR_A_PERSON)
        frames = await widget.turn("nei takk")
        assert "Greit, da legger vi ikke igjen noen melding" in texts(frames), texts(frames)
        assert tickets_of(widget.conversation_id) == []
        frames = await widget.turn("hvor er ordre 10234?")
        assert "e-postadressen" in texts(frames)  # back to normal: the order question asks for the e-mail
        await widget.close()
    finally:
        await stop_gateway(gateway)


def _escaped(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


# --- an agent who goes away -----------------------------------------------------------------------
@pytest_asyncio.fixture(loop_scope="function")
async def quick_desk(warm_stack: RasaStack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    """In hours; an open console says it is there every half second, and 2 s without it means gone."""
    monkeypatch.setattr("bot.console.socket.PRESENCE_SECONDS", 0.5)
    quiet_desk()
    started = await start_gateway(gateway_settings(warm_stack, clock=OPEN, agent_gone_seconds=2.0))
    try:
        yield started
    finally:
        await stop_gateway(started)


async def agent_at_work(gateway: Gateway, username: str) -> ConsoleClient:
    client = await ConsoleClient.logged_in(gateway.url("/"), username)
    await client.set_available()
    await client.connect()
    return client


async def test_a_chat_whose_agent_went_away_goes_back_to_the_queue_for_the_next_agent(quick_desk: Gateway) -> None:
    anne = await agent_at_work(quick_desk, "agent.anne")
    per = await agent_at_work(quick_desk, "agent.per")
    kari = await customer(quick_desk)
    try:
        await kari.turn(ASK_FOR_A_PERSON)
        assert (await anne.claim(kari.conversation_id))[0] == 200
        await kari.until(lambda f: f["type"] == "state" and f["state"] == "agent")
        # While her console is open, the chat stays hers, however long it takes.
        await asyncio.sleep(3)
        assert state_of(kari.conversation_id) == ("agent", "agent.anne")
        # She closes the browser without letting go: the customer is told, and keeps her place.
        await anne.close()
        back = await kari.until(lambda f: f["type"] == "state", timeout=15)
        assert back[-1]["state"] == "queued"
        assert "Anne måtte dessverre gå fra chatten. Du er tilbake i køen som nummer 1" in texts(back, "system")
        assert state_of(kari.conversation_id) == ("queued", None)
        request = handoff_of(kari.conversation_id)
        assert (request.status, request.reason, request.last_message) == ("waiting", "requested", ASK_FOR_A_PERSON)
        snapshot = await per.snapshot_where(lambda s: kari.conversation_id in queued_ids(s))
        assert snapshot["queue"][0]["reason_text"] == "Asked for a person"
        # Per takes over.
        assert (await per.claim(kari.conversation_id))[0] == 200
        joined = await kari.until(lambda f: f["type"] == "state" and f["state"] == "agent")
        assert "Per fra kundeservice har kommet inn i chatten." in texts(joined, "system")
    finally:
        await kari.close()
        await per.close()


async def test_with_no_one_else_at_work_the_bot_takes_the_chat_back_and_says_so(quick_desk: Gateway) -> None:
    anne = await agent_at_work(quick_desk, "agent.anne")
    widget = await customer(quick_desk, who=None, language="en")
    try:
        await widget.turn("can I talk to a human?")
        assert (await anne.claim(widget.conversation_id))[0] == 200
        await widget.until(lambda f: f["type"] == "state" and f["state"] == "agent")
        await anne.close()
        back = await widget.until(lambda f: f["type"] == "state", timeout=15)
        assert back[-1]["state"] == "bot"
        assert "no one else in customer service can take over right now" in texts(back, "system")
        assert state_of(widget.conversation_id) == ("bot", None)
        # The bot answers again at once.
        frames = await widget.turn("what are your opening hours?")
        assert messages(frames, "bot")
    finally:
        await widget.close()
