"""Reading and writing conversations and their transcript: each function is one unit of work on a Session.

About 390 lines on purpose: every write here goes through the same seq claim (below), and keeping the
writers together keeps that rule in one place. Turn states are in bot/store/turns.py.

The customer's turn runs two units while the customer waits (accept_customer_turn, which reads the
turn_context too, and record_reply): plain statements that load no ORM objects, built once with their
values bound at execution (README, Benchmarks).

Sequence numbers: every message of a conversation gets the next seq. A writer claims seqs by raising
`conversations.last_seq` with an UPDATE before it inserts; the UPDATE holds the row's lock (PostgreSQL)
or the database's write lock (SQLite) until commit, so two writers, in one process or in several,
never get the same seq and seqs become visible in order.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from bot.store.conversations import OPEN_TURN_STATES, Conversation, ConversationState, Message, MessageRole, TurnState
from bot.store.models import as_utc, utcnow


@dataclass(frozen=True)
class NewMessage:
    """A bot, agent or system turn to append."""

    role: str
    text: str
    buttons: list[dict[str, Any]] | None = None
    language: str | None = None
    author: str | None = None  # an agent's name, as the customer sees it


@dataclass(frozen=True)
class AnsweredTurn:
    """A customer's earlier typed turn that the bot answered."""

    text: str
    intent: str | None
    created_at: datetime


@dataclass(frozen=True)
class TurnContext:
    """What a customer turn needs before it goes to Rasa: the conversation's state and language, and the
    customer's last answered turns (for "the same question again")."""

    state: str
    language: str
    earlier: list[AnsweredTurn]


@dataclass(frozen=True)
class CustomerTurn:
    """What became of a customer's message: stored now, stored before (a resend), or refused."""

    # held: the database is down; the gateway keeps the message and stores it when it is back (bot/web/relay.py)
    outcome: Literal["accepted", "duplicate", "rate_limited", "held"]
    message: Message | None = None
    # Read in the same unit of work as the message was stored: one trip to the database less per turn.
    context: TurnContext | None = None
    # Rate limited: seconds until the oldest turn of the last minute leaves it.
    retry_after: int | None = None


# The customer's turn runs these while the customer waits: built once, with the values bound at
# execution, so SQLAlchemy neither rebuilds them nor works out their cache key from the values each time.
# They are Core statements on the tables, not on the mapped classes: through a Session an ORM-enabled
# statement is copied and its cache key worked out again on every execution (the two units of a turn
# took 3.8 ms of CPU that way, 3.2 ms as Core statements, paired on PostgreSQL).
_conversations = Conversation.__table__
_messages = Message.__table__
_CLAIM_SEQS = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("conversation_id"))
    .values(last_seq=_conversations.c.last_seq + bindparam("count"), updated_at=bindparam("now"))
)
_LAST_SEQ = select(_conversations.c.last_seq).where(_conversations.c.id == bindparam("conversation_id"))
_INSERT_MESSAGE = insert(_messages)
_CUSTOMER_SINCE = (
    _messages.c.conversation_id == bindparam("conversation_id"),
    _messages.c.role == MessageRole.CUSTOMER.value,
    _messages.c.created_at >= bindparam("since"),
)
_ALREADY_AND_RECENT = select(
    select(_messages.c.id)
    .where(_messages.c.conversation_id == bindparam("conversation_id"), _messages.c.client_id == bindparam("client_id"))
    .scalar_subquery(),
    select(func.count(_messages.c.id)).where(*_CUSTOMER_SINCE).scalar_subquery(),
    select(func.min(_messages.c.created_at)).where(*_CUSTOMER_SINCE).scalar_subquery(),
)
_STATE_AND_LANGUAGE = select(_conversations.c.state, _conversations.c.language).where(
    _conversations.c.id == bindparam("conversation_id")
)
_RECENT_TURNS = (
    select(_messages.c.role, _messages.c.payload, _messages.c.text, _messages.c.intent, _messages.c.created_at)
    .where(_messages.c.conversation_id == bindparam("conversation_id"), _messages.c.seq < bindparam("before_seq"))
    .order_by(_messages.c.seq.desc())
    .limit(bindparam("limit"))
)


@lru_cache(maxsize=4)
def _understood(with_language: bool, answered: bool) -> Update:
    """The UPDATE of a customer's message with what NLU made of it, and, for record_reply, its turn answered."""
    values: dict[str, Any] = {"intent": bindparam("intent"), "confidence": bindparam("confidence")}
    if with_language:
        values["language"] = bindparam("language")
    if answered:
        values |= {"turn_state": TurnState.ANSWERED.value, "turn_state_at": bindparam("now")}
    return update(_messages).where(_messages.c.id == bindparam("message_id")).values(**values)


_CONVERSATION_LANGUAGE = (
    update(_conversations)
    .where(
        _conversations.c.id
        == select(_messages.c.conversation_id).where(_messages.c.id == bindparam("message_id")).scalar_subquery(),
        _conversations.c.language != bindparam("language"),
    )
    .values(language=bindparam("language"))
)
_PLAIN = {"synchronize_session": False}


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def new_resume_secret() -> tuple[str, str]:
    """A resume secret (32 random bytes) for the widget, and its sha256 for the database."""
    secret = secrets.token_urlsafe(32)
    return secret, resume_secret_hash(secret)


