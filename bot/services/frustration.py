"""Clear frustration in a customer's message: angry wording, shouting, or the same question asked again.

About 340 lines on purpose: most of it is word lists in four languages (angry words, the small words a
repeat may change), which the rules read; the rules stay beside them, in one place.

Used by the gateway's Rasa channel (bot/rasa_channel.py) on every typed turn, before the dialogue
runs: a frustrated turn goes to a person (reason "frustration") instead of getting another bot answer.
Each signal is meant to be clear on its own, so a calm customer is never pushed into the queue:

- angry wording: words nobody uses calmly to a shop (nb, en, sv and da), not mild ones like "dumb question",
  nor the calm words that start the same ("fantastisk", "ett stort fan av", "skitbra", "idiotsäker");
- shouting: a message of some length in mostly capitals, or a run of exclamation marks ("!!!");
- a repeat: the same question as one of the last few turns, within minutes, either nearly the same
  words, or the same question intent in similar words, and never about a different order number or
  e-mail address (asking about order 10234 and then 10235 is two questions). Inside a form only a
  question counts: an answer given again ("the sleeping bag", "it was too small") is the form's to read.
  Nor is it the same question when the new message names something the earlier one did not: another
  item ("jeg vil returnere soveposen", then "jeg vil også returnere sykkelhjelmen"), one more, or any
  other content word. Only the small words of a question (pronouns, "hvor", "is", "vill"), greetings
  and words about asking again ("igjen", "I already asked") may differ, and a word may differ in its
  ending ("pakken", "pakka"); "order", "pakke", "bestilling", "paket" are one word.
  And the question asked again after the customer gave the bot something to look up with in between
  (an e-mail address or number the question had not) is a retry, not a repeat: a guest's look-up that
  found nothing ("please check the order number and e-mail") is tried again by asking again. Once:
  if that earlier question itself came right after such an answer, it was the retry, and this is a repeat.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from bot.patterns import find_emails

ANGRY = "angry_words"
SHOUTING = "shouting"
REPEAT = "repeat"

# Praise that a swear word may stress ("jävligt bra", "fandme hurtigt"): then it is no anger.
_PRAISE = (
    r"\s+(?:bra|gott|god|godt|fint|fin|flot\w*|fed|fedt|lækker\w*|snygg\w*|grym\w*|skön\w*|smidig\w*"
    r"|snabb\w*|hurtig\w*|nice|najs|kul|sej|sejt|sjov\w*|billig\w*)\b"
)
# Word starts, matched at a word boundary, case-insensitively. Norwegian first, then English, Swedish, Danish.
_ANGRY_WORDS = (
    # nb
    r"faen",
    r"fy\s+faen",
    r"jævl",
    r"helvete",
    r"dritt",
    r"forbanna",
    r"forbannet",
    r"idiot(?!s(?:ikk|äk))",  # not "idiotsikker", "idiotsäker" (foolproof)
    r"elendig",
    r"håpløs",
    r"latterlig",
    r"ubrukelig",
    r"skandal",
    r"uakseptabel",
    r"frustrer",
    r"irriter(?!\w*\s+(?:\w+\s+)?(?:huden|hud|huda|skinnet))",  # not wool that "irriterer huden"
    r"sint\b",
    r"rasende",
    r"svindel",
    r"lurt\s+meg",
    r"lei\s+av",
    r"møkk",
    r"patetisk",
    # en
    r"fuck",
    r"shit",
    r"crap\b",
    r"damn",
    r"wtf\b",
    r"useless",
    r"ridiculous\b",
    r"pathetic",
    r"unacceptable",
    r"outrageous",
    r"incompetent",
    r"furious",
    r"angry",
    r"annoyed",
    r"frustrat",
    r"fed\s+up",
    r"sick\s+of",
    r"waste\s+of\s+(?:my\s+)?time",
    r"scam",
    r"rip[\s-]?off",
    r"worst\s+(?:service|shop|store|company|bot|chat)",
    r"terrible\s+(?:service|shop|store|company|bot|chat)",
    # sv: "fan" alone is also a fan ("ett stort fan av era tält")
    r"(?:vad|va|fy|för|men|åh|jävla)\s+fan\b",
    r"fan\s+(?:också|heller|ta|vad|hur|i\s+helvete)\b",
    r"\Afan\b(?!\s+(?:av|of)\b)",
    r"jävl\w*\b(?!" + _PRAISE + r")",
    r"skit(?:\b(?!\s+(?:samma|i\s+det)\b)|dålig|butik|bolag|företag|service|sida|snack)",  # not "skitbra"
    r"satan",
    r"förbanna",
    r"arg\b",
    r"bedrövlig",
    r"oacceptab",
    r"(?:ni\s+är|i\s+er)\s+(?:\w+\s+)?(?:värdelös|ubrugelig)",
    r"(?:värdelös|ubrugelig)\w*\s+(?:service|kundtjänst|kundeservice|butik|företag|firma|bot|chatt?)",
    r"slöseri\s+med\s+(?:min\s+)?tid",
    r"lura(?:t|de)\s+mig",
    r"sämsta\s+(?:service|kundtjänst|butik|företag|boten|chatten)",
    # da
    r"fand(?:en\b|e?me\b(?!" + _PRAISE + r"))",
    r"helvede",
    r"lort(?:e(?!n\b)\w*)?\b",  # not sv "lortig", "lorten" (dirt)
    r"pis\b",
    r"pisse(?:sur|dårlig|ringe|irriteret|elendig|træls)",
    r"møg(?:butik|service|firma|forretning|shop)",  # not "møgvejr"
    r"uacceptab",
    r"spild\s+af\s+(?:min\s+)?tid",
    r"snydt\s+mig",
    r"værste\s+(?:service|kundeservice|butik|forretning|firma|bot|chat)",
)
_ANGRY = re.compile(r"\b(?:" + "|".join(_ANGRY_WORDS) + r")", re.IGNORECASE)
_ANGRY_WORD = re.compile(_ANGRY.pattern + r"\w*", re.IGNORECASE)  # to the end of the word
# "!!!", "?!!", "!?!": three or more, at least two of them "!".
_BANG_RUN = re.compile(r"[!?]{3,}")

MIN_SHOUTING_LETTERS = 12
SHOUTING_CAPITALS_SHARE = 0.7

REPEAT_LOOKBACK_TURNS = 3  # "within a few turns"
REPEAT_WINDOW = timedelta(minutes=10)
MIN_REPEAT_WORDS = 3  # "ja", "ok" and "hei" twice are not a complaint
SAME_WORDS_RATIO = 0.85  # nearly the same words, whatever NLU made of them
SAME_QUESTION_OVERLAP = 0.5  # share of words two messages with the same question intent have in common

# Intents that ask the shop something; asking one of these again means the answer did not help.
# Not small talk, yes/no, details given to a form (inform), nor a misunderstood message (the
# fallback already hands over after two of those in a row, as "misunderstood").
QUESTION_INTENTS = frozenset(
    {
        "order_status",
        "check_points",
        "start_return",
        "refund_status",
        "out_of_scope",
        "faq_cancellation",
        "faq_returns",
        "faq_complaints",
        "faq_shipping",
        "faq_payment",
        "faq_opening_hours",
        "faq_contact",
        "faq_loyalty",
    }
)

# Any number of 3 digits or more, not only order numbers (bot/patterns.py): another amount, phone or
# tracking number also makes a question a new one.
_NUMBER = re.compile(r"\d{3,}")
_WORD = re.compile(r"\w+")

# Words that say nothing about what a question asks for: pronouns, articles, prepositions, auxiliaries,
# question words, greetings, thanks, fillers, words about asking again or waiting (en, nb, sv, da;
# casefolded, "where's" as "where" "s"). Any other word, an item or a verb such as "return", is content.
_SMALL_EN = (
    "a an the i me my mine myself you your yours we us our ours it its this that these those there here"
    " is are was were be been being am do does did done doing have has had having will would shall should"
    " can could may might must to of in on at for from with about as by into onto over under up down out"
    " off than then so and or but if not no yes yeah yep ok okay what which who whom whose when where why"
    " how whats wheres hows whens im ive id dont doesnt didnt cant cannot wont isnt arent wasnt s m t d ll"
    " re ve get got getting want wanted wanna need needed like please pls plz thanks thank thx hi hello hey"
    " just still yet already again ask asked asking said told tell question answer now any some anything"
    " something all also too very really actually even only know let help wait waiting waited long forever"
    " days weeks"
)
_SMALL_NB = (
    "jeg meg min mitt mine mi di du deg din ditt dine han hun den det de dem vi oss vår vårt våre dere"
    " deres sin sitt sine seg en ei et er var være vært blir ble bli har hadde ha hatt kan kunne vil ville"
    " skal skulle må måtte får fikk få gjør gjorde gjøre og eller men om at som til fra med på i av for hos"
    " ut inn opp ned ikke nei ja jo vel da nå så hva hvem hvor hvilken hvilke hvilket hvordan hvorfor når"
    " hvis her der dette disse denne enn også bare fortsatt ennå enda igjen allerede spurte spør spurt"
    " spørre spørsmål sa sagt svar svare hei hallo takk tusen vær snill gjerne litt noe noen mer helt"
    " egentlig faktisk virkelig altså liksom vet lurer vente venter ventet lenge dager uker"
)
_SMALL_SV = (
    "jag mig mitt mina dig ditt dina hon vår våra ni ert era sig ett är vara varit blev kunde måste fick"
    " gör göra och från över inte nej väl då nu vad vilka hur varför ifall där detta dessa än också"
    " fortfarande ännu igen redan frågade frågar fråga frågat sade hej hallå tack snälla gärna lite något"
    " några mycket egentligen faktiskt verkligen undrar vänta väntar väntat länge dagar veckor"
)
_SMALL_DA = (
    "mit os vores jer jeres sit været bliver blive havde have haft gør gøre af ud ind op hvad hvornår end"
    " stadig stadigvæk endnu spurgte spørger spurgt spørge sagde tak venligst nogen noget mere meget henne"
    " gerne lidt længe dage uger"
)
_SMALL_WORDS = frozenset(" ".join((_SMALL_EN, _SMALL_NB, _SMALL_SV, _SMALL_DA)).split())
# The order itself, in any of its words: "hvor er bestillingen min" and "hvor er pakken min" ask the same.
_ORDER_WORD = re.compile(
    r"(?:order|ordre|bestilling|beställning|pakke|pakka|paket|package|parcel|forsendelse|försändelse|"
    r"sending|shipment|leveranse|levering|leverans|delivery)\w{0,3}"
)
MIN_STEM = 4  # "pakk|en" and "pakk|a": a common start this long, and short endings, are one word
MAX_ENDING = 3  # "sko" and "skoene"
SAME_WORD_RATIO = 0.85  # a typo in a longer word ("bestilingen"); "skoene" and "skiene" stay two


@dataclass(frozen=True)
class EarlierTurn:
    """One of the customer's earlier messages in this conversation, newest last."""

    text: str
    intent: str | None
    at: datetime | None  # None: unknown, counts as recent


