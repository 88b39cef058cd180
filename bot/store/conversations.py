"""The gateway's tables: conversations (who has each one now) and their transcript, one row per turn."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, relationship

from bot.store.models import Base, utcnow


class ConversationState(str, Enum):
    """Who has the conversation now: the bot, the queue for a person, a person, or nobody any more.

    A `str` enum: each member equals its stored value ("bot" == ConversationState.BOT), so the column and
    the frames keep exactly the strings they always had.
    """

    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


class TurnState(str, Enum):
    """Where a customer's turn is: stored, claimed and at Rasa, or settled (answered, or told it failed).

    received -> sent_to_rasa -> answered | failed; and received -> failed for a turn that is too old to
    answer, or was covered by the system message of the failed turn before it. Every move is a
    conditional UPDATE from the state before (bot/store/turns.py), so one turn is claimed once.
    """

    RECEIVED = "received"
    SENT_TO_RASA = "sent_to_rasa"
    ANSWERED = "answered"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


# Turns not yet settled: one of these blocks the turns after it in its conversation (bot/store/turns.py).
OPEN_TURN_STATES = (TurnState.RECEIVED.value, TurnState.SENT_TO_RASA.value)


class MessageRole(str, Enum):
    """Who wrote a transcript line: the customer, the bot, an agent, or the service itself (a notice such as
    "an agent has joined"). A `str` enum: equal to the stored `role` value."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"

    def __str__(self) -> str:
        return self.value


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = Column(String(64), primary_key=True)  # also Rasa's sender id
    # The verified customer (from the page's token); None for a guest.
    customer_id: Mapped[str | None] = Column(String(20), index=True)
    # sha256 (hex) of the resume secret the widget got in its `welcome` (bot/store/transcript.py): a guest's
    # conversation is resumed, or adopted by a sign-in, only with that secret. Never the secret itself.
    resume_secret_hash: Mapped[str | None] = Column(String(64))
    language: Mapped[str] = Column(String(5), nullable=False)
    state: Mapped[str] = Column(String(10), nullable=False, default=ConversationState.BOT.value)
    # The agent who has it while state is "agent": claimed by a conditional UPDATE (bot/services/assignment.py).
    agent_username: Mapped[str | None] = Column(String(64), index=True)
    queued_at: Mapped[datetime | None] = Column(DateTime(timezone=True))  # when it joined the queue
    # The seq of the newest message: raising it is how a writer claims the next seq (see transcript.py).
    last_seq: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # The customer's rating when the conversation ended (bot/store/feedback.py): asked once, at most.
    rating_asked_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    rating: Mapped[int | None] = Column(Integer)  # 1..5
    rating_comment: Mapped[str | None] = Column(Text)
    rated_at: Mapped[datetime | None] = Column(DateTime(timezone=True))

    messages: Mapped[list[Message]] = relationship("Message", back_populates="conversation", order_by="Message.seq")


class Message(Base):
    """One turn: what the customer wrote (verbatim), or what the bot, an agent or the system said."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        # A widget's resend carries the same client_id: stored once (NULLs never collide).
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False)
    seq: Mapped[int] = Column(Integer, nullable=False)  # from 1 within the conversation, no gaps
    role: Mapped[str] = Column(String(10), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False, default="")
    payload: Mapped[str | None] = Column(Text)  # a customer's button payload, sent to Rasa instead of text
    buttons: Mapped[list[dict[str, Any]] | None] = Column(JSON)  # a bot turn's quick replies
    client_id: Mapped[str | None] = Column(String(64))  # the widget's id for a customer turn
    author: Mapped[str | None] = Column(String(200))  # an agent turn's sender, by the name the customer sees
    language: Mapped[str | None] = Column(String(5))
    # What NLU made of a customer turn; None while Rasa has not answered (or could not).
    intent: Mapped[str | None] = Column(String(100))
    confidence: Mapped[float | None] = Column(Float)
    # A customer turn's TurnState and when it last moved; None for bot, agent and system messages.
    turn_state: Mapped[str | None] = Column(String(16), index=True)
    turn_state_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    conversation: Mapped[Conversation] = relationship("Conversation", back_populates="messages")


class InboxDecision(Base):
    """What a trainer did with a customer's message from the inbox: an intent it now teaches, or "ignore".

    A decided message leaves the inbox. The row stays as the record of who taught the model what.
    """

    __tablename__ = "inbox_decisions"

    message_id: Mapped[int] = Column(ForeignKey("messages.id"), primary_key=True)
    decision: Mapped[str] = Column(String(100), nullable=False)  # an intent, or "ignore"
    example: Mapped[str | None] = Column(Text)  # the line written to data/nlu (masked text), if any
    decided_by: Mapped[str] = Column(String(64), nullable=False)
    decided_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
