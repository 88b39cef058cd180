"""A member's points: balance, worth, tier, distance to the next tier, points expiring soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from bot.shop import next_tier, points_value_nok, tier_threshold
from bot.store.queries import get_loyalty

EXPIRY_HORIZON_DAYS = 90  # "soon": what a member can still act on


@dataclass
class PointsSummary:
    points: int
    value_nok: float
    tier: str
    next_tier: str | None
    points_to_next_tier: int
    expiring_points: int
    expiring_on: date | None


def points_summary(session: Session, customer_id: str, today: date | None = None) -> PointsSummary | None:
    today = today or date.today()
    account = get_loyalty(session, customer_id)
    if account is None:
        return None
    upcoming = next_tier(account.tier)
    soon = [
        tx
        for tx in account.transactions
        if tx.points > 0 and tx.expires_on and today <= tx.expires_on <= today + timedelta(days=EXPIRY_HORIZON_DAYS)
    ]
    first_expiry = min((tx.expires_on for tx in soon), default=None)
    return PointsSummary(
        points=account.points,
        value_nok=points_value_nok(account.points),
        tier=account.tier,
        next_tier=upcoming,
        points_to_next_tier=max(0, tier_threshold(upcoming) - account.earned_last_12_months) if upcoming else 0,
        expiring_points=sum(tx.points for tx in soon if tx.expires_on == first_expiry),
        expiring_on=first_expiry,
    )
