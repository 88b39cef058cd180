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
from bot.store.models import HandoffRequest, Order, utcnow
from tests.gateway.conftest import Gateway
from tests.gateway.widget_client import WidgetClient
from tests.support import run_bot

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


async def chat(gateway: Gateway, customer_id: str, *lines: str) -> str:
    widget: WidgetClient = await gateway.widget()
    await widget.hello(token=sign_customer_token(customer_id), language="nb")
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
