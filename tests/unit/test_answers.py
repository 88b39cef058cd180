"""Reading a customer's short answer inside a form: an item in their own words, a reason, "the other one"."""

from __future__ import annotations

import pytest

from bot.services.answers import ONE, ORDER, names_product, read_remark

KARI = ("Ullundertøy sett", "Løpesokker 3-pk", "Sovepose Vinter")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("soveposen", ("Sovepose Vinter",)),
        ("the sleeping bag", ("Sovepose Vinter",)),
        ("altså soveposen", ("Sovepose Vinter",)),
        ("det var ullundertøyet", ("Ullundertøy sett",)),
        ("the thermal underwear", ("Ullundertøy sett",)),
        ("nei, jeg mente sokkene", ("Løpesokker 3-pk",)),
        ("it's the socks", ("Løpesokker 3-pk",)),
        ("I'd like to return the sleeping bag please", ("Sovepose Vinter",)),
    ],
)
def test_an_item_in_the_customers_own_words_is_a_bare_answer(text: str, named: tuple[str, ...]) -> None:
    remark = read_remark(text, KARI)
    assert remark.items == named and remark.bare and remark.says_something


@pytest.mark.parametrize(
    "text",
    [
        "the sleeping bag has a tear",  # a complaint: for NLU and a person
        "soveposen har et hull",
        "how long do I have to return the sleeping bag?",  # a question
        "I want to return the socks but keep the underwear",
        "kvasj plomf",
    ],
)
def test_more_than_an_answer_is_left_to_nlu(text: str) -> None:
    assert not read_remark(text, KARI).bare


@pytest.mark.parametrize(
    "text", ["den var for liten", "it was too small", "den passet ikke helt", "it didn't really fit", "feil farge"]
)
def test_a_reason_for_returning(text: str) -> None:
    remark = read_remark(text, KARI)
    assert remark.reason and remark.bare and not remark.yes_or_no


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("nei, den andre ordren", ORDER),
        ("no, the other order", ORDER),
        ("nei, feil ordre", ORDER),
        ("den andre", ONE),
        ("the other one", ONE),
    ],
)
def test_the_other_order_or_item(text: str, other: str) -> None:
    remark = read_remark(text, KARI)
    assert remark.other == other and remark.bare


def test_yes_and_no_are_read_from_the_words_not_from_nlu() -> None:
    assert read_remark("ja, soveposen", KARI).yes_or_no
    assert read_remark("nei, det passer ikke", KARI).no
    assert not read_remark("it didn't fit me", KARI).yes_or_no  # NLU may call this a "deny"
    assert read_remark("begge", KARI).everything and read_remark("both of them", KARI).everything


@pytest.mark.parametrize(
    ("word", "product", "names"),
    [
        ("sokkene", "Løpesokker 3-pk", True),
        ("hjelmen", "Sykkelhjelm Vind", True),
        ("jakka", "Løpejakke Vind", True),
        ("skoene", "Terrengsko Sti", True),
        ("teltet", "Telt Fjellheim 2", True),
        ("det", "Telt Fjellheim 2", False),
        ("vind", "Løpejakke Vind", False),  # only the word the product is known by counts
        ("sett", "Ullundertøy sett", False),  # "har sett" is no underwear
    ],
)
def test_a_word_names_a_product_by_its_first_word(word: str, product: str, names: bool) -> None:
    assert names_product(word, product) is names
