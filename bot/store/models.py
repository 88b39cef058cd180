"""The shop's tables: customers, products, orders and their items, returns, loyalty, handoff requests."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeMeta, Mapped, registry, relationship

mapper_registry = registry()


class Base(metaclass=DeclarativeMeta):
    """The declarative base, spelled out as SQLAlchemy 1.4 documents it so that type checkers see a class
    (declarative_base() is typed only through SQLAlchemy's deprecated mypy plugin)."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A datetime read back from the database, with its zone: SQLite drops it, and every one is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = Column(String(20), primary_key=True)  # e.g. C-1001
    name: Mapped[str] = Column(String(200), nullable=False)
    email: Mapped[str] = Column(String(320), nullable=False, unique=True)
    phone: Mapped[str] = Column(String(40), nullable=False)
    language: Mapped[str] = Column(String(5), nullable=False)
    member_since: Mapped[date] = Column(Date, nullable=False)

    orders: Mapped[list[Order]] = relationship("Order", back_populates="customer", order_by="Order.placed_at.desc()")
    loyalty: Mapped[LoyaltyAccount | None] = relationship("LoyaltyAccount", back_populates="customer", uselist=False)

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = Column(String(20), primary_key=True)
    name: Mapped[str] = Column(String(200), nullable=False)
    price_nok: Mapped[int] = Column(Integer, nullable=False)
    category: Mapped[str] = Column(String(40), nullable=False)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = Column(String(20), primary_key=True)  # order number as the customer sees it
    customer_id: Mapped[str] = Column(ForeignKey("customers.id"), nullable=False, index=True)
    status: Mapped[str] = Column(String(20), nullable=False)  # received|processing|shipped|delivered|cancelled
    placed_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    shipped_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    eta: Mapped[date | None] = Column(Date)  # expected delivery of a shipped order
    expected_ship_date: Mapped[date | None] = Column(Date)  # a delayed order's new ship date
    delay_reason: Mapped[str | None] = Column(Text)
    carrier: Mapped[str | None] = Column(String(40))
    tracking_number: Mapped[str | None] = Column(String(60))
    refunded: Mapped[bool] = Column(Boolean, nullable=False, default=False)

    customer: Mapped[Customer] = relationship("Customer", back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    sku: Mapped[str] = Column(ForeignKey("products.sku"), nullable=False)
    quantity: Mapped[int] = Column(Integer, nullable=False)
    unit_price_nok: Mapped[int] = Column(Integer, nullable=False)

    order: Mapped[Order] = relationship("Order", back_populates="items")
    product: Mapped[Product] = relationship("Product", lazy="joined")


class ReturnRequest(Base):
    __tablename__ = "returns"

    rma: Mapped[str] = Column(String(20), primary_key=True)
    order_id: Mapped[str] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    customer_id: Mapped[str] = Column(ForeignKey("customers.id"), nullable=False, index=True)
    skus: Mapped[str] = Column(Text, nullable=False)  # comma-separated SKUs being returned
    label_price_nok: Mapped[int] = Column(Integer, nullable=False)
    refund_business_days: Mapped[int] = Column(Integer, nullable=False)
    status: Mapped[str] = Column(String(20), nullable=False, default="open")
    conversation_id: Mapped[str | None] = Column(String(200))
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"

    customer_id: Mapped[str] = Column(ForeignKey("customers.id"), primary_key=True)
    tier: Mapped[str] = Column(String(10), nullable=False)  # bronse|solv|gull
    points: Mapped[int] = Column(Integer, nullable=False)
    earned_last_12_months: Mapped[int] = Column(Integer, nullable=False)

    customer: Mapped[Customer] = relationship("Customer", back_populates="loyalty")
    transactions: Mapped[list[PointTransaction]] = relationship(
        "PointTransaction", back_populates="account", order_by="PointTransaction.earned_on"
    )


class PointTransaction(Base):
    __tablename__ = "point_transactions"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = Column(ForeignKey("loyalty_accounts.customer_id"), nullable=False, index=True)
    points: Mapped[int] = Column(Integer, nullable=False)  # earned (>0) or spent (<0)
    earned_on: Mapped[date] = Column(Date, nullable=False)
    expires_on: Mapped[date | None] = Column(Date)
    note: Mapped[str] = Column(String(200), nullable=False, default="")

    account: Mapped[LoyaltyAccount] = relationship("LoyaltyAccount", back_populates="transactions")


class HandoffRequest(Base):
    """A conversation the bot hands to a person: who, why, when."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(String(200), nullable=False, index=True)
    customer_id: Mapped[str | None] = Column(ForeignKey("customers.id"))
    reason: Mapped[str] = Column(String(40), nullable=False)  # requested|misunderstood|complaint|frustration
    # What made it frustration, e.g. "shouting, repeat" (bot/services/frustration.py); None otherwise.
    detail: Mapped[str | None] = Column(String(200))
    language: Mapped[str] = Column(String(5), nullable=False)
    last_message: Mapped[str] = Column(Text, nullable=False, default="")
    # waiting (in the queue) -> claimed -> handed_back | closed; or unattended (no one there) -> ticket;
    # claimed -> agent_left when the agent went away, and a new request carries the case on.
    status: Mapped[str] = Column(String(20), nullable=False, default="waiting")
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    agent_username: Mapped[str | None] = Column(String(64), index=True)  # who claimed it
    claimed_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = Column(DateTime(timezone=True))  # handed back or closed
    resolution: Mapped[str | None] = Column(String(40))  # how the agent closed it (bot/services/assignment.py)
    resolution_note: Mapped[str | None] = Column(Text)


class SeedInfo(Base):
    """Facts about the demo seeding, e.g. the day its relative dates were counted from."""

    __tablename__ = "seed_info"

    key: Mapped[str] = Column(String(40), primary_key=True)
    value: Mapped[str] = Column(String(200), nullable=False)
