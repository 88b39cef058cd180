"""GDPR, end to end: a customer's real chat through the gateway and Rasa, then `python -m bot privacy`
as an operator runs it: the copy holds her chat and nobody else's; erasure removes it from the shop
database and from Rasa's tracker store, and leaves other customers and the shop's records alone."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from bot.identity import sign_customer_token
from bot.settings import get_settings
from bot.store.conversations import Conversation, Message
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, Order, utcnow
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.desk_support import CLOSED, quiet_desk
from tests.gateway.widget_client import WidgetClient
from tests.support import RasaStack, run_bot

pytestmark = pytest.mark.server


def privacy(*args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("privacy", *args)  # on this run's databases (tests/conftest.py)


def tracker_events(conversation_id: str) -> int:
    engine = create_engine(get_settings().tracker_database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": conversation_id}
            ).scalar_one()
    finally:
        engine.dispose()


async def chat(gateway: Gateway, customer_id: str | None, *lines: str, language: str = "nb") -> str:
    """A chat of a signed-in customer, or of a guest (None); returns the conversation's id."""
    widget: WidgetClient = await gateway.widget()
    await widget.hello(token=sign_customer_token(customer_id) if customer_id else None, language=language)
    for line in lines:
        await widget.turn(line, timeout=30)
    await widget.close()
    assert widget.conversation_id is not None
    return widget.conversation_id


async def test_a_customer_gets_a_copy_of_her_chat_and_can_have_it_erased(gateway: Gateway) -> None:
    emma = await chat(gateway, "C-1003", "hvor mange poeng har jeg?", "kan jeg få snakke med et menneske?")
    kari = await chat(gateway, "C-1001", "hvor er pakken min?")
    assert tracker_events(emma) > 0 and tracker_events(kari) > 0

    copy = privacy("export", "C-1003")
    assert copy.returncode == 0, copy.stderr
    data = json.loads(copy.stdout)
    assert (data["customer"]["id"], data["customer"]["email"]) == ("C-1003", "emma.lindqvist@example.se")
    said = [m["text"] for m in data["messages"] if m["role"] == "customer"]
    assert "hvor mange poeng har jeg?" in said and "hvor er pakken min?" not in said
    assert data["orders"] and data["handoff_requests"] and data["loyalty"]
    assert privacy("export", "C-9999").returncode == 1

    erased = privacy("erase", "--customer", "C-1003")
    assert erased.returncode == 0, erased.stderr
    assert "erased" in erased.stdout and "conversation(s)" in erased.stdout
    with session_scope() as session:
        assert session.get(Conversation, emma) is None
        assert session.scalar(select(func.count(Message.id)).where(Message.conversation_id == emma)) == 0
        assert session.scalar(select(func.count(HandoffRequest.id)).where(HandoffRequest.conversation_id == emma)) == 0
        assert session.scalar(select(func.count(Order.id)).where(Order.customer_id == "C-1003")) > 0  # the shop's
        assert session.get(Conversation, kari) is not None  # someone else's: untouched
    assert tracker_events(emma) == 0 and tracker_events(kari) > 0


async def test_the_time_limit_erases_old_chats_but_not_recent_ones_or_one_waiting_for_a_person(
    gateway: Gateway,
) -> None:
    old = await chat(gateway, "C-1002", "hvor mange poeng har jeg?")
    recent = await chat(gateway, "C-1002", "hei")
    waiting = await chat(gateway, "C-1002", "hei igjen")
    with session_scope() as session:
        for conversation_id, state in ((old, "bot"), (waiting, "queued")):
            conversation = session.get(Conversation, conversation_id)
            conversation.updated_at, conversation.state = utcnow() - timedelta(days=400), state
    purged = privacy("purge", "--days", "365")
    assert purged.returncode == 0, purged.stderr
    with session_scope() as session:
        assert session.get(Conversation, old) is None
        assert session.get(Conversation, recent) is not None and session.get(Conversation, waiting) is not None
        session.get(Conversation, waiting).state = "closed"  # as it was for the rest of the run
    assert tracker_events(old) == 0 and tracker_events(recent) > 0
    assert privacy("purge", "--days", "0").returncode == 1


async def test_by_e_mail_her_guest_chats_and_ticket_are_exported_and_erased_and_no_one_elses(
    warm_stack: RasaStack,
) -> None:
    """John writes in as a guest twice, through the real bot: once he proves order 10245 is his with his
    address (the order form), once, outside opening hours, he leaves a message to be answered there. A
    request under his address must find both and his signed-in chat; Ola's chats stay, and so does a
    guest who gave Ola's address."""
    john = "john.smith@example.com"  # C-1005 in bot/fixtures/shop.yml
    quiet_desk()
    gateway = await start_gateway(gateway_settings(warm_stack, clock=CLOSED))
    try:
        order_form = await chat(gateway, None, "where is order 10245?", john, language="en")
        ticket = await chat(
            gateway, None, "I want to talk to a person", f"it is {john}", "The parcel never came", language="en"
        )
        signed_in = await chat(gateway, "C-1005", "how many points do I have?", language="en")
        ola = await chat(gateway, "C-1002", "hvor mange poeng har jeg?")
        stranger = await chat(gateway, None, "where is order 10240?", "ola.hansen@example.no", language="en")
    finally:
        await stop_gateway(gateway)
    with session_scope() as session:
        [taken] = session.scalars(select(Ticket).where(Ticket.conversation_id == ticket)).all()
        assert (taken.email, taken.customer_id, taken.status) == (john, None, "open")

    copy = privacy("export", "--email", "John.Smith@example.com")
    assert copy.returncode == 0, copy.stderr
    data = json.loads(copy.stdout)
    [customer] = data["customers"]
    assert customer["customer"]["id"] == "C-1005" and signed_in in {c["id"] for c in customer["conversations"]}
    assert {c["id"] for c in data["guest"]["conversations"]} == {order_form, ticket}
    assert [t["conversation_id"] for t in data["guest"]["tickets"]] == [ticket]
    said = [m["text"] for m in data["guest"]["messages"] if m["role"] == "customer"]
    assert john in said and "The parcel never came" in said
    assert ola not in copy.stdout and stranger not in copy.stdout

    erased = privacy("erase", "--email", john)
    assert erased.returncode == 0, erased.stderr
    with session_scope() as session:
        for his in (order_form, ticket, signed_in):
            assert session.get(Conversation, his) is None
        assert session.scalar(select(func.count(Ticket.id)).where(Ticket.conversation_id == ticket)) == 0
        assert session.get(Conversation, ola) is not None and session.get(Conversation, stranger) is not None
        assert session.scalar(select(func.count(Order.id)).where(Order.customer_id == "C-1005")) > 0
    for his in (order_form, ticket, signed_in):
        assert tracker_events(his) == 0
    assert tracker_events(ola) > 0 and tracker_events(stranger) > 0
