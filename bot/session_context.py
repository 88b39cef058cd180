"""Who the customer is and which language to answer in: the slots `customer_id` and `language`, set after
every message, never by the customer.

domain.yml maps both slots to the custom action `action_session_context`; bot/rasa_main.py runs it inside
the Rasa server (`session_context_events`) instead of calling the action server for it. It runs on every
customer message, and the call cost more than the work: Rasa serialised the session's tracker, the action
server parsed it back, both through HAProxy, for a language check of well under a millisecond (README,
Scale). The Rasa server has the language detector loaded already (the English encoder's gate reads it).

The customer id comes only from the gateway channel's vouching (bot/rasa_channel.py, bot/identity.py),
for this conversation and this very message: a message from any other channel is a guest's, whatever its
metadata says, a customer token included. The input channel's name alone would not do: Rasa's plain
`rest:` channel lets its client name one ("input_channel" in the body).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, vouched_customer
from bot.language import choose_language
from bot.settings import get_settings
from bot.store.db import session_scope
from bot.store.queries import get_customer

log = logging.getLogger(__name__)

SESSION_CONTEXT_ACTION = "action_session_context"


@dataclass(frozen=True)
class LatestMessage:
    """What the session context reads of the customer's latest message, and the two slots as they are."""

    conversation_id: str
    input_channel: str | None
    message_id: object
    metadata: dict[str, Any]
    text: str
    language: str | None  # the slot before this message
    customer_id: str | None  # the slot before this message


def verified_customer(message: LatestMessage) -> str | None:
    """The customer the gateway's channel verified for this very message, or None: a guest."""
    if message.input_channel != GATEWAY_CHANNEL:
        return None
    return vouched_customer(message.conversation_id, message.message_id, message.metadata.get(VERIFIED_CUSTOMER))


def stored_language(customer_id: str | None) -> str | None:
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


async def session_slots(message: LatestMessage) -> dict[str, str | None]:
    """The slots that change with this message: {"customer_id": ..., "language": ...}, each only if it does."""
    customer_id = verified_customer(message)
    page_language = message.metadata.get("language")
    customer_language = None
    if message.language is None and customer_id is not None:
        # Once per conversation, on its first message; off the event loop, which serves every conversation.
        customer_language = await asyncio.to_thread(stored_language, customer_id)
    language = choose_language(
        message.text,
        message.language,
        page_language if isinstance(page_language, str) else None,
        get_settings().default_language,
        customer_language=customer_language,
    )
    changed: dict[str, str | None] = {}
    if customer_id != message.customer_id:
        changed["customer_id"] = customer_id
    if language != message.language:
        changed["language"] = language
    return changed


def latest_message(tracker: Any) -> LatestMessage:
    """The LatestMessage of a Rasa DialogueStateTracker (rasa.shared.core.trackers)."""
    user = tracker.latest_message
    metadata = getattr(user, "metadata", None)
    text = getattr(user, "text", None)
    language, customer_id = tracker.get_slot("language"), tracker.get_slot("customer_id")
    return LatestMessage(
        conversation_id=tracker.sender_id,
        input_channel=tracker.get_latest_input_channel(),
        message_id=getattr(user, "message_id", None),
        metadata=metadata if isinstance(metadata, dict) else {},
        text=text if isinstance(text, str) else "",
        language=language if isinstance(language, str) else None,
        customer_id=customer_id if isinstance(customer_id, str) and customer_id else None,
    )


async def session_context_events(tracker: Any) -> list[Any]:
    """The SlotSet events of action_session_context for a Rasa tracker, as ActionExtractSlots takes them."""
    from rasa.shared.core.events import SlotSet

    changed = await session_slots(latest_message(tracker))
    return [SlotSet(name, value) for name, value in changed.items()]
