"""A customer's rights over what the support chat stores (GDPR): a copy of it, erasure, and a time limit.

The chat's records of a conversation: the conversation and its messages (with the rating), handoff
requests, tickets, agent notes, trainers' inbox decisions on its messages, and Rasa's tracker events
under the same id (Rasa's sender id is the conversation id). Orders, returns and loyalty points are
the shop's business records, which bookkeeping law makes it keep: the copy includes them; erasure
leaves them, and only cuts a return's link to the erased conversation.

By e-mail address (find_by_email): the signed-in customer whose account has the address, and every
guest conversation that carries it: a ticket to be answered there, the address typed in a message (the
order form's "which e-mail did you order with?" is a message too), or the address in a user turn or a
slot of Rasa's tracker store. A conversation of another signed-in customer that mentions the address is
that customer's: it is reported, never included.

The time limit leaves a conversation with an open ticket alone until the desk has answered it.

NLU examples a trainer taught from the conversations' messages: erasure on request removes those lines
from data/nlu (bot/training/unteaching.py, called by `python -m bot privacy erase` before
erase_conversations); the time limit keeps the masked lines and drops only the record of where they came from.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, create_engine, delete, func, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable, Select

from bot.store.conversations import Conversation, ConversationState, InboxDecision, Message, MessageRole
from bot.store.db import NO_VALUES_IN_ERRORS
from bot.store.desk import AgentNote, Ticket
from bot.store.models import Customer, HandoffRequest, LoyaltyAccount, Order, PointTransaction, ReturnRequest
from bot.store.taught import TaughtExample

log = logging.getLogger(__name__)

# A conversation in these states has a person on it, or waiting for one: never erased by the time limit.
WITH_PEOPLE = (ConversationState.QUEUED, ConversationState.AGENT)


@dataclass
class Erased:
    conversations: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per table
    tracker_events: int = 0


@dataclass
class EmailMatches:
    """What an e-mail address leads to (find_by_email)."""

    email: str
    customer_ids: list[str] = field(default_factory=list)  # signed-in customers whose account has it
    own_conversations: list[str] = field(default_factory=list)  # theirs
    # Conversations on no account that carry the address (guests'), and what is left of one of hers
    # when only its ticket survives; some may survive only as a ticket or as Rasa's events.
    guest_conversations: list[str] = field(default_factory=list)
    tracker_only: list[str] = field(default_factory=list)  # of those, the ones the shop database has no rows of
    # Other signed-in customers' conversations that mention the address: theirs, so left alone.
    others_mentioning: list[str] = field(default_factory=list)

    @property
    def conversation_ids(self) -> list[str]:
        return self.own_conversations + self.guest_conversations

    @property
    def found(self) -> bool:
        return bool(self.customer_ids or self.guest_conversations)


def conversations_of(session: Session, customer_id: str) -> list[str]:
    return list(session.scalars(select(Conversation.id).where(Conversation.customer_id == customer_id)))


# --- by e-mail address -----------------------------------------------------------------------------
_ADDRESS = re.compile(r'[^@\s<>()\[\],;:"\\]{1,64}@[^@\s<>()\[\],;:"\\]{1,253}\.[^@\s<>()\[\],;:"\\.]+')
MAX_EMAIL = 320
# Types of Rasa's tracker events that hold what the customer gave: what they typed, and the slots filled from it.
_CUSTOMER_EVENTS = ("user", "slot")


def normalise_email(value: object) -> str | None:
    """The address as searched for (trimmed, lower case), or None for anything that is not one address."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    return address if len(address) <= MAX_EMAIL and _ADDRESS.fullmatch(address) else None


def _mentions(stored: str, email: str) -> bool:
    """The address itself in the text, not one that merely contains it (ola.kari@x.no holds kari@x.no)."""
    pattern = rf"(?<![\w.+-]){re.escape(email)}(?![\w-]|\.[\w-])"
    return re.search(pattern, stored, re.IGNORECASE) is not None


def _like(email: str) -> str:
    escaped = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _tracker_mentions(tracker_url: str, email: str) -> set[str]:
    """Sender ids whose user turns or slots in Rasa's SQL tracker store carry the address."""
    engine = create_engine(tracker_url, **NO_VALUES_IN_ERRORS)
    try:
        if not inspect(engine).has_table("events"):
            return set()
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT sender_id, data FROM events WHERE type_name IN :types AND lower(data) LIKE :pattern"
                    " ESCAPE '\\'"
                ).bindparams(bindparam("types", expanding=True)),
                {"types": list(_CUSTOMER_EVENTS), "pattern": _like(email)},
            )
            return {sender_id for sender_id, data in rows if data and _mentions(data, email)}
    finally:
        engine.dispose()