@dataclass(frozen=True)
class Assessment:
    signals: tuple[str, ...]

    @property
    def frustrated(self) -> bool:
        return bool(self.signals)

    def describe(self) -> str:
        return ", ".join(self.signals)


def assess(
    text: str, intent: str | None, earlier: Sequence[EarlierTurn], now: datetime, in_form: bool = False
) -> Assessment:
    signals = []
    if is_angry(text):
        signals.append(ANGRY)
    if is_shouting(text):
        signals.append(SHOUTING)
    if asked_again(text, intent, earlier, now, in_form):
        signals.append(REPEAT)
    return Assessment(tuple(signals))


def is_angry(text: str) -> bool:
    return _ANGRY.search(text) is not None


def is_shouting(text: str) -> bool:
    if any(run.count("!") >= 2 for run in _BANG_RUN.findall(text)):
        return True
    letters = [c for c in text if c.isalpha()]
    if len(letters) < MIN_SHOUTING_LETTERS:
        return False
    capitals = sum(1 for c in letters if c.isupper())
    return capitals / len(letters) >= SHOUTING_CAPITALS_SHARE


def asked_again(
    text: str, intent: str | None, earlier: Sequence[EarlierTurn], now: datetime, in_form: bool = False
) -> bool:
    words = _words(text)
    if len(words) < MIN_REPEAT_WORDS or (in_form and intent not in QUESTION_INTENTS):
        return False
    recent = list(earlier)[-REPEAT_LOOKBACK_TURNS:]
    for index, turn in enumerate(recent):
        if turn.at is not None and now - turn.at > REPEAT_WINDOW:
            continue
        if not _same_question(text, words, intent, turn):
            continue
        if _answered(text, recent[index + 1 :]) and not _answered(text, recent[index - 1 : index]):
            continue  # a retry after a look-up with what the customer gave in between, the first one
        return True
    return False


