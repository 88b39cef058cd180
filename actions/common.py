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
    """The verified customer id: only action_session_context sets this slot, from a valid token."""
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
