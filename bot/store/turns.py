"""A customer turn's state (TurnState) and its moves, each one unit of work on a Session.

Every move is a conditional UPDATE from the state it leaves (`... WHERE turn_state = 'received'`): the
row's lock (PostgreSQL) or the database's write lock (SQLite) lets exactly one writer make it, in one
gateway process or in several, so a turn is claimed for Rasa once and told "sorry" once. The caller
learns from the row count whether it was the one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session, aliased

from bot.store.conversations import OPEN_TURN_STATES, Conversation, Message, TurnState
from bot.store.models import as_utc, utcnow
from bot.store.transcript import NewMessage, append_messages

_PLAIN = {"synchronize_session": False}
# A gateway with a turn at Rasa touches its turn_state_at this often (Relay._keep_claimed); a turn untouched
# for ABANDONED_SECONDS has lost its gateway: four heartbeats missed, well past a slow database's write.
HEARTBEAT_SECONDS = 10.0
ABANDONED_SECONDS = 4 * HEARTBEAT_SECONDS
_MOVE = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.turn_state == bindparam("before"))
    .values(turn_state=bindparam("after"), turn_state_at=bindparam("now"))
)


def move(session: Session, message_id: int, before: TurnState, after: TurnState) -> bool:
    """Move one turn from `before` to `after`; False when it was not in `before` (someone else moved it)."""
    values = {"message_id": message_id, "before": before.value, "after": after.value, "now": utcnow()}
    return session.execute(_MOVE, values, execution_options=_PLAIN).rowcount == 1


_EARLIER = aliased(Message)
_CLAIM = (
    update(Message)
    .where(
        Message.id == bindparam("message_id"),
        Message.turn_state == TurnState.RECEIVED.value,
        # In order: not while an earlier turn of the conversation is open. Two gateways that both re-drive
        # a conversation's turns at start-up would otherwise send its second turn while the first is at Rasa.
        ~exists().where(
            _EARLIER.conversation_id == Message.conversation_id,
            _EARLIER.seq < Message.seq,
            _EARLIER.turn_state.in_(OPEN_TURN_STATES),
        ),
    )
    .values(turn_state=TurnState.SENT_TO_RASA.value, turn_state_at=bindparam("now"))
)


def claim(session: Session, message_id: int) -> bool:
    """Claim a received turn for Rasa: True for the one writer that did. Refused while an earlier turn
    of the conversation is open: whoever has that one takes this one after it (the relay's queue)."""
    values = {"message_id": message_id, "now": utcnow()}
    return session.execute(_CLAIM, values, execution_options=_PLAIN).rowcount == 1


def waiting_behind(session: Session, message_id: int) -> bool:
    """After a refused claim: True when the turn is still `received`, so an earlier turn of its conversation
    is open (at another gateway) and this one is due after it; False when it was taken or settled."""
    state = session.execute(select(Message.turn_state).where(Message.id == message_id)).scalar_one_or_none()
    return state == TurnState.RECEIVED.value


def touch(session: Session, message_id: int) -> bool:
    """The gateway that has this turn at Rasa is alive: a heartbeat on turn_state_at."""
    return move(session, message_id, TurnState.SENT_TO_RASA, TurnState.SENT_TO_RASA)


def fail(session: Session, message_ids: Iterable[int]) -> list[int]:
    """Mark the turns failed that are not settled yet; the ids this writer moved."""
    moved = []
    for message_id in message_ids:
        for before in (TurnState.RECEIVED, TurnState.SENT_TO_RASA):
            if move(session, message_id, before, TurnState.FAILED):
                moved.append(message_id)
                break
    return moved


def fail_and_tell(
    session: Session, conversation_id: str, message_ids: Iterable[int], told: NewMessage
) -> list[Message]:
    """Mark the turns failed and store what the customer is told, in one transaction: told once, by
    whichever writer moved a turn, and only then. The stored message (none when no turn moved)."""
    if not fail(session, message_ids):
        return []
    return append_messages(session, conversation_id, [told])


def for_the_agent(session: Session, message_id: int) -> bool:
    """A person has the conversation: the turn is theirs, settled without Rasa."""
    return move(session, message_id, TurnState.SENT_TO_RASA, TurnState.ANSWERED)


@dataclass(frozen=True)
class OpenTurn:
    """A customer turn nobody is working on: for start-up recovery to re-drive or close."""

    message: Message
    conversation_language: str
    customer_id: str | None  # the conversation's verified customer (bot/store/conversations.py); None: a guest


def open_turns(session: Session, settled_before: datetime, abandoned_before: datetime) -> list[OpenTurn]:
    """Turns nobody is working on, in conversation and seq order:

    - `received` ones stored before `settled_before` (a live gateway claims its own within moments) in
      a conversation with no turn at Rasa that a live gateway may still be waiting on;
    - `sent_to_rasa` ones whose gateway's heartbeat stopped before `abandoned_before`: it died.
    """
    at_rasa = aliased(Message)
    still_waited_on = exists().where(
        at_rasa.conversation_id == Message.conversation_id,
        at_rasa.turn_state == TurnState.SENT_TO_RASA.value,
        at_rasa.turn_state_at >= abandoned_before,
    )
    received = (Message.turn_state == TurnState.RECEIVED.value) & (Message.created_at < settled_before)
    abandoned = (Message.turn_state == TurnState.SENT_TO_RASA.value) & (Message.turn_state_at < abandoned_before)
    query = (
        select(Message, Conversation.language, Conversation.customer_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where((received & ~still_waited_on) | abandoned)
        .order_by(Message.conversation_id, Message.seq)
    )
    return [OpenTurn(*row) for row in session.execute(query)]


def age(turn: OpenTurn, now: datetime | None = None) -> timedelta:
    """How long ago the customer sent it."""
    return (now or utcnow()) - as_utc(turn.message.created_at)
