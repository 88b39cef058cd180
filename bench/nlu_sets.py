"""The data sets the NLU benchmark reads: public benchmarks (Banking77, CLINC150) and our own test sets.

Public sets are read from BOT_NLU_BENCH_DATA (default ../shared/data beside the checkout); they are
measured on, never copied into data/nlu. Our own: the held-out set (tests/nlu/<lang>.yml, written with
the training data) and the independent set (tests/nlu/independent/<lang>.yml, written by someone who
never saw data/nlu).
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

Example = tuple[str, str]  # text, intent
OUT_OF_SCOPE = "out_of_scope"
LANGUAGES = ("nb", "en", "sv", "da")


@dataclass(frozen=True)
class Split:
    name: str
    train: list[Example]
    test: list[Example]


def public_data() -> Path:
    return Path(os.environ.get("BOT_NLU_BENCH_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def _banking77(split: str) -> list[Example]:
    with (public_data() / "banking77" / f"{split}.csv").open(encoding="utf-8") as file:
        return [(row["text"], row["category"]) for row in csv.DictReader(file)]


def banking77(shots: int | None, seed: int = 58) -> Split:
    """Banking77 with `shots` training examples per intent (None: the full training set)."""
    train = _banking77("train")
    if shots is not None:
        by_intent: dict[str, list[Example]] = {}
        for example in train:
            by_intent.setdefault(example[1], []).append(example)
        rng = random.Random(seed)
        train = [e for intent in sorted(by_intent) for e in rng.sample(by_intent[intent], shots)]
    return Split(f"Banking77 {shots}-shot" if shots else "Banking77 full", train, _banking77("test"))


def clinc_out_of_scope() -> list[str]:
    """CLINC150's out-of-scope test queries: none of them is a question a sports shop's support answers."""
    data = json.loads((public_data() / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    return [text for text, _ in data["oos_test"]]


def our_set(kind: str, language: str) -> list[Example]:
    """kind 'held-out' (tests/nlu/<lang>.yml) or 'independent' (tests/nlu/independent/<lang>.yml)."""
    from rasa.shared.nlu.training_data.loading import load_data

    folder = PROJECT_ROOT / "tests" / "nlu" / ("independent" if kind == "independent" else "")
    path = folder / f"{language}.yml"
    if not path.exists():
        return []
    return [(e.get("text"), e.get("intent")) for e in load_data(str(path)).intent_examples]


def our_training_data() -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    return [(e.get("text"), e.get("intent")) for e in data.intent_examples]


def write_rasa_json(examples: list[Example], path: Path) -> Path:
    """Rasa's JSON training format: texts are taken as they are (YAML's [entity](markup) would parse them)."""
    common = [{"text": text, "intent": intent} for text, intent in examples]
    path.write_text(json.dumps({"rasa_nlu_data": {"common_examples": common}}, ensure_ascii=False), encoding="utf-8")
    return path
