"""Handing a conversation to a person: whether anyone can join now, and the request the desk works from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.hours import is_open, next_opening
from bot.services.staff import available_agents
from bot.store.models import HandoffRequest

REASONS = ("requested", "misunderstood", "complaint", "frustration")
# A request is "waiting" in the queue, or "unattended" when no one could join and the bot offered to
# take a message instead (it becomes "ticket" when the customer leaves one).
OPEN_STATUSES = ("waiting", "unattended")


@dataclass(frozen=True)
class People:
    """Whether a person can join a chat now, and if not, why."""

    open: bool  # within customer-service hours (shop.yml, Europe/Oslo)
    agents: int  # agents marked available, with their console open
    opens: datetime  # next opening (now, when open)

    @property
    def can_join(self) -> bool:
        return self.open and self.agents > 0


def people_now(session: Session, now: datetime | None = None) -> People:
    return People(open=is_open(now), agents=len(available_agents(session)), opens=next_opening(now))


def request_handoff(
    session: Session,
    conversation_id: str,
    customer_id: str | None,
    reason: str,
    language: str,
    last_message: str,
    *,
    queued: bool = True,
    detail: str | None = None,
) -> HandoffRequest:
    """Store the request (or keep this conversation's open one): `queued` when a person can join now."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    status = "waiting" if queued else "unattended"
    existing = session.execute(
        select(HandoffRequest)
        .where(HandoffRequest.conversation_id == conversation_id, HandoffRequest.status.in_(OPEN_STATUSES))
        .order_by(HandoffRequest.created_at.desc())
    ).scalar()
    if existing is not None:
        existing.status = status  # an agent may have become free since, or gone away
        return existing
    request = HandoffRequest(
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason=reason,
        detail=detail,
        language=language,
        last_message=last_message[:2000],
        status=status,
    )
    session.add(request)
    session.flush()
    return request
