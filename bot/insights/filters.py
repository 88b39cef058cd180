"""Which conversations a dashboard number is about: a period of UTC days, a language, a topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from bot.i18n import SUPPORTED_LANGUAGES

# The topics are the topic files of data/nlu (docs/intents.md): one intent belongs to one topic.
TOPICS: dict[str, tuple[str, ...]] = {
    "orders": ("order_status", "inform", "faq_cancellation"),
    "returns": ("start_return", "complaint", "faq_returns", "faq_complaints", "refund_status"),
    "loyalty": ("faq_loyalty", "check_points"),
    "faq": ("faq_shipping", "faq_payment", "faq_opening_hours", "faq_contact"),
    "handoff": ("request_human",),
    "smalltalk": ("greet", "goodbye", "thanks", "affirm", "deny", "chitchat", "out_of_scope"),
}
PERIODS = {"day": 1, "week": 7, "month": 30}  # the last N UTC days, today included
MAX_DAYS = 366  # a custom period longer than this is cut to its last MAX_DAYS days


@dataclass(frozen=True)
class InsightsFilter:
    """Conversations started (created_at) in [start, end), in `language` and about `topic` when given."""

    start: datetime
    end: datetime
    language: str | None = None
    topic: str | None = None

    @property
    def days(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(days=offset) for offset in range((self.end - self.start).days)]


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def for_days(first: date, last: date, language: str | None = None, topic: str | None = None) -> InsightsFilter:
    """The UTC days first..last, both included."""
    return InsightsFilter(utc_midnight(first), utc_midnight(last + timedelta(days=1)), language, topic)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def from_query(query: Any, today: date) -> tuple[InsightsFilter, str]:
    """The filter a dashboard URL asks for, and the period's name; anything unknown falls back politely.

    period: day | week | month | custom (with from and to, YYYY-MM-DD, both included); language: one of
    SUPPORTED_LANGUAGES; topic: one of TOPICS. A custom period with bad or reversed dates is the week.
    """
    language = query.get("language") if query.get("language") in SUPPORTED_LANGUAGES else None
    topic = query.get("topic") if query.get("topic") in TOPICS else None
    period = query.get("period") if query.get("period") in (*PERIODS, "custom") else "week"
    if period == "custom":
        first, last = _day(query.get("from")), _day(query.get("to"))
        if first is not None and last is not None and first <= last:
            first = max(first, last - timedelta(days=MAX_DAYS - 1))
            return for_days(first, last, language, topic), period
        period = "week"
    return for_days(today - timedelta(days=PERIODS[period] - 1), today, language, topic), period
