"""GDPR by e-mail address, and the time limit's respect for open tickets (issue 16).

A customer who writes in as a guest leaves her address in a ticket, in the order form ("which e-mail did
you order with?") and in what she types. `python -m bot privacy export|erase --email` must find those
guest chats as well as her signed-in ones, and nothing of anyone else's. The purge must not delete a
ticket the desk has not answered yet. Each test runs the command as an operator would, on this run's
shop database and a tracker store of its own (Rasa's `events` table, as its SQL tracker store makes it).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
)

from bot.services.privacy import erase_conversations
from bot.store.conversations import Conversation, ConversationState, Message
from bot.store.db import drop_schema, session_scope
from bot.store.desk import AgentNote, Ticket
from bot.store.models import HandoffRequest, Order, utcnow
from bot.store.seed import seed_demo
from tests.support import run_bot

KARI = "C-1001"
KARI_EMAIL = "kari.nordmann@example.no"  # bot/fixtures/shop.yml
OLA = "C-1002"

_tracker = MetaData()
EVENTS = Table(
    "events",
    _tracker,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


_made: list[str] = []


@pytest.fixture(autouse=True)
def _clear_away() -> Iterator[None]:
    """This module's conversations leave with each test: the next one counts only its own."""
    yield
    with session_scope() as session:
        erase_conversations(session, _made)
    _made.clear()


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    _tracker.create_all(engine)
    engine.dispose()
    return url


def privacy(tracker_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("privacy", *args, BOT_TRACKER_DATABASE_URL=tracker_url)


def tracker_events(tracker_url: str, conversation_id: str) -> int:
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == conversation_id)
            ).scalar_one()
    finally:
        engine.dispose()


def add_tracker_events(tracker_url: str, conversation_id: str, *events: dict) -> None:
    engine = create_engine(tracker_url)
    try:
        with engine.begin() as connection:
            for event in events:
                connection.execute(
                    insert(EVENTS).values(
                        sender_id=conversation_id,
                        type_name=event["event"],
                        timestamp=utcnow().timestamp(),
                        data=json.dumps(event),
                    )
                )
    finally:
        engine.dispose()


def conversation(customer_id: str | None, *said: str, ticket_email: str | None = None, days_ago: int = 0) -> str:
    """A conversation with the customer's lines (and a bot answer each), and, if asked, a ticket."""
    conversation_id = f"test-{uuid.uuid4().hex}"
    _made.append(conversation_id)
    moment = utcnow() - timedelta(days=days_ago)
    with session_scope() as session:
        session.add(
            Conversation(
                id=conversation_id,
                customer_id=customer_id,
                language="nb",
                state=ConversationState.CLOSED,
                last_seq=2 * len(said),
                created_at=moment,
                updated_at=moment,
            )
        )
        session.flush()
        for number, text in enumerate(said):
            session.add(Message(conversation_id=conversation_id, seq=2 * number + 1, role="customer", text=text))
            session.add(Message(conversation_id=conversation_id, seq=2 * number + 2, role="bot", text="Takk!"))
        session.add(
            HandoffRequest(conversation_id=conversation_id, customer_id=customer_id, reason="requested", language="nb")
        )
        session.add(AgentNote(conversation_id=conversation_id, author="agent.anne", author_name="Anne", text="ring"))
        if ticket_email is not None:
            session.add(
                Ticket(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    email=ticket_email,
                    message=said[-1] if said else "",
                    language="nb",
                    reason="requested",
                    status="open",
                )
            )
    return conversation_id


def exists(conversation_id: str) -> bool:
    with session_scope() as session:
        return session.get(Conversation, conversation_id) is not None


def rows_left(conversation_id: str) -> dict[str, int]:
    with session_scope() as session:
        return {
            model.__tablename__: session.scalar(
                select(func.count()).select_from(model).where(model.conversation_id == conversation_id)
            )
            for model in (Message, Ticket, HandoffRequest, AgentNote)
        }


@dataclass
class Chats:
    ticket: str  # a guest who left a message to be answered at Kari's address (typed in capitals)
    order_form: str  # a guest who gave Kari's address in the order form
    in_text: str  # a guest who wrote Kari's address in a sentence
    signed_in: str  # Kari herself, signed in
    other_guest: str  # a guest with Ola's address
    look_alike: str  # addresses that contain Kari's but are not hers
    ola_mentions_kari: str  # Ola, signed in, who typed Kari's address: Ola's conversation, not Kari's
    ola_ticket: str  # Ola, signed in, with a ticket


