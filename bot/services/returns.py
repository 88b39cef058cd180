"""Return eligibility by the shop's policy, and registering an eligible return with an RMA number."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from bot.shop import policies, return_label_price, return_window_days
from bot.store.models import Order, OrderItem, ReturnRequest
from bot.store.queries import loyalty_tier, order_returns


@dataclass
class ReturnCheck:
    eligible: bool
    # Why not: not_delivered | cancelled | window_passed | outlet_only | already_returned
    reason: str | None
    tier: str
    window_days: int
    label_price_nok: int
    deadline: date | None = None
    returnable: list[OrderItem] = field(default_factory=list)
    outlet_items: list[OrderItem] = field(default_factory=list)
    existing_rma: str | None = None


def check_return(session: Session, order: Order, today: date | None = None) -> ReturnCheck:
    today = today or date.today()
    tier = loyalty_tier(session, order.customer_id) or "bronse"
    window = return_window_days(tier)
    check = ReturnCheck(
        eligible=False, reason=None, tier=tier, window_days=window, label_price_nok=return_label_price(tier)
    )
    if order.status == "cancelled":
        check.reason = "cancelled"
        return check
    if order.status != "delivered" or order.delivered_at is None:
        check.reason = "not_delivered"
        return check
    check.deadline = order.delivered_at.date() + timedelta(days=window)
    if today > check.deadline:
        check.reason = "window_passed"
        return check
    excluded = set(policies()["returns"]["not_returnable"])
    already = {sku for ret in order_returns(session, order.id) for sku in ret.skus.split(",")}
    check.outlet_items = [item for item in order.items if item.product.category in excluded]
    check.returnable = [
        item for item in order.items if item.product.category not in excluded and item.sku not in already
    ]
    if not check.returnable:
        if check.outlet_items and len(check.outlet_items) == len(order.items):
            check.reason = "outlet_only"
        else:
            check.reason = "already_returned"
            check.existing_rma = next(iter(order_returns(session, order.id))).rma
        return check
    check.eligible = True
    return check


def register_return(session: Session, order: Order, check: ReturnCheck, conversation_id: str | None) -> ReturnRequest:
    """Store an eligible return; the RMA number is what the customer quotes on the parcel."""
    if not check.eligible:
        raise ValueError(f"order {order.id} is not eligible for return: {check.reason}")
    request = ReturnRequest(
        rma=f"RMA-{order.id}-{secrets.token_hex(2).upper()}",
        order_id=order.id,
        customer_id=order.customer_id,
        skus=",".join(item.sku for item in check.returnable),
        label_price_nok=check.label_price_nok,
        refund_business_days=int(policies()["returns"]["refund_business_days"]),
        conversation_id=conversation_id,
    )
    session.add(request)
    session.flush()
    return request
