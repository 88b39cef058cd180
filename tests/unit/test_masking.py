"""Personal data masked before a trainer sees a message; order numbers stay."""

from __future__ import annotations

import pytest

from bot.training.masking import mask_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ring meg på +47 912 34 567", "ring meg på [phone]"),
        ("tlf 91234567 takk", "tlf [phone] takk"),
        ("nummeret er 91 23 45 67", "nummeret er [phone]"),
        ("call +46 70-123 45 67", "call [phone]"),
        ("mail kari.nordmann@example.no please", "mail [e-mail] please"),
        ("kortet 4111 1111 1111 1111 ble belastet", "kortet [card] ble belastet"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("sporing 70712345678901234", "sporing [tracking]"),
        ("tracking 1Z999AA10123456784", "tracking [tracking]"),
        ("hvor er ordre 10234?", "hvor er ordre 10234?"),
        ("ordre 1234 og 123456", "ordre 1234 og 123456"),
        ("det kostet 1299 kr 12. mai 2026", "det kostet 1299 kr 12. mai 2026"),
    ],
)
def test_masks_personal_data_and_keeps_order_numbers(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


def test_masks_the_signed_in_customers_names_as_whole_words() -> None:
    masked = mask_personal_data("Hei, dette er KARI nordmann, ikke Karianne", ["Kari Nordmann"])
    assert masked == "Hei, dette er [name] [name], ikke Karianne"
