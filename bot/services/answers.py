"""What a customer's short answer inside a form says beyond what NLU reads: an item named in their own
words, a reason for returning it, or "the other one".

Customers answer again, ahead of the question or in other words ("soveposen", "the sleeping bag",
"sovsäcken", "it was too small", "den var för liten", "nei, den andre ordren", "nej, den anden ordre"),
in nb, en, sv or da. NLU has no intent for most of these and may read them as
a fallback or a complaint; the forms (actions/returns.py, actions/orders.py) read them here instead.
Only a *bare* remark counts: one whose every word is an item, a reason, "other", yes/no or filler.
So a question or a complaint that merely names an item ("the sleeping bag has a tear") is left to NLU.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

ORDER = "order"  # "the other order"
ONE = "one"  # "the other one": the other item, or the other order when there is no other item

# The shop's product names are Norwegian only; these are the English words customers use for them,
# keyed by the first word of the product name.
_ENGLISH_NAMES = {
    "sovepose": ("sleeping bag", "sleepingbag"),
    "ullundertøy": ("thermal underwear", "wool underwear", "underwear", "thermals", "base layer"),
    "løpesokker": ("running socks", "socks", "sock"),
    "sykkelhjelm": ("bike helmet", "bicycle helmet", "cycling helmet", "helmet"),
    "telt": ("tent",),
    "termos": ("thermos", "flask"),
    "løpejakke": ("running jacket", "jacket"),
    "terrengsko": ("trail shoes", "trail runners", "shoes"),
    "fjellsko": ("hiking boots", "hiking shoes", "boots", "shoes"),
    "skiluer": ("ski hat", "beanie", "hat"),
}
# The Swedish and Danish words for them, as stems: _SCANDINAVIAN_ENDINGS adds the definite and plural
# forms ("sovsäcken", "jackan", "skorna", "strømperne"). Danish words close enough to the Norwegian name
# ("soveposen", "teltet", "hjelmen", "skoene") are read by names_product already.
_SCANDINAVIAN_NAMES = {
    "sovepose": ("sovsäck",),
    "ullundertøy": ("ullunderställ", "underställ", "långkalsong", "uldundertøj", "undertøj", "skiundertøj"),
    "løpesokker": ("löparstrump", "strump", "sock", "løbesok", "løbesokk", "sok", "sokk", "strømpe"),
    "sykkelhjelm": ("cykelhjälm", "hjälm", "cykelhjelm"),
    "telt": ("tält",),
    "termos": ("termokande", "termoflaske"),
    "løpejakke": ("löparjack", "jack", "løbejakke", "jakke"),
    "terrengsko": ("terrängsko", "trailsko", "löparsko", "terrænsko", "sko"),
    "fjellsko": ("vandringskäng", "käng", "vandringssko", "vandrestøvle", "støvle", "sko"),
    "skiluer": ("skidmöss", "möss", "luv", "skihue", "hue"),
}
_SCANDINAVIAN_ENDINGS = r"(?:a|an|ar|arna|e|en|ene|er|erna|erne|et|n|na|ne|or|orna|r|rna|rne|t)?"

# Why an item goes back: fit, size, colour, taste. Not a fault: a fault is a complaint, for a person.
_REASONS = re.compile(
    r"\b(?:"
    r"(?:alt\s*)?for\s+(?:liten|lite|små|stor|stort|store|trang|trangt|trange|vid|vidt|vide|kort|korte|lang|langt"
    r"|lange|tung|tungt|varm|varmt|kald|kaldt)"
    r"|pass(?:et|er)\s+(?:ikke|dårlig)|feil\s+(?:størrelse|farge|str)|lik(?:te|er)\s+(?:den|det|dem)\s+ikke"
    # sv
    r"|(?:allt\s*|alldeles\s+)?för\s+(?:liten|litet|lilla|små|stor|stort|stora|trång|trångt|trånga|vid|vitt|vida|kort"
    r"|korta|lång|långt|långa|tung|tungt|tunga|varm|varmt|varma|kall|kallt|kalla)"
    r"|pass(?:ade|ar)\s+(?:inte|dåligt)|fel\s+(?:storlek|färg|str)"
    r"|(?:gillade|gillar|tyckte)\s+(?:inte\s+om\s+(?:den|det|dem)|(?:den|det|dem)\s+inte)"
    # da: "for stor", "for kort" are read above
    r"|for\s+(?:lille|stram|stramt|stramme|små|kold|koldt|kolde)"
    r"|passede\s+(?:ikke|dårligt)|forkert\s+(?:størrelse|farve|str)|kan\s+ikke\s+lide\s+(?:den|det|dem)"
    r"|kunne\s+ikke\s+lide\s+(?:den|det|dem)"
    r"|too\s+(?:small|big|large|tight|loose|short|long|heavy|warm|hot|cold)"
    r"|(?:didn't|did\s+not|doesn't|does\s+not|don't|do\s+not)\s+(?:really\s+)?fit"
    r"|wrong\s+(?:size|colou?r)|(?:didn't|did\s+not|don't|do\s+not)\s+(?:really\s+)?like\s+(?:it|them)"
    r")\b"
)
_WRONG_ORDER = re.compile(
    r"\b(?:feil|wrong|fel|forkert)\s+(?:ordre|ordren|bestilling|bestillingen|order|ordern|beställning"
    r"|beställningen)\b"
)

_OTHER = frozenset({"andre", "annen", "annet", "other", "another", "andra", "annan", "annat", "anden", "andet"})
_ORDER_WORDS = frozenset(
    {"ordre", "ordren", "ordrer", "ordrene", "bestilling", "bestillingen", "bestillingene", "order", "orders"}
    | {"ordern", "ordrar", "ordrarna", "beställning", "beställningen", "beställningar", "beställningarna"}  # sv
    | {"ordrerne", "bestillinger", "bestillingerne"}  # da
)
_EVERYTHING = frozenset(
    {"begge", "alle", "alt", "both", "all", "everything", "båda", "bägge", "alla", "allt", "allihop", "allesammen"}
)
_NO = frozenset({"nei", "neida", "no", "nope", "nah", "nej", "nä", "nää", "næ", "nix"})
_YES_OR_NO = _NO | {"ja", "jo", "jepp", "japp", "jada", "javisst", "ok", "okei", "greit"}
_YES_OR_NO |= {"yes", "yeah", "yep", "yup", "sure", "okay"}
_YES_OR_NO |= {"jajamen", "visst", "okej", "absolut", "jep", "jeps", "javel"}  # sv, da
# Words that carry no answer of their own: yes and no, pronouns, "I meant", "I want to return", ...
# "ikke" and "not" are left out on purpose: "not the socks" is for NLU, not a bare mention.
_FILLER_WORDS = """
    ja jo jepp nei ok okei greit jeg eg du det den de dem denne dette disse var er ble blir gjelder mente mener
    tenkte skulle skal vil ville gjerne kan returnere returnerer sende sender tilbake levere bare kun altså nå så
    og også min mitt mine meg fra av om en et ei beklager unnskyld oi oj ops kjøpte kjøpt fikk bestilte handlet
    takk litt veldig helt skikkelig egentlig faktisk dessverre sammen vare varen varene produktet tingen
    yes yeah yep no nope nah okay i it its s is was were are the a an my mine me that this these those they them
    one ones meant mean sorry oops oh just only actually want wanted would like d ll m to return returning send
    sending back please and also of from in bought got ordered thanks thank you really very bit little for about
    be item items product quite unfortunately so well much
    nej nä nää japp visst okej jag dig mig mina mitt är blev blir gäller menade menar tänkte ska skulle vill
    gärna returnera returnerar skicka skickar tillbaka lämna bara endast alltså nu också och om ett från av
    förlåt ursäkta oj oops köpte köpt fick beställde handlade tack lite väldigt helt faktiskt tyvärr tillsammans
    vara varan varor varorna produkten grejen saken denna detta dessa för
    næ jep jeps javel jeg mit blev bliver gælder mente mener tænkte skal skulle vil gerne returnere
    returnerer sende sender tilbage aflevere bare kun altså nu så også og om fra af undskyld ups købte købt fik
    bestilte handlede tak lidt meget helt faktisk desværre sammen vare varen varer varerne produktet tingen
