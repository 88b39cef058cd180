"""Who has a conversation: into the queue, claimed by one agent, handed back to the bot, or closed.

The owner lives on the conversation row. Every change is one conditional UPDATE that names the state
it expects (and, for release, the agent who must hold it); its row count says whether it happened.
So two agents who claim at the same moment, in one gateway process or in several, can't both win:
the database applies one UPDATE first, and the other then finds the conversation no longer queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bot.services.queue import position as queue_position
from bot.services.staff import available_agents
from bot.store.conversations import Conversation, ConversationState
from bot.store.models import HandoffRequest, as_utc, utcnow
from bot.store.staff import StaffUser

# How an agent may close a conversation, with the words the console shows.
RESOLUTIONS = {
    "solved": "Solved",
    "follow_up": "Needs follow-up",
    "customer_left": "Customer left",
    "not_for_us": "Not something we can help with",
}


@dataclass(frozen=True)
class ClaimOutcome:
    won: bool
    state: str | None  # the conversation's state after the attempt; None if it does not exist
    holder: str | None  # username of the agent who has it
    holder_name: str | None


@dataclass(frozen=True)
class Released:
    """A conversation an agent let go of: where it went, and since when the agent had it."""

    conversation_id: str
    language: str
    state: str
    claimed_at: datetime | None


def _conditional(session: Session, statement: Executable) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def enqueue(session: Session, conversation_id: str) -> bool:
    """Put a conversation the bot is handling (or that was closed) into the queue."""
    now = utcnow()
    return (
        _conditional(
            session,
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                Conversation.state.in_((ConversationState.BOT, ConversationState.CLOSED)),
            )
            .values(state=ConversationState.QUEUED, queued_at=now, agent_username=None, updated_at=now),
        )
        == 1
    )


def leave_queue(session: Session, conversation_id: str) -> bool:
    """Back to the bot without a person (the customer left a message for the desk instead)."""
    return (
        _conditional(
            session,
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == ConversationState.QUEUED)
            .values(state=ConversationState.BOT, queued_at=None, updated_at=utcnow()),
        )
        == 1
    )


def reopen(session: Session, conversation_id: str) -> bool:
    """A closed conversation goes on with the bot when the customer writes again."""
    return (
        _conditional(
            session,
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == ConversationState.CLOSED)
            .values(state=ConversationState.BOT, updated_at=utcnow()),
        )
        == 1
    )


def claim(session: Session, conversation_id: str, username: str) -> ClaimOutcome:
    now = utcnow()
    won = (
        _conditional(
            session,
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == ConversationState.QUEUED)
            .values(state=ConversationState.AGENT, agent_username=username, updated_at=now),
        )
        == 1
    )
    if won:
        _conditional(
            session,
            update(HandoffRequest)
            .where(HandoffRequest.conversation_id == conversation_id, HandoffRequest.status == "waiting")
            .values(status="claimed", agent_username=username, claimed_at=now),
        )
    row = session.execute(
        select(Conversation.state, Conversation.agent_username, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.username == Conversation.agent_username)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        return ClaimOutcome(False, None, None, None)
    return ClaimOutcome(won, row.state, row.agent_username, row.name)


def _let_go(session: Session, conversation_id: str, username: str, **values: object) -> bool:
    """The conversation leaves this agent (one conditional UPDATE); False if they don't have it."""
    held = (
        Conversation.id == conversation_id,
        Conversation.state == ConversationState.AGENT,
        Conversation.agent_username == username,
    )
    return _conditional(session, update(Conversation).where(*held).values(agent_username=None, **values)) == 1


def _claim_of(session: Session, conversation_id: str, username: str) -> HandoffRequest | None:
    """The handoff request this agent claimed for the conversation (the newest)."""
    return session.execute(
        select(HandoffRequest)
        .where(
            HandoffRequest.conversation_id == conversation_id,
            HandoffRequest.status == "claimed",
            HandoffRequest.agent_username == username,
        )
        .order_by(HandoffRequest.claimed_at.desc())
    ).scalar()


