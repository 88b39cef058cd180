"""FAQ answers: the response for the asked topic, filled with the shop's current policy values."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, clock_of, language_of
from actions.handoff import when_we_open
from bot.i18n import format_time
from bot.services.faq import FAQ_INTENTS, faq_values
from bot.services.hours import closing_today, next_opening


class ActionFaq(SupportAction):
    def name(self) -> str:
        return "action_faq"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in FAQ_INTENTS:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        language = language_of(tracker)
        dispatcher.utter_message(response=f"utter_{intent}", **faq_values(language))
        if intent == "faq_opening_hours":
            # "Are you open now?" wants now, not the week: open until when, or when they open again.
            now = clock_of(tracker)
            closes = closing_today(now)
            if closes is not None:
                dispatcher.utter_message(response="utter_service_open_now", closes=format_time(closes.time(), language))
            else:
                opens = when_we_open(next_opening(now), now, language)
                dispatcher.utter_message(response="utter_service_closed_now", opens=opens)
        return []