def resume_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def resume_secret_matches(stored_hash: str | None, presented: str | None) -> bool:
    """Whether `presented` is the secret whose hash is stored; compared in constant time."""
    if not stored_hash or not presented:
        return False
    return hmac.compare_digest(stored_hash, resume_secret_hash(presented))


@dataclass(frozen=True)
class OpenedConversation:
    conversation: Conversation
    resumed: bool
    # The new conversation's resume secret, for its `welcome` only; None for a resumed one.
    resume_secret: str | None = None


def open_conversation(
    session: Session,
    conversation_id: str | None,
    customer_id: str | None,
    language: str,
    resume_secret: str | None = None,
) -> OpenedConversation:
    """Resume the conversation, or start a new one.

    A conversation of a signed-in customer is resumed only for that customer: when another one (or
    nobody) signs in on the same browser, they start afresh and never see it. A guest's conversation is
    resumed only with its resume secret, which the widget got in the `welcome` that started it: the id
    alone (agents, logs and Rasa see it) opens nothing. It becomes the customer's when they sign in
    during it, again only with the secret.
    """
    if conversation_id:
        resumed = resume_conversation(session, conversation_id, customer_id, resume_secret)
        if resumed is not None:
            return resumed
    secret, secret_hash = new_resume_secret()
    conversation = Conversation(
        id=new_conversation_id(), customer_id=customer_id, language=language, state=ConversationState.BOT,
        last_seq=0, resume_secret_hash=secret_hash,
    )  # fmt: skip
    session.add(conversation)
    session.flush()
    return OpenedConversation(conversation, False, secret)


