"""Masking measured on a written set of messages (tests/unit/masking_cases.yml).

Every case must come out exactly as written there. The measurement counts the pieces of personal data
that are gone after masking (recall) and the ordinary messages that changed (false masks); the figures
in bot/training/masking.py's docstring must be the ones measured here.

    python -m tests.unit.test_masking_cases    # prints the figures and every miss
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.training import masking
from bot.training.masking import mask_personal_data

CASES_FILE = Path(__file__).with_name("masking_cases.yml")
LANGUAGES = ("nb", "sv", "da", "en")


@dataclass(frozen=True)
class Case:
    lang: str
    text: str
    expected: str
    personal: tuple[str, ...]  # empty: an ordinary message, expected unchanged
    known_limit: bool = False


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [
        Case(c["lang"], c["text"], c["expected"], tuple(c["personal"]), bool(c.get("known_limit")))
        for c in data["personal"]
    ]
    cases += [Case(c["lang"], c["text"], c["text"], (), bool(c.get("known_limit"))) for c in data["ordinary"]]
    return cases


@dataclass(frozen=True)
class Measurement:
    pieces: int  # pieces of personal data in the set
    pieces_masked: int  # of them, gone from the masked text
    personal_messages: int
    personal_messages_clean: int  # no piece left
    ordinary_messages: int
    ordinary_changed: int
    misses: tuple[str, ...]  # "lang: piece (in text)" for every piece left, every ordinary message changed

    @property
    def recall(self) -> float:
        return self.pieces_masked / self.pieces

    @property
    def false_mask_rate(self) -> float:
        return self.ordinary_changed / self.ordinary_messages

    def summary(self) -> str:
        return (
            f"recall: {self.pieces_masked} of {self.pieces} pieces of personal data masked ({self.recall:.1%}); "
            f"{self.personal_messages_clean} of {self.personal_messages} messages with personal data fully masked\n"
            f"false masks: {self.ordinary_changed} of {self.ordinary_messages} ordinary messages changed "
            f"({self.false_mask_rate:.0%})"
        )


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w{2,}", text))


def piece_masked(piece: str, text: str, output: str) -> bool:
    """True if no word of the piece is left in the output (words the text also has elsewhere aside):
    "Kari Nordmann" -> "[name] Nordmann" leaves one."""
    own = _words(piece) - _words(text.replace(piece, " "))
    return not own & _words(re.sub(r"\[[a-z-]+\]", " ", output))


def measure(cases: list[Case]) -> Measurement:
    pieces = masked_pieces = clean = changed = 0
    misses: list[str] = []
    personal = [case for case in cases if case.personal]
    ordinary = [case for case in cases if not case.personal]
    for case in personal:
        output = mask_personal_data(case.text)
        left = [piece for piece in case.personal if not piece_masked(piece, case.text, output)]
        pieces += len(case.personal)
        masked_pieces += len(case.personal) - len(left)
        clean += not left
        misses += [f"{case.lang}: {piece!r} left in {output!r}" for piece in left]
    for case in ordinary:
        output = mask_personal_data(case.text)
        if output != case.text:
            changed += 1
            misses.append(f"{case.lang}: ordinary text changed: {case.text!r} -> {output!r}")
    return Measurement(pieces, masked_pieces, len(personal), clean, len(ordinary), changed, tuple(misses))


CASES = load_cases()


def test_the_set_is_large_balanced_and_in_all_four_languages() -> None:
    personal = [case for case in CASES if case.personal]
    ordinary = [case for case in CASES if not case.personal]
    assert len(CASES) >= 60
    assert abs(len(personal) - len(ordinary)) <= len(CASES) // 10
    for language in LANGUAGES:
        assert sum(case.lang == language for case in personal) >= 8, language
        assert sum(case.lang == language for case in ordinary) >= 8, language
    assert len({case.text for case in CASES}) == len(CASES)  # no duplicates
    for case in personal:
        assert all(piece in case.text for piece in case.personal), case.text


@pytest.mark.parametrize("case", CASES, ids=[f"{c.lang}-{i}" for i, c in enumerate(CASES)])
def test_each_case_masks_as_written(case: Case) -> None:
    assert mask_personal_data(case.text) == case.expected


def test_the_measured_figures_are_the_ones_in_the_docstring() -> None:
    result = measure(CASES)
    print("\n" + result.summary())
    # Only the known limits miss, and the docstring of masking.py reports exactly these figures.
    limits = [case for case in CASES if case.known_limit]
    assert result.pieces - result.pieces_masked + result.ordinary_changed <= sum(len(c.personal) or 1 for c in limits)
    doc = " ".join((masking.__doc__ or "").split())
    assert (
        f"recall: {result.pieces_masked} of {result.pieces} pieces of personal data masked ({result.recall:.1%})" in doc
    )
    assert (
        f"false masks: {result.ordinary_changed} of {result.ordinary_messages} ordinary messages changed "
        f"({result.false_mask_rate:.0%})" in doc
    )


if __name__ == "__main__":
    figures = measure(CASES)
    print(figures.summary())
    for miss in figures.misses:
        print("  " + miss)
