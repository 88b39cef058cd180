"""Calling Rasa with one customer turn: what is sent besides the text (the page's language, the customer's
token, the earlier turns that frustration detection compares with)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.store.conversations import Message
from bot.store.models import as_utc
from bot.store.transcript import AnsweredTurn, TurnContext
from bot.web.rasa_client import RasaClient, RasaReply

# Enough of an earlier turn to tell whether it is asked again (bot/services/frustration.py).
EARLIER_TURN_CHARS = 300


@dataclass(frozen=True)
class Turn:
    """A stored customer message waiting for its answer."""

    message: Message
    metadata: dict[str, Any]  # for Rasa: customer_token, language (the page's guess)
    received: float = field(default_factory=time.monotonic)  # when the frame arrived, for the turn's timing
    context: TurnContext | None = None  # as read when the message was stored (see Relay.submit)
    claimed: bool = False  # stored as sent_to_rasa by this gateway already; else claimed when taken


async def ask_rasa(rasa: RasaClient, turn: Turn, earlier: list[AnsweredTurn], timeout: float) -> RasaReply:
    """Rasa's answer to the turn; raises RasaUnavailable for every way it can fail."""
    message = turn.message
    metadata = {**turn.metadata, "earlier_turns": [earlier_turn(answered) for answered in earlier]}
    return await rasa.send(message.conversation_id, message.payload or message.text, metadata, timeout)


def earlier_turn(message: AnsweredTurn) -> dict[str, Any]:
    return {
        "text": message.text[:EARLIER_TURN_CHARS],
        "intent": message.intent,
        "at": as_utc(message.created_at).isoformat(),
    }