def find_by_email(session: Session, email: str, tracker_url: str | None = None) -> EmailMatches:
    """Everything the chat stores under this (normalised) address: see the module's doc."""
    matches = EmailMatches(email=email)
    matches.customer_ids = list(session.scalars(select(Customer.id).where(func.lower(Customer.email) == email)))
    for customer_id in matches.customer_ids:
        matches.own_conversations += conversations_of(session, customer_id)
    # Where each candidate conversation came from, and whose it is when only a ticket is left of it.
    owner_of_ticket: dict[str, str | None] = {}
    for conversation_id, customer_id in session.execute(
        select(Ticket.conversation_id, Ticket.customer_id).where(func.lower(Ticket.email) == email)
    ):
        owner_of_ticket.setdefault(conversation_id, customer_id)
    candidates = set(owner_of_ticket)
    typed = session.execute(
        select(Message.conversation_id, Message.text).where(
            Message.role == MessageRole.CUSTOMER, func.lower(Message.text).like(_like(email), escape="\\")
        )
    )
    candidates |= {conversation_id for conversation_id, said in typed if _mentions(said, email)}
    if tracker_url:
        candidates |= _tracker_mentions(tracker_url, email)
    candidates -= set(matches.own_conversations)
    owners: dict[str, str | None] = {
        conversation_id: customer_id
        for conversation_id, customer_id in session.execute(
            select(Conversation.id, Conversation.customer_id).where(Conversation.id.in_(sorted(candidates)))
        )
    }
    for conversation_id in sorted(candidates):
        owner = owners[conversation_id] if conversation_id in owners else owner_of_ticket.get(conversation_id)
        if owner is None or owner in matches.customer_ids:
            matches.guest_conversations.append(conversation_id)
            if conversation_id not in owners and conversation_id not in owner_of_ticket:
                matches.tracker_only.append(conversation_id)
        else:
            matches.others_mentioning.append(conversation_id)
    return matches


def expired_conversations(session: Session, last_activity_before: datetime) -> list[str]:
    """Conversations untouched since the moment given, with no person on them and no ticket still open."""
    waiting_for_an_answer = select(Ticket.conversation_id).where(Ticket.status == "open")
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.updated_at < last_activity_before,
                Conversation.state.not_in(WITH_PEOPLE),
                Conversation.id.not_in(waiting_for_an_answer),
            )
        )
    )


def _rows(session: Session, statement: Executable) -> list[dict[str, Any]]:
    return [_plain(dict(row._mapping)) for row in session.execute(statement)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in row.items()}


def _table(model: Any) -> Select:
    return select(*model.__table__.columns)


def export_customer(session: Session, customer_id: str) -> dict[str, Any] | None:
    """Everything stored about a signed-in customer, as plain JSON-ready data; None for an unknown id."""
    customer = session.execute(_table(Customer).where(Customer.id == customer_id)).first()
    if customer is None:
        return None
    return {
        "customer": _plain(dict(customer._mapping)),
        "loyalty": _rows(session, _table(LoyaltyAccount).where(LoyaltyAccount.customer_id == customer_id)),
        "point_transactions": _rows(
            session, _table(PointTransaction).where(PointTransaction.customer_id == customer_id)
        ),
        "orders": _rows(session, _table(Order).where(Order.customer_id == customer_id)),
        "returns": _rows(session, _table(ReturnRequest).where(ReturnRequest.customer_id == customer_id)),
        **_chat_records(session, conversations_of(session, customer_id)),
    }


def export_by_email(session: Session, matches: EmailMatches) -> dict[str, Any] | None:
    """Everything stored under an address (find_by_email), as plain JSON-ready data; None when nothing is."""
    if not matches.found:
        return None
    return {
        "email": matches.email,
        "customers": [export_customer(session, customer_id) for customer_id in matches.customer_ids],
        "guest": _chat_records(session, matches.guest_conversations),
        # Conversations only Rasa's tracker store still holds (e.g. a chat over its REST channel).
        "tracker_only_conversations": matches.tracker_only,
    }


def _chat_records(session: Session, conversation_ids: list[str]) -> dict[str, Any]:
    by_conversation = Message.conversation_id.in_(conversation_ids)
    return {
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
        # Which taught NLU lines came from these messages. Erasure on request takes the lines out of
        # data/nlu first (bot/training/unteaching.py); the time limit keeps them, masked and now no one's.
        ("taught_examples", delete(TaughtExample).where(TaughtExample.conversation_id.in_(conversation_ids))),
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
    engine = create_engine(tracker_url, **NO_VALUES_IN_ERRORS)
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
