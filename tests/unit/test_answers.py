"""Reading a customer's short answer inside a form: an item in their own words, a reason, "the other one".

In all four languages: the product names are Norwegian, the customers write nb, en, sv or da."""

from __future__ import annotations

import pytest

from bot.services.answers import ONE, ORDER, names_product, read_remark, says_yes_or_no

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


SHOP = (
    "Fjellsko Tinde GTX",
    "Ullundertøy sett",
    "Løpesokker 3-pk",
    "Sykkelhjelm Vind",
    "Telt Fjellheim 2",
    "Termos 1L",
    "Løpejakke Vind",
    "Terrengsko Sti",
    "Skiluer Outlet",
    "Sovepose Vinter",
)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        # sv
        ("sovsäcken", ("Sovepose Vinter",)),
        ("nej, jag menade strumporna", ("Løpesokker 3-pk",)),
        ("det var underställen", ("Ullundertøy sett",)),
        ("jag vill returnera jackan", ("Løpejakke Vind",)),
        ("tältet", ("Telt Fjellheim 2",)),
        ("hjälmen tack", ("Sykkelhjelm Vind",)),
        ("mössan", ("Skiluer Outlet",)),
        ("kängorna", ("Fjellsko Tinde GTX",)),
        ("skorna", ("Fjellsko Tinde GTX", "Terrengsko Sti")),  # like "the shoes": two of them
        # da
        ("soveposen", ("Sovepose Vinter",)),
        ("jeg mente sokkerne", ("Løpesokker 3-pk",)),
        ("strømperne", ("Løpesokker 3-pk",)),
        ("uldundertøjet", ("Ullundertøy sett",)),
        ("jeg vil gerne returnere jakken", ("Løpejakke Vind",)),
        ("termokanden", ("Termos 1L",)),
        ("huen", ("Skiluer Outlet",)),
        ("vandrestøvlerne", ("Fjellsko Tinde GTX",)),
    ],
)
def test_an_item_in_swedish_or_danish_is_a_bare_answer(text: str, named: tuple[str, ...]) -> None:
    remark = read_remark(text, SHOP)
    assert remark.items == named and remark.bare and remark.says_something


@pytest.mark.parametrize(
    "text",
    [
        "sovsäcken har ett hål",  # a complaint
        "hur länge har jag på mig att returnera sovsäcken?",  # a question
        "jag vill returnera strumporna men behålla underställen",
        "soveposen har et hul",
        "hvor lang tid har jeg til at returnere soveposen?",
    ],
)
def test_more_than_an_answer_in_swedish_or_danish_is_left_to_nlu(text: str) -> None:
    assert not read_remark(text, KARI).bare


@pytest.mark.parametrize(
    "text",
    [
        "den var för liten",
        "alldeles för stor",
        "den passade inte",
        "fel färg",
        "jag gillade den inte",
        "den var alt for stor",
        "den passede ikke",
        "forkert størrelse",
        "jeg kunne ikke lide den",
    ],
)
def test_a_reason_for_returning_in_swedish_or_danish(text: str) -> None:
    remark = read_remark(text, KARI)
    assert remark.reason and remark.bare and not remark.yes_or_no and not remark.everything


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("nej, den andra beställningen", ORDER),
        ("fel order", ORDER),
        ("den andra", ONE),
        ("nej, den anden ordre", ORDER),
        ("forkert bestilling", ORDER),
        ("den anden", ONE),
    ],
)
def test_the_other_order_or_item_in_swedish_or_danish(text: str, other: str) -> None:
    remark = read_remark(text, KARI)
    assert remark.other == other and remark.bare


def test_yes_no_and_everything_in_swedish_and_danish() -> None:
    assert read_remark("ja, sovsäcken", KARI).yes_or_no
    assert read_remark("nej, det passar inte", KARI).no
    assert read_remark("nej tak", KARI).no and says_yes_or_no("ja tak")
    assert says_yes_or_no("okej") and not says_yes_or_no("sovsäcken")
    for text in ("båda", "alla varorna", "begge to", "alle varerne", "allihop"):
        remark = read_remark(text, KARI)
        assert remark.everything and remark.bare, text
