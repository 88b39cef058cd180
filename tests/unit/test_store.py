"""The data layer on SQLite and on the PostgreSQL server: seeding keeps every fact of shop.yml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.services.loyalty import points_summary
from bot.services.orders import find_owned_order
from bot.shop import shop_data
from bot.store.db import drop_schema, session_scope
from bot.store.models import Customer, LoyaltyAccount, Order, Product
from bot.store.queries import customer_orders, get_order
from bot.store.seed import ensure_seeded, seed_demo, seeded_on
from tests.conftest import POSTGRES_URL

TODAY = date(2026, 11, 23)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'shop.db'}" if request.param == "sqlite" else POSTGRES_URL
    drop_schema(url)
    seed_demo(url, today=TODAY)
    yield url
    drop_schema(url)


def test_every_product_customer_and_order_is_seeded_exactly(database: str) -> None:
    data = shop_data()
    with session_scope(database) as session:
        products = {p.sku: (p.name, p.price_nok, p.category) for p in session.execute(select(Product)).scalars()}
        assert products == {p["sku"]: (p["name"], p["price_nok"], p["category"]) for p in data["products"]}
        for raw in data["customers"]:
            customer = session.get(Customer, raw["id"])
            assert (customer.name, customer.email, customer.phone, customer.language) == (
                raw["name"], raw["email"], raw["phone"], raw["language"],
            )  # fmt: skip
            assert customer.member_since == TODAY - timedelta(days=raw["member_since_days_ago"])
            account = session.get(LoyaltyAccount, raw["id"])
            loyalty = raw["loyalty"]
            assert (account.tier, account.points, account.earned_last_12_months) == (
                loyalty["tier"], loyalty["points"], loyalty["earned_last_12_months"],
            )  # fmt: skip
            assert sum(tx.points for tx in account.transactions) == loyalty["points"]
            for raw_order in raw["orders"]:
                order = get_order(session, str(raw_order["id"]))
                assert (order.customer_id, order.status) == (raw["id"], raw_order["status"])
                assert [(i.sku, i.quantity) for i in order.items] == [(i["sku"], i["qty"]) for i in raw_order["items"]]
                assert order.placed_at.date() == TODAY - timedelta(days=raw_order["placed_days_ago"])
                assert order.tracking_number == raw_order.get("tracking")
                assert order.carrier == raw_order.get("carrier")
                assert order.delay_reason == raw_order.get("delay_reason")


def test_relative_dates_and_expiring_points(database: str) -> None:
    with session_scope(database) as session:
        kari_parcel = get_order(session, "10234")
        assert kari_parcel.eta == TODAY + timedelta(days=1)
        assert kari_parcel.shipped_at.date() == TODAY - timedelta(days=2)
        assert get_order(session, "10240").expected_ship_date == TODAY + timedelta(days=5)
        summary = points_summary(session, "C-1001", today=TODAY)
        assert (summary.expiring_points, summary.expiring_on) == (150, TODAY + timedelta(days=39))
        assert [o.id for o in customer_orders(session, "C-1001")] == ["10234", "10198", "10150", "9870"]


def test_ownership_and_injection_safety(database: str) -> None:
    with session_scope(database) as session:
        assert find_owned_order(session, "10234", "C-1001", None) is not None
        assert find_owned_order(session, "10234", "C-1002", None) is None
        assert find_owned_order(session, "10234", None, "kari.nordmann@example.no") is not None
        assert find_owned_order(session, "10234", None, "' OR '1'='1") is None
        assert find_owned_order(session, "10234' OR '1'='1", None, "kari.nordmann@example.no") is None
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 11


def test_seeding_is_repeatable_and_only_when_stale(database: str) -> None:
    assert seeded_on(database) == TODAY
    assert ensure_seeded(database, today=TODAY) is False
    assert ensure_seeded(database, today=TODAY + timedelta(days=1)) is True
    with session_scope(database) as session:
        assert session.execute(select(func.count()).select_from(Customer)).scalar_one() == 5
        assert get_order(session, "10234").eta == TODAY + timedelta(days=2)
