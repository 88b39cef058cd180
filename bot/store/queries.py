"""Read and write helpers over the shop's tables. Every query is parameterised; ids are validated first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.patterns import is_order_id
from bot.store.models import (
    Customer,
    LoyaltyAccount,
    Order,
    Product,
    ReturnRequest,
)


def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id, options=[selectinload(Customer.loyalty)])


def get_order(session: Session, order_id: str) -> Order | None:
    if not is_order_id(order_id):
        return None
    # The customer in the same query (one row each): a guest's order is checked against their e-mail.
    return session.execute(
        select(Order).where(Order.id == order_id).options(selectinload(Order.items), joinedload(Order.customer))
    ).scalar_one_or_none()


def customer_orders(session: Session, customer_id: str) -> Sequence[Order]:
    return (
        session.execute(
            select(Order)
            .where(Order.customer_id == customer_id)
            .options(selectinload(Order.items))
            .order_by(Order.placed_at.desc())
        )
        .scalars()
        .all()
    )


def product_names(session: Session) -> Sequence[str]:
    return session.execute(select(Product.name).order_by(Product.sku)).scalars().all()


def get_loyalty(session: Session, customer_id: str) -> LoyaltyAccount | None:
    return session.execute(
        select(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id == customer_id)
        .options(selectinload(LoyaltyAccount.transactions))
    ).scalar_one_or_none()


def loyalty_tier(session: Session, customer_id: str) -> str | None:
    """The customer's tier alone, without the account's transactions (what the return policy reads)."""
    return session.execute(select(LoyaltyAccount.tier).where(LoyaltyAccount.customer_id == customer_id)).scalar()


def order_returns(session: Session, order_id: str) -> Sequence[ReturnRequest]:
    return session.execute(select(ReturnRequest).where(ReturnRequest.order_id == order_id)).scalars().all()


def customer_returns(session: Session, customer_id: str) -> Sequence[ReturnRequest]:
    return (
        session.execute(
            select(ReturnRequest)
            .where(ReturnRequest.customer_id == customer_id)
            .order_by(ReturnRequest.created_at.desc())
        )
        .scalars()
        .all()
    )