@pytest.fixture
def chats(shop: str, tracker_url: str) -> Chats:
    # Only this test's conversations: earlier tests in the run leave chats of Kari's of their own.
    drop_schema(shop)
    seed_demo(shop)
    made = Chats(
        ticket=conversation(None, "Kan dere sende meg svar på e-post?", ticket_email="Kari.Nordmann@Example.NO"),
        order_form=conversation(None, "hvor er ordren min?", "10231", KARI_EMAIL),
        in_text=conversation(None, f"skriv til meg på {KARI_EMAIL.upper()}, takk"),
        signed_in=conversation(KARI, "hvor mange poeng har jeg?"),
        other_guest=conversation(None, "ola.hansen@example.no", ticket_email="ola.hansen@example.no"),
        look_alike=conversation(None, f"mine er o{KARI_EMAIL} og {KARI_EMAIL}.evil.example og x{KARI_EMAIL}"),
        ola_mentions_kari=conversation(OLA, f"min kone heter {KARI_EMAIL}"),
        ola_ticket=conversation(OLA, "ring meg", ticket_email="ola.hansen@example.no"),
    )
    for conversation_id in vars(made).values():
        add_tracker_events(tracker_url, conversation_id, {"event": "user", "text": "hei"})
    add_tracker_events(tracker_url, made.order_form, {"event": "slot", "name": "order_email", "value": KARI_EMAIL})
    return made


def test_export_by_email_finds_her_guest_chats_and_tickets_and_no_one_elses(chats: Chats, tracker_url: str) -> None:
    copy = privacy(tracker_url, "export", "--email", " KARI.nordmann@example.no ")
    assert copy.returncode == 0, copy.stderr
    data = json.loads(copy.stdout)
    assert data["email"] == KARI_EMAIL
    [customer] = data["customers"]
    assert (customer["customer"]["id"], customer["customer"]["email"]) == (KARI, KARI_EMAIL)
    assert customer["orders"] and customer["loyalty"]
    assert [c["id"] for c in customer["conversations"]] == [chats.signed_in]
    guest = data["guest"]
    found = {c["id"] for c in guest["conversations"]}
    assert found == {chats.ticket, chats.order_form, chats.in_text}
    said = {m["text"] for m in guest["messages"] if m["role"] == "customer"}
    assert KARI_EMAIL in said and "Kan dere sende meg svar på e-post?" in said
    assert [t["conversation_id"] for t in guest["tickets"]] == [chats.ticket]
    assert {n["conversation_id"] for n in guest["agent_notes"]} == found
    assert {h["conversation_id"] for h in guest["handoff_requests"]} == found
    everything = copy.stdout
    for someone_elses in (chats.other_guest, chats.look_alike, chats.ola_mentions_kari, chats.ola_ticket):
        assert someone_elses not in everything
    assert "ola.hansen@example.no" not in everything


def test_export_by_email_without_anything_stored_is_refused(shop: str, tracker_url: str) -> None:
    nobody = privacy(tracker_url, "export", "--email", "nobody@example.org")
    assert nobody.returncode == 1 and "nothing stored" in nobody.stderr
    assert privacy(tracker_url, "export", "--email", "not an address").returncode == 2


def test_erase_by_email_removes_her_guest_chats_tickets_and_tracker_events_and_nothing_else(
    chats: Chats, tracker_url: str
) -> None:
    erased = privacy(tracker_url, "erase", "--email", KARI_EMAIL)
    assert erased.returncode == 0, erased.stderr
    assert "erased 4 conversation(s)" in erased.stdout
    # Ola's own conversation that names her address is his data: left, and the operator is told.
    assert "1 conversation(s) of other signed-in customers" in erased.stdout
    for hers in (chats.ticket, chats.order_form, chats.in_text, chats.signed_in):
        assert not exists(hers)
        assert rows_left(hers) == {"messages": 0, "tickets": 0, "handoff_requests": 0, "agent_notes": 0}
        assert tracker_events(tracker_url, hers) == 0
    for someone_elses in (chats.other_guest, chats.look_alike, chats.ola_mentions_kari, chats.ola_ticket):
        assert exists(someone_elses)
        assert rows_left(someone_elses)["messages"] == 2
        assert tracker_events(tracker_url, someone_elses) == 1
    assert rows_left(chats.other_guest)["tickets"] == 1 and rows_left(chats.ola_ticket)["tickets"] == 1
    with session_scope() as session:  # the shop's own records stay
        assert session.scalar(select(func.count(Order.id)).where(Order.customer_id == KARI)) > 0
    again = privacy(tracker_url, "export", "--email", KARI_EMAIL)
    assert again.returncode == 0, again.stderr  # her customer record is the shop's, with no chats now
    data = json.loads(again.stdout)
    assert data["customers"][0]["conversations"] == [] and data["guest"]["conversations"] == []


