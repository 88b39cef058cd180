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


def earlier_turns(texts: list[str], intent: str) -> list[EarlierTurn]:
    """The first message with the question's intent, the rest the customer's short answers to the bot."""
    answers = {"ja": "affirm", "yes": "affirm"}
    return [turn(text, intent if i == 0 else answers.get(text, "inform")) for i, text in enumerate(texts)]


@pytest.mark.parametrize(
    ("before", "now_text", "intent"),
    [
        # nb: Kari returns a second item, after her "ja" to the first (3 of 6 words in common)
        (["jeg vil returnere soveposen", "ja"], "jeg vil også returnere sykkelhjelmen", "start_return"),
        (["jeg vil returnere jakken"], "jeg vil returnere hatten", "start_return"),  # nearly the same letters
        (["kan jeg returnere skoene?"], "kan jeg returnere skoene og jakken?", "start_return"),  # one item more
        (["hvor lenge kan jeg returnere?"], "hvor lenge kan jeg returnere salgsvarer?", "faq_returns"),  # new detail
        # sv
        (["jag vill returnera sovsäcken", "ja"], "jag vill också returnera cykelhjälmen", "start_return"),
        (["jag vill returnera tältet"], "jag vill returnera täcket", "start_return"),
        # da
        (["jeg vil returnere soveposen", "ja"], "jeg vil også returnere cykelhjelmen", "start_return"),
        (["kan jeg bytte til en anden farve?"], "kan jeg bytte til en anden størrelse?", "faq_returns"),
        # en
        (["I want to return the sleeping bag", "yes"], "I also want to return the bike helmet", "start_return"),
        (["I want to return the boots"], "I want to return the coat", "start_return"),
    ],
)
def test_asking_about_another_thing_in_the_same_words_is_no_repeat(
    before: list[str], now_text: str, intent: str
) -> None:
    assert assess(now_text, intent, earlier_turns(before, intent), NOW).signals == ()


@pytest.mark.parametrize(
    ("before", "now_text", "intent"),
    [
        # nb
        ("hvor er pakken min", "hvor er pakken min??", "order_status"),
        ("hvor er bestillingen min?", "jeg spurte hvor bestillingen min er", "order_status"),
        ("hvor er bestillingen min?", "hvor er pakken min?", "order_status"),  # the order in other words
        ("hvor mange poeng har jeg?", "hei, hvor mange poeng har jeg nå?", "check_points"),
        # sv
        ("var är mitt paket?", "hallå, var är mitt paket?", "order_status"),
        ("när kommer min beställning?", "jag frågade när min beställning kommer", "order_status"),
        # da
        ("hvor er min pakke?", "hvor er min pakke henne??", "order_status"),
        ("hvornår kommer min bestilling?", "jeg spurgte hvornår min bestilling kommer", "order_status"),
        # en
        ("where is my order", "where's my order", "order_status"),
        ("where is my order?", "I already asked, where is my order?", "order_status"),
        ("where is my parcel?", "where is my package???", "order_status"),
    ],
)
def test_the_same_question_again_is_a_repeat_in_every_language(before: str, now_text: str, intent: str) -> None:
    assert assess(now_text, intent, [turn(before, intent)], NOW).signals == (REPEAT,)


@pytest.mark.parametrize(
    "before",
    [
        ["hvor er ordre 10234", "kari@feil.no"],  # nb: the order number in the question, a wrong e-mail
        ["hvor er pakken min", "10234", "kari@feil.no"],  # the order number asked for too
        ["var är order 10234?", "karin@fel.se"],  # sv
        ["hvor er ordre 10234?", "karen@forkert.dk"],  # da
        ["where is order 10234?", "kate@wrong.example"],  # en
    ],
)
def test_the_question_again_after_a_failed_lookup_is_a_retry_not_a_repeat(before: list[str]) -> None:
    """A guest's look-up failed (the bot: "no order with that number and e-mail, please check both"):
    asking again is how the customer tries once more, with another e-mail."""
    assert assess(before[0], "order_status", earlier_turns(before, "order_status"), NOW).signals == ()


def test_asking_again_after_a_second_failed_lookup_is_a_repeat() -> None:
    question = "hvor er ordre 10234"
    earlier = [turn("kari@feil.no", "inform"), turn(question, "order_status"), turn("kari@feil.com", "inform")]
    assert assess(question, "order_status", earlier, NOW).signals == (REPEAT,)


def test_the_question_again_without_anything_given_in_between_is_a_repeat() -> None:
    question = "hvor er ordre 10234"
    earlier = [turn(question, "order_status"), turn("ok", "affirm")]
    assert assess(question, "order_status", earlier, NOW).signals == (REPEAT,)
