"""Who the customer is and which language to answer in: filled after every message, never by the customer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import latest_metadata, latest_text
from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, vouched_customer
from bot.language import choose_language, warm_up
from bot.settings import get_settings
from bot.store.db import session_scope
from bot.store.queries import get_customer

log = logging.getLogger(__name__)

# Load spaCy's word lists when the action server starts, not on the first customer's message.
warm_up()


class ActionSessionContext(Action):
    """Custom slot mapping for `customer_id` and `language` (run by action_extract_slots)."""

    def name(self) -> str:
        return "action_session_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = latest_metadata(tracker)
        customer_id = verified_customer(tracker)
        page_language = metadata.get("language") if isinstance(metadata.get("language"), str) else None
        current = tracker.get_slot("language")
        language = choose_language(
            latest_text(tracker),
            current,
            page_language,
            get_settings().default_language,
            customer_language=_stored_language(customer_id) if current is None else None,
        )
        events = []
        if customer_id != tracker.get_slot("customer_id"):
            events.append(SlotSet("customer_id", customer_id))
        if language != tracker.get_slot("language"):
            events.append(SlotSet("language", language))
        return events


def verified_customer(tracker: Tracker) -> str | None:
    """The customer the gateway's channel verified for this very message, or None: a guest.

    Only that channel (bot/rasa_channel.py), which the gateway reaches with Rasa's JWT, checks the customer's
    token; it passes on the id with an HMAC over the conversation and the message id (bot/identity.py), and
    never the token. A message from any other channel is a guest's, whatever its metadata says, a token
    included. The input channel's name alone would not do: Rasa's plain `rest:` channel lets its client
    name one ("input_channel" in the body), so it is the vouching that counts, bound to the message.
    """
    if tracker.get_latest_input_channel() != GATEWAY_CHANNEL:
        return None
    message_id = tracker.latest_message.get("message_id")
    return vouched_customer(tracker.sender_id, message_id, latest_metadata(tracker).get(VERIFIED_CUSTOMER))


def _stored_language(customer_id: str | None) -> str | None:
    """The language a signed-in customer is known to use (shop.yml `language`): the first guess."""
    if not customer_id:
        return None
    try:
        with session_scope() as session:
            customer = get_customer(session, customer_id)
            return customer.language if customer is not None else None
    except SQLAlchemyError:
        # The page's language is a fine guess; the conversation must not stop for want of this one.
        log.warning("could not read customer %s's language; using the page's", customer_id, exc_info=True)
        return None
