"""What a customer's turn and the bot's reply set going, decided without any I/O (the relay, bot/web/relay.py,
carries it out):

- Whom a turn is for: while an agent has the conversation, the bot stays silent (the agent's console
  shows the turn); a closed conversation goes on with the bot when the customer writes again.
- Custom payloads from the actions: {"handoff": {...}} puts the conversation in the queue for a person,
  unless it says "queued": false (no one can join; the bot offers to take a message instead);
  {"ticket": {...}} means the customer left a message for the desk, so the conversation leaves the queue.
- The rating question: the customer is done (thanks, goodbye), so the widget asks for a rating; asked
  once per conversation (bot/store/feedback.py decides who asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.store.conversations import ConversationState

# The customer is done (thanks, goodbye): the widget asks for a rating, once per conversation.
ENDING_INTENTS = ("thanks", "goodbye")


class TurnFor(Enum):
    BOT = "bot"
    AGENT = "agent"  # a person has it: stored and shown to the agent, never sent to Rasa
    REOPENED_BOT = "reopened"  # closed by an agent: reopened, then the bot answers


def turn_for(state: str) -> TurnFor:
    if state == ConversationState.AGENT:
        return TurnFor.AGENT
    if state == ConversationState.CLOSED:
        return TurnFor.REOPENED_BOT
    return TurnFor.BOT


@dataclass(frozen=True)
class Handoff:
    reason: object
    queue: bool  # False: no one can join now; nothing to queue


@dataclass(frozen=True)
class TicketTaken:
    ticket_id: object


def read_payload(payload: dict[str, Any]) -> list[Handoff | TicketTaken]:
    """What one custom payload asks of the gateway, in the order to do it."""
    steps: list[Handoff | TicketTaken] = []
    handoff = payload.get("handoff")
    if isinstance(handoff, dict):
        steps.append(Handoff(handoff.get("reason"), handoff.get("queued", True) is not False))
    ticket = payload.get("ticket")
    if isinstance(ticket, dict):
        steps.append(TicketTaken(ticket.get("id")))
    return steps


def rating_question(intent: str | None) -> str | None:
    """Why to ask for a rating after a turn with this intent; None: don't ask."""
    return f"the customer said {intent}" if intent in ENDING_INTENTS else None


def rating_question_on_close(agent: str) -> str:
    """An agent's close ends the conversation: always a reason to ask."""
    return f"closed by {agent}"