def release(
    session: Session,
    conversation_id: str,
    username: str,
    to: Literal[ConversationState.BOT, ConversationState.CLOSED],
    resolution: str | None = None,
    note: str | None = None,
) -> Released | None:
    """The agent who has the conversation hands it back to the bot or closes it; None if they don't have it."""
    if to == ConversationState.CLOSED and resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {tuple(RESOLUTIONS)}")
    now = utcnow()
    if not _let_go(session, conversation_id, username, state=to, queued_at=None, updated_at=now):
        return None
    request = _claim_of(session, conversation_id, username)
    claimed_at = None
    if request is not None:
        request.status = "handed_back" if to == ConversationState.BOT else "closed"
        request.closed_at = now
        request.resolution = resolution
        request.resolution_note = (note or "").strip()[:2000] or None
        claimed_at = as_utc(request.claimed_at) if request.claimed_at else None
    language = session.execute(select(Conversation.language).where(Conversation.id == conversation_id)).scalar_one()
    return Released(conversation_id, language, to, claimed_at)


@dataclass(frozen=True)
class LeftBehind(Released):
    """A conversation taken back from an agent who went away without letting go of it; its state is
    "queued" when someone else can take over now, else "bot"."""

    agent_username: str
    agent_name: str
    place: int  # in the queue, when queued


def held_by_absent_agents(session: Session, gone_since: datetime) -> list[tuple[str, str]]:
    """(conversation, agent) pairs where the agent's console has not been open since `gone_since`."""
    rows = session.execute(
        select(Conversation.id, Conversation.agent_username)
        .outerjoin(StaffUser, StaffUser.username == Conversation.agent_username)
        .where(
            Conversation.state == ConversationState.AGENT,
            or_(StaffUser.last_seen_at.is_(None), StaffUser.last_seen_at < gone_since),
        )
    ).all()
    return [(row.id, row.agent_username) for row in rows]


def take_back(
    session: Session, conversation_id: str, username: str, gone_since: datetime, in_hours: bool
) -> LeftBehind | None:
    """Back to the queue (keeping the customer's place: queued_at stays) when another agent is at work to
    take over, else to the bot; None if the agent let go meanwhile. The claim stays in the history as
    agent_left."""
    now = utcnow()
    others = [agent for agent in available_agents(session, gone_since) if agent.username != username]
    can_join = in_hours and bool(others)
    to = ConversationState.QUEUED if can_join else ConversationState.BOT
    if not _let_go(session, conversation_id, username, state=to, updated_at=now):
        return None
    claimed = _claim_of(session, conversation_id, username)
    claimed_at = None
    if claimed is not None:
        claimed_at = as_utc(claimed.claimed_at) if claimed.claimed_at else None
        claimed.status, claimed.closed_at = "agent_left", now
        # A new request carries why the customer wanted a person (and since when) to the next agent.
        session.add(
            HandoffRequest(
                conversation_id=conversation_id,
                customer_id=claimed.customer_id,
                reason=claimed.reason,
                detail=claimed.detail,
                language=claimed.language,
                last_message=claimed.last_message,
                status="waiting" if can_join else "unattended",
                created_at=claimed.created_at,
            )
        )
    session.flush()
    conversation = session.get(Conversation, conversation_id)
    name = session.execute(select(StaffUser.name).where(StaffUser.username == username)).scalar() or username
    place = queue_position(session, conversation_id, conversation.customer_id) if can_join else 0
    return LeftBehind(conversation_id, conversation.language, to, claimed_at, username, name, place)


def holds(session: Session, conversation_id: str, username: str) -> bool:
    """Whether this agent has the conversation now (and may write to the customer)."""
    return (
        session.execute(
            select(Conversation.id).where(
                Conversation.id == conversation_id,
                Conversation.state == ConversationState.AGENT,
                Conversation.agent_username == username,
            )
        ).first()
        is not None
    )


def may_view(session: Session, conversation_id: str, username: str) -> bool:
    """An agent sees (transcript, customer card, notes) the conversations they have or once claimed."""
    if holds(session, conversation_id, username):
        return True
    claimed_before = exists().where(
        HandoffRequest.conversation_id == conversation_id, HandoffRequest.agent_username == username
    )
    return bool(session.execute(select(claimed_before)).scalar())


def held_by(session: Session, username: str) -> list[Conversation]:
    return list(
        session.execute(
            select(Conversation)
            .where(Conversation.state == ConversationState.AGENT, Conversation.agent_username == username)
            .order_by(Conversation.updated_at)
        ).scalars()
    )
