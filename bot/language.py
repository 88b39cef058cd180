"""Which language a customer writes: nb, sv, da or en, and when to switch the conversation to it.

Short messages are ambiguous (Bokmål and Danish share most words), so the conversation keeps its
language unless a message carries clear evidence of another one. Evidence is counted in words of each
language's function-word list (spaCy's stop words) plus a few everyday support words those lists
lack; a switch needs clearly more of the new language's words than of the current one's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.i18n import SUPPORTED_LANGUAGES

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words customers use all the time that are not function words, per language.
_EXTRA = {
    "nb": {
        "hei",
        "takk",
        "hvor",
        "pakken",
        "pakka",
        "bestilling",
        "bestillingen",
        "ordre",
        "ordren",
        "returnere",
        "pakke",
        "poeng",
        "kundeservice",
        "ikke",
        "jeg",
        "hva",
        "hvordan",
        "når",
        "kan",
        "mitt",
        "min",
        "mine",
    },
    "da": {"hej", "tak", "pakke", "ikke", "jeg", "hvad", "hvordan", "hvornår", "bestilling"},
    "sv": {"hej", "tack", "paket", "inte", "jag", "vad", "hur", "när", "beställning", "min"},
    "en": {
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "please",
        "order",
        "parcel",
        "package",
        "return",
        "points",
        "where",
        "what",
        "how",
        "when",
        "my",
        "is",
        "the",
        "want",
        "can",
        "help",
    },
}
_MIN_EVIDENCE = (
    2  # more words of the new language than of the current one needed before a conversation switches language
)


@lru_cache(maxsize=1)
def _language_words() -> dict[str, frozenset[str]]:
    from spacy.lang.da.stop_words import STOP_WORDS as DA
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.nb.stop_words import STOP_WORDS as NB
    from spacy.lang.sv.stop_words import STOP_WORDS as SV

    return {
        "nb": frozenset(NB | _EXTRA["nb"]),
        "da": frozenset(DA | _EXTRA["da"]),
        "sv": frozenset(SV | _EXTRA["sv"]),
        "en": frozenset(EN | _EXTRA["en"]),
    }


def warm_up() -> None:
    """Load the word lists now (importing spaCy's language data takes seconds on a cold start)."""
    _language_words()


def language_scores(text: str) -> dict[str, int]:
    """Words of each language in the text; the letters äö and æøå add a point to sv and nb/da."""
    tokens = [token.lower() for token in _WORD.findall(text[:2000])]
    scores = {code: sum(token in words for token in tokens) for code, words in _language_words().items()}
    lowered = text.lower()
    scores["sv"] += sum(lowered.count(ch) for ch in "äö")
    nordic = any(ch in lowered for ch in "øæå")
    scores["nb"] += nordic
    scores["da"] += nordic
    return scores


def detect_language(text: str) -> tuple[str | None, int]:
    """Best guess and its margin over the runner-up; (None, 0) when nothing points anywhere."""
    scores = language_scores(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0:
        return None, 0
    return best, top - second


def choose_language(text: str, current: str | None, page_language: str | None, default: str = "nb") -> str:
    """The language to answer in: switch from the current one only on clear evidence."""
    start = current if current in SUPPORTED_LANGUAGES else None
    start = start or (page_language if page_language in SUPPORTED_LANGUAGES else None) or default
    scores = language_scores(text)
    best = max(SUPPORTED_LANGUAGES, key=lambda code: scores[code])
    if best != start and scores[best] - scores[start] >= _MIN_EVIDENCE:
        return best
    return start