"""
_FILLER = frozenset(_FILLER_WORDS.split())
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Remark:
    """What a short message says, word by word."""

    items: tuple[str, ...]  # the given product names it names
    everything: bool  # "begge", "all of them"
    reason: bool  # a reason for returning ("for liten", "didn't fit")
    other: str | None  # ORDER or ONE
    yes_or_no: bool  # says yes or no in so many words ("ja", "no"), whatever NLU made of it
    no: bool  # says no in so many words
    rest: tuple[str, ...]  # words that are none of the above nor filler

    @property
    def bare(self) -> bool:
        return not self.rest

    @property
    def says_something(self) -> bool:
        return bool(self.items or self.everything or self.reason or self.other)


def read_remark(text: str, product_names: Sequence[str] = ()) -> Remark:
    """Read `text` against the names of the products it may be about (an order's items, say)."""
    folded = _fold(text)
    reason = bool(_REASONS.search(folded))
    wrong_order = bool(_WRONG_ORDER.search(folded))
    folded = _WRONG_ORDER.sub(" ", _REASONS.sub(" ", folded))
    items, folded = _other_language_mentions(folded, product_names)
    words = _WORD.findall(folded)
    named = {name for name in product_names for word in words if names_product(word, name)}
    items |= named
    other = ORDER if wrong_order or (_OTHER & set(words) and _ORDER_WORDS & set(words)) else None
    other = other or (ONE if _OTHER & set(words) else None)
    known = _FILLER | _OTHER | _ORDER_WORDS | _EVERYTHING
    rest = tuple(w for w in words if w not in known and not any(names_product(w, n) for n in product_names))
    ordered = tuple(name for name in product_names if name in items)
    said = set(_WORD.findall(_fold(text)))
    return Remark(
        ordered, bool(_EVERYTHING & set(words)), reason, other, bool(_YES_OR_NO & said), bool(_NO & said), rest
    )


def says_yes_or_no(text: str) -> bool:
    return bool(_YES_OR_NO & set(_WORD.findall(_fold(text))))


def names_product(word: str, product_name: str) -> bool:
    """Whether one word names the product: "soveposen" -> Sovepose Vinter, "sokkene" -> Løpesokker 3-pk.

    Norwegian compounds and endings: the word starts with the product's first word, or the word's stem
    is part of it ("sokk" in "løpesokker", "hjelm" in "sykkelhjelm"; short stems only at its end: "sko").
    """
    key = product_key(product_name)
    if len(word) < 3 or not key:
        return False
    if word.startswith(key):
        return True
    stem = _stem(word)
    return stem in key if len(stem) >= 4 else len(stem) == 3 and key.endswith(stem)


def product_key(product_name: str) -> str:
    """The word a product is known by: the first of its name ("Sovepose" of "Sovepose Vinter")."""
    words = _WORD.findall(_fold(product_name))
    return words[0] if words else ""


def _other_language_mentions(folded: str, product_names: Sequence[str]) -> tuple[set[str], str]:
    """Product names mentioned in English, Swedish or Danish, and the text without those words ("shoes"
    and "skor" may name two)."""
    found, matched = set(), []
    for name in product_names:
        key = product_key(name)
        phrases = [(phrase, r"s?") for phrase in _ENGLISH_NAMES.get(key, ())]
        phrases += [(stem, _SCANDINAVIAN_ENDINGS) for stem in _SCANDINAVIAN_NAMES.get(key, ())]
        for phrase, endings in phrases:
            pattern = re.compile(r"\b" + re.escape(phrase) + endings + r"\b")
            if pattern.search(folded):
                found.add(name)
                matched.append(pattern)
    for pattern in matched:
        folded = pattern.sub(" ", folded)
    return found, folded


def _stem(word: str) -> str:
    """Strip one Norwegian definite or plural ending: "sokkene" -> "sokk", "jakka" -> "jakk"."""
    for ending in ("ene", "ane", "en", "et", "er", "a", "e"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
