"""Shared by the handoff and console tests: the hours' clock, a quiet desk, and looking at what was stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import delete, select, update

from bot.identity import hash_password, verify_password
from bot.shop import shop_data
from bot.store.conversations import Conversation
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest
from bot.store.staff import LoginFailure, StaffUser

# The gateway's BOT_CLOCK for these tests: customer service is open on a Tuesday at 11, closed on Sundays.
OPEN = "2030-01-08T11:00:00+01:00"
CLOSED = "2030-01-06T11:00:00+01:00"

T = TypeVar("T")


def quiet_desk() -> None:
    """No one waiting, no one at work, the demo staff with their demo passwords (another test of the run
    may have changed them), no failed log-ins counting against anyone: each test starts the desk from nothing."""
    passwords = {raw["username"]: raw["password"] for raw in shop_data()["staff"]}
    with session_scope() as session:
        session.execute(delete(LoginFailure))
        session.execute(
            update(Conversation)
            .where(Conversation.state.in_(("queued", "agent")))
            .values(state="closed", agent_username=None)
            .execution_options(synchronize_session=False)
        )
        for user in session.execute(select(StaffUser)).scalars():
            user.availability = "away"
            demo = passwords.get(user.username)  # None: a user another test added
            if demo is not None and not verify_password(user.password_hash, demo):
                user.password_hash = hash_password(demo)


def state_of(conversation_id: str) -> tuple[str, str | None]:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        return conversation.state, conversation.agent_username


def handoff_of(conversation_id: str) -> HandoffRequest | None:
    with session_scope() as session:
        return session.execute(
            select(HandoffRequest)
            .where(HandoffRequest.conversation_id == conversation_id)
            .order_by(HandoffRequest.id.desc())
        ).scalar()


def tickets_of(conversation_id: str) -> list[Ticket]:
    with session_scope() as session:
        return list(session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id)).scalars())


async def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 15) -> T:
    """Read until `done` holds (a write made by another task or process), or fail with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.1)
