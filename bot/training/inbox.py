"""The trainer inbox: customer messages that went wrong, masked, grouped, newest and most frequent first.

A customer message is in the inbox for one or more reasons:
    low_confidence  NLU's confidence was below the threshold (BOT_INBOX_LOW_CONFIDENCE, default 0.5)
    fallback        NLU fell back (nlu_fallback)
    rephrased       a fallback the customer then said again in words the bot understood
    handoff         the last thing the customer wrote before the bot handed them to a person
    rated_low       the conversation was rated 1 or 2
Messages a trainer has decided (an intent, or "ignore") leave it. Personal data is masked here, on
the server, before any page or command shows a message (bot/training/masking.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import get_settings
from bot.store.conversations import Conversation, InboxDecision, Message, MessageRole
from bot.store.models import Customer, HandoffRequest, as_utc
from bot.training.masking import mask_personal_data

REASONS = ("low_confidence", "fallback", "rephrased", "handoff", "rated_low")
FALLBACK_INTENT = "nlu_fallback"
IGNORE = "ignore"
# A miss followed by one of these is not a rephrasing: "thanks", "no", "hi" say nothing about what was meant.
NOT_A_REPHRASING = ("thanks", "goodbye", "greet", "affirm", "deny", "chitchat", "out_of_scope")


def low_confidence_threshold() -> float:
    return get_settings().inbox_low_confidence


@dataclass(frozen=True)
class InboxFilter:
    language: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class InboxMessage:
    message_id: int
    conversation_id: str
    language: str
    text: str  # masked
    intent: str | None
    confidence: float | None
    reasons: tuple[str, ...]
    created_at: datetime
    understood_as: str | None = None  # for "rephrased": what the customer's next wording was understood as


@dataclass
class InboxGroup:
    """Similar messages (same normalised masked text and language); `id` is the newest one's message id."""

    key: str
    language: str
    messages: list[InboxMessage] = field(default_factory=list)

    @property
    def newest(self) -> InboxMessage:
        return self.messages[0]

    @property
    def id(self) -> int:
        return self.newest.message_id

    @property
    def text(self) -> str:
        return self.newest.text

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def reasons(self) -> tuple[str, ...]:
        found = {reason for message in self.messages for reason in message.reasons}
        return tuple(reason for reason in REASONS if reason in found)

    @property
    def message_ids(self) -> list[int]:
        return [message.message_id for message in self.messages]


def group_key(text: str) -> str:
    """Similar wordings meet: lower case, single spaces, digits masked, trailing punctuation dropped."""
    key = re.sub(r"\d", "#", text.lower())
    key = re.sub(r"\s+", " ", key).strip()
    return key.rstrip(" .!?,;:")


def _misunderstood(message: Message, threshold: float) -> bool:
    return message.intent == FALLBACK_INTENT or (message.confidence is not None and message.confidence < threshold)


def _reasons(
    message: Message, following: Message | None, rating: int | None, handed_over: bool, threshold: float
) -> tuple[list[str], str | None]:
    reasons: list[str] = []
    understood_as = None
    if message.intent == FALLBACK_INTENT:
        reasons.append("fallback")
    elif message.confidence is not None and message.confidence < threshold:
        reasons.append("low_confidence")
    rephrased = following is not None and following.intent not in (None, *NOT_A_REPHRASING)
    if reasons and following is not None and rephrased and not _misunderstood(following, threshold):
        reasons.append("rephrased")
        understood_as = following.intent
    if handed_over:
        reasons.append("handoff")
    if rating is not None and rating <= 2:
        reasons.append("rated_low")
    return reasons, understood_as


def _handoff_message_ids(session: Session, messages: list[Message]) -> set[int]:
    """For each handoff, the customer's last message at or before it in that conversation."""
    conversation_ids = {message.conversation_id for message in messages}
    if not conversation_ids:
        return set()
    handoffs = session.execute(
        select(HandoffRequest.conversation_id, HandoffRequest.created_at).where(
            HandoffRequest.conversation_id.in_(conversation_ids)
        )
    ).all()
    found: set[int] = set()
    for conversation_id, at in handoffs:
        before = [m for m in messages if m.conversation_id == conversation_id and as_utc(m.created_at) <= as_utc(at)]
        if before:
            found.add(max(before, key=lambda m: m.seq).id)
    return found


def inbox_messages(session: Session, filters: InboxFilter = InboxFilter()) -> list[InboxMessage]:
    """Every undecided customer message that went wrong, masked, newest first."""
    threshold = low_confidence_threshold()
    decided = select(InboxDecision.message_id)
    query = (
        select(Message, Conversation.rating, Conversation.customer_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.role == MessageRole.CUSTOMER, Message.payload.is_(None), Message.id.not_in(decided))
        .order_by(Message.conversation_id, Message.seq)
    )
    if filters.since is not None:
        query = query.where(Message.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Message.created_at < filters.until)
    rows = session.execute(query).all()
    messages = [row[0] for row in rows]
    handed_over = _handoff_message_ids(session, messages)
    names = _customer_names(session, {row[2] for row in rows if row[2]})
    found: list[InboxMessage] = []
    for index, (message, rating, customer_id) in enumerate(rows):
        following = messages[index + 1] if index + 1 < len(messages) else None
        if following is not None and following.conversation_id != message.conversation_id:
            following = None
        reasons, understood_as = _reasons(message, following, rating, message.id in handed_over, threshold)
        language = message.language or "nb"
        if not reasons or (filters.reason and filters.reason not in reasons):
            continue
        if filters.language and language != filters.language:
            continue
        found.append(
            InboxMessage(
                message_id=message.id,
                conversation_id=message.conversation_id,
                language=language,
                text=mask_personal_data(message.text, names.get(customer_id, ()) if customer_id else ()),
                intent=message.intent,
                confidence=message.confidence,
                reasons=tuple(reasons),
                created_at=as_utc(message.created_at),
                understood_as=understood_as,
            )
        )
    found.sort(key=lambda m: (m.created_at, m.message_id), reverse=True)
    return found


def _customer_names(session: Session, customer_ids: set[str]) -> dict[str, tuple[str, ...]]:
    if not customer_ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all()
    return {customer_id: (name,) for customer_id, name in rows}


def inbox_groups(session: Session, filters: InboxFilter = InboxFilter()) -> list[InboxGroup]:
    """The inbox, grouped: newest first, and of groups as new as each other the most frequent first."""
    groups: dict[tuple[str, str], InboxGroup] = {}
    for message in inbox_messages(session, filters):
        key = (message.language, group_key(message.text))
        groups.setdefault(key, InboxGroup(key=key[1], language=message.language)).messages.append(message)
    # Newest by the day, then most frequent, then newest within the day.
    return sorted(
        groups.values(),
        key=lambda g: (g.newest.created_at.date(), g.count, g.newest.created_at),
        reverse=True,
    )


def find_group(session: Session, message_id: int) -> InboxGroup | None:
    """The inbox group a message is in (any message of it), or None when it is decided or not in the inbox."""
    for group in inbox_groups(session):
        if message_id in group.message_ids:
            return group
    return None


def record_decision(session: Session, message_ids: list[int], decision: str, by: str, example: str | None) -> None:
    for message_id in message_ids:
        if session.get(InboxDecision, message_id) is None:
            session.add(InboxDecision(message_id=message_id, decision=decision, decided_by=by, example=example))
