"""The queue for a person: who waits, in which order, and roughly how long.

A conversation is in the queue while its state is "queued" (the gateway sets it when the bot hands
over). Order: loyalty tier first (gull, then sølv, then bronse and guests alike), then who has waited
longest. The customer's place and wait (actions/handoff.py) and the agents' console read the same
order, so what the customer is told matches what the agents see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.conversations import Conversation, ConversationState
from bot.store.models import Customer, HandoffRequest, LoyaltyAccount, as_utc, utcnow

# Lower is served first; guests count as bronse.
TIER_RANK = {"gull": 0, "solv": 1, "bronse": 2}
GUEST_RANK = 2
# Rough minutes an agent spends on one conversation: the basis of the wait a customer is told.
MINUTES_PER_CONVERSATION = 3


def tier_rank(tier: str | None) -> int:
    return TIER_RANK.get(tier or "", GUEST_RANK)


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    customer_id: str | None
    customer_name: str | None
    tier: str | None
    language: str
    queued_at: datetime
    reason: str
    detail: str | None
    last_message: str

    @property
    def rank(self) -> tuple[int, datetime]:
        return tier_rank(self.tier), self.queued_at


def waiting(session: Session) -> list[QueueEntry]:
    """Every queued conversation, in the order agents should take them."""
    rows = session.execute(
        select(Conversation, Customer.name, LoyaltyAccount.tier)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(LoyaltyAccount, LoyaltyAccount.customer_id == Conversation.customer_id)
        .where(Conversation.state == ConversationState.QUEUED)
    ).all()
    requests = _open_requests(session, [conversation.id for conversation, _, _ in rows])
    entries = []
    for conversation, name, tier in rows:
        request = requests.get(conversation.id)
        entries.append(
            QueueEntry(
                conversation_id=conversation.id,
                customer_id=conversation.customer_id,
                customer_name=name,
                tier=tier,
                language=conversation.language,
                queued_at=as_utc(conversation.queued_at or conversation.updated_at),
                reason=request.reason if request else "requested",
                detail=request.detail if request else None,
                last_message=request.last_message if request else "",
            )
        )
    return sorted(entries, key=lambda entry: entry.rank)


def _open_requests(session: Session, conversation_ids: list[str]) -> dict[str, HandoffRequest]:
    if not conversation_ids:
        return {}
    requests = session.execute(
        select(HandoffRequest)
        .where(HandoffRequest.conversation_id.in_(conversation_ids), HandoffRequest.status == "waiting")
        .order_by(HandoffRequest.created_at)
    ).scalars()
    return {request.conversation_id: request for request in requests}  # the newest open one wins


def position(session: Session, conversation_id: str, customer_id: str | None) -> int:
    """This conversation's place in the queue, from 1, counting it as queued now if it is not yet."""
    tier = None
    if customer_id:
        tier = session.execute(
            select(LoyaltyAccount.tier).where(LoyaltyAccount.customer_id == customer_id)
        ).scalar_one_or_none()
    queue = waiting(session)
    others = [entry for entry in queue if entry.conversation_id != conversation_id]
    mine = next((entry for entry in queue if entry.conversation_id == conversation_id), None)
    rank = mine.rank if mine else (tier_rank(tier), utcnow())
    return 1 + sum(1 for entry in others if entry.rank < rank)


def estimated_wait_minutes(place: int, agents: int) -> int:
    """Rough minutes until a person joins: the conversations up to this one, shared by the agents at work."""
    return max(2, math.ceil(place * MINUTES_PER_CONVERSATION / max(1, agents)))  # never "1 minutes"
