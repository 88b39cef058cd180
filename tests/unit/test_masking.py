"""Personal data masked before a trainer sees a message; order numbers stay."""

from __future__ import annotations

import time

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Phone numbers in the ways people write them.
        ("+47 912 34 567", "[phone]"),
        ("070-123 45 67", "[phone]"),
        ("+45 20 12 34 56", "[phone]"),
        ("+46 (0)70-123 45 67", "[phone]"),
        ("0047 912 34 567", "[phone]"),
        ("(+47) 91234567", "[phone]"),
        ("+4791234567", "[phone]"),
        ("0701234567", "[phone]"),
        # Written-out e-mail addresses.
        ("kari(at)example.no", "[e-mail]"),
        ("kari [at] example dot no", "[e-mail]"),
        ("kari at example dot no", "[e-mail]"),
        ("kari snabel-a example.se", "[e-mail]"),
        ("KARI (AT) EXAMPLE (DOT) NO", "[e-mail]"),
        ("kari.nordmann at example.no", "[e-mail]"),
        ("kari at hotmail.com", "[e-mail]"),
        ("I bought it at tindra.no", "I bought it at tindra.no"),
        ("look at this.png", "look at this.png"),
        # Streets and postcodes.
        ("Storgata 5", "[address]"),
        ("Storgata 5 B", "[address]"),
        ("Kungsgatan 12B", "[address]"),
        ("Nørrebrogade 3, 2. th.", "[address]"),
        ("12 Baker Street", "[address]"),
        ("Storgata 5, 0155 Oslo", "[address]"),
        ("114 55 Stockholm", "[address]"),
        ("2200 København N", "[address]"),
        ("DK-2200 København N", "[address]"),
        ("Storgata 5 i Oslo", "[address] i Oslo"),
        ("er butikken i Storgata åpen?", "er butikken i Storgata åpen?"),
        ("gate 5", "gate 5"),
        ("delegate 5 tasks", "delegate 5 tasks"),
        # An order number is no postcode, nor is a year.
        ("ordre 1234", "ordre 1234"),
        ("1234", "1234"),
        ("1234 Oslo", "[address]"),
        ("ordre 10234 Oslo", "ordre 10234 Oslo"),
        ("#10234 Fjellsko Tinde GTX", "#10234 Fjellsko Tinde GTX"),
        ("bestilt i 2025 Fjellsko Tinde", "bestilt i 2025 Fjellsko Tinde"),
        ("2025 Black Friday", "2025 Black Friday"),
        # Names after the customer says who they are.
        ("jeg heter Ola Hansen", "jeg heter [name]"),
        ("jag heter Anna-Karin Ek", "jag heter [name]"),
        ("jeg hedder Mette", "jeg hedder [name]"),
        ("mit navn er Søren", "mit navn er [name]"),
        ("mitt namn är Lars Svensson", "mitt namn är [name]"),
        ("I'm called Emma", "I'm called [name]"),
        ("my name is John Smith And I ordered", "my name is [name] And I ordered"),
        ("Regards, Dr. Smith", "Regards, [name]"),
        ("Mvh\nKari\nHvor er pakken?", "Mvh\n[name]\nHvor er pakken?"),
        ("jeg heter ikke noe", "jeg heter ikke noe"),
        ("my name is on the order", "my name is on the order"),
        ("I'm Norwegian, do you ship to Bergen?", "I'm Norwegian, do you ship to Bergen?"),
        ("jeg er Tindra Sport-kunde", "jeg er Tindra Sport-kunde"),
        ("this is Fjellsko Tinde GTX", "this is Fjellsko Tinde GTX"),
        ("Hei, Kari her", "Hei, [name] her"),
    ],
)
def test_masks_names_addresses_postcodes_written_out_emails_and_phones(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


_LONG = 50_000
_SPACES = " " * _LONG


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * _LONG, id="one long word"),
        pytest.param(("Ola " * _LONG)[:_LONG], id="capitalised words"),
        pytest.param(("1 " * _LONG)[:_LONG], id="digits and spaces"),
        pytest.param(("x at y." * _LONG)[:_LONG], id="at words"),
        pytest.param("kari(at)" + ("example." * _LONG)[:_LONG], id="long domain"),
        pytest.param(("jeg heter " * _LONG)[:_LONG], id="intro phrases"),
        pytest.param(("Storgata 5, 0155 Oslo " * _LONG)[:_LONG], id="addresses"),
        pytest.param(("Mvh\n" * _LONG)[:_LONG], id="sign-offs"),
        # Runs of white space after each part that may be followed by more: once quadratic here.
        pytest.param("jeg heter" + _SPACES + "x", id="spaces after an intro"),
        pytest.param("hei" + _SPACES + "x", id="spaces after a greeting"),
        pytest.param("Storgata 5, 2." + _SPACES + "x", id="spaces after a floor"),
        pytest.param("Storgata 5" + _SPACES + "x", id="spaces after an address"),
        pytest.param("12" + _SPACES + "Baker" + _SPACES + "x", id="spaces in an English address"),
    ],
)
def test_long_input_is_masked_quickly(text: str) -> None:
    started = time.perf_counter()
    mask_personal_data(text, ["Kari Nordmann"])
    # Linear patterns take about 0.1 s here on a busy machine; catastrophic backtracking takes minutes.
    assert time.perf_counter() - started < 1.0
