"""Order look-up with ownership checks, and the facts of an order as the customer should hear them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bot.i18n import format_date, join_list, shop_phrase
from bot.patterns import is_email, is_order_id
from bot.store.models import Order, OrderItem
from bot.store.queries import customer_orders, get_order

OPEN_STATUSES = ("received", "processing", "shipped")


def find_owned_order(
    session: Session, order_id: str | None, customer_id: str | None, email: str | None
) -> Order | None:
    """The order only if the asker owns it: signed in as its customer, or a guest with the order's e-mail.

    Unknown number, someone else's order and a wrong e-mail all give None, so a reply can never tell
    a stranger that an order exists.
    """
    if not is_order_id(order_id):
        return None
    order = get_order(session, order_id)  # type: ignore[arg-type]
    if order is None:
        return None
    if customer_id:
        return order if order.customer_id == customer_id else None
    email = email.strip() if isinstance(email, str) else None
    if email and is_email(email) and order.customer.email.lower() == email.lower():
        return order
    return None


def open_orders(session: Session, customer_id: str) -> list[Order]:
    return [order for order in customer_orders(session, customer_id) if order.status in OPEN_STATUSES]


def describe_items(items: list[OrderItem], language: str | None) -> str:
    return join_list(
        [f"{item.quantity} × {item.product.name}" if item.quantity > 1 else item.product.name for item in items],
        language,
    )


def order_response(order: Order) -> str:
    """The domain.yml response that tells this order's status."""
    if order.status in ("received", "processing") and order.delay_reason:
        return "utter_order_delayed"
    return f"utter_order_{order.status}"


def order_facts(order: Order, language: str | None, today: date | None = None) -> dict[str, Any]:
    """Values for the order responses' {placeholders}."""
    today = today or date.today()

    def when(day: date | None) -> str:
        return format_date(day, language, today) if day else ""

    return {
        "order_id": order.id,
        "items": describe_items(order.items, language),
        "carrier": order.carrier or "",
        "tracking_number": order.tracking_number or "",
        "eta": when(order.eta),
        "ship_date": when(order.expected_ship_date),
        "delay_reason": shop_phrase(order.delay_reason or "", language),
        "placed_on": when(order.placed_at.date()),
        "shipped_on": when(order.shipped_at.date() if order.shipped_at else None),
        "delivered_on": when(order.delivered_at.date() if order.delivered_at else None),
        "cancelled_on": when(order.cancelled_at.date() if order.cancelled_at else None),
    }
