"""Handing over to a person: on request, on a complaint, after two misunderstood messages in a row."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, customer_of, language_of, latest_text
from bot.i18n import format_date
from bot.services.handoff import MINUTES_PER_WAITING_CONVERSATION, request_handoff
from bot.services.hours import is_open, next_opening
from bot.store.db import session_scope

_REASON_BY_INTENT = {"request_human": "requested", "complaint": "complaint", "nlu_fallback": "misunderstood"}
FALLBACK_INTENT = "nlu_fallback"


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[dict[str, Any]]:
    """Store the request and tell the customer honestly what happens next."""
    language = language_of(tracker)
    with session_scope() as session:
        request, waiting = request_handoff(
            session, tracker.sender_id, customer_of(tracker), reason, language, latest_text(tracker)
        )
        request_id = request.id
    if reason == "complaint":
        dispatcher.utter_message(response="utter_handoff_complaint")
    if is_open():
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=waiting,
            wait_minutes=max(1, waiting) * MINUTES_PER_WAITING_CONVERSATION,
        )
    else:
        opening = next_opening()
        dispatcher.utter_message(
            response="utter_handoff_closed", opens=f"{format_date(opening.date(), language)} {opening:%H:%M}"
        )
    # The gateway acts on this payload; Rasa itself only records it.
    dispatcher.utter_message(json_message={"handoff": {"request_id": request_id, "reason": reason}})
    return []


class ActionHandoff(SupportAction):
    def name(self) -> str:
        return "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        return hand_over(dispatcher, tracker, _REASON_BY_INTENT.get(intent, "requested"))


def misunderstood_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages, counting back from now, NLU could not place."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data", {}).get("intent") or {}).get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionFallback(SupportAction):
    """First misunderstanding: ask to rephrase, with the main topics. Second in a row: a person."""

    def name(self) -> str:
        return "action_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if misunderstood_in_a_row(tracker) >= 2:
            return hand_over(dispatcher, tracker, "misunderstood")
        dispatcher.utter_message(response="utter_rephrase")
        return []
