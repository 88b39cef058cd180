"""Handing over, honestly: the real queue and wait when a person can join, a message taken when no one can.

"Now" comes from the gateway's BOT_CLOCK setting, which it passes with each turn (metadata "clock").
"""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import ActionHandoff
from actions.tickets import LEAVE_WORDS, ActionSubmitTicket, ValidateTicketForm, find_email
from bot.services.assignment import enqueue
from bot.settings import PROJECT_ROOT
from bot.store.conversations import Conversation
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, utcnow
from bot.store.staff import StaffUser
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
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


# --- the e-mail question: what is an answer to it, and what is something else ------------------------------


def user_said(text: str, intent: str, confidence: float = 1.0) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def bot_said(response: str) -> dict[str, Any]:
    """A bot message as Rasa records it: the response's name in its metadata."""
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


# A guest asks for a person, no one can join: action_handoff says so, empties the form's slots and starts it.
HANDOFF = [
    {"event": "action", "name": "action_listen"},
    user_said("talk to a human pls", "request_human"),
    {"event": "action", "name": "action_handoff"},
    bot_said("utter_handoff_nobody_available"),
    slot("ticket_email", None),
    slot("ticket_message", None),
]
# ...and the form has asked for the address.
ASKED = [
    *HANDOFF,
    {"event": "action", "name": "ticket_form"},
    {"event": "active_loop", "name": "ticket_form"},
    slot("requested_slot", "ticket_email"),
    bot_said("utter_ask_ticket_email"),
    {"event": "action", "name": "action_listen"},
]


def ticket_form_turn(
    before: list[dict[str, Any]],
    email: Any,
    requested: str | None = "ticket_email",
    said: dict[str, Any] | None = None,
    language: str = "nb",
) -> Tracker:
    """The tracker Rasa sends validate_ticket_form: the conversation (the customer's latest message, if any,
    last in `before` or `said`), the requested slot, the form, then the candidate for the address."""
    events = [*before, *([said] if said else []), slot("requested_slot", requested)]
    events += [{"event": "action", "name": "ticket_form"}, slot("ticket_email", email)]
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender_id="ticket",
        slots={"language": language, "requested_slot": requested, "ticket_email": email},
        latest_message={**latest["parse_data"], "text": latest["text"], "entities": [], "metadata": {}},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "ticket_form"},
        latest_action_name="ticket_form",
    )


