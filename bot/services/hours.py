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


def _hours_on(day: datetime) -> tuple[time, time] | None:
    """That day's opening and closing time, or None when closed all day."""
    return _span(policies()["customer_service_hours"][_DAY_KEYS[day.weekday()]])


def _at(day: datetime, moment: time) -> datetime:
    return day.replace(hour=moment.hour, minute=moment.minute, second=0, microsecond=0)


def is_open(now: datetime | None = None) -> bool:
    return closing_today(now) is not None


def closing_today(now: datetime | None = None) -> datetime | None:
    """When people stop for the day, if they are at work now; else None."""
    moment = local_now(now)
    span = _hours_on(moment)
    if span is None or not span[0] <= moment.time() < span[1]:
        return None
    return _at(moment, span[1])


def next_opening(now: datetime | None = None) -> datetime:
    """When people are next at work (now, if open)."""
    moment = local_now(now)
    if is_open(moment):
        return moment
    for offset in range(8):
        day = moment + timedelta(days=offset)
        span = _hours_on(day)
        if span is None:
            continue
        opening = _at(day, span[0])
        if opening > moment:
            return opening
    raise RuntimeError("customer_service_hours has no opening in a week")
