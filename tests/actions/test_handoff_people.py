"""Handing over, honestly: the real queue and wait when a person can join, a message taken when no one can.

"Now" comes from the gateway's BOT_CLOCK setting, which it passes with each turn (metadata "clock").
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import ActionHandoff
from actions.tickets import ActionSubmitTicket, ValidateTicketForm, find_email
from bot.services.assignment import enqueue
from bot.store.conversations import Conversation
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, utcnow
from bot.store.staff import StaffUser
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker

OPEN = "2030-01-08T11:00:00+01:00"  # a Tuesday: 08:00-20:00
CLOSED = "2030-01-06T11:00:00+01:00"  # a Sunday: closed; opens Monday 08:00


def agents_available(*usernames: str) -> None:
    with session_scope() as session:
        for user in session.execute(select(StaffUser)).scalars():
            user.availability = "available" if user.username in usernames else "away"
            user.last_seen_at = utcnow()  # their consoles are open


def tracker(text: str, intent: str, clock: str, sender: str = "conv-h", **kwargs: Any):  # type: ignore[no-untyped-def]
    metadata = {"clock": clock, **kwargs.pop("metadata", {})}
    return make_tracker(text, intent=intent, metadata=metadata, sender_id=sender, **kwargs)


def custom(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m["custom"] for m in messages if m.get("custom"))


def events_named(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e.get("name"): e.get("value") for e in events if e.get("event") in ("slot", "followup")}


async def test_open_with_an_agent_the_customer_hears_the_real_place_and_wait() -> None:
    agents_available("agent.anne")
    with session_scope() as session:  # two conversations already wait: a gold member and a guest
        for conversation_id, customer in (("gold-1", "C-1001"), ("guest-1", None)):
            session.add(Conversation(id=conversation_id, customer_id=customer, language="nb", state="bot", last_seq=0))
            session.flush()
            enqueue(session, conversation_id)
    messages, events = await run_action(ActionHandoff(), tracker("I want a human", "request_human", OPEN))
    queued = next(m for m in messages if m.get("response") == "utter_handoff_queued")
    assert (queued["position"], queued["wait_minutes"]) == (3, 9)  # behind both; 3 minutes each, one agent
    assert custom(messages)["handoff"]["queued"] is True and events == []
    # Ola (bronse) would be third too; Emma (sølv) goes ahead of the guest.
    emma, _ = await run_action(
        ActionHandoff(), tracker("menneske", "request_human", OPEN, sender="emma", slots={"customer_id": "C-1003"})
    )
    assert next(m for m in emma if m.get("response") == "utter_handoff_queued")["position"] == 2


async def test_outside_hours_the_bot_says_when_we_open_and_offers_to_take_a_message() -> None:
    agents_available("agent.anne", "agent.per")  # available in the console, but it is Sunday
    messages, events = await run_action(ActionHandoff(), tracker("I want a human", "request_human", CLOSED))
    assert responses(messages) == ["utter_handoff_closed"]
    assert messages[0]["opens"].endswith("08:00") and "Monday" in messages[0]["opens"]
    assert custom(messages)["handoff"]["queued"] is False
    assert events_named(events) == {"ticket_email": None, "ticket_message": None, "ticket_form": None}
    with session_scope() as session:
        request = session.execute(select(HandoffRequest)).scalar_one()
        assert request.status == "unattended"


async def test_in_hours_with_no_agent_available_the_bot_says_so() -> None:
    agents_available()
    messages, events = await run_action(ActionHandoff(), tracker("I want a human", "request_human", OPEN))
    assert responses(messages) == ["utter_handoff_nobody_available"]
    assert any(e.get("event") == "followup" and e.get("name") == "ticket_form" for e in events)


async def test_a_signed_in_customer_is_answered_at_the_address_on_file() -> None:
    agents_available()
    _, events = await run_action(
        ActionHandoff(), tracker("menneske", "request_human", CLOSED, slots={"customer_id": "C-1001"})
    )
    assert events_named(events)["ticket_email"] == "kari.nordmann@example.no"


async def test_frustration_is_the_reason_with_its_signals() -> None:
    agents_available("agent.per")
    frustrated = tracker(
        "WHERE IS MY ORDER!!!", "request_human", OPEN, metadata={"frustration": ["shouting", "repeat"]}
    )
    messages, _ = await run_action(ActionHandoff(), frustrated)
    assert responses(messages)[:2] == ["utter_handoff_frustration", "utter_handoff_queued"]
    assert custom(messages)["handoff"]["reason"] == "frustration"
    with session_scope() as session:
        request = session.execute(select(HandoffRequest)).scalar_one()
        assert (request.reason, request.detail, request.last_message) == (
            "frustration",
            "shouting, repeat",
            "WHERE IS MY ORDER!!!",
        )


async def test_a_complaint_stays_a_complaint_even_when_angry() -> None:
    agents_available("agent.per")
    angry = tracker("the sole came off, useless!!!", "complaint", OPEN, metadata={"frustration": ["angry_words"]})
    messages, _ = await run_action(ActionHandoff(), angry)
    assert responses(messages)[0] == "utter_handoff_complaint"
    assert custom(messages)["handoff"]["reason"] == "complaint"


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("kari@example.no", "kari@example.no"),
        ("it's ola.hansen@example.no, thanks", "ola.hansen@example.no"),
        ("<emma@example.no>.", "emma@example.no"),
        # A mailto: link on the console would add the blind copy: only the address before "?" is taken.
        ("kari@example.no?bcc=boss@example.com", "kari@example.no"),
        ("kari&bcc=boss@example.com", "boss@example.com"),
        ("I don't have one", None),
        ("kari at example dot no", None),
    ],
)
def test_the_email_is_found_in_what_the_customer_wrote(typed: str, found: str | None) -> None:
    assert find_email(typed) == found


async def test_the_ticket_form_checks_the_address_and_keeps_the_message_as_written() -> None:
    form = ValidateTicketForm()
    dispatcher = CollectingDispatcher()
    empty = make_tracker()
    assert form.validate_ticket_email("nope", dispatcher, empty, {}) == {"ticket_email": None}
    assert responses(dispatcher.messages) == ["utter_ticket_email_invalid"]
    assert form.validate_ticket_email("send it to kari@example.no", dispatcher, empty, {}) == {
        "ticket_email": "kari@example.no"
    }
    message = "  Skoene gikk i stykker <b>etter</b> to turer.  "
    assert form.validate_ticket_message(message, dispatcher, empty, {}) == {
        "ticket_message": "Skoene gikk i stykker <b>etter</b> to turer."
    }


async def test_the_message_is_stored_as_a_ticket_and_the_customer_told_when_to_expect_an_answer() -> None:
    agents_available()
    sender = f"conv-{uuid.uuid4().hex}"  # tickets outlive a re-seeded shop: this test's own conversation
    await run_action(ActionHandoff(), tracker("menneske", "request_human", CLOSED, sender=sender))
    slots = {"ticket_email": "guest@example.no", "ticket_message": "Jakka mi har et hull i ermet."}
    messages, events = await run_action(
        ActionSubmitTicket(), tracker("Jakka mi har et hull i ermet.", "inform", CLOSED, sender=sender, slots=slots)
    )
    with session_scope() as session:
        ticket = session.execute(select(Ticket).where(Ticket.conversation_id == sender)).scalar_one()
        request = session.execute(select(HandoffRequest)).scalar_one()
        assert (ticket.conversation_id, ticket.email, ticket.message, ticket.reason, ticket.status) == (
            sender,
            "guest@example.no",
            "Jakka mi har et hull i ermet.",
            "requested",
            "open",
        )
        assert request.status == "ticket"
        ticket_id = ticket.id
    assert responses(messages) == ["utter_ticket_taken_closed"]
    assert (messages[0]["ticket_id"], messages[0]["email"]) == (ticket_id, "guest@example.no")
    assert custom(messages) == {"ticket": {"id": ticket_id}}
    assert events_named(events) == {"ticket_email": None, "ticket_message": None}


def test_a_production_action_server_ignores_a_clock_in_the_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.common import clock_of
    from bot.settings import get_settings

    sunday = tracker("menneske", "request_human", CLOSED)
    assert clock_of(sunday) is not None and clock_of(sunday).isoformat() == CLOSED
    monkeypatch.setenv("BOT_ENV", "production")
    get_settings.cache_clear()
    try:
        assert clock_of(sunday) is None  # the real now: no message can move the shop's hours
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
