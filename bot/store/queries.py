"""Read and write helpers over the shop's tables. Every query is parameterised; ids are validated first.

The reads are built once, with their values bound at execution: SQLAlchemy keeps a built statement's
cache key, where one built per call (with its loader options) is keyed again every time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.patterns import is_order_id
from bot.store.models import (
    Customer,
    LoyaltyAccount,
    Order,
    Product,
    ReturnRequest,
)

# The customer in the same query (one row each): a guest's order is checked against their e-mail.
_ORDER = (
    select(Order)
    .where(Order.id == bindparam("order_id"))
    .options(selectinload(Order.items), joinedload(Order.customer))
)
_CUSTOMER_ORDERS = (
    select(Order)
    .where(Order.customer_id == bindparam("customer_id"))
    .options(selectinload(Order.items))
    .order_by(Order.placed_at.desc())
)
_PRODUCT_NAMES = select(Product.name).order_by(Product.sku)
_LOYALTY = (
    select(LoyaltyAccount)
    .where(LoyaltyAccount.customer_id == bindparam("customer_id"))
    .options(selectinload(LoyaltyAccount.transactions))
)
_TIER = select(LoyaltyAccount.tier).where(LoyaltyAccount.customer_id == bindparam("customer_id"))
_ORDER_RETURNS = select(ReturnRequest).where(ReturnRequest.order_id == bindparam("order_id"))
_CUSTOMER_RETURNS = (
    select(ReturnRequest)
    .where(ReturnRequest.customer_id == bindparam("customer_id"))
    .order_by(ReturnRequest.created_at.desc())
)


def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id, options=[selectinload(Customer.loyalty)])


def get_order(session: Session, order_id: str) -> Order | None:
    if not is_order_id(order_id):
        return None
    return session.execute(_ORDER, {"order_id": order_id}).scalar_one_or_none()


def customer_orders(session: Session, customer_id: str) -> Sequence[Order]:
    return session.execute(_CUSTOMER_ORDERS, {"customer_id": customer_id}).scalars().all()


def product_names(session: Session) -> Sequence[str]:
    return session.execute(_PRODUCT_NAMES).scalars().all()


def get_loyalty(session: Session, customer_id: str) -> LoyaltyAccount | None:
    return session.execute(_LOYALTY, {"customer_id": customer_id}).scalar_one_or_none()


def loyalty_tier(session: Session, customer_id: str) -> str | None:
    """The customer's tier alone, without the account's transactions (what the return policy reads)."""
    return session.execute(_TIER, {"customer_id": customer_id}).scalar()


def order_returns(session: Session, order_id: str) -> Sequence[ReturnRequest]:
    return session.execute(_ORDER_RETURNS, {"order_id": order_id}).scalars().all()


def customer_returns(session: Session, customer_id: str) -> Sequence[ReturnRequest]:
    return session.execute(_CUSTOMER_RETURNS, {"customer_id": customer_id}).scalars().all()