def resume_conversation(
    session: Session, conversation_id: str, customer_id: str | None, resume_secret: str | None
) -> OpenedConversation | None:
    """The conversation, if this customer (or this guest's browser, by its secret) may go on with it; else None."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not _may_resume(conversation, customer_id, resume_secret):
        return None
    if customer_id and conversation.customer_id is None:
        conversation.customer_id = customer_id
        conversation.updated_at = utcnow()
    return OpenedConversation(conversation, True)


def _may_resume(conversation: Conversation, customer_id: str | None, resume_secret: str | None) -> bool:
    if conversation.customer_id is not None:
        return conversation.customer_id == customer_id  # the token says who; a secret adds nothing
    return resume_secret_matches(conversation.resume_secret_hash, resume_secret)


def messages_after(
    session: Session, conversation_id: str, after_seq: int, upto_seq: int | None = None
) -> list[Message]:
    """Messages with after_seq < seq (<= upto_seq), in order: what a reconnecting widget missed."""
    query = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if upto_seq is not None:
        query = query.where(Message.seq <= upto_seq)
    return list(session.execute(query.order_by(Message.seq)).scalars())


def turn_context(session: Session, conversation_id: str, before_seq: int) -> TurnContext | None:
    """The context of the customer turn `before_seq`; None when the conversation is gone."""
    found = session.execute(_STATE_AND_LANGUAGE, {"conversation_id": conversation_id}).one_or_none()
    if found is None:
        return None
    return TurnContext(found.state, found.language, answered_customer_turns(session, conversation_id, before_seq))


def answered_customer_turns(
    session: Session, conversation_id: str, before_seq: int, limit: int = 3
) -> list[AnsweredTurn]:
    """The customer's last `limit` typed turns before `before_seq` that the bot answered, oldest first.

    Answered means the next turn after it is the bot's: not a system message ("I'm having trouble"),
    and not an agent's. Button clicks (payloads) are left out: they are choices, not questions.
    """
    recent = session.execute(
        _RECENT_TURNS, {"conversation_id": conversation_id, "before_seq": before_seq, "limit": limit * 6}
    ).all()[::-1]
    answered = [
        AnsweredTurn(message.text, message.intent, message.created_at)
        for message, following in pairwise(recent)
        if message.role == MessageRole.CUSTOMER and not message.payload and following.role == MessageRole.BOT
    ]
    return answered[-limit:]


def _reserve_seqs(session: Session, conversation_id: str, count: int, now: datetime | None = None) -> None:
    """Reserve `count` seqs for this transaction (the conversation's row stays locked until it ends)."""
    values = {"conversation_id": conversation_id, "count": count, "now": now or utcnow()}
    session.execute(_CLAIM_SEQS, values, execution_options=_PLAIN)


def _claim_seqs(session: Session, conversation_id: str, count: int) -> int:
    """Reserve `count` seqs for this transaction; returns the first."""
    _reserve_seqs(session, conversation_id, count)
    last = session.execute(_LAST_SEQ, {"conversation_id": conversation_id}).scalar_one()
    return last - count + 1


def _by_client_id(session: Session, conversation_id: str, client_id: str) -> Message | None:
    query = select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    return session.execute(query).scalar_one_or_none()


def _insert_messages(session: Session, rows: list[dict[str, Any]]) -> list[Message]:
    """Plain INSERTs (no unit-of-work flush), and the stored messages as objects outside the session."""
    messages = []
    for row in rows:
        row = {"created_at": utcnow(), **row}
        result = session.execute(_INSERT_MESSAGE, row)
        messages.append(Message(id=result.inserted_primary_key[0], **row))
    return messages


_OPEN_TURN = exists().where(
    _messages.c.conversation_id == bindparam("conversation_id"),
    _messages.c.turn_state.in_(OPEN_TURN_STATES),
)
# A customer turn's seq, whether an earlier turn is still open, and the turn's context, in one read after
# its seq is claimed (the claim holds the conversation's row, so the read sees every turn stored before).
_CLAIMED_TURN = select(
    _conversations.c.last_seq, _conversations.c.state, _conversations.c.language, _OPEN_TURN.label("open_turn")
).where(_conversations.c.id == bindparam("conversation_id"))


def accept_customer_turn(
    session: Session,
    conversation_id: str,
    client_id: str,
    text: str,
    payload: str | None,
    language: str | None,
    per_minute: int,
    claim: bool = False,
) -> CustomerTurn:
    """Store a customer's message once per client_id, within the conversation's rate limit; read the
    turn's context in the same unit of work.

    A resend is checked before the limit, so a widget that reconnects and resends is never refused.
    The text is stored exactly as typed, as a `received` turn; with `claim`, the caller takes it to Rasa
    now with this context, and it is stored `sent_to_rasa` instead (one trip to the database less than
    claiming it afterwards, bot/store/turns.py), unless an earlier turn of the conversation is still open
    (at another gateway): then it stays `received`, to be claimed once that one has settled.
    """
    now = utcnow()
    since = now - timedelta(minutes=1)
    stored_before, recent, oldest = session.execute(
        _ALREADY_AND_RECENT, {"conversation_id": conversation_id, "client_id": client_id, "since": since}
    ).one()
    if stored_before is not None:
        return CustomerTurn("duplicate", session.get(Message, stored_before))
    if recent >= per_minute:
        waited = (now - as_utc(oldest)).total_seconds() if oldest else 0.0
        return CustomerTurn("rate_limited", retry_after=max(1, math.ceil(60 - waited)))
    _reserve_seqs(session, conversation_id, 1, now)
    # After the seq is reserved (the conversation's row is locked until commit), so a turn another gateway
    # stored just before is seen: while it is open, this one is not taken at once but claimed after it.
    claimed = session.execute(_CLAIMED_TURN, {"conversation_id": conversation_id}).one()
    seq = claimed.last_seq
    claim = claim and not claimed.open_turn
    row = {"conversation_id": conversation_id, "seq": seq, "role": "customer", "text": text, "payload": payload,
           "client_id": client_id, "language": language, "turn_state_at": now,
           "turn_state": (TurnState.SENT_TO_RASA if claim else TurnState.RECEIVED).value}  # fmt: skip
    try:
        [message] = _insert_messages(session, [row])
    except IntegrityError:
        # The same resend raced in on another connection and won: it is stored once, by the other.
        session.rollback()
        existing = _by_client_id(session, conversation_id, client_id)
        if existing is None:
            raise
        return CustomerTurn("duplicate", existing)
    earlier = answered_customer_turns(session, conversation_id, seq)
    return CustomerTurn("accepted", message, TurnContext(claimed.state, claimed.language, earlier))


def append_messages(session: Session, conversation_id: str, new: list[NewMessage]) -> list[Message]:
    """Append bot, agent or system turns with the next seqs, in the given order."""
    if not new:
        return []
    first = _claim_seqs(session, conversation_id, len(new))
    rows = [
        {"conversation_id": conversation_id, "seq": first + offset, "role": item.role, "text": item.text,
         "buttons": item.buttons, "language": item.language, "author": item.author}
        for offset, item in enumerate(new)
    ]  # fmt: skip
    return _insert_messages(session, rows)


def record_reply(
    session: Session,
    message_id: int,
    intent: str | None,
    confidence: float | None,
    language: str | None,
    conversation_id: str,
    new: list[NewMessage],
) -> list[Message]:
    """A turn's answer in one transaction: what NLU made of the customer's message, the bot's replies, and
    the turn `answered` (also after a late answer, when the customer was told it was taking long)."""
    record_understanding(session, message_id, intent, confidence, language, answered=True)
    return append_messages(session, conversation_id, new)


def record_understanding(
    session: Session,
    message_id: int,
    intent: str | None,
    confidence: float | None,
    language: str | None,
    answered: bool = False,
) -> None:
    """What NLU made of a customer's turn, and the language the conversation now speaks; with `answered`,
    the turn is marked answered in the same UPDATE."""
    values: dict[str, Any] = {
        "message_id": message_id,
        "intent": intent,
        "confidence": confidence,
        "language": language,
        "now": utcnow(),
    }
    # Plain UPDATEs: no object of this unit of work is loaded, so the session has nothing to synchronise.
    session.execute(_understood(bool(language), answered), values, execution_options=_PLAIN)
    if language:
        session.execute(_CONVERSATION_LANGUAGE, values, execution_options=_PLAIN)
