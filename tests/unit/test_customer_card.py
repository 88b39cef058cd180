"""The customer card beside the transcript: the shop's facts for a signed-in customer, a guest's own words."""

from __future__ import annotations

from bot.services.customer_card import card_for
from bot.store.db import session_scope


def test_a_signed_in_customer_shows_name_tier_points_orders_and_returns(shop: str) -> None:
    with session_scope() as session:
        card = card_for(session, "C-1001", ["hei"])
    assert (card.signed_in, card.name, card.email, card.tier, card.points) == (
        True,
        "Kari Nordmann",
        "kari.nordmann@example.no",
        "gull",
        6230,
    )
    latest = card.orders[0]
    assert (latest.id, latest.status, latest.products) == ("10234", "shipped", "Fjellsko Tinde GTX × 1")
    assert latest.total_nok == 2199
    assert card.mentioned_orders == []  # what a signed-in customer types is not needed


def test_a_guest_shows_only_what_they_wrote_unverified(shop: str) -> None:
    typed = ["Hvor er ordre 10234?", "e-posten er kari.nordmann@example.no", "og 10234 igjen, tlf 99887766"]
    with session_scope() as session:
        card = card_for(session, None, typed)
    assert not card.signed_in and card.name is None and card.orders == [] and card.points is None
    assert card.mentioned_orders == ["10234"]  # a phone number is not an order number
    assert card.mentioned_emails == ["kari.nordmann@example.no"]
