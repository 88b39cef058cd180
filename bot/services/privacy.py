"""A customer's rights over what the support chat stores (GDPR): a copy of it, erasure, and a time limit.

The chat's records of a conversation: the conversation and its messages (with the rating), handoff
requests, tickets, agent notes, trainers' inbox decisions on its messages, and Rasa's tracker events
under the same id (Rasa's sender id is the conversation id). Orders, returns and loyalty points are
the shop's business records, which bookkeeping law makes it keep: the copy includes them; erasure
leaves them, and only cuts a return's link to the erased conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.orm import Session

from bot.store.conversations import Conversation, ConversationState, InboxDecision, Message
from bot.store.desk import AgentNote, Ticket
from bot.store.models import Customer, HandoffRequest, LoyaltyAccount, Order, PointTransaction, ReturnRequest

log = logging.getLogger(__name__)

# A conversation in these states has a person on it, or waiting for one: never erased by the time limit.
WITH_PEOPLE = (ConversationState.QUEUED, ConversationState.AGENT)


@dataclass
class Erased:
    conversations: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per table
    tracker_events: int = 0


def conversations_of(session: Session, customer_id: str) -> list[str]:
    return list(session.scalars(select(Conversation.id).where(Conversation.customer_id == customer_id)))


def expired_conversations(session: Session, last_activity_before: datetime) -> list[str]:
    """Conversations untouched since the moment given, with no person on them."""
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.updated_at < last_activity_before, Conversation.state.not_in(WITH_PEOPLE)
            )
        )
    )


def _rows(session: Session, statement) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [_plain(dict(row._mapping)) for row in session.execute(statement)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in row.items()}


def _table(model):  # type: ignore[no-untyped-def]
    return select(*model.__table__.columns)


def export_customer(session: Session, customer_id: str) -> dict[str, Any] | None:
    """Everything stored about a signed-in customer, as plain JSON-ready data; None for an unknown id."""
    customer = session.execute(_table(Customer).where(Customer.id == customer_id)).first()
    if customer is None:
        return None
    conversation_ids = conversations_of(session, customer_id)
    by_conversation = Message.conversation_id.in_(conversation_ids)
    return {
        "customer": _plain(dict(customer._mapping)),
        "loyalty": _rows(session, _table(LoyaltyAccount).where(LoyaltyAccount.customer_id == customer_id)),
        "point_transactions": _rows(
            session, _table(PointTransaction).where(PointTransaction.customer_id == customer_id)
        ),
        "orders": _rows(session, _table(Order).where(Order.customer_id == customer_id)),
        "returns": _rows(session, _table(ReturnRequest).where(ReturnRequest.customer_id == customer_id)),
        "conversations": _rows(session, _table(Conversation).where(Conversation.id.in_(conversation_ids))),
        "messages": _rows(
            session,
            select(
                Message.conversation_id,
                Message.seq,
                Message.role,
                Message.text,
                Message.author,
                Message.language,
                Message.created_at,
            )
            .where(by_conversation)
            .order_by(Message.conversation_id, Message.seq),
        ),
        "handoff_requests": _rows(
            session, _table(HandoffRequest).where(HandoffRequest.conversation_id.in_(conversation_ids))
        ),
        "tickets": _rows(session, _table(Ticket).where(Ticket.conversation_id.in_(conversation_ids))),
        # Agents' internal notes are about the customer: the right of access covers them too.
        "agent_notes": _rows(session, _table(AgentNote).where(AgentNote.conversation_id.in_(conversation_ids))),
    }


def erase_conversations(session: Session, conversation_ids: list[str]) -> Erased:
    """Delete the chat's records of these conversations from the shop database (see the module's doc)."""
    erased = Erased(conversations=len(conversation_ids))
    if not conversation_ids:
        return erased
    message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids)).scalar_subquery()
    steps = [
        ("inbox_decisions", delete(InboxDecision).where(InboxDecision.message_id.in_(message_ids))),
        ("messages", delete(Message).where(Message.conversation_id.in_(conversation_ids))),
        ("agent_notes", delete(AgentNote).where(AgentNote.conversation_id.in_(conversation_ids))),
        ("tickets", delete(Ticket).where(Ticket.conversation_id.in_(conversation_ids))),
        ("handoff_requests", delete(HandoffRequest).where(HandoffRequest.conversation_id.in_(conversation_ids))),
        ("conversations", delete(Conversation).where(Conversation.id.in_(conversation_ids))),
    ]
    plain = {"synchronize_session": False}
    session.execute(
        update(ReturnRequest).where(ReturnRequest.conversation_id.in_(conversation_ids)).values(conversation_id=None),
        execution_options=plain,
    )
    for table, statement in steps:
        erased.rows[table] = session.execute(statement, execution_options=plain).rowcount
    return erased


def erase_tracker_events(tracker_url: str, conversation_ids: list[str]) -> int:
    """Delete Rasa's tracker events (its SQL tracker store's `events` table) of these conversations."""
    if not conversation_ids:
        return 0
    engine = create_engine(tracker_url)
    try:
        if not inspect(engine).has_table("events"):
            return 0  # Rasa has stored nothing yet
        with engine.begin() as connection:
            removed = 0
            for conversation_id in conversation_ids:
                removed += connection.execute(
                    text("DELETE FROM events WHERE sender_id = :sender_id"), {"sender_id": conversation_id}
                ).rowcount
            return removed
    finally:
        engine.dispose()
