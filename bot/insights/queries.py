"""Every number of the insights dashboard, each from one query on the shop database (docs/metrics.md).

All metrics are about one set of conversations, `conversations(f)`: those started in the filter's
period (created_at, UTC), with at least one message, in its language and topic. Handoffs, tickets,
returns and turns are counted when they belong to such a conversation, whenever they happened.
The queries read the same on SQLite and PostgreSQL (bot/insights/sql.py has the two that differ);
percentiles are worked out here, in Python, over the selected durations, the same way on both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from bot.insights.filters import TOPICS, InsightsFilter
from bot.insights.sql import seconds_between, utc_day
from bot.services.handoff import REASONS
from bot.store.conversations import Conversation, Message
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, ReturnRequest

FALLBACK_INTENT = "nlu_fallback"
# Understood, but barely: above the fallback threshold (0.5, config.yml) and below this.
LOW_CONFIDENCE = 0.7
POOR_RATING = 2  # a rating of 1 or 2 is poor: the conversation is not "contained"
POINTS_INTENT = "check_points"
TOP_INTENTS = 10


@dataclass(frozen=True)
class Durations:
    """How many durations were measured, and their median and 90th percentile in seconds (None if none)."""

    count: int
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class Csat:
    asked: int  # conversations asked for a rating
    distribution: dict[int, int]  # rating 1..5 -> conversations

    @property
    def answered(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        if not self.answered:
            return None
        return sum(rating * count for rating, count in self.distribution.items()) / self.answered


@dataclass(frozen=True)
class Day:
    day: date
    conversations: int
    contained: int
    handed_over: int
    rated: int
    rating_sum: int

    @property
    def csat(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


@dataclass(frozen=True)
class Insights:
    filter: InsightsFilter
    daily: list[Day]  # every day of the period, in order, days without conversations as zeros
    handoffs_by_reason: dict[str, int]  # reason -> conversations handed over at least once for it
    tickets: int
    csat: Csat
    customer_turns: int
    fallback_turns: int
    low_confidence_turns: int
    top_intents: list[tuple[str, int]]
    queue_wait: Durations
    first_response: Durations
    handle_time: Durations
    returns_registered: int
    points_answered: int

    @property
    def conversations(self) -> int:
        return sum(day.conversations for day in self.daily)

    @property
    def contained(self) -> int:
        return sum(day.contained for day in self.daily)

    @property
    def handed_over(self) -> int:
        return sum(day.handed_over for day in self.daily)

    @property
    def misunderstood_turns(self) -> int:
        return self.fallback_turns + self.low_confidence_turns

    @property
    def containment(self) -> float | None:
        return self.contained / self.conversations if self.conversations else None


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont); `ordered` is sorted."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def durations(values: list[float | None]) -> Durations:
    ordered = sorted(value for value in values if value is not None)
    return Durations(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9))


# --- the set of conversations -------------------------------------------------------------------
def conversations(f: InsightsFilter) -> Select:
    """The ids of the conversations the filter is about.

    last_seq > 0: at least one message. The widget opens a conversation on its hello, before anyone
    writes, and the bot never speaks first, so an empty one is a page that was opened and nothing more.
    """
    query = select(Conversation.id).where(
        Conversation.created_at >= f.start, Conversation.created_at < f.end, Conversation.last_seq > 0
    )
    return _narrowed(query, f)


def _narrowed(query: Select, f: InsightsFilter) -> Select:
    if f.language:
        query = query.where(Conversation.language == f.language)
    if f.topic:
        query = query.where(
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.role == "customer",
                Message.intent.in_(TOPICS[f.topic]),
            )
        )
    return query


_HANDED_OVER = exists().where(HandoffRequest.conversation_id == Conversation.id)
_TICKET = exists().where(Ticket.conversation_id == Conversation.id)
# Contained: no person was asked for (no handoff request of any kind, so no ticket either) and not rated 1-2.
CONTAINED = and_(~_HANDED_OVER, ~_TICKET, or_(Conversation.rating.is_(None), Conversation.rating > POOR_RATING))


def _count_if(condition) -> object:  # type: ignore[no-untyped-def]
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the metrics -----------------------------------------------------------------------------------
def daily(session: Session, f: InsightsFilter) -> tuple[list[Day], int]:
    """Per UTC day: conversations, contained, handed over, ratings; and how many were asked for a rating."""
    day = utc_day(Conversation.created_at).label("day")
    query = _narrowed(
        select(
            day,
            func.count(Conversation.id),
            _count_if(CONTAINED),
            _count_if(_HANDED_OVER),
            func.count(Conversation.rating),
            func.coalesce(func.sum(Conversation.rating), 0),
            func.count(Conversation.rating_asked_at),
        ).where(Conversation.created_at >= f.start, Conversation.created_at < f.end, Conversation.last_seq > 0),
        f,
    ).group_by(day)
    found = {row[0]: row[1:] for row in session.execute(query)}
    days, asked = [], 0
    for one in f.days:
        counts = found.get(one.isoformat(), (0, 0, 0, 0, 0, 0))
        days.append(Day(one, *(int(value) for value in counts[:5])))
        asked += int(counts[5])
    return days, asked


def ratings(session: Session, f: InsightsFilter) -> dict[int, int]:
    query = (
        select(Conversation.rating, func.count())
        .where(Conversation.id.in_(conversations(f)), Conversation.rating.is_not(None))
        .group_by(Conversation.rating)
    )
    found = dict(session.execute(query).all())
    return {rating: int(found.get(rating, 0)) for rating in range(1, 6)}


def handoffs_by_reason(session: Session, f: InsightsFilter) -> dict[str, int]:
    """Conversations with at least one handoff request for each reason (one may count under two)."""
    query = (
        select(HandoffRequest.reason, func.count(HandoffRequest.conversation_id.distinct()))
        .where(HandoffRequest.conversation_id.in_(conversations(f)))
        .group_by(HandoffRequest.reason)
    )
    found = dict(session.execute(query).all())
    return {reason: int(found.get(reason, 0)) for reason in REASONS}


def tickets_and_returns(session: Session, f: InsightsFilter) -> tuple[int, int]:
    ids = conversations(f)
    tickets = select(func.count(Ticket.id)).where(Ticket.conversation_id.in_(ids)).scalar_subquery()
    returns = select(func.count(ReturnRequest.rma)).where(ReturnRequest.conversation_id.in_(ids)).scalar_subquery()
    found = session.execute(select(tickets, returns)).one()
    return int(found[0]), int(found[1])


def turns(session: Session, f: InsightsFilter) -> tuple[int, int, int]:
    """Customer turns: all, fallbacks, and understood with low confidence."""
    low = and_(Message.intent != FALLBACK_INTENT, Message.confidence < LOW_CONFIDENCE)
    query = select(func.count(Message.id), _count_if(Message.intent == FALLBACK_INTENT), _count_if(low)).where(
        Message.role == "customer", Message.conversation_id.in_(conversations(f))
    )
    found = session.execute(query).one()
    return int(found[0]), int(found[1]), int(found[2])


def top_intents(session: Session, f: InsightsFilter, limit: int = TOP_INTENTS) -> list[tuple[str, int]]:
    """The intents customer turns were understood as, most frequent first (ties by name); no fallbacks."""
    count = func.count(Message.id).label("turns")
    query = (
        select(Message.intent, count)
        .where(
            Message.role == "customer",
            Message.intent.is_not(None),
            Message.intent != FALLBACK_INTENT,
            Message.conversation_id.in_(conversations(f)),
        )
        .group_by(Message.intent)
        .order_by(count.desc(), Message.intent)
        .limit(limit)
    )
    return [(intent, int(turns)) for intent, turns in session.execute(query)]


def points_answered(session: Session, f: InsightsFilter) -> int:
    """Customer turns understood as check_points that the bot answered (the next message is the bot's)."""
    following = aliased(Message)
    query = (
        select(func.count(Message.id))
        .join(
            following,
            and_(
                following.conversation_id == Message.conversation_id,
                following.seq == Message.seq + 1,
                following.role == "bot",
            ),
        )
        .where(
            Message.role == "customer",
            Message.intent == POINTS_INTENT,
            Message.conversation_id.in_(conversations(f)),
        )
    )
    return int(session.execute(query).scalar_one())


def desk_times(session: Session, f: InsightsFilter) -> tuple[Durations, Durations, Durations]:
    """Of the handoff requests an agent claimed: queue wait, agent's first response, and handle time."""
    first_agent_message = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == HandoffRequest.conversation_id,
            Message.role == "agent",
            Message.created_at >= HandoffRequest.claimed_at,
            or_(HandoffRequest.closed_at.is_(None), Message.created_at <= HandoffRequest.closed_at),
        )
        .scalar_subquery()
    )
    query = select(
        seconds_between(HandoffRequest.created_at, HandoffRequest.claimed_at),
        seconds_between(HandoffRequest.claimed_at, first_agent_message),
        seconds_between(HandoffRequest.claimed_at, HandoffRequest.closed_at),
    ).where(HandoffRequest.claimed_at.is_not(None), HandoffRequest.conversation_id.in_(conversations(f)))
    rows = session.execute(query).all()
    return tuple(durations([row[column] for row in rows]) for column in range(3))  # type: ignore[return-value]


def insights(session: Session, f: InsightsFilter) -> Insights:
    """Every number of the dashboard for the filter (about ten queries, read in one transaction)."""
    days, asked = daily(session, f)
    tickets, returns = tickets_and_returns(session, f)
    all_turns, fallbacks, low = turns(session, f)
    queue_wait, first_response, handle_time = desk_times(session, f)
    return Insights(
        filter=f,
        daily=days,
        handoffs_by_reason=handoffs_by_reason(session, f),
        tickets=tickets,
        csat=Csat(asked, ratings(session, f)),
        customer_turns=all_turns,
        fallback_turns=fallbacks,
        low_confidence_turns=low,
        top_intents=top_intents(session, f),
        queue_wait=queue_wait,
        first_response=first_response,
        handle_time=handle_time,
        returns_registered=returns,
        points_answered=points_answered(session, f),
    )
