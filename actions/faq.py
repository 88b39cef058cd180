"""FAQ answers: the response for the asked topic, filled with the shop's current policy values."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, language_of
from bot.services.faq import FAQ_INTENTS, faq_values


class ActionFaq(SupportAction):
    def name(self) -> str:
        return "action_faq"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in FAQ_INTENTS:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        dispatcher.utter_message(response=f"utter_{intent}", **faq_values(language_of(tracker)))
        return []
