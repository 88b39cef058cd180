"""Which language a customer writes: nb, sv, da or en, and when to switch the conversation to it.

About 400 lines on purpose: the evidence (lingua, the word lists, the shop's own examples) and the rules
that weigh it decide one thing together, and a rule is only understood beside the others.

The conversation keeps its language (the `language` slot; at its start a signed-in customer's stored
language, else the page's `metadata.language`, else the default) unless a message is clearly in another:

- Only letters of prose are evidence. Markup is dropped and the words between it kept: HTML tags, comments
  and entities, BBCode tags, a quote's ">", Markdown code spans with what they hold ("<b>fet</b> &
  <i>kursiv</i>": "fet", "kursiv"); so are emoticons (";)", ":-(", ":D", "<3"). Then e-mail addresses, links
  and anything with a digit (order numbers, prices, dates), then capitalised words inside a sentence (names:
  "Tromsø", "Tindra Klubben"). A message that is code (braces, "=", "$", "|", "<", a lone "*", "f()",
  "alert('", a semicolon that does not join two words: "'; DROP TABLE messages; --") has no evidence at
  all: its English keywords say nothing about the customer's language.
  A message of fewer than 3 words never switches: "ja", "ok", "yes please", "tusen takk".
- lingua (high accuracy, models for Bokmål, Nynorsk, Swedish, Danish and English, loaded once) gives
  every word its confidence values; their logs, floored at 1 %, are summed per language, so evidence
  grows with each word and one odd word cannot veto a language. Lingua's confidence for a whole short
  message averages its n-grams and is too flat: "hvad", "gerne" or "är" get lost in it. Norwegian is
  Bokmål or Nynorsk (the two models' probabilities added); lingua rates everyday Bokmål a little below
  Danish, so Norwegian gets 0.05 per word back.
- The shop's own NLU examples add what lingua's general models miss about chat Danish and Bokmål:
  a logistic regression on character 1-4-grams and on words and word pairs of data/nlu/<language>/
  (trained once per process, about 2 s), its log-probability added to lingua's sums (weight 1, floored
  at -10). Word pairs see word order, which characters within a word can't: Norwegian puts the
  possessive after the noun ("bestillingen min"), Danish before it ("min bestilling").
- How often each word is written in each language (wordfreq's lists, bot/word_frequencies.py): the log
  frequency times 0.75 is added per word, a word missing from a list counted as just under the list's
  rarest. Whole words tell chat Danish from Bokmål where letters can't: "fik", "uge", "jeres", "mellem"
  against "fikk", "uke", "deres", "mellom". Weight chosen on tests/nlu/language_dev/ (0.5-1.0 alike).
- A switch needs the new language to beat the current one by 1.0 (log-likelihood) to or from English,
  3.0 between nb, sv and da, which share many words. A message that is clearly Scandinavian but could
  be more than one of them goes to the default language (the shop's own), never to the runner-up.
  A switch also needs one word that the shop's examples in the new language contain: keyboard mashing
  of 3 words switched 37-159 of 200 conversations (lingua alone, by page language), 0 with this rule,
  which changed none of the independent set's results.
- Between nb, sv and da a switch also needs a word that the current language does not write: 10 times as
  frequent in the new language's word list as in the current one's, or by its own evidence (lingua and the
  word lists, not the domain model) 2 nats (7 times) likelier in the new language ("hvornår", "længe",
  "point", "är"; not "hvor", "min", "pakke", "størrelse", "hvilket"). Wording two of them share stays in the
  conversation's language, however the sums come out: the domain model learns the shop's own writers'
  habits, and gave 6.6 of the 8 nats that took "hvor er min pakke" to Danish (in data/nlu/da word for word;
  valid Bokmål, but data/nlu/nb writes "pakken min"). One such word is enough: "hvornår kommer min pakke"
  switches a Norwegian conversation to Danish ("hvornår" is no Norwegian slip; requiring two such words in a
  short message kept 11 % of clearly Danish messages in Norwegian).

Measured (scripts/measure_language.py, this 2-core machine; README "Languages" has the table from before the
rule for words the current language does not write), messages of 3+ words of tests/nlu/independent/, which
nobody who wrote data/nlu has seen; weights and margins were chosen on tests/nlu/<language>.yml and
tests/nlu/language_dev/. Each language is kept on its own page 100 %; a message clearly in its language (for
every other language, a word in one of the two word lists and not the other's) switches from any other page
99.2-100 %. Chat Danish and Bokmål are often written alike ("hvor er pakken min"; 8 messages word for word
in both files): those stay in the page's language, so all Danish messages switch from a Norwegian page
73.8 % and from a Swedish or English one 87.4 % (87.4 % from any before this rule, when the domain model's
word pairs took shared wording such as "hvor er min pakke" to Danish; 83.6 % before the word lists, 81.4 %
before word pairs in the domain model, 55.7 % with lingua alone), Norwegian from a Danish page 85.2 %
(90.7 % before it), Swedish from any 97.3-99.5 % (98.9-99.5 %:
"ha en bra dag", "status på order" are Bokmål too). A higher SCANDINAVIAN_MARGIN keeps more conversations on
their own page and switches fewer of the rest (3.5: nb kept 99.3 %, da switched 82 % on the held-out set;
2.5: 98.5 % and 86 %, both before the rule).
Messages of 1-2 words: 100 % kept, by the rule; of all 12 855 NLU examples, markup and code changed the
evidence of 4 ("hei :D", "solve 2x + 5 = 17").
Cost: choose_language 0.4 ms mean for a chat message (cold), 2.5 ms for 4000 characters; lingua's high
accuracy models +114 MB in the process (low accuracy: +12 MB, but it kept only 91.8 % of nb and 93.3 % of
en messages on their own page), the word lists +10 MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import html
import logging
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ruamel.yaml import YAML

from bot import word_frequencies

if TYPE_CHECKING:
    from lingua import Language, LanguageDetector

log = logging.getLogger(__name__)

LANGUAGES = ("nb", "sv", "da", "en")
SCANDINAVIAN = frozenset({"nb", "sv", "da"})

# Part of the key of training vectors that were kept or zeroed by detect_language (bot/nlu/sentence_encoder.py):
# change it when detection changes, so that none is reused.
DETECTOR_VERSION = "3"
LOW_ACCURACY = False  # lingua's trigram-only mode: 12 MB instead of 114, far worse on chat (Measured)
MIN_WORDS = 3  # fewer words never switch the conversation's language
# Log-likelihood the new language needs over the current one. Bokmål, Danish and Swedish share many
# words, so a switch between them needs more; a short English question must still switch (1.1 nats).
SWITCH_MARGIN = 1.0
SCANDINAVIAN_MARGIN = 3.0
# Between nb, sv and da, a switch needs a word the current language does not write: 10 times as frequent in
# the new language's word list as in the current one's, or by its own evidence (lingua and the word lists)
# this many nats likelier in the new language (Measured, last rule).
DISTINCT_CENTIBELS = 100
DISTINCT_WORD = 2.0
_BOKMAL_PER_WORD = 0.05  # lingua's Bokmål model underrates everyday Bokmål against Danish
_WORD_FLOOR = 0.01  # one word can move a language by at most log(100)
_MAX_CHARS = 2000  # the widget's limit; bounds the work on anything longer
_MAX_EVIDENCE_WORDS = 40  # plenty to decide; keeps a long message as fast as a short one
_MAX_WORD_CHARS = 40  # a longer run of letters is not a word
# The shop's own examples (data/nlu/<language>/) as character n-grams: what lingua's general models miss
# about chat Danish vs Bokmål ("hvornår", "gerne", "købt" vs "når", "gjerne", "kjøpt"). Its log-probability
# counts this much beside lingua's per-word sums; weight and floor chosen on tests/nlu/<language>.yml.
DOMAIN_WEIGHT = 1.0
_DOMAIN_FLOOR = -10.0
# How often a word is written in each language (bot/word_frequencies.py: "fik", "uge", "jeres" are Danish,
# "fikk", "uke", "deres" Bokmål), added per word to lingua's evidence: log frequency times this weight, a
# word missing from a list counted as just under the list's rarest. Chosen on tests/nlu/language_dev/.
FREQUENCY_WEIGHT = 0.75
_NATS_PER_CENTIBEL = math.log(10) / 100
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # [10234](order_id) -> 10234

# E-mails, links and anything with a digit (order numbers, prices, dates), without the punctuation after them.
_LINK = r"\S+@|\S*://|www\."
_NOISE = re.compile(rf"(?:{_LINK}|\S*\d)\S*?(?=[.,!?;:)\]]*(?:\s|$))")
_LINKS = re.compile(rf"(?:{_LINK})\S*")
# Markup, dropped with the words between its tags kept (after HTML entities are decoded: "&lt;b&gt;" is a tag):
# HTML/XML comments and tags, BBCode tags, a quote's ">" at the start of a line.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|</?[^\W\d_][\w:.-]*(?:\s[^<>]*)?/?>"
    r"|\[/?[^\W\d_]+(?:=[^\]\s]*)?\]"
    r"|^[ \t]*(?:>[ \t]*)+",
    re.DOTALL | re.MULTILINE,
)
_CODE_SPAN = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)  # Markdown code, dropped with what it holds
_EMOTICON = re.compile(r"(?<!\S)(?:[:;=8xX][-'’^o]?[()\[\]DPpOo3/\\|*@$]+|</?3+|\^_*\^)(?=[\s.,!?]|$)")
# What prose does not have and code does: braces, angle brackets, pipes, backslashes, "$", "=", a backtick;
# a semicolon that does not follow a word ("';", "');") or is not followed by one ("users;--", "messages; --"),
# a lone "*" ("SELECT *"), a call ("f()", "alert('"). A prose semicolon: "log in; it says", "(ordre 10234); den".
_CODE = re.compile(
    r"[{}<>|\\$=`]"
    r"|(?<![^\W_])(?<![^\W_][)\]\"'’»]);|;(?!\s+\w)"
    r"|(?<!\S)\*(?!\S)"
    r"|\w\((?:\)|['\"])"
)
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")  # control or replacement characters: not typed by a person
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # letters, with inner apostrophes ("don't")


@lru_cache(maxsize=1)
def _lingua_codes() -> dict[Language, str]:
    from lingua import Language

    return {
        Language.BOKMAL: "nb",
        Language.NYNORSK: "nn",
        Language.SWEDISH: "sv",
        Language.DANISH: "da",
        Language.ENGLISH: "en",
    }


# Words of all five languages, 5+ letters among them: one call with it loads every model (1- to 5-grams).
_ALL_MODELS_TEXT = "hvordan kommer pakken, korleis kjem pakken, hvornår kommer pakken, hur kommer paketet, where"


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(*_lingua_codes())
    if LOW_ACCURACY:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()
    # Load every model now with one message in all five languages rather than with_preloaded_language_models():
    # the same models, but measured 30-40 MB lower at the peak and steadier after the trim (Measured).
    detector.compute_language_confidence_values(_ALL_MODELS_TEXT)
    _return_freed_memory()
    return detector


class _DomainModel:
    """Logistic regression on character 1-4-grams, words and word pairs of the evidence words of every NLU example.

    liblinear: 2 s to fit on 8 800 examples, against 9 s for lbfgs, and as accurate here.
    """

    def __init__(self, texts: list[str], labels: list[str]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        self._vectorizer = FeatureUnion(
            [
                ("chars", CountVectorizer(analyzer="char_wb", ngram_range=(1, 4))),
                ("words", CountVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+")),
            ]
        )
        self._model = LogisticRegression(C=10, solver="liblinear").fit(self._vectorizer.fit_transform(texts), labels)
        self._words: dict[str, set[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            self._words.setdefault(label, set()).update(text.split())

    def knows_a_word(self, words: list[str], language: str) -> bool:
        """Whether any of the words occurs in the shop's examples in that language."""
        known = self._words.get(language, set())
        return any(word in known for word in words)

    def log_probabilities(self, words: Sequence[str]) -> dict[str, float]:
        row = self._model.predict_log_proba(self._vectorizer.transform([" ".join(words)]))[0]
        return {code: max(float(value), _DOMAIN_FLOOR) for code, value in zip(self._model.classes_, row, strict=True)}


