"""What the console reads from the database, each function one unit of work (Database.run)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import present
from bot.services import assignment
from bot.services.customer_card import card_for
from bot.services.queue import waiting
from bot.services.tickets import get_ticket, open_tickets
from bot.store import transcript
from bot.store.conversations import Conversation, ConversationState, MessageRole
from bot.store.desk import AgentNote
from bot.store.models import Customer
from bot.store.staff import Availability, StaffUser


def snapshot(session: Session, username: str) -> dict[str, Any]:
    """The dashboard: the queue, open tickets, the agent's own conversations and availability."""
    mine = []
    for conversation in assignment.held_by(session, username):
        name = session.execute(select(Customer.name).where(Customer.id == conversation.customer_id)).scalar()
        mine.append(present.held(conversation, name))
    user = session.get(StaffUser, username)
    return {
        "type": "snapshot",
        "queue": [present.queue_entry(entry) for entry in waiting(session)],
        "tickets": [present.ticket(ticket) for ticket in open_tickets(session)],
        "mine": mine,
        "availability": user.availability if user else Availability.AWAY.value,
    }


def conversation_view(session: Session, conversation_id: str, username: str) -> dict[str, Any] | None:
    """A conversation as its agent sees it; None when this agent may not (never claimed it)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not assignment.may_view(session, conversation_id, username):
        return None
    messages = transcript.messages_after(session, conversation_id, 0)
    notes = session.execute(
        select(AgentNote).where(AgentNote.conversation_id == conversation_id).order_by(AgentNote.created_at)
    ).scalars()
    customer_texts = [m.text for m in messages if m.role == MessageRole.CUSTOMER]
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "state_text": present.STATES.get(conversation.state, conversation.state),
        "language": conversation.language,
        "language_name": present.LANGUAGES.get(conversation.language, conversation.language),
        "mine": conversation.state == ConversationState.AGENT and conversation.agent_username == username,
        "messages": [present.message(m) for m in messages],
        "last_seq": messages[-1].seq if messages else 0,
        "notes": [present.note(n) for n in notes],
        "card": present.card(card_for(session, conversation.customer_id, customer_texts)),
    }


def ticket_view(session: Session, ticket_id: int, username: str) -> dict[str, Any] | None:
    """A ticket with the chat it came from, if this agent may open it, else None (as if there were none).

    An open ticket is the whole desk's work: every agent sees it in the list and may open it. An answered
    one stays with the agent who answered it; to everyone else it looks like no ticket at all, so ids
    being sequential lets no one page through the history of customers' messages, e-mails and chats."""
    ticket = get_ticket(session, ticket_id)
    if ticket is None or (ticket.status != "open" and ticket.done_by != username):
        return None
    conversation = session.get(Conversation, ticket.conversation_id)
    messages = transcript.messages_after(session, ticket.conversation_id, 0)
    customer_texts = [m.text for m in messages if m.role == MessageRole.CUSTOMER]
    return {
        "ticket": present.ticket(ticket),
        "messages": [present.message(m) for m in messages],
        "card": present.card(card_for(session, ticket.customer_id, customer_texts)),
        "conversation_state": conversation.state if conversation else None,
    }
