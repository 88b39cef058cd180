"""Demo seeding: shop.yml into the database, with dates relative to the day of seeding."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, select

from bot.services.staff import ensure_demo_staff
from bot.shop import policies, shop_data
from bot.store.db import create_schema, session_scope
from bot.store.models import (
    Customer,
    HandoffRequest,
    LoyaltyAccount,
    Order,
    OrderItem,
    PointTransaction,
    Product,
    ReturnRequest,
    SeedInfo,
)

log = logging.getLogger(__name__)

# Children first, so that deleting respects foreign keys.
_SHOP_TABLES = (HandoffRequest, ReturnRequest, PointTransaction, LoyaltyAccount, OrderItem, Order, Product, Customer)


def _at(day: date) -> datetime:
    # Noon UTC keeps "N days ago" on the same calendar day in Europe/Oslo.
    return datetime.combine(day, time(12, 0), tzinfo=timezone.utc)


def _order(raw: dict[str, Any], customer_id: str, today: date, prices: dict[str, int]) -> Order:
    def ago(key: str) -> date | None:
        return today - timedelta(days=raw[key]) if key in raw else None

    def ahead(key: str) -> date | None:
        return today + timedelta(days=raw[key]) if key in raw else None

    shipped, delivered, cancelled = ago("shipped_days_ago"), ago("delivered_days_ago"), ago("cancelled_days_ago")
    order = Order(
        id=str(raw["id"]),
        customer_id=customer_id,
        status=raw["status"],
        placed_at=_at(today - timedelta(days=raw["placed_days_ago"])),
        shipped_at=_at(shipped) if shipped else None,
        delivered_at=_at(delivered) if delivered else None,
        cancelled_at=_at(cancelled) if cancelled else None,
        eta=ahead("eta_in_days"),
        expected_ship_date=ahead("expected_ship_in_days"),
        delay_reason=raw.get("delay_reason"),
        carrier=raw.get("carrier"),
        tracking_number=raw.get("tracking"),
        refunded=bool(raw.get("refunded", False)),
    )
    order.items = [
        OrderItem(sku=item["sku"], quantity=item["qty"], unit_price_nok=prices[item["sku"]]) for item in raw["items"]
    ]
    return order


def _point_transactions(customer_id: str, loyalty: dict[str, Any], today: date) -> list[PointTransaction]:
    """Split the balance into dated earnings, so that 'expiring soon' is a fact of the data."""
    lifetime = relativedelta(months=int(policies()["loyalty"]["points_expire_months"]))
    total = int(loyalty["points"])
    transactions = []
    expiring = loyalty.get("expiring")
    if expiring:
        expires_on = today + timedelta(days=expiring["in_days"])
        transactions.append(
            PointTransaction(
                customer_id=customer_id,
                points=int(expiring["points"]),
                earned_on=expires_on - lifetime,
                expires_on=expires_on,
                note="purchases",
            )
        )
        total -= int(expiring["points"])
    if total > 0:
        earned_on = today - timedelta(days=30)
        transactions.append(
            PointTransaction(
                customer_id=customer_id,
                points=total,
                earned_on=earned_on,
                expires_on=earned_on + lifetime,
                note="purchases",
            )
        )
    return transactions


def seed_demo(url: str | None = None, today: date | None = None) -> dict[str, int]:
    """Replace the shop's demo data with shop.yml as of `today`. Returns counts per table."""
    today = today or date.today()
    data = shop_data()
    create_schema(url)
    counts = {"products": 0, "customers": 0, "orders": 0}
    with session_scope(url) as session:
        for table in _SHOP_TABLES:
            session.execute(delete(table))
        prices = {}
        for product in data["products"]:
            session.add(Product(**product))
            prices[product["sku"]] = int(product["price_nok"])
            counts["products"] += 1
        session.flush()
        for raw in data["customers"]:
            customer = Customer(
                id=raw["id"],
                name=raw["name"],
                email=raw["email"],
                phone=raw["phone"],
                language=raw["language"],
                member_since=today - timedelta(days=raw["member_since_days_ago"]),
            )
            session.add(customer)
            loyalty = raw["loyalty"]
            session.add(
                LoyaltyAccount(
                    customer_id=customer.id,
                    tier=loyalty["tier"],
                    points=int(loyalty["points"]),
                    earned_last_12_months=int(loyalty["earned_last_12_months"]),
                )
            )
            session.flush()
            session.add_all(_point_transactions(customer.id, loyalty, today))
            for raw_order in raw["orders"]:
                session.add(_order(raw_order, customer.id, today, prices))
                counts["orders"] += 1
            counts["customers"] += 1
            log.info("seeded customer %s with %d orders", customer.id, len(raw["orders"]))
        counts["staff_added"] = ensure_demo_staff(session)
        session.merge(SeedInfo(key="seeded_on", value=today.isoformat()))
    return counts


def seeded_on(url: str | None = None) -> date | None:
    create_schema(url)
    with session_scope(url) as session:
        value = session.execute(select(SeedInfo.value).where(SeedInfo.key == "seeded_on")).scalar_one_or_none()
    return date.fromisoformat(value) if value else None


def ensure_seeded(url: str | None = None, today: date | None = None) -> bool:
    """Seed when the database is empty or was seeded on another day (the demo's dates are relative)."""
    today = today or date.today()
    if seeded_on(url) == today:
        return False
    seed_demo(url, today)
    return True
