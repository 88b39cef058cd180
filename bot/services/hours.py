"""Customer-service opening hours (people; the assistant answers around the clock)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.shop import policies, shop_info

_DAY_KEYS = ("mon_fri",) * 5 + ("sat", "sun")


def _span(value: str) -> tuple[time, time] | None:
    if "-" not in value:
        return None  # "closed"
    start, end = value.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def parse_clock(value: object) -> datetime | None:
    """A fixed "now" for development and tests (setting BOT_CLOCK): ISO 8601 with its offset, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def local_now(now: datetime | None = None) -> datetime:
    zone = ZoneInfo(shop_info()["timezone"])
    return (now or datetime.now(tz=zone)).astimezone(zone)


def is_open(now: datetime | None = None) -> bool:
    moment = local_now(now)
    span = _span(policies()["customer_service_hours"][_DAY_KEYS[moment.weekday()]])
    return span is not None and span[0] <= moment.time() < span[1]


def closing_today(now: datetime | None = None) -> datetime | None:
    """When people stop for the day, if they are at work now; else None."""
    moment = local_now(now)
    if not is_open(moment):
        return None
    span = _span(policies()["customer_service_hours"][_DAY_KEYS[moment.weekday()]])
    assert span is not None  # open now: today has hours
    return moment.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)


def next_opening(now: datetime | None = None) -> datetime:
    """When people are next at work (now, if open)."""
    moment = local_now(now)
    if is_open(moment):
        return moment
    for offset in range(8):
        day = moment + timedelta(days=offset)
        span = _span(policies()["customer_service_hours"][_DAY_KEYS[day.weekday()]])
        if span is None:
            continue
        opening = day.replace(hour=span[0].hour, minute=span[0].minute, second=0, microsecond=0)
        if opening > moment:
            return opening
    raise RuntimeError("customer_service_hours has no opening in a week")