def _same_question(text: str, words: list[str], intent: str | None, turn: EarlierTurn) -> bool:
    if _details(text) != _details(turn.text):
        return False  # another order or address: a new question
    if _something_new(_content(text), _content(turn.text)):
        return False  # another item, or more: a new question in the same words
    earlier_words = _words(turn.text)
    if SequenceMatcher(None, _normal(text), _normal(turn.text)).ratio() >= SAME_WORDS_RATIO:
        return True
    return (
        intent in QUESTION_INTENTS and intent == turn.intent and _overlap(words, earlier_words) >= SAME_QUESTION_OVERLAP
    )


def _answered(text: str, between: Sequence[EarlierTurn]) -> bool:
    """Whether the customer gave, in one of `between`, a number or e-mail address that `text` has not:
    an answer to the bot's question for a look-up (order number, e-mail)."""
    numbers, emails = _details(text)
    for turn in between:
        their_numbers, their_emails = _details(turn.text)
        if their_numbers - numbers or their_emails - emails:
            return True
    return False


def _content(text: str) -> list[str]:
    """What a message asks about: its words without the small ones nor angry ones ("where is my order,
    this is useless" asks what "where is my order" did)."""
    return [w for w in _words(_ANGRY_WORD.sub(" ", text)) if w not in _SMALL_WORDS]


