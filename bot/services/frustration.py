"""Clear frustration in a customer's message: angry wording, shouting, or the same question asked again.

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
    for turn in list(earlier)[-REPEAT_LOOKBACK_TURNS:]:
        if turn.at is not None and now - turn.at > REPEAT_WINDOW:
            continue
        if _details(text) != _details(turn.text):
            continue  # another order or address: a new question
        if SequenceMatcher(None, _normal(text), _normal(turn.text)).ratio() >= SAME_WORDS_RATIO:
            return True
        if (
            intent in QUESTION_INTENTS
            and intent == turn.intent
            and _overlap(words, _words(turn.text)) >= (SAME_QUESTION_OVERLAP)
        ):
            return True
    return False


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
