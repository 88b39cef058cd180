"""FAQ answers: the response for the asked topic, filled with the shop's current policy values."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, clock_of, language_of, latest_text
from actions.handoff import when_we_open
from bot.i18n import format_time
from bot.services.direct_answers import Direct, payment_answer, shipping_answer
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
        direct = _direct_answer(intent, latest_text(tracker), language)
        if direct is not None:
            dispatcher.utter_message(response=direct.response, **direct.values)
            if not direct.then_policy:
                return []
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


def _direct_answer(intent: str, text: str, language: str) -> Direct | None:
    """A yes or no first, when the question names a country to ship to or a way to pay."""
    if intent == "faq_shipping":
        return shipping_answer(text, language)
    if intent == "faq_payment":
        return payment_answer(text, language)
    return None
