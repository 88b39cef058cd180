"""What every action shares: the customer's language and identity, and a safe way to run."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.i18n import lang
from bot.services.hours import parse_clock
from bot.settings import get_settings

log = logging.getLogger(__name__)

# Slots that belong to one order question; cleared when it is answered.
ORDER_SLOTS = ("order_id", "order_email", "return_sku", "return_confirmed")


def language_of(tracker: Tracker) -> str:
    return lang(tracker.get_slot("language"))


def customer_of(tracker: Tracker) -> str | None:
    """The verified customer id: only action_session_context sets this slot, from the gateway channel's vouching."""
    value = tracker.get_slot("customer_id")
    return value if isinstance(value, str) and value else None


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.latest_message.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def clock_of(tracker: Tracker) -> datetime | None:
    """The moment to judge opening hours by: the gateway's BOT_CLOCK in development and tests, else now.

    The gateway passes its setting with each turn (metadata "clock"); a production action server
    ignores it, so no message can move the shop's hours.
    """
    if get_settings().is_production:
        return None
    return parse_clock(latest_metadata(tracker).get("clock"))


def latest_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return text if isinstance(text, str) else ""


def text_without_entities(tracker: Tracker) -> str:
    """The latest message without its entities (order numbers, e-mail addresses): what is left to read."""
    text = latest_text(tracker)
    spans = [(e.get("start"), e.get("end")) for e in tracker.latest_message.get("entities", [])]
    for start, end in sorted((s for s in spans if isinstance(s[0], int) and isinstance(s[1], int)), reverse=True):
        text = text[:start] + " " + text[end:]
    return text


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """The slot as it was before the customer's latest message (a form already sees this turn's values)."""
    after_latest = True
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            after_latest = False
        elif not after_latest and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def filled_by_latest_message(tracker: Tracker) -> dict[str, Any]:
    """Inside a form's validation: the slots Rasa's own mappings filled from the latest message
    (an order number, an e-mail address, a yes or no)."""
    return {name: value for name, value in tracker.slots_to_validate().items() if name != "requested_slot"}


class SupportAction(Action, ABC):
    """An action that answers politely, and keeps the conversation alive, when a dependency fails."""

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Do the work: read slots, call the domain, dispatch responses by name."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]] | Awaitable[list[dict[str, Any]]]:
        try:
            return self.act(dispatcher, tracker, domain)
        except SQLAlchemyError:
            log.exception("%s: the database failed for conversation %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
