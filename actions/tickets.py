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
from bot.services.handoff import people_now
from bot.services.tickets import MAX_TICKET_CHARS, take_message
from bot.store.db import session_scope

TICKET_SLOTS = ("ticket_email", "ticket_message")
MAX_YES_WORDS = 3


def find_email(text: object) -> str | None:
    """The first e-mail address in what the customer wrote ("it's kari@example.no, thanks"), as
    bot/patterns.py finds it: never one carrying "?", "&" or the like into the ticket's mailto: link."""
    return first_email(text)


def just_yes(tracker: Tracker, text: str) -> bool:
    """A short yes ("ja", "yes please"): an answer to some question, never a message for the desk."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent == "affirm" and len(text.split()) <= MAX_YES_WORDS


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    def validate_ticket_email(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = find_email(slot_value)
        if email is None:
            dispatcher.utter_message(response="utter_ticket_email_invalid")
        return {"ticket_email": email}

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
                opens=when_we_open(people, now, language),
            )
        # The gateway acts on this payload: agents' consoles show the new ticket at once.
        dispatcher.utter_message(json_message={"ticket": {"id": ticket_id}})
        return [SlotSet(slot, None) for slot in TICKET_SLOTS]
