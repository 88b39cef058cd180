"""Check that the NLU test set in tests/nlu/ is held out from the training data.

A test example collides with training when, after normalising (lower case,
entity markup reduced to its value, punctuation, whitespace and diacritics
removed, so "nar far jeg" matches "når får jeg"), it equals a training example
of any language ("exact"), or equals one once order numbers and e-mail
addresses (as bot/patterns.py finds them) are masked, i.e. differs only in
those ("near"). Duplicates within and across the test files are found the same
way.

Usage: python tests/nlu/check_held_out.py   (exit code 1 on any finding)
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: `python tests/nlu/check_held_out.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bot.patterns import EMAIL_RE, ORDER_ID_RE  # noqa: E402  (needs ROOT on the path)

TRAIN_FILES = sorted((ROOT / "data" / "nlu").rglob("*.yml"))
TEST_FILES = sorted((ROOT / "tests" / "nlu").glob("*.yml"))

# [value](entity), [value](entity:synonym) or [value]{"entity": ...}
ENTITY_RE = re.compile(r"\[(?P<value>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")
# Private-use characters stand in for masked entities and survive normalising.
MASKS = {"order_id": "\ue000", "email": "\ue001"}
FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss"})  # NFKD leaves these whole


class Example(NamedTuple):
    path: Path
    intent: str
    text: str


def load_examples(path: Path) -> list[Example]:
    """Return the intent examples of one Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue  # regex, lookup and synonym blocks hold no examples
        items = block.get("examples") or []
        if isinstance(items, str):
            items = [line.strip()[2:] for line in items.splitlines() if line.strip().startswith("- ")]
        for item in items:
            text = item.get("text", "") if isinstance(item, dict) else str(item)
            examples.append(Example(path, block["intent"], text.strip()))
    return examples


def entity_name(match: re.Match[str]) -> str:
    if match["json"]:
        return str(json.loads(match["json"]).get("entity", ""))
    return match["name"].split(":")[0].strip()


def normalise(text: str) -> str:
    # NFKD splits "å" into "a" + a combining ring, which the filter drops.
    text = unicodedata.normalize("NFKD", text.lower().translate(FOLD))
    return "".join(ch for ch in text if ch.isalnum() or ch in MASKS.values())


def exact_key(text: str) -> str:
    return normalise(ENTITY_RE.sub(lambda m: m["value"], text))


def masked_key(text: str) -> str:
    text = ENTITY_RE.sub(lambda m: MASKS.get(entity_name(m), m["value"]), text)
    text = EMAIL_RE.sub(MASKS["email"], text)  # unannotated values count too
    return normalise(ORDER_ID_RE.sub(MASKS["order_id"], text))


def describe(example: Example) -> str:
    return f"{example.path.relative_to(ROOT)} [{example.intent}] {example.text!r}"


def find_problems() -> list[str]:
    train: dict[str, Example] = {}
    train_masked: dict[str, Example] = {}
    for path in TRAIN_FILES:
        for example in load_examples(path):
            train.setdefault(exact_key(example.text), example)
            train_masked.setdefault(masked_key(example.text), example)

    problems: list[str] = []
    seen: dict[str, Example] = {}
    for path in TEST_FILES:
        for example in load_examples(path):
            key, masked = exact_key(example.text), masked_key(example.text)
            if key in train:
                problems.append(f"exact: {describe(example)} == {describe(train[key])}")
            elif masked in train_masked:
                problems.append(f"near: {describe(example)} ~ {describe(train_masked[masked])}")
            if masked in seen:
                problems.append(f"duplicate: {describe(example)} ~ {describe(seen[masked])}")
            seen.setdefault(masked, example)
    return problems


def main() -> int:
    if not TRAIN_FILES or not TEST_FILES:
        print("no training or test files found", file=sys.stderr)
        return 1
    problems = find_problems()
    for problem in problems:
        print(problem)
    n_test = sum(len(load_examples(path)) for path in TEST_FILES)
    print(f"{len(problems)} problem(s) in {n_test} test examples ({len(TEST_FILES)} files)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
