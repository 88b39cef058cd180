"""What the customer-service desk works with besides the transcript: tickets and agents' private notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped

from bot.store.models import Base, utcnow

TICKET_STATUSES = ("open", "done")


class Ticket(Base):
    """A message taken while no one could join the chat, to be answered by e-mail.

    No foreign keys to the shop's tables: a ticket outlives a re-seeded demo shop, like the transcript.
    """

    __tablename__ = "tickets"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(String(200), nullable=False, index=True)
    customer_id: Mapped[str | None] = Column(String(20))  # verified customer, None for a guest
    email: Mapped[str] = Column(String(320), nullable=False)  # where the answer goes
    message: Mapped[str] = Column(Text, nullable=False)  # verbatim, as the customer wrote it
    language: Mapped[str] = Column(String(5), nullable=False)
    reason: Mapped[str] = Column(String(40), nullable=False)  # the handoff's reason
    status: Mapped[str] = Column(String(10), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    done_by: Mapped[str | None] = Column(String(64))
    done_at: Mapped[datetime | None] = Column(DateTime(timezone=True))


class AgentNote(Base):
    """An agent's internal note on a conversation: never sent to the customer, never in the transcript."""

    __tablename__ = "agent_notes"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(String(200), nullable=False, index=True)
    author: Mapped[str] = Column(String(64), nullable=False)  # staff username
    author_name: Mapped[str] = Column(String(200), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
