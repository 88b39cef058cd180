"""`python -m bot nlu-bench`: how well the project's NLU pipeline understands, beside a TF-IDF baseline.

In one run, for each data set, the pipeline in config.yml (trained by Rasa itself, cache off, so the
time is a cold training) and a plain TF-IDF logistic regression (word 1-2 + char_wb 2-5 grams,
scikit-learn) are trained on the same examples and scored on the same test messages:
- Banking77 with 10 examples per intent, and with the full training set (`--quick` skips the full set);
- our own data (data/nlu): the held-out set (tests/nlu/<lang>.yml) and the independent set
  (tests/nlu/independent/<lang>.yml), per language;
- CLINC150's out-of-scope queries against our model: how many it rejects (fallback or out_of_scope),
  beside how many real customer questions from our test sets it wrongly rejects, for several thresholds.

Accuracy counts the top intent (the fallback is not an intent); "answered right" also requires that the
confidence passed FallbackClassifier's threshold, i.e. what a customer would see. Figures go to
bench/results/nlu-latest.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import nlu_sets
from bench.nlu_sets import OUT_OF_SCOPE, Example, Split
from bot.settings import PROJECT_ROOT

log = logging.getLogger("bench.nlu")
RESULTS = PROJECT_ROOT / "bench" / "results"
FALLBACK = "nlu_fallback"
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)


def progress(message: str) -> None:
    print(f"[nlu-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the TF-IDF baseline --------------------------------------------------------------------------


class TfidfBaseline:
    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        )
        self.model = make_pipeline(features, LogisticRegression(C=10, max_iter=1000))
        self.seconds = 0.0

    def train(self, examples: list[Example]) -> None:
        started = time.monotonic()
        self.model.fit([t for t, _ in examples], [i for _, i in examples])
        self.seconds = time.monotonic() - started

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        probabilities = self.model.predict_proba(texts)
        classes = self.model.classes_
        return [(classes[row.argmax()], float(row.max())) for row in probabilities]


# --- the project's pipeline, trained and run by Rasa -----------------------------------------------


class RasaPipeline:
    """config.yml's NLU pipeline: `rasa train nlu` in this process, then the model parses each message."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.seconds = 0.0
        self.parse_ms: list[float] = []
        self.threshold = fallback_threshold()
        self._agent: Any = None

    def train(self, nlu_data: Path, name: str) -> None:
        from rasa.model_training import train_nlu

        started = time.monotonic()
        model = train_nlu(str(PROJECT_ROOT / "config.yml"), str(nlu_data), str(self.workdir), fixed_model_name=name)
        self.seconds = time.monotonic() - started
        if not model:
            raise RuntimeError(f"rasa train nlu produced no model for {name}")
        from rasa.core.agent import Agent

        self._agent = Agent.load(model)
        quiet_rasa()  # Rasa's training turns on its debug log, one line per parsed message

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """(top intent that is not the fallback, its confidence) per text, parsed in batches by Rasa's graph."""
        out = []
        for at in range(0, len(texts), 256):
            for parsed in self._parse(texts[at : at + 256]):
                ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != FALLBACK]
                out.append((ranking[0]["name"], float(ranking[0]["confidence"])) if ranking else (FALLBACK, 0.0))
        return out

    def time_one_by_one(self, texts: list[str]) -> None:
        """What a customer's message costs: each parsed alone, as the server does."""
        for text in texts:
            started = time.perf_counter()
            self._parse([text])
            self.parse_ms.append((time.perf_counter() - started) * 1000)

    def _parse(self, texts: list[str]) -> list[dict[str, Any]]:
        from rasa.core.channels import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.shared.nlu.constants import INTENT_RANKING_KEY

        processor = self._agent.processor
        target = processor.model_metadata.nlu_target
        results = processor.graph_runner.run(
            inputs={
                PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker("nlu-bench", []),
            },
            targets=[target],
        )
        return [{"intent_ranking": m.get(INTENT_RANKING_KEY)} for m in results[target]]


def quiet_rasa() -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "bot", "root"):
        logging.getLogger(None if name == "root" else name).setLevel(logging.WARNING)


def fallback_threshold() -> float:
    from rasa.shared.utils.io import read_yaml_file

    config = read_yaml_file(PROJECT_ROOT / "config.yml")
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0


# --- scoring ----------------------------------------------------------------------------------------


