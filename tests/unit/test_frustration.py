"""Clear frustration, and nothing else: angry words, shouting, the same question again (nb, en, sv and da)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.services.frustration import ANGRY, REPEAT, SHOUTING, EarlierTurn, assess

NOW = datetime(2030, 1, 8, 10, 0, tzinfo=timezone.utc)


def turn(text: str, intent: str | None = None, minutes_ago: float = 1) -> EarlierTurn:
    return EarlierTurn(text, intent, NOW - timedelta(minutes=minutes_ago))


@pytest.mark.parametrize(
    "text",
    [
        "Dette er helt håpløst, jeg har ventet i to uker",
        "for faen, hvor er pakken min",
        "Dere er jo helt ubrukelige",
        "jeg er så lei av å vente",
        "Jeg er skikkelig irritert nå",
        "this is useless",
        "What a ridiculous shop",
        "I'm fed up with waiting for this order",
        "this is a waste of my time",
        "worst service ever",
    ],
)
def test_angry_wording_in_either_language(text: str) -> None:
    assert assess(text, "order_status", [], NOW).signals == (ANGRY,)


@pytest.mark.parametrize(
    "text",
    [
        "HVOR ER PAKKEN MIN",
        "WHERE IS MY ORDER",
        "hvor er pakken min!!!",
        "answer me?!!",
        "JEG VIL SNAKKE MED NOEN NÅ",
    ],
)
def test_shouting_is_capitals_or_exclamation_marks(text: str) -> None:
    assert SHOUTING in assess(text, "order_status", [], NOW).signals


@pytest.mark.parametrize(
    "text",
    [
        "Hei! Hvor er bestillingen min?",
        "Takk!",
        "Thanks!!",  # two are delight, not anger
        "OK",
        "Ordre 10234, e-post KARI@EXAMPLE.NO",
        "Hi, I have a dumb question about delivery",
        "I'm not sure which size to return",
        "Kan jeg returnere skoene? De var for små.",
        "Jeg vil klage på en jakke som gikk i stykker",  # a complaint, not anger: NLU hands it over as one
        "Dritbra service, takk!",
    ],
)
def test_calm_messages_are_not_frustrated(text: str) -> None:
    assert assess(text, None, [], NOW).signals == ()


@pytest.mark.parametrize(
    "text",
    [
        # sv
        "Fy fan, var är mitt paket?",
        "Vad fan håller ni på med?",
        "Fan, jag har väntat i två veckor",
        "Det här är en jävla skitbutik",
        "Skit också, paketet har fortfarande inte kommit",
        "Jävligt dålig service",
        "Ni är helt värdelösa",
        "Jag är så förbannad nu",
        "Jag är arg på er",
        "Vilket slöseri med min tid",
        "Det är helt oacceptabelt",
        "Sämsta kundtjänsten jag har varit med om",
        # da
        "For fanden, hvor er min pakke?",
        "Det er fandme for dårligt",
        "Sikke noget lort",
        "Hvilken lortebutik",
        "Det er noget pis",
        "Jeg er pissesur på jer",
        "I er helt ubrugelige",
        "Det her er spild af min tid",
        "Hvilken møgbutik",
        "Det er helt uacceptabelt",
        "Værste kundeservice nogensinde",
        "I har snydt mig",
    ],
)
def test_angry_wording_in_swedish_and_danish(text: str) -> None:
    assert assess(text, "order_status", [], NOW).signals == (ANGRY,)


@pytest.mark.parametrize(
    "text",
    [
        # sv: words that start like a swear word, praise said with one, and ordinary questions
        "Fantastisk service, tack!",
        "Jag är ett stort fan av era tält",
        "Den fanns inte i min storlek",
        "Skitbra jacka, den passar perfekt",
        "Skit samma, jag tar den blå i stället",
        "Det gick jävligt snabbt, tack!",
        "Är tältet idiotsäkert att slå upp?",
        "Kan man tvätta jackan om den blir lortig?",
        "Irriterar ullunderställen huden?",
        "Är presentkortet värdelöst om det har gått ut?",
        "Jag vill göra en reklamation på en jacka som gick sönder",
        "Kan jag få en returfraktsedel?",
        "Var är min beställning?",
        "Kan jag returnera skorna? De var för små.",
        # da
        "Fantastisk kundeservice, tak!",
        "Jakken er pissegod, tak",
        "Det var fandme hurtig levering",
        "Jeg skal bruge en jakke til møgvejr",
        "Har I huer i pistaciegrøn?",
        "Er teltet idiotsikkert at slå op?",
        "Kradser ulden, eller irriterer den huden?",
        "Er gavekortet ubrugeligt, når det er udløbet?",
        "Jeg vil gerne lave en reklamation",
        "Kan jeg få en returlabel?",
        "Hvor er min bestilling?",
        "Kan jeg bytte skoene til en anden størrelse?",
    ],
)
def test_calm_swedish_and_danish_messages_are_not_frustrated(text: str) -> None:
    assert assess(text, None, [], NOW).signals == ()


def test_the_same_question_again_is_a_repeat() -> None:
    earlier = [turn("hvor er bestillingen min?", "order_status")]
    assert assess("Hvor er bestillingen min??", "order_status", earlier, NOW).signals == (REPEAT,)


def test_the_same_question_in_similar_words_is_a_repeat() -> None:
    earlier = [turn("where is my order?", "order_status")]
    assert assess("I asked where my order is", "order_status", earlier, NOW).signals == (REPEAT,)


def test_nearly_the_same_words_count_whatever_nlu_made_of_them() -> None:
    earlier = [turn("kan jeg bytte til en annen farge", "nlu_fallback")]
    assert assess("kan jeg bytte til en annen farge?", "out_of_scope", earlier, NOW).signals == (REPEAT,)


@pytest.mark.parametrize(
    ("before", "now_text", "intent"),
    [
        ("where is order 10234?", "where is order 10235?", "order_status"),  # another order
        ("how long does shipping take?", "what does shipping cost?", "faq_shipping"),  # another question
        ("ja", "ja", "affirm"),  # too short to mean anything
        ("hei der", "hei der", "greet"),
        ("my e-mail is kari@example.no", "my e-mail is ola@example.no", "inform"),
    ],
)
def test_a_different_or_trivial_question_is_no_repeat(before: str, now_text: str, intent: str) -> None:
    assert assess(now_text, intent, [turn(before, intent)], NOW).signals == ()


def test_inside_a_form_an_answer_given_again_is_no_repeat_but_a_question_is() -> None:
    answer = [turn("the sleeping bag", "complaint")]  # NLU may read a bare item as anything
    assert assess("the sleeping bag", "complaint", answer, NOW, in_form=True).signals == ()
    assert assess("it was too small", "deny", [turn("it was too small", "deny")], NOW, in_form=True).signals == ()
    question = [turn("how long do I have to return?", "faq_returns")]
    assert assess("how long do I have to return?", "faq_returns", question, NOW, in_form=True).signals == (REPEAT,)


def test_only_the_last_few_turns_within_minutes_count() -> None:
    question = "hvor mange poeng har jeg?"
    long_ago = [turn(question, "check_points", minutes_ago=30)]
    assert assess(question, "check_points", long_ago, NOW).signals == ()
    pushed_back = [turn(question, "check_points"), turn("a", "greet"), turn("b", "thanks"), turn("c", "affirm")]
    assert assess(question, "check_points", pushed_back, NOW).signals == ()
    assert assess(question, "check_points", pushed_back[:3], NOW).signals == (REPEAT,)


def test_several_signals_together() -> None:
    earlier = [turn("where is my order", "order_status")]
    assert assess("WHERE IS MY ORDER, THIS IS USELESS", "order_status", earlier, NOW).signals == (
        ANGRY,
        SHOUTING,
        REPEAT,
    )
