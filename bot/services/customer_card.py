"""The customer card an agent sees beside the transcript.

A signed-in customer (verified by the shop's token): name, tier, points, recent orders and returns,
from the shop's data. A guest: only what they told the bot in this chat (order numbers and e-mail
addresses they wrote), marked as unverified, and never looked up: a guest has not proven an order is
theirs just by naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from bot.patterns import find_emails, find_order_ids
from bot.store.queries import customer_orders, customer_returns, get_customer, get_loyalty

RECENT = 5


@dataclass(frozen=True)
class OrderLine:
    id: str
    status: str
    placed_on: date
    products: str  # "Fjellsko Tinde GTX × 1, ..." (not `items`: templates would find dict.items)
    total_nok: int


@dataclass(frozen=True)
class ReturnLine:
    rma: str
    order_id: str
    status: str
    created_on: date


@dataclass(frozen=True)
class CustomerCard:
    signed_in: bool
    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    tier: str | None = None
    points: int | None = None
    member_since: date | None = None
    orders: list[OrderLine] = field(default_factory=list)
    returns: list[ReturnLine] = field(default_factory=list)
    # A guest's own words: order numbers and addresses they wrote, unverified.
    mentioned_orders: list[str] = field(default_factory=list)
    mentioned_emails: list[str] = field(default_factory=list)


def card_for(session: Session, customer_id: str | None, customer_texts: Iterable[str]) -> CustomerCard:
    texts = list(customer_texts)
    customer = get_customer(session, customer_id) if customer_id else None
    if customer is None:
        return CustomerCard(
            signed_in=False,
            mentioned_orders=_unique(n for t in texts for n in find_order_ids(t)),
            mentioned_emails=_unique(e for t in texts for e in find_emails(t)),
        )
    loyalty = get_loyalty(session, customer.id)
    orders = [
        OrderLine(
            id=order.id,
            status=order.status,
            placed_on=order.placed_at.date(),
            products=", ".join(f"{item.product.name} × {item.quantity}" for item in order.items),
            total_nok=sum(item.unit_price_nok * item.quantity for item in order.items),
        )
        for order in list(customer_orders(session, customer.id))[:RECENT]
    ]
    returns = [
        ReturnLine(rma=r.rma, order_id=r.order_id, status=r.status, created_on=r.created_at.date())
        for r in list(customer_returns(session, customer.id))[:RECENT]
    ]
    return CustomerCard(
        signed_in=True,
        customer_id=customer.id,
        name=customer.name,
        email=customer.email,
        tier=loyalty.tier if loyalty else None,
        points=loyalty.points if loyalty else None,
        member_since=customer.member_since,
        orders=orders,
        returns=returns,
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)
