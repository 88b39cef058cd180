"""Handing a conversation to a person: the request the agents' queue is built from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import HandoffRequest
from bot.store.queries import waiting_handoffs

REASONS = ("requested", "misunderstood", "complaint", "frustration")
MINUTES_PER_WAITING_CONVERSATION = 3  # rough wait an agent needs per conversation ahead


def request_handoff(
    session: Session, conversation_id: str, customer_id: str | None, reason: str, language: str, last_message: str
) -> tuple[HandoffRequest, int]:
    """Store the request (or keep the open one) and return it with the customer's place in the queue."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    existing = session.execute(
        select(HandoffRequest).where(
            HandoffRequest.conversation_id == conversation_id, HandoffRequest.status == "waiting"
        )
    ).scalar_one_or_none()
    if existing is None:
        existing = HandoffRequest(
            conversation_id=conversation_id,
            customer_id=customer_id,
            reason=reason,
            language=language,
            last_message=last_message[:2000],
        )
        session.add(existing)
        session.flush()
    return existing, waiting_handoffs(session)