def test_a_guest_ticket_whose_conversation_is_gone_is_found_and_erased(shop: str, tracker_url: str) -> None:
    email = f"guest-{uuid.uuid4().hex[:8]}@example.org"
    orphan = conversation(None, "hjelp", ticket_email=email)
    with session_scope() as session:  # e.g. erased with --conversation before the ticket was kept apart
        session.execute(delete(Message).where(Message.conversation_id == orphan))
        session.execute(delete(Conversation).where(Conversation.id == orphan))
    copy = privacy(tracker_url, "export", "--email", email)
    assert copy.returncode == 0, copy.stderr
    assert [t["email"] for t in json.loads(copy.stdout)["guest"]["tickets"]] == [email]
    assert privacy(tracker_url, "erase", "--email", email).returncode == 0
    assert rows_left(orphan)["tickets"] == 0


def test_erase_keeps_the_old_ways(chats: Chats, tracker_url: str) -> None:
    assert privacy(tracker_url, "erase", "--conversation", chats.other_guest).returncode == 0
    assert not exists(chats.other_guest) and exists(chats.ticket)
    assert privacy(tracker_url, "erase", "--customer", OLA).returncode == 0
    assert not exists(chats.ola_ticket) and not exists(chats.ola_mentions_kari) and exists(chats.signed_in)
    copy = privacy(tracker_url, "export", KARI)  # by id, as before
    assert copy.returncode == 0 and json.loads(copy.stdout)["customer"]["id"] == KARI


def test_erase_by_conversation_reaches_what_only_rasa_still_has(shop: str, tracker_url: str) -> None:
    """A conversation gone from the shop's tables (or never there: Rasa's own channel) whose events Rasa
    still keeps: erasing it by id removes those too."""
    only_rasa = f"tracker-only-{uuid.uuid4().hex[:8]}"
    add_tracker_events(tracker_url, only_rasa, {"event": "user", "text": "jeg heter Kari"})
    erased = privacy(tracker_url, "erase", "--conversation", only_rasa)
    assert erased.returncode == 0, erased.stderr
    assert "Rasa tracker events 1" in erased.stdout
    assert tracker_events(tracker_url, only_rasa) == 0


def test_the_time_limit_keeps_an_open_ticket_and_its_conversation(shop: str, tracker_url: str) -> None:
    email = f"guest-{uuid.uuid4().hex[:8]}@example.org"
    waiting = conversation(None, "kan dere ringe meg?", ticket_email=email, days_ago=400)
    answered = conversation(None, "kan dere ringe meg igjen?", ticket_email=email, days_ago=400)
    old = conversation(None, "hei", days_ago=400)
    for conversation_id in (waiting, answered, old):
        add_tracker_events(tracker_url, conversation_id, {"event": "user", "text": "hei"})
    with session_scope() as session:
        session.scalars(select(Ticket).where(Ticket.conversation_id == answered)).one().status = "done"
    purged = privacy(tracker_url, "purge", "--days", "365")
    assert purged.returncode == 0, purged.stderr
    assert not exists(old) and not exists(answered)
    assert exists(waiting)
    assert rows_left(waiting) == {"messages": 2, "tickets": 1, "handoff_requests": 1, "agent_notes": 1}
    assert tracker_events(tracker_url, waiting) == 1 and tracker_events(tracker_url, answered) == 0
    # Once the desk has answered it, the next purge takes it.
    with session_scope() as session:
        session.scalars(select(Ticket).where(Ticket.conversation_id == waiting)).one().status = "done"
    assert privacy(tracker_url, "purge", "--days", "365").returncode == 0
    assert not exists(waiting) and rows_left(waiting)["tickets"] == 0
