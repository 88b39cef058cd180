"""Handing over to a person: on request, on a complaint, on clear frustration, after two misunderstandings.

When a person can join (within opening hours and an agent is available), the customer hears their
real place in the queue and a rough wait. When no one can, the bot says so plainly and offers to take
a message for an answer by e-mail (the ticket form, actions/tickets.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, clock_of, customer_of, language_of, latest_metadata, latest_text
from bot.i18n import format_date, format_time
from bot.services import queue
from bot.services.handoff import people_now, request_handoff
from bot.services.hours import local_now
from bot.store.db import session_scope
from bot.store.queries import get_customer

_REASON_BY_INTENT = {"request_human": "requested", "complaint": "complaint", "nlu_fallback": "misunderstood"}
FALLBACK_ACTION = "action_fallback"
TICKET_FORM = "ticket_form"


def when_we_open(opens: datetime, now: datetime | None, language: str) -> str:
    """'tomorrow (Monday 7 January) 08:00', counted from the same "now" the hours were judged by."""
    return f"{format_date(opens.date(), language, today=local_now(now).date())} {format_time(opens.time(), language)}"


def handoff_reason(tracker: Tracker) -> tuple[str, str | None]:
    """Why this turn goes to a person, and for frustration, which signals the gateway's channel saw."""
    intent = (tracker.latest_message.get("intent") or {}).get("name", "")
    raw = latest_metadata(tracker).get("frustration")
    signals = ", ".join(s for s in raw if isinstance(s, str))[:200] if isinstance(raw, list) else ""
    if intent == "complaint":
        return "complaint", None
    if signals:
        return "frustration", signals
    return _REASON_BY_INTENT.get(intent, "requested"), None


def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, detail: str | None = None
) -> list[dict[str, Any]]:
    """Store the request and tell the customer honestly what happens next."""
    language = language_of(tracker)
    customer_id = customer_of(tracker)
    now = clock_of(tracker)
    with session_scope() as session:
        people = people_now(session, now)
        request = request_handoff(
            session,
            tracker.sender_id,
            customer_id,
            reason,
            language,
            latest_text(tracker),
            queued=people.can_join,
            detail=detail,
        )
        request_id = request.id
        place = queue.position(session, tracker.sender_id, customer_id) if people.can_join else 0
        customer = get_customer(session, customer_id) if customer_id else None
        email_on_file = customer.email if customer else None
    if reason == "complaint":
        dispatcher.utter_message(response="utter_handoff_complaint")
    elif reason == "frustration":
        dispatcher.utter_message(response="utter_handoff_frustration")
    if people.can_join:
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=place,
            wait_minutes=queue.estimated_wait_minutes(place, people.agents),
        )
        # The gateway acts on this payload (the conversation joins the queue); Rasa only records it.
        dispatcher.utter_message(json_message={"handoff": {"request_id": request_id, "reason": reason, "queued": True}})
        return []
    if people.open:
        dispatcher.utter_message(response="utter_handoff_nobody_available")
    else:
        dispatcher.utter_message(response="utter_handoff_closed", opens=when_we_open(people.opens, now, language))
    dispatcher.utter_message(json_message={"handoff": {"request_id": request_id, "reason": reason, "queued": False}})
    # A signed-in customer is answered at the address the shop has; a guest is asked for one.
    return [SlotSet("ticket_email", email_on_file), SlotSet("ticket_message", None), FollowupAction(TICKET_FORM)]


class ActionHandoff(SupportAction):
    def name(self) -> str:
        return "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        reason, detail = handoff_reason(tracker)
        return hand_over(dispatcher, tracker, reason, detail)


def misunderstood_in_a_row(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row the bot could not place, this one included.

    A message counts when action_fallback answered it (NLU's fallback, or a guess too unsure for any
    rule), not by NLU's label: a message NLU could not name but a form took as its answer ("ullundertøy"
    for the item question), or a yes to the question just asked, breaks the run.
    """
    count = 1  # this message: action_fallback is answering it now
    answered_by_fallback = False
    seen_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "action" and event.get("name") == FALLBACK_ACTION:
            answered_by_fallback = True
        elif kind == "user":
            if seen_latest and not answered_by_fallback:
                break
            count += int(seen_latest)
            seen_latest, answered_by_fallback = True, False
    return count


class ActionFallback(SupportAction):
    """First misunderstanding: ask to rephrase (inside a form, the form asks its question again). Second
    in a row: a person."""

    def name(self) -> str:
        return FALLBACK_ACTION

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if misunderstood_in_a_row(tracker) >= 2:
            return hand_over(dispatcher, tracker, "misunderstood")
        # Inside a form Rasa's rules go back to it, and it asks its question again: no topic menu then.
        in_a_form = bool((tracker.active_loop or {}).get("name"))
        dispatcher.utter_message(response="utter_rephrase_form_answer" if in_a_form else "utter_rephrase")
        return []
