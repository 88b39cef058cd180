"""Every number of the insights dashboard, each from one query on the shop database (docs/metrics.md).

All metrics are about one set of conversations, `conversations(f)`: those started in the filter's
period (created_at, UTC), with at least one message, in its language and topic. Handoffs, tickets,
returns and turns are counted when they belong to such a conversation, whenever they happened.
Three scans answer the whole page (one each over conversations, handoff requests and customer turns):
with 200 000 conversations that is what keeps it under a second (`python -m bot bench --insights`).
The queries read the same on SQLite and PostgreSQL (bot/insights/sql.py has the two that differ);
percentiles are worked out here, in Python, over the selected durations, the same way on both.
About 330 lines on purpose: every definition of docs/metrics.md is here, beside the others it shares a
scan with, so a finance reader checks them in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from bot.insights.filters import TOPICS, InsightsFilter
from bot.insights.sql import seconds_between, utc_day
from bot.services.handoff import REASONS
from bot.store.conversations import Conversation, Message
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, ReturnRequest

EPOCH = date(1970, 1, 1)  # utc_day counts days from it
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
    """The ids of the conversations the filter is about (see _narrowed)."""
    return _narrowed(select(Conversation.id), f)


def _narrowed(query: Select, f: InsightsFilter) -> Select:
    """The query, on conversations started in the period with at least one message, in the filter's
    language and topic.

    last_seq > 0: at least one message. The widget opens a conversation on its hello, before anyone
    writes, and the bot never speaks first, so an empty one is a page that was opened and nothing more.
    The topic: a turn understood as one of its intents (only customer turns carry an intent).
    """
    query = query.where(Conversation.created_at >= f.start, Conversation.created_at < f.end, Conversation.last_seq > 0)
    if f.language:
        query = query.where(Conversation.language == f.language)
    if f.topic:
        query = query.where(
            Conversation.id.in_(select(Message.conversation_id).where(Message.intent.in_(TOPICS[f.topic])))
        )
    return query


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the metrics: three scans, of conversations, of handoff requests, and of customer turns ---------
def per_conversation(session: Session, f: InsightsFilter) -> tuple[list[Day], dict[int, int], int, int, int]:
    """Per UTC day: conversations, contained, handed over, ratings; the rating distribution; how many
    were asked for a rating; their tickets and their returns. One pass over the conversations, each
    joined to how many handoff requests, tickets and returns it has."""
    _tuned(session)
    handoffs = (
        select(HandoffRequest.conversation_id.label("cid"), func.count().label("n"))
        .group_by(HandoffRequest.conversation_id)
        .subquery()
    )
    tickets = select(Ticket.conversation_id.label("cid"), func.count().label("n")).group_by(Ticket.conversation_id)
    tickets = tickets.subquery()
    returns = (
        select(ReturnRequest.conversation_id.label("cid"), func.count().label("n"))
        .group_by(ReturnRequest.conversation_id)
        .subquery()
    )
    handed = handoffs.c.n.is_not(None)
    # Contained: no person was asked for (no handoff request of any kind, so no ticket either) and not rated 1-2.
    contained = and_(
        ~handed, tickets.c.n.is_(None), or_(Conversation.rating.is_(None), Conversation.rating > POOR_RATING)
    )
    day = utc_day(Conversation.created_at).label("day")
    query = _narrowed(
        select(
            day,
            Conversation.rating,
            func.count(Conversation.id),
            _count_if(contained),
            _count_if(handed),
            func.count(Conversation.rating_asked_at),
            func.coalesce(func.sum(tickets.c.n), 0),
            func.coalesce(func.sum(returns.c.n), 0),
        )
        .select_from(Conversation)
        .outerjoin(handoffs, handoffs.c.cid == Conversation.id)
        .outerjoin(tickets, tickets.c.cid == Conversation.id)
        .outerjoin(returns, returns.c.cid == Conversation.id),
        f,
    ).group_by(day, Conversation.rating)
    by_day: dict[int, list[int]] = {}
    distribution = dict.fromkeys(range(1, 6), 0)
    asked = ticket_count = return_count = 0
    for found_day, rating, count, kept, handed_over, asked_here, tickets_here, returns_here in session.execute(query):
        totals = by_day.setdefault(found_day, [0, 0, 0, 0, 0])
        rated = int(count) if rating is not None else 0
        for index, value in enumerate((count, kept, handed_over, rated, rated * (rating or 0))):
            totals[index] += int(value)
        if rating is not None:
            distribution[int(rating)] += int(count)
        asked += int(asked_here)
        ticket_count += int(tickets_here)
        return_count += int(returns_here)
    days = [Day(one, *by_day.get((one - EPOCH).days, (0, 0, 0, 0, 0))) for one in f.days]
    return days, distribution, asked, ticket_count, return_count


@dataclass(frozen=True)
class Turns:
    customer: int
    fallbacks: int
    low_confidence: int
    top_intents: list[tuple[str, int]]
    points_answered: int


def turns(session: Session, f: InsightsFilter, limit: int = TOP_INTENTS) -> Turns:
    """The customer turns, in one pass grouped by intent: how many, fallbacks, low confidence, the top
    intents (most frequent first, ties by name; no fallbacks), and check_points turns the bot answered
    (the next message of the conversation is the bot's)."""
    _tuned(session)
    following = aliased(Message)
    answered_next = (
        select(following.id)
        .where(
            following.conversation_id == Message.conversation_id,
            following.seq == Message.seq + 1,
            following.role == "bot",
        )
        .exists()
    )
    low = and_(Message.intent != FALLBACK_INTENT, Message.confidence < LOW_CONFIDENCE)
    query = (
        select(
            Message.intent,
            func.count(Message.id),
            _count_if(low),
            _count_if(and_(Message.intent == POINTS_INTENT, answered_next)),
        )
        .where(Message.role == "customer", Message.conversation_id.in_(conversations(f)))
        .group_by(Message.intent)
    )
    rows = [
        (intent, int(count), int(low_count), int(points)) for intent, count, low_count, points in session.execute(query)
    ]
    understood = sorted(
        ((intent, count) for intent, count, _, _ in rows if intent is not None and intent != FALLBACK_INTENT),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return Turns(
        customer=sum(row[1] for row in rows),
        fallbacks=sum(count for intent, count, _, _ in rows if intent == FALLBACK_INTENT),
        low_confidence=sum(row[2] for row in rows),
        top_intents=understood[:limit],
        points_answered=sum(row[3] for row in rows),
    )


def handoffs(session: Session, f: InsightsFilter) -> tuple[dict[str, int], Durations, Durations, Durations]:
    """The handoff requests of the set, in one pass: conversations per reason (one handed over for two
    reasons counts under both), and of the requests an agent claimed: queue wait, the agent's first
    response (their first message at or after the claim, before the request closed) and handle time."""
    _tuned(session)
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
    claimed = HandoffRequest.claimed_at.is_not(None)
    query = select(
        HandoffRequest.conversation_id,
        HandoffRequest.reason,
        seconds_between(HandoffRequest.created_at, HandoffRequest.claimed_at),
        case((claimed, seconds_between(HandoffRequest.claimed_at, first_agent_message)), else_=None),
        seconds_between(HandoffRequest.claimed_at, HandoffRequest.closed_at),
    ).where(HandoffRequest.conversation_id.in_(conversations(f)))
    rows = session.execute(query).all()
    by_reason: dict[str, set[str]] = {reason: set() for reason in REASONS}
    for row in rows:
        by_reason.setdefault(row[1], set()).add(row[0])
    reasons = {reason: len(by_reason[reason]) for reason in REASONS}
    waits, firsts, handles = (durations([row[column] for row in rows]) for column in (2, 3, 4))
    return reasons, waits, firsts, handles


def _tuned(session: Session) -> None:
    """PostgreSQL, for this transaction only: no JIT (these scans cost enough for PostgreSQL to compile
    them, 0.6 s each, more than the scan itself), and room to hash the period's conversations in memory."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '32MB'"))


# The three scans; independent, so the console runs them side by side, each in a transaction of its own.
PARTS = (per_conversation, turns, handoffs)


def assemble(f: InsightsFilter, parts: list[Any]) -> Insights:
    """The dashboard's numbers from the results of PARTS, in that order."""
    (days, distribution, asked, tickets, returns), customer_turns, (reasons, wait, first, handle) = parts
    return Insights(
        filter=f,
        daily=days,
        handoffs_by_reason=reasons,
        tickets=tickets,
        csat=Csat(asked, distribution),
        customer_turns=customer_turns.customer,
        fallback_turns=customer_turns.fallbacks,
        low_confidence_turns=customer_turns.low_confidence,
        top_intents=customer_turns.top_intents,
        queue_wait=wait,
        first_response=first,
        handle_time=handle,
        returns_registered=returns,
        points_answered=customer_turns.points_answered,
    )


def insights(session: Session, f: InsightsFilter) -> Insights:
    """Every number of the dashboard for the filter: the three scans, one after the other, in one transaction."""
    return assemble(f, [part(session, f) for part in PARTS])
