"""Where the money of an order stands: the refund of a cancelled order, or the returns registered for it.

The shop's data knows whether a cancelled order was refunded, and which returns were registered and
when; it does not know when a return parcel reached the warehouse. So a return's answer gives the rule
(refund within N business days of arrival) and says plainly what can't be seen here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.i18n import format_date
from bot.services.orders import describe_items, order_facts
from bot.store.models import Order, as_utc
from bot.store.queries import customer_orders, customer_returns, order_returns

MAX_ORDERS_TOLD = 3  # a signed-in customer who names no order hears about this many, newest first

Answer = tuple[str, dict[str, Any]]  # a domain.yml response and its values


def orders_with_refunds(session: Session, customer_id: str) -> list[Order]:
    """A customer's orders with money on its way back or paid back: cancelled, or with a return registered."""
    returned = {request.order_id for request in customer_returns(session, customer_id)}
    orders = [
        order for order in customer_orders(session, customer_id) if order.status == "cancelled" or order.id in returned
    ]
    return orders[:MAX_ORDERS_TOLD]


def refund_answers(session: Session, order: Order, language: str | None) -> list[Answer]:
    """The responses that tell where this order's money stands."""
    facts = order_facts(order, language)
    if order.status == "cancelled":
        return [("utter_order_cancelled" if order.refunded else "utter_refund_cancelled_pending", facts)]
    answers: list[Answer] = []
    for request in order_returns(session, order.id):
        skus = set(request.skus.split(","))
        answers.append(
            (
                "utter_refund_return_registered",
                {
                    "order_id": order.id,
                    "rma": request.rma,
                    "items": describe_items([item for item in order.items if item.sku in skus], language),
                    "registered_on": format_date(as_utc(request.created_at).date(), language),
                    "refund_days": request.refund_business_days,
                },
            )
        )
    return answers or [("utter_refund_none", facts)]