def _nlu_examples(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.yml")):
        for block in (YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            lines = (block.get("examples") or "").splitlines() if isinstance(block, dict) else []
            texts += [_ENTITY_MARKUP.sub(r"\1", line.strip()[2:]) for line in lines if line.strip().startswith("- ")]
    return texts


@lru_cache(maxsize=1)
def _domain_model() -> _DomainModel | None:
    """Trained once per process from the project's data/nlu (about N s); None without data for 2+ languages."""
    from bot.settings import get_settings

    root = get_settings().training_root / "data" / "nlu"
    texts, labels = [], []
    for code in LANGUAGES:
        for text in _nlu_examples(root / code) if (root / code).is_dir() else []:
            _, words = evidence_words(text)
            if words:
                texts.append(" ".join(words))
                labels.append(code)
    if len(set(labels)) < 2:
        log.warning("no NLU examples for two languages under %s: language detection uses lingua alone", root)
        return None
    return _DomainModel(texts, labels)


def _return_freed_memory() -> None:
    """Give the buffers used while loading back to the system: 40-80 MB that glibc would otherwise keep."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the memory stays reserved, nothing breaks
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def warm_up() -> None:
    """Load lingua's models, the word lists and train the domain model now (a few seconds), not on the first
    message. Raises WordListsMissing when `make install` has not built the word lists."""
    _detector()
    word_frequencies.centibels()
    _domain_model()


@lru_cache(maxsize=8192)
def _word_log_confidences(word: str) -> dict[str, float]:
    """One lowercased word's evidence per model: lingua's log confidence, plus its log frequency in the
    language's word list (cached: the same words come back all the time)."""
    codes = _lingua_codes()
    values = dict.fromkeys(codes.values(), 0.0)
    for value in _detector().compute_language_confidence_values(word):
        values[codes[value.language]] = value.value
    scores = {code: math.log(max(value, _WORD_FLOOR)) for code, value in values.items()}
    lists, missing = word_frequencies.centibels(), word_frequencies.MISSING_CENTIBELS
    for code in scores:
        # wordfreq has no Nynorsk list; Norwegian is scored as Bokmål or Nynorsk, so both get Bokmål's.
        centibels = min(lists["nb" if code == "nn" else code].get(word, missing), missing)
        scores[code] -= FREQUENCY_WEIGHT * centibels * _NATS_PER_CENTIBEL
    return scores


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:"


def _prose(text: str) -> str | None:
    """The message without markup, emoticons, links, e-mails and digits; None when it is code."""
    text = _EMOTICON.sub(" ", _MARKUP.sub(" ", html.unescape(_CODE_SPAN.sub(" ", text))))
    if _CODE.search(_LINKS.sub(" ", text)):
        return None
    return _NOISE.sub(" ", text)


def evidence_words(text: str) -> tuple[int, list[str]]:
    """How many words of prose the message has once markup, digits, e-mails and links are gone (none in code),
    and which are evidence."""
    if not isinstance(text, str) or _BINARY.search(text[:_MAX_CHARS]):
        return 0, []
    prose = _prose(text[:_MAX_CHARS])
    if prose is None:
        return 0, []
    text = prose
    count, evidence = 0, list[str]()
    for match in _WORD.finditer(text):
        word = match.group()
        count += 1
        if len(word) > _MAX_WORD_CHARS or len(evidence) >= _MAX_EVIDENCE_WORDS:
            continue
        # A capitalised word inside a sentence is a name, and a name says nothing about the language.
        if word[0].isupper() and not word.isupper() and not _starts_sentence(text, match.start()):
            continue
        evidence.append(word.lower())
    return count, evidence


# Remembered: the Rasa server scores each message for its embedding (bot/nlu/sentence_encoder.py) and for
# the language to answer in (bot/session_context.py); 5 % of a profiled Rasa server's samples. Read only.
@lru_cache(maxsize=1024)
def _scores(words: tuple[str, ...]) -> dict[str, float]:
    totals = {"nb": 0.0, "nn": 0.0, "sv": 0.0, "da": 0.0, "en": 0.0}
    for word in words:
        for code, log_confidence in _word_log_confidences(word).items():
            totals[code] += log_confidence
    # Norwegian is Bokmål or Nynorsk: log(P(nb) + P(nn)).
    high, low = max(totals["nb"], totals["nn"]), min(totals["nb"], totals["nn"])
    norwegian = high + math.log1p(math.exp(low - high))
    scores = {
        "nb": norwegian + _BOKMAL_PER_WORD * len(words),
        "sv": totals["sv"],
        "da": totals["da"],
        "en": totals["en"],
    }
    domain = _domain_model() if DOMAIN_WEIGHT else None
    if domain is not None:
        for code, log_probability in domain.log_probabilities(words).items():
            scores[code] += DOMAIN_WEIGHT * log_probability
    return scores


def language_scores(text: str) -> dict[str, float]:
    """Log-likelihood of the message in each language (higher is likelier); empty without evidence."""
    _, words = evidence_words(text)
    return dict(_scores(tuple(words))) if words else {}  # the caller's own copy


def detect_language(text: str) -> tuple[str | None, float]:
    """Best guess and its margin over the runner-up; (None, 0.0) when nothing points anywhere."""
    scores = language_scores(text)
    if not scores:
        return None, 0.0
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return ranked[0][0], ranked[0][1] - ranked[1][1]


def choose_language(
    text: str,
    current: str | None,
    page_language: str | None,
    default: str = "nb",
    customer_language: str | None = None,
) -> str:
    """The language to answer in: the conversation's, switched only on clear evidence of another one.

    Without a conversation language yet, the signed-in customer's stored language is the first guess,
    then the page's, then `default`.
    """
    fallback = default if default in LANGUAGES else "nb"
    start = next((code for code in (current, customer_language, page_language) if code in LANGUAGES), fallback)
    count, words = evidence_words(text)
    if count < MIN_WORDS or not words:
        return start
    scores = _scores(tuple(words))
    best = max(scores, key=scores.__getitem__)
    if best == start or scores[best] - scores[start] < _margin(best, start):
        return start
    # Clearly not `start`; but Danish, Bokmål and Swedish can be written alike: then the shop's own language.
    if best in SCANDINAVIAN and fallback in SCANDINAVIAN and scores[best] - scores[fallback] < SCANDINAVIAN_MARGIN:
        best = fallback
    # Keyboard mashing ("florp zibbel wonk") scores somewhere too; a real message has a word we know.
    domain = _domain_model()
    if best != start and domain is not None and not domain.knows_a_word(words, best):
        return start
    # Between nb, sv and da: only on a word the current language does not write.
    if best != start and best in SCANDINAVIAN and start in SCANDINAVIAN and not _words_written_in(words, best, start):
        return start
    return best


def _word_scores(word: str) -> dict[str, float]:
    """One word's own evidence per language as _scores counts it (Norwegian: Bokmål or Nynorsk), no domain model."""
    values = _word_log_confidences(word)
    high, low = max(values["nb"], values["nn"]), min(values["nb"], values["nn"])
    norwegian = high + math.log1p(math.exp(low - high)) + _BOKMAL_PER_WORD
    return {"nb": norwegian, "sv": values["sv"], "da": values["da"], "en": values["en"]}


def _words_written_in(words: Sequence[str], new: str, current: str) -> list[str]:
    """The words (each once) that `new` writes and `current` does not: 10 times as frequent in `new`'s word
    list ("point": Danish 400 cB, Bokmål 504), or, for a word `current`'s list lacks, DISTINCT_WORD nats
    likelier by their own evidence. A word both lists have about as often is written by both, whatever its
    letters suggest to lingua: "paypal" (Bokmål 578 cB, Danish 556) is no Danish word."""
    lists, missing = word_frequencies.centibels(), word_frequencies.MISSING_CENTIBELS
    found = []
    for word in dict.fromkeys(words):
        rarer = min(lists[current].get(word, missing), missing) - lists[new].get(word, missing)
        by_list = word in lists[new] and rarer >= DISTINCT_CENTIBELS
        scores = _word_scores(word)
        by_evidence = word not in lists[current] and scores[new] - scores[current] >= DISTINCT_WORD
        if by_list or by_evidence:
            found.append(word)
    return found


def _margin(new: str, current: str) -> float:
    return SCANDINAVIAN_MARGIN if new in SCANDINAVIAN and current in SCANDINAVIAN else SWITCH_MARGIN
