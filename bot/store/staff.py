"""Staff users (agents and trainers): who may log in to the console, and whether they take chats now."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import Column, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped

from bot.store.models import Base, utcnow


class StaffRole(str, Enum):
    """What a staff user does in the console: answer chats (agent), teach the bot (trainer), or watch how
    the service is doing (lead: the insights dashboard, which trainers see too).

    A `str` enum like ConversationState: each member equals its stored value ("agent" == StaffRole.AGENT),
    so the `role` column and the console keep exactly the strings they always had.
    """

    AGENT = "agent"
    TRAINER = "trainer"
    LEAD = "lead"

    def __str__(self) -> str:
        return self.value


ROLES = tuple(role.value for role in StaffRole)


class Availability(str, Enum):
    """Whether an agent takes handed-over chats now (a `str` enum: equal to the stored value)."""

    AVAILABLE = "available"
    AWAY = "away"

    def __str__(self) -> str:
        return self.value


AVAILABILITY = tuple(choice.value for choice in Availability)


class StaffUser(Base):
    __tablename__ = "staff_users"

    username: Mapped[str] = Column(String(64), primary_key=True)
    name: Mapped[str] = Column(String(200), nullable=False)
    role: Mapped[str] = Column(String(10), nullable=False)
    password_hash: Mapped[str] = Column(String(200), nullable=False)  # argon2id, never the password
    availability: Mapped[str] = Column(String(10), nullable=False, default=Availability.AWAY.value)
    # When the agent's console was last open (bot/console/socket.py): "available" counts only while it is.
    last_seen_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # Console sessions started before this are void: set by log-out, a new password, or `staff sign-out`
    # (the session is a cookie, so a copy of it would otherwise work until it expires).
    sessions_valid_after: Mapped[datetime | None] = Column(DateTime(timezone=True))


class LoginFailure(Base):
    """A failed console log-in: counted per username and per address to slow down password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False)  # as typed, lower-cased; may name nobody
    address: Mapped[str] = Column(String(64), nullable=False)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