def normalised(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def score(examples: list[Example], predicted: list[tuple[str, float]], threshold: float) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    gold = [intent for _, intent in examples]
    top = [intent for intent, _ in predicted]
    right = [g == p for g, p in zip(gold, top, strict=True)]
    answered = [r and c >= threshold for r, (_, c) in zip(right, predicted, strict=True)]
    return {
        "n": len(examples),
        "accuracy": sum(right) / len(right),
        "answered_right": sum(answered) / len(answered),
        "macro_f1": f1_score(gold, top, average="macro", zero_division=0),
    }


def rejection(oos: list[tuple[str, float]], in_scope: list[tuple[str, float]], threshold: float) -> dict[str, float]:
    """Share of out-of-scope queries rejected, and of real questions wrongly rejected, at a threshold."""

    def rejected(intent: str, confidence: float) -> bool:
        return intent == OUT_OF_SCOPE or confidence < threshold

    return {
        "threshold": threshold,
        "oos_rejected": sum(rejected(*p) for p in oos) / len(oos),
        "in_scope_rejected": sum(rejected(*p) for p in in_scope) / len(in_scope),
    }


# --- the run ----------------------------------------------------------------------------------------


def run_public(split: Split, workdir: Path) -> dict[str, Any]:
    progress(f"{split.name}: {len(split.train)} training examples, {len(split.test)} test messages")
    texts = [t for t, _ in split.test]
    baseline = TfidfBaseline()
    baseline.train(split.train)
    base = score(split.test, baseline.predict(texts), 0.0)
    progress(f"{split.name}: TF-IDF {base['accuracy']:.1%} (trained in {baseline.seconds:.1f} s)")
    ours = RasaPipeline(workdir)
    data = nlu_sets.write_rasa_json(split.train, workdir / f"{split.name.replace(' ', '_')}.json")
    ours.train(data, split.name.replace(" ", "-"))
    progress(f"{split.name}: pipeline trained in {ours.seconds:.1f} s; parsing {len(texts)} messages")
    mine = score(split.test, ours.predict(texts), 0.0)
    progress(f"{split.name}: pipeline {mine['accuracy']:.1%}")
    return {
        "set": split.name,
        "train_n": len(split.train),
        "pipeline": {**mine, "train_seconds": ours.seconds},
        "tfidf": {**base, "train_seconds": baseline.seconds},
    }


def run_ours(workdir: Path, languages: Sequence[str]) -> dict[str, Any]:
    train = nlu_sets.our_training_data()
    progress(f"our data: {len(train)} training examples (data/nlu)")
    baseline = TfidfBaseline()
    baseline.train(train)
    ours = RasaPipeline(workdir)
    ours.train(PROJECT_ROOT / "data" / "nlu", "varde-nlu")
    progress(f"our data: pipeline trained in {ours.seconds:.1f} s, TF-IDF in {baseline.seconds:.1f} s")
    seen = {normalised(text) for text, _ in train}
    rows = []
    in_scope: list[tuple[str, float]] = []
    in_scope_base: list[tuple[str, float]] = []
    for kind in ("held-out", "independent"):
        for language in languages:
            examples = nlu_sets.our_set(kind, language)
            if not examples:
                continue
            texts = [t for t, _ in examples]
            predicted, predicted_base = ours.predict(texts), baseline.predict(texts)
            if (PROJECT_ROOT / "data" / "nlu" / language).is_dir():  # real questions in the languages we serve
                in_scope += [p for p, (_, i) in zip(predicted, examples, strict=True) if i != OUT_OF_SCOPE]
                in_scope_base += [p for p, (_, i) in zip(predicted_base, examples, strict=True) if i != OUT_OF_SCOPE]
            row: dict[str, Any] = {
                "set": f"{kind} {language}",
                "pipeline": score(examples, predicted, ours.threshold),
                "tfidf": score(examples, predicted_base, 0.0),
            }
            # Written apart, yet "takk" or "hallo" is in both: the score on what training has not seen too.
            unseen = [i for i, (text, _) in enumerate(examples) if normalised(text) not in seen]
            if unseen and len(unseen) < len(examples):
                pick = [examples[i] for i in unseen]
                row["pipeline_unseen"] = score(pick, [predicted[i] for i in unseen], ours.threshold)
                row["tfidf_unseen"] = score(pick, [predicted_base[i] for i in unseen], 0.0)
            progress(
                f"{row['set']}: pipeline {row['pipeline']['accuracy']:.1%} "
                f"(answered right {row['pipeline']['answered_right']:.1%}), TF-IDF {row['tfidf']['accuracy']:.1%}"
            )
            rows.append(row)
    sample = [t for row_kind in ("independent",) for lang in languages for t, _ in nlu_sets.our_set(row_kind, lang)]
    ours.time_one_by_one(sample[:: max(1, len(sample) // 200)])
    oos_texts = nlu_sets.clinc_out_of_scope()
    progress(f"CLINC150 out-of-scope: {len(oos_texts)} queries through our model")
    oos, oos_base = ours.predict(oos_texts), baseline.predict(oos_texts)
    parse = sorted(ours.parse_ms)
    return {
        "train_n": len(train),
        "pipeline_train_seconds": ours.seconds,
        "tfidf_train_seconds": baseline.seconds,
        "threshold": ours.threshold,
        "sets": rows,
        "out_of_scope": [rejection(oos, in_scope, t) for t in THRESHOLDS],
        "out_of_scope_tfidf": [rejection(oos_base, in_scope_base, t) for t in THRESHOLDS],
        "parse_ms": {"p50": statistics.median(parse), "p95": parse[int(len(parse) * 0.95)], "n": len(parse)},
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        "| data set | training examples | pipeline accuracy | TF-IDF accuracy | pipeline training | TF-IDF training |",
        "|---|---|---|---|---|---|",
    ]
    for row in results.get("public", []):
        p, b = row["pipeline"], row["tfidf"]
        lines.append(
            f"| {row['set']} | {row['train_n']} | {p['accuracy']:.1%} | {b['accuracy']:.1%} "
            f"| {p['train_seconds']:.0f} s | {b['train_seconds']:.0f} s |"
        )
    ours = results.get("ours")
    if ours:
        for row in ours["sets"]:
            p, b = row["pipeline"], row["tfidf"]
            lines.append(
                f"| {row['set']} ({row['pipeline']['n']}) | {ours['train_n']} | {p['accuracy']:.1%} "
                f"(answered right {p['answered_right']:.1%}, macro-F1 {p['macro_f1']:.3f}) | {b['accuracy']:.1%} "
                f"| {ours['pipeline_train_seconds']:.0f} s | {ours['tfidf_train_seconds']:.0f} s |"
            )
            if "pipeline_unseen" in row:
                p, b = row["pipeline_unseen"], row["tfidf_unseen"]
                lines.append(
                    f"| {row['set']}, only texts not in training ({p['n']}) | | {p['accuracy']:.1%} "
                    f"(answered right {p['answered_right']:.1%}) | {b['accuracy']:.1%} | | |"
                )
        lines += [
            "",
            f"CLINC150 out-of-scope ({len(nlu_sets.clinc_out_of_scope())} queries) against our model, beside "
            "real questions from our test sets in the languages we have training data for; "
            "rejected = out_of_scope or confidence below the threshold "
            f"(config.yml: {ours['threshold']}):",
            "",
            "| threshold | out-of-scope rejected | real questions rejected | TF-IDF: out-of-scope | TF-IDF: real |",
            "|---|---|---|---|---|",
        ]
        for mine, base in zip(ours["out_of_scope"], ours["out_of_scope_tfidf"], strict=True):
            lines.append(
                f"| {mine['threshold']} | {mine['oos_rejected']:.1%} | {mine['in_scope_rejected']:.1%} "
                f"| {base['oos_rejected']:.1%} | {base['in_scope_rejected']:.1%} |"
            )
        parse = ours["parse_ms"]
        lines += [
            "",
            f"Parsing one message (whole NLU pipeline): p50 {parse['p50']:.1f} ms, p95 {parse['p95']:.1f} ms.",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "python -m bot nlu-bench") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip Banking77's full training set (minutes)")
    parser.add_argument("--full-only", action="store_true", help="of Banking77, only the full training set")
    parser.add_argument("--only", choices=("public", "ours"), help="one half of the benchmark")
    parser.add_argument("--languages", nargs="+", default=list(nlu_sets.LANGUAGES))
    parser.add_argument("--out", type=Path, default=RESULTS / "nlu-latest.json")
    args = parser.parse_args(argv)
    # Cold trainings: the time is what a new model costs, without Rasa's cache or the encoder's vector cache.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    os.environ["BOT_SENTENCE_CACHE"] = "off"
    os.environ["LOG_LEVEL"] = "WARNING"
    quiet_rasa()
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="varde-nlu-bench-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "public"):
            splits = [] if args.full_only else [nlu_sets.banking77(10)]
            splits += [] if args.quick else [nlu_sets.banking77(None)]
            results["public"] = [run_public(split, workdir) for split in splits]
        if args.only in (None, "ours"):
            results["ours"] = run_ours(workdir, args.languages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    text = table(results)
    args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print("\n" + text + "\n")
    print(f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
