"""The generated demo history (`python -m bot seed --history 90`): deterministic, consistent, replaceable,
and something for every number of the dashboard to show."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bot.insights.filters import for_days
from bot.insights.queries import insights
from bot.store.conversations import Conversation, Message
from bot.store.db import get_engine, session_scope
from bot.store.history import generate_history
from bot.store.models import HandoffRequest, as_utc
from bot.store.seed import seed_demo

TODAY = date(2026, 3, 3)


def rows(url: str) -> list[tuple]:
    with session_scope(url) as session:
        return session.execute(
            select(Message.conversation_id, Message.seq, Message.role, Message.intent, Message.confidence,
                   Message.created_at).order_by(Message.conversation_id, Message.seq)
        ).all()  # fmt: skip


def test_the_history_is_the_same_each_time_and_replaces_itself(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    for url in (first, second):
        seed_demo(url, TODAY)
        counts = generate_history(url, days=14, conversations=400, today=TODAY)
    assert rows(first) == rows(second)
    again = generate_history(first, days=14, conversations=400, today=TODAY)  # replaced, not added
    assert again == counts and counts["conversations"] == 400
    with session_scope(first) as session:
        assert session.scalar(select(func.count(Conversation.id))) == 400
        # Seqs run 1..last_seq in every conversation, and a claim comes after its request.
        for last_seq, count, top in session.execute(
            select(Conversation.last_seq, func.count(Message.id), func.max(Message.seq))
            .join(Message, Message.conversation_id == Conversation.id)
            .group_by(Conversation.id, Conversation.last_seq)
        ):
            assert last_seq == count == top
        for created, claimed, closed in session.execute(
            select(HandoffRequest.created_at, HandoffRequest.claimed_at, HandoffRequest.closed_at).where(
                HandoffRequest.claimed_at.is_not(None)
            )
        ):
            assert as_utc(created) < as_utc(claimed) < as_utc(closed)
    for url in (first, second):
        get_engine(url).dispose()


def test_every_number_of_the_dashboard_has_something_to_show(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_demo(url, TODAY)
    generate_history(url, days=30, conversations=1500, today=TODAY)
    with session_scope(url) as session:
        found = insights(session, for_days(date(2026, 2, 2), TODAY))
    assert found.conversations == 1500 and 0.6 < found.containment < 0.95
    assert all(found.handoffs_by_reason.values()) and found.tickets > 0 and found.returns_registered > 0
    assert found.csat.answered > 0 and all(found.csat.distribution.values())
    assert found.fallback_turns > 0 and found.low_confidence_turns > 0 and found.points_answered > 0
    assert found.queue_wait.count == found.first_response.count == found.handle_time.count > 0
    assert 20 < found.queue_wait.p50 < found.queue_wait.p90 < 1800
    assert all(day.conversations > 0 for day in found.daily)
    get_engine(url).dispose()
