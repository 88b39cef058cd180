"""The insights numbers on a small history counted by hand (tests/store/insights_history.py), on SQLite
and on PostgreSQL: every metric, for each period, language and topic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.insights.filters import from_query
from bot.insights.queries import Insights, insights, percentile
from bot.store.db import create_schema, get_engine, session_scope
from bot.store.postgres_admin import scratch_database
from tests.conftest import POSTGRES_URL
from tests.store.insights_history import add_history

TODAY = date(2026, 3, 3)  # the Tuesday


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hand-counted history in an empty database of its own (on PostgreSQL a new one, dropped after)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('insights') / 'shop.db'}"
        create_schema(url)
        with session_scope(url) as session:
            add_history(session)
        yield url
        get_engine(url).dispose()
        return
    with scratch_database("varde_insights", POSTGRES_URL) as url:
        create_schema(url)
        with session_scope(url) as session:
            add_history(session)
        yield url


def numbers(url: str, **query: str) -> Insights:
    f, _ = from_query(query, TODAY)
    with session_scope(url) as session:
        return insights(session, f)


def summary(found: Insights) -> dict[str, Any]:
    def rounded(durations: Any) -> tuple[int, float | None, float | None]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return durations.count, r(durations.p50), r(durations.p90)

    return {
        "conversations": found.conversations,
        "contained": found.contained,
        "handed_over": found.handed_over,
        "by_reason": found.handoffs_by_reason,
        "tickets": found.tickets,
        "csat": (found.csat.asked, found.csat.answered, found.csat.average, found.csat.distribution),
        "turns": (found.customer_turns, found.fallback_turns, found.low_confidence_turns, found.misunderstood_turns),
        "top_intents": found.top_intents,
        "queue_wait": rounded(found.queue_wait),
        "first_response": rounded(found.first_response),
        "handle_time": rounded(found.handle_time),
        "returns": found.returns_registered,
        "points_answered": found.points_answered,
    }


def reasons(requested: int = 0, misunderstood: int = 0, complaint: int = 0, frustration: int = 0) -> dict:
    return {"requested": requested, "misunderstood": misunderstood, "complaint": complaint, "frustration": frustration}


def ratings(*given: int) -> dict[int, int]:
    return {rating: given.count(rating) for rating in range(1, 6)}


NONE = (0, None, None)

# Every metric of each filter, counted by hand from the table in insights_history.py.
EXPECTED: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "week": (
        {"period": "week"},
        {
            "conversations": 8, "contained": 3, "handed_over": 4,
            "by_reason": reasons(requested=2, misunderstood=1, complaint=1, frustration=1), "tickets": 1,
            "csat": (5, 4, 3.0, ratings(5, 2, 4, 1)), "turns": (15, 2, 2, 4),
            "top_intents": [("order_status", 3), ("check_points", 2), ("greet", 2), ("inform", 2), ("complaint", 1),
                            ("goodbye", 1), ("request_human", 1), ("start_return", 1)],
            "queue_wait": (4, 45.0, 81.0), "first_response": (3, 20.0, 52.0), "handle_time": (3, 300.0, 588.0),
            "returns": 1, "points_answered": 1,
        },
    ),
    "day": (
        {"period": "day"},
        {
            "conversations": 4, "contained": 0, "handed_over": 3,
            "by_reason": reasons(requested=2, complaint=1, frustration=1), "tickets": 1,
            "csat": (2, 2, 2.5, ratings(4, 1)), "turns": (7, 0, 1, 1),
            "top_intents": [("order_status", 3), ("check_points", 1), ("complaint", 1), ("inform", 1),
                            ("request_human", 1)],
            "queue_wait": (3, 60.0, 84.0), "first_response": (2, 35.0, 55.0), "handle_time": (2, 480.0, 624.0),
            "returns": 0, "points_answered": 0,
        },
    ),
    "march": (
        {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"},
        {
            "conversations": 9, "contained": 4, "handed_over": 4,
            "by_reason": reasons(requested=2, misunderstood=1, complaint=1, frustration=1), "tickets": 1,
            "csat": (5, 4, 3.0, ratings(5, 2, 4, 1)), "turns": (16, 2, 2, 4),
            "top_intents": [("greet", 3), ("order_status", 3), ("check_points", 2), ("inform", 2), ("complaint", 1),
                            ("goodbye", 1), ("request_human", 1), ("start_return", 1)],
            "queue_wait": (4, 45.0, 81.0), "first_response": (3, 20.0, 52.0), "handle_time": (3, 300.0, 588.0),
            "returns": 1, "points_answered": 1,
        },
    ),
    "nb": (
        {"period": "week", "language": "nb"},
        {
            "conversations": 5, "contained": 3, "handed_over": 1,
            "by_reason": reasons(requested=1, frustration=1), "tickets": 0,
            "csat": (3, 2, 3.0, ratings(5, 1)), "turns": (10, 0, 2, 2),
            "top_intents": [("order_status", 3), ("check_points", 2), ("greet", 2), ("goodbye", 1), ("inform", 1),
                            ("start_return", 1)],
            "queue_wait": (2, 40.0, 56.0), "first_response": (1, 10.0, 10.0), "handle_time": (1, 300.0, 300.0),
            "returns": 1, "points_answered": 1,
        },
    ),
    "sv": (
        {"period": "week", "language": "sv"},
        {
            "conversations": 1, "contained": 0, "handed_over": 1, "by_reason": reasons(misunderstood=1),
            "tickets": 0, "csat": (1, 1, 2.0, ratings(2)), "turns": (2, 2, 0, 2), "top_intents": [],
            "queue_wait": (1, 30.0, 30.0), "first_response": (1, 20.0, 20.0), "handle_time": (1, 300.0, 300.0),
            "returns": 0, "points_answered": 0,
        },
    ),
    "en": (
        {"period": "week", "language": "en"},
        {
            "conversations": 1, "contained": 0, "handed_over": 1, "by_reason": reasons(requested=1),
            "tickets": 0, "csat": (1, 1, 4.0, ratings(4)), "turns": (1, 0, 0, 0),
            "top_intents": [("request_human", 1)],
            "queue_wait": (1, 90.0, 90.0), "first_response": (1, 60.0, 60.0), "handle_time": (1, 660.0, 660.0),
            "returns": 0, "points_answered": 0,
        },
    ),
    "da": (
        {"period": "week", "language": "da"},
        {
            "conversations": 1, "contained": 0, "handed_over": 1, "by_reason": reasons(complaint=1),
            "tickets": 1, "csat": (0, 0, None, ratings()), "turns": (2, 0, 0, 0),
            "top_intents": [("complaint", 1), ("inform", 1)],
            "queue_wait": NONE, "first_response": NONE, "handle_time": NONE, "returns": 0, "points_answered": 0,
        },
    ),
    "returns": (
        {"period": "week", "topic": "returns"},
        {
            "conversations": 2, "contained": 1, "handed_over": 1, "by_reason": reasons(complaint=1),
            "tickets": 1, "csat": (0, 0, None, ratings()), "turns": (4, 0, 1, 1),
            "top_intents": [("inform", 2), ("complaint", 1), ("start_return", 1)],
            "queue_wait": NONE, "first_response": NONE, "handle_time": NONE, "returns": 1, "points_answered": 0,
        },
    ),
    "loyalty": (
        {"period": "week", "topic": "loyalty"},
        {
            "conversations": 2, "contained": 1, "handed_over": 0, "by_reason": reasons(), "tickets": 0,
            "csat": (2, 2, 3.0, ratings(5, 1)), "turns": (4, 0, 1, 1),
            "top_intents": [("check_points", 2), ("greet", 1), ("order_status", 1)],
            "queue_wait": NONE, "first_response": NONE, "handle_time": NONE, "returns": 0, "points_answered": 1,
        },
    ),
    "orders, nb": (
        {"period": "week", "topic": "orders", "language": "nb"},
        {
            "conversations": 3, "contained": 1, "handed_over": 1,
            "by_reason": reasons(requested=1, frustration=1), "tickets": 0,
            "csat": (1, 1, 1.0, ratings(1)), "turns": (6, 0, 2, 2),
            "top_intents": [("order_status", 3), ("check_points", 1), ("inform", 1), ("start_return", 1)],
            "queue_wait": (2, 40.0, 56.0), "first_response": (1, 10.0, 10.0), "handle_time": (1, 300.0, 300.0),
            "returns": 1, "points_answered": 0,
        },
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_metric_in_every_filter(history: str, name: str) -> None:
    query, expected = EXPECTED[name]
    assert summary(numbers(history, **query)) == expected


@pytest.mark.parametrize(
    ("topic", "conversations", "contained"),
    [("orders", 4, 1), ("faq", 0, 0), ("handoff", 1, 0), ("smalltalk", 2, 2)],
)
def test_other_topics(history: str, topic: str, conversations: int, contained: int) -> None:
    found = numbers(history, period="week", topic=topic)
    assert (found.conversations, found.contained) == (conversations, contained)


def test_the_daily_series_has_every_day_of_the_period(history: str) -> None:
    found = numbers(history, period="week")
    assert found.daily[0].day == date(2026, 2, 25)
    assert len(found.daily) == 7 and all(day.conversations == 0 for day in found.daily[:5])
    monday, tuesday = found.daily[5], found.daily[6]
    # G started at 23:30 UTC on Monday: it is Monday's, though it was past midnight in Oslo.
    assert (monday.conversations, monday.contained, monday.handed_over, monday.rated, monday.csat) == (4, 3, 1, 2, 3.5)
    assert (tuesday.conversations, tuesday.contained, tuesday.handed_over, tuesday.rated, tuesday.csat) == (
        4, 0, 3, 2, 2.5,
    )  # fmt: skip
    assert found.containment == 3 / 8


def test_bad_filters_fall_back_politely(history: str) -> None:
    week = summary(numbers(history, period="week"))
    assert summary(numbers(history, period="year", language="xx", topic="<script>")) == week
    assert summary(numbers(history, period="custom", **{"from": "2026-03-09", "to": "2026-03-01"})) == week
    assert summary(numbers(history, period="custom", **{"from": "nonsense", "to": "2026-13-45"})) == week


def test_percentile_is_percentile_cont() -> None:
    assert percentile([10, 20, 30, 40], 0.5) == 25
    assert percentile([20, 30, 60, 90], 0.9) == pytest.approx(81)
    assert percentile([7], 0.9) == 7 and percentile([], 0.5) is None