async def validate_email(tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(messages validate_ticket_form sent, the slots it set)."""
    dispatcher = CollectingDispatcher()
    events = await ValidateTicketForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_the_ticket_form_checks_the_address_and_keeps_the_message_as_written() -> None:
    form = ValidateTicketForm()
    dispatcher = CollectingDispatcher()
    empty = make_tracker()
    asked = make_tracker("nope", intent="inform", events=[*ASKED, user_said("nope", "inform")])
    assert form.validate_ticket_email("nope", dispatcher, asked, {}) == {"ticket_email": None}
    assert responses(dispatcher.messages) == ["utter_ticket_email_invalid"]
    assert form.validate_ticket_email("send it to kari@example.no", dispatcher, asked, {}) == {
        "ticket_email": "kari@example.no"
    }
    message = "  Skoene gikk i stykker <b>etter</b> to turer.  "
    assert form.validate_ticket_message(message, dispatcher, empty, {}) == {
        "ticket_message": "Skoene gikk i stykker <b>etter</b> to turer."
    }


async def test_the_message_that_asked_for_a_person_is_no_answer_to_the_email_question() -> None:
    """The form starts right after the handoff: Rasa validates action_handoff's empty address, and (with a
    requested slot left over from before) the message that asked for a person. Neither is an answer."""
    said, slots = await validate_email(ticket_form_turn(HANDOFF, None, requested=None))
    assert said == [] and slots["ticket_email"] is None
    said, slots = await validate_email(ticket_form_turn(HANDOFF, "talk to a human pls"))
    assert said == [] and slots["ticket_email"] is None
    # Once asked, a message without an address is told so.
    said, slots = await validate_email(ticket_form_turn(ASKED, "nope", said=user_said("nope", "inform", 0.4)))
    assert responses(said) == ["utter_ticket_email_invalid"] and slots["ticket_email"] is None


async def test_a_signed_in_customers_address_is_taken_when_the_form_starts() -> None:
    before = [*HANDOFF[:-2], slot("ticket_email", "kari.nordmann@example.no"), slot("ticket_message", None)]
    said, slots = await validate_email(ticket_form_turn(before, "kari.nordmann@example.no", requested=None))
    assert said == [] and slots["ticket_email"] == "kari.nordmann@example.no"


async def test_a_question_at_the_email_question_is_answered_not_called_a_bad_address() -> None:
    question = user_said("hva koster frakten", "faq_shipping", 0.93)
    said, slots = await validate_email(ticket_form_turn(ASKED, "hva koster frakten", said=question))
    assert responses(said) == ["utter_faq_shipping"] and said[0]["standard_price"] == "79 kr"
    assert slots["ticket_email"] is None  # Rasa's form asks for the address again, which says how to say no


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("hvor er pakken min", "order_status", 0.91),  # sure it is another topic
        ("kan dere ringe meg i stedet?", "inform", 0.45),  # a question mark
        ("ha det", "goodbye", 0.95),
    ],
)
async def test_something_else_at_the_email_question_is_told_how_to_leave_the_form(
    text: str, intent: str, confidence: float
) -> None:
    said, slots = await validate_email(ticket_form_turn(ASKED, text, said=user_said(text, intent, confidence)))
    assert responses(said) == ["utter_ticket_form_how_to_leave"] and slots["ticket_email"] is None


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("kari.nordmann at example dot no", "inform", 0.8),
        ("kari@example", "faq_contact", 0.9),  # an "@": an address with a typo, whatever NLU reads
        ("min er kari punktum nordmann", "nlu_fallback", 0.3),
        ("ja", "affirm", 0.97),  # no topic of its own: the question is still what to answer
    ],
)
async def test_a_try_at_an_address_is_still_told_what_an_address_looks_like(
    text: str, intent: str, confidence: float
) -> None:
    said, _ = await validate_email(ticket_form_turn(ASKED, text, said=user_said(text, intent, confidence)))
    assert responses(said) == ["utter_ticket_email_invalid"]


@pytest.mark.parametrize("text", ["avbryt", "Afbryd.", "cancel"])
async def test_the_word_the_customer_is_told_to_write_leaves_the_form_whatever_nlu_reads(text: str) -> None:
    """ "avbryt" is NLU's deny, which never fills the address and stops the form (data/rules/handoff.yml); read
    as something else ("cancel" as faq_cancellation) it ends the form all the same: no address, no message,
    and action_submit_ticket says no message is left."""
    said, slots = await validate_email(
        ticket_form_turn(ASKED, text, said=user_said(text, "faq_cancellation", 0.9), language="en")
    )
    assert said == [] and slots["ticket_email"] is None and slots["requested_slot"] is None


def test_the_word_each_language_is_told_to_write_leaves_the_form() -> None:
    for variation in DOMAIN["responses"]["utter_ticket_form_how_to_leave"]:
        told = re.findall(r'[«”»"](\w+)[»”«"]', variation["text"])
        assert told and all(word in LEAVE_WORDS for word in told), variation["text"]


async def test_rasas_own_form_asks_for_the_address_without_a_complaint_and_answers_a_question_in_it() -> None:
    """Rasa's FormAction itself, with this project's validate_ticket_form run in-process (no model): the
    form's first turn after the handoff, a question at the e-mail question, then the address."""
    from rasa.core.actions.forms import FormAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_action(ValidateTicketForm())

    class InProcess:  # an action endpoint: validate_ticket_form runs here, action_session_context fills nothing
        url = "in-process"
        kwargs: ClassVar[dict[str, Any]] = {}

        async def request(self, json: dict[str, Any], **_: Any) -> dict[str, Any]:
            if json["next_action"] != "validate_ticket_form":
                return {"events": [], "responses": []}
            return await executor.run(json) or {}

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    tracker = DialogueStateTracker("ticket-form", domain.slots)

    async def form_turn(*before: Any) -> list[str]:
        for event in before:
            tracker.update(event, domain)
        events = await FormAction("ticket_form", InProcess()).run(CollectingOutputChannel(), nlg, tracker, domain)
        tracker.update_with_events(events, domain)
        tracker.update(ActionExecuted("action_listen"), domain)
        return [e.metadata.get("utter_action") for e in events if isinstance(e, BotUttered)]

    def user(text: str, intent: str, confidence: float) -> UserUttered:
        return UserUttered(text, {"name": intent, "confidence": confidence}, metadata={})

    tracker.update(SlotSet("language", "en"), domain)
    tracker.update(ActionExecuted("action_listen"), domain)
    handoff = [user("talk to a human pls", "request_human", 0.98), ActionExecuted("action_handoff")]
    handoff += [BotUttered("No one can join.", metadata={"utter_action": "utter_handoff_nobody_available"})]
    assert await form_turn(*handoff, SlotSet("ticket_email", None), SlotSet("ticket_message", None)) == [
        "utter_ask_ticket_email"
    ]
    # Rasa's slot mapping (from_text) has filled the address with whatever was typed.
    question = user("what does shipping cost", "faq_shipping", 0.93)
    assert await form_turn(question, SlotSet("ticket_email", "what does shipping cost")) == [
        "utter_faq_shipping",
        "utter_ask_ticket_email",
    ]
    address = user("kari@example.no", "inform", 0.9)
    assert await form_turn(address, SlotSet("ticket_email", "kari@example.no")) == ["utter_ask_ticket_message"]
    assert tracker.get_slot("ticket_email") == "kari@example.no"


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
