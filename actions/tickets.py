"""Taking a message when no one can join the chat: the ticket form's checks and the ticket itself."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import SupportAction, clock_of, customer_of, language_of
from actions.handoff import when_we_open
from bot.patterns import first_email
from bot.services.faq import FAQ_INTENTS, faq_values
from bot.services.handoff import people_now
from bot.services.tickets import MAX_TICKET_CHARS, take_message
from bot.store.db import session_scope

TICKET_SLOTS = ("ticket_email", "ticket_message")
MAX_YES_WORDS = 3
ASK_EMAIL = "utter_ask_ticket_email"
# At the e-mail question, NLU this sure of a topic other than giving information means the message is about
# that topic, not a mistyped address: well above its fallback threshold (0.5, config.yml), as a wrong guess
# answers a question nobody asked instead of saying what an address looks like.
SURE_INTENT = 0.7
# What an answer to the question may be read as, however sure NLU is: no other topic ("ja", "hei", "takk").
NOT_A_TOPIC = ("inform", "nlu_fallback", "affirm", "greet", "thanks")
# What utter_ticket_form_how_to_leave tells the customer to write (nb and sv, da, en). NLU reads them as deny,
# which never fills the address and stops the form (data/rules/handoff.yml); read as anything else, the
# form stops here all the same.
LEAVE_WORDS = ("avbryt", "afbryd", "cancel")


def find_email(text: object) -> str | None:
    """The first e-mail address in what the customer wrote ("it's kari@example.no, thanks"), as
    bot/patterns.py finds it: never one carrying "?", "&" or the like into the ticket's mailto: link."""
    return first_email(text)


def just_yes(tracker: Tracker, text: str) -> bool:
    """A short yes ("ja", "yes please"): an answer to some question, never a message for the desk."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent == "affirm" and len(text.split()) <= MAX_YES_WORDS


def asked_for_email(tracker: Tracker) -> bool:
    """Whether the customer's latest message answers the e-mail question: the bot's last message before it
    asked for the address (in this session). Not so as the form starts: action_handoff's empty address, or
    the message that asked for a person ("talk to a human pls"), is no answer to a question not yet asked."""
    latest_seen = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            latest_seen = True
        elif kind == "session_started":
            return False
        elif kind == "bot" and latest_seen:
            return (event.get("metadata") or {}).get("utter_action") == ASK_EMAIL
    return False


def other_topic(tracker: Tracker, text: str) -> str | None:
    """At the e-mail question, a message that is no try at an address but another topic: its intent when NLU
    is sure of one ("hva koster frakten": faq_shipping), "" for a question known by its "?", else None.
    Anything with an "@" is a try at an address, whatever NLU reads."""
    if "@" in text:
        return None
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name") or "", intent.get("confidence") or 0.0
    if name not in NOT_A_TOPIC and confidence >= SURE_INTENT:
        return str(name)
    return "" if "?" in text else None


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    def validate_ticket_email(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = find_email(slot_value)
        if email is not None or not asked_for_email(tracker):
            return {"ticket_email": email}  # as the form starts, nothing to say: it asks for the address next
        text = slot_value.strip() if isinstance(slot_value, str) else ""
        if text.strip(".!«»”\"' ").lower() in LEAVE_WORDS:
            return {"ticket_email": None, "requested_slot": None}  # no message: action_submit_ticket says so
        topic = other_topic(tracker, text)
        if topic in FAQ_INTENTS:
            dispatcher.utter_message(response=f"utter_{topic}", **faq_values(language_of(tracker)))
        elif topic is not None:
            dispatcher.utter_message(response="utter_ticket_form_how_to_leave")
        else:
            dispatcher.utter_message(response="utter_ticket_email_invalid")
        return {"ticket_email": None}  # Rasa's form asks for the address again

    def validate_ticket_message(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = slot_value.strip() if isinstance(slot_value, str) else ""
        if just_yes(tracker, text):
            return {"ticket_message": None}  # "ja" to "what would you like to tell us?" is no message: ask again
        return {"ticket_message": text[:MAX_TICKET_CHARS] or None}


class ActionSubmitTicket(SupportAction):
    """Store the message as a ticket the agents see in the console, and say when the answer comes."""

    def name(self) -> str:
        return "action_submit_ticket"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        email = tracker.get_slot("ticket_email")
        message = tracker.get_slot("ticket_message")
        if not isinstance(email, str) or not isinstance(message, str):
            dispatcher.utter_message(response="utter_ticket_declined")
            return [SlotSet(slot, None) for slot in TICKET_SLOTS]
        now = clock_of(tracker)
        with session_scope() as session:
            people = people_now(session, now)
            ticket = take_message(session, tracker.sender_id, customer_of(tracker), email, message, language)
            ticket_id = ticket.id
        if people.open:
            dispatcher.utter_message(response="utter_ticket_taken", ticket_id=ticket_id, email=email)
        else:
            dispatcher.utter_message(
                response="utter_ticket_taken_closed",
                ticket_id=ticket_id,
                email=email,
                opens=when_we_open(people.opens, now, language),
            )
        # The gateway acts on this payload: agents' consoles show the new ticket at once.
        dispatcher.utter_message(json_message={"ticket": {"id": ticket_id}})
        return [SlotSet(slot, None) for slot in TICKET_SLOTS]
