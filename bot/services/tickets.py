"""Messages taken while no one could join the chat: stored as tickets for the desk to answer by e-mail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, utcnow

MAX_TICKET_CHARS = 4000


def take_message(
    session: Session, conversation_id: str, customer_id: str | None, email: str, message: str, language: str
) -> Ticket:
    """Store the customer's message with the address to answer; the handoff it came from becomes a ticket."""
    request = session.execute(
        select(HandoffRequest)
        .where(HandoffRequest.conversation_id == conversation_id, HandoffRequest.status == "unattended")
        .order_by(HandoffRequest.created_at.desc())
    ).scalar()
    ticket = Ticket(
        conversation_id=conversation_id,
        customer_id=customer_id,
        email=email,
        message=message[:MAX_TICKET_CHARS],
        language=language,
        reason=request.reason if request else "requested",
        status="open",
    )
    if request is not None:
        request.status = "ticket"
    session.add(ticket)
    session.flush()
    return ticket


def open_tickets(session: Session) -> list[Ticket]:
    return list(session.execute(select(Ticket).where(Ticket.status == "open").order_by(Ticket.created_at)).scalars())


def get_ticket(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


def mark_done(session: Session, ticket_id: int, username: str) -> bool:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != "open":
        return False
    ticket.status = "done"
    ticket.done_by = username
    ticket.done_at = utcnow()
    return True