def _something_new(content: Sequence[str], earlier_content: Sequence[str]) -> bool:
    return any(not any(_same_word(word, seen) for seen in earlier_content) for word in content)


def _same_word(a: str, b: str) -> bool:
    """The same word, perhaps with another ending or a typo ("pakken", "pakka"; "bestilingen"), or two
    words for the order ("bestillingen", "pakken")."""
    if a == b or (_ORDER_WORD.fullmatch(a) and _ORDER_WORD.fullmatch(b)):
        return True
    short, long = sorted((a, b), key=len)
    if len(short) >= 3 and long.startswith(short) and len(long) - len(short) <= MAX_ENDING:
        return True
    stem = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if stem >= MIN_STEM and len(a) - stem <= MAX_ENDING and len(b) - stem <= MAX_ENDING:
        return True
    return SequenceMatcher(None, a, b).ratio() >= SAME_WORD_RATIO


def _normal(text: str) -> str:
    return " ".join(_words(text))


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(folded)


def _details(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Numbers (order numbers among them) and e-mail addresses in a message: what makes two similar
    questions different."""
    return frozenset(_NUMBER.findall(text)), frozenset(e.casefold() for e in find_emails(text))


def _overlap(a: Sequence[str], b: Sequence[str]) -> float:
    first, second = set(a), set(b)
    return len(first & second) / len(first | second) if first | second else 0.0
