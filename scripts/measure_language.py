"""Measure bot/language.py on Rasa NLU files: accuracy, switching, confusion, latency and memory.

    .venv/bin/python scripts/measure_language.py [FILE.yml ...] [--low-accuracy] [--errors]

Each file's name is its language (nb.yml, en.yml, sv.yml, da.yml). Without files it reads
tests/nlu/independent/{nb,en,sv,da}.yml when they exist, else the held-out tests/nlu/{nb,en}.yml.
The files are only read; nothing is written.

Per language it reports, on messages of 3+ words:
  detect      detect_language's best guess is the message's language
  same page   choose_language with the page (and no conversation language yet) in the message's
              language keeps it: the conversation does not switch away by mistake
  page xx     the page is in another language xx: the conversation switches to the message's language
and on messages of fewer words (after digits and e-mails are dropped) how often the conversation keeps
its language, for a conversation in each of nb, sv, da and en. Then the confusion of detect_language
(rows: the message's language), latency per choose_language call (cold: nothing cached; warm: every
word seen before) and the process's memory before and after the models are loaded.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import language, word_frequencies  # noqa: E402 - after the path is set, so it runs from anywhere

_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # [10234](order_id) -> 10234
_TARGETS = {"nb": 99.0, "en": 99.0, "sv": 98.0, "da": 98.0}


def default_files() -> list[Path]:
    independent = [ROOT / "tests" / "nlu" / "independent" / f"{code}.yml" for code in ("nb", "en", "sv", "da")]
    if any(path.exists() for path in independent):
        return [path for path in independent if path.exists()]
    return [path for code in ("nb", "en", "sv", "da") if (path := ROOT / "tests" / "nlu" / f"{code}.yml").exists()]


def read_examples(path: Path) -> list[str]:
    """The examples of every intent in a Rasa NLU file, entity markup removed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for item in data.get("nlu") or []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(_ENTITY.sub(r"\1", line[2:]).strip())
    return examples


def memory_mb() -> dict[str, float]:
    """Resident memory now and at its peak (Linux /proc)."""
    values = {}
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(line.split()[1]) / 1024
    return values


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    -  "


def measure(files: list[Path], show_errors: bool) -> None:
    data = {path.stem: read_examples(path) for path in files}
    print("files:", ", ".join(str(path.relative_to(ROOT)) for path in files))
    confusion: dict[str, Counter[str | None]] = {}
    for code, examples in data.items():
        long, short = [], []
        for text in examples:
            (long if language.evidence_words(text)[0] >= language.MIN_WORDS else short).append(text)
        detected = [language.detect_language(text)[0] for text in long]
        confusion[code] = Counter(detected)
        same = [language.choose_language(text, None, code) for text in long]
        print(f"\n{code}: {len(examples)} examples, {len(long)} of 3+ words, {len(short)} shorter")
        right = sum(guess == code for guess in detected)
        print(f"  detect      {pct(right, len(long))}  ({right}/{len(long)})")
        kept = sum(choice == code for choice in same)
        target = f"   target {_TARGETS[code]:.0f} %" if code in _TARGETS else ""
        print(f"  same page   {pct(kept, len(long))}  ({kept}/{len(long)}){target}")
        errors = [(text, choice, code) for text, choice in zip(long, same, strict=True) if choice != code]
        for page in language.LANGUAGES:
            if page == code:
                continue
            choices = [language.choose_language(text, None, page) for text in long]
            switched = sum(choice == code for choice in choices)
            print(f"  page {page}     {pct(switched, len(long))}  ({switched}/{len(long)})")
            errors += [(text, choice, page) for text, choice in zip(long, choices, strict=True) if choice != code]
        kept_short = sum(
            language.choose_language(text, page, page) == page for text in short for page in language.LANGUAGES
        )
        print(f"  1-2 words   {pct(kept_short, 4 * len(short))} kept the conversation's language")
        if show_errors:
            for text, choice, page in errors:
                scores = {key: round(value, 1) for key, value in language.language_scores(text).items()}
                print(f"    page {page} -> {choice}: {text!r} {scores}")

    measure_ambiguity(data)

    columns: list[str | None] = [*language.LANGUAGES, None]
    print("\ndetect_language on 3+ words (rows: the message's language; '-': no evidence)")
    print("        " + "".join(f"{column or '-':>7}" for column in columns))
    for code, counts in confusion.items():
        total = sum(counts.values())
        print(f"  {code:<6}" + "".join(f"{pct(counts[column], total):>7}" for column in columns))


def could_be(words: list[str], codes: tuple[str, ...]) -> bool:
    """No word is in one of these languages' word lists and missing from another's: no word tells them apart
    (a word in no list at all, a typo or a compound, says nothing either way)."""
    lists = word_frequencies.centibels()
    return all(len({word in lists[code] for code in codes}) == 1 for word in words)


def measure_ambiguity(data: dict[str, list[str]]) -> None:
    """Languages written alike: how many messages could be in another of the four languages as well, and how
    often the conversation switched on the others (the ones clearly in their language, whatever the page)."""
    print("\nclearly in its language: for every other language, a word in one of the two word lists and not in")
    print("the other's (3+ words); on those, switched to the message's language from a page in another")
    for code, examples in data.items():
        long = [text for text in examples if language.evidence_words(text)[0] >= language.MIN_WORDS]
        others = [other for other in language.LANGUAGES if other != code]
        clear = [
            text
            for text in long
            if not any(could_be(language.evidence_words(text)[1], (code, other)) for other in others)
        ]
        cells = []
        for page in others:
            switched = sum(language.choose_language(text, None, page) == code for text in clear)
            cells.append(f"page {page} {pct(switched, len(clear))}")
        print(f"  {code}: {pct(len(clear), len(long))} clearly ({len(clear)}/{len(long)}); " + ", ".join(cells))
    if "nb" in data and "da" in data:
        texts = ({text.lower().strip(" ?!.") for text in data[code] if len(text.split()) >= 3} for code in ("nb", "da"))
        print(f"  the same message (3+ words) in both the nb and the da file: {len(set.intersection(*texts))}")


def measure_latency(files: list[Path]) -> None:
    texts = [text for path in files for text in read_examples(path)]
    language._word_log_confidences.cache_clear()
    cold = []
    for text in texts:
        started = time.perf_counter()
        language.choose_language(text, None, "nb")
        cold.append((time.perf_counter() - started) * 1000)
    warm = []
    for _ in range(3):
        for text in texts:
            started = time.perf_counter()
            language.choose_language(text, None, "nb")
            warm.append((time.perf_counter() - started) * 1000)
    long_text = " ".join(texts)[: 2 * language._MAX_CHARS]
    language._word_log_confidences.cache_clear()
    started = time.perf_counter()
    language.choose_language(long_text, None, "nb")
    long_ms = (time.perf_counter() - started) * 1000

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        mean, median = statistics.mean(values), statistics.median(values)
        return f"mean {mean:.3f} ms, median {median:.3f}, p99 {p99:.3f}, max {ordered[-1]:.3f}"

    words = statistics.mean(language.evidence_words(text)[0] for text in texts)
    print(f"\nlatency per choose_language call ({len(texts)} messages, {words:.1f} words on average)")
    print(f"  cold (no word cached)  {summary(cold)}")
    print(f"  warm (words cached)    {summary(warm)}")
    print(f"  {len(long_text)} characters, cold  {long_ms:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--low-accuracy", action="store_true", help="lingua's low accuracy mode, to compare")
    parser.add_argument("--errors", action="store_true", help="list every 3+ word message chosen wrongly")
    args = parser.parse_args()
    files = [path.resolve() for path in args.files] or default_files()

    language.LOW_ACCURACY = args.low_accuracy
    before = memory_mb()
    started = time.perf_counter()
    language.warm_up()
    loaded = time.perf_counter() - started
    after = memory_mb()
    mode = "low" if args.low_accuracy else "high"
    grown, peak = after["VmRSS"] - before["VmRSS"], after["VmHWM"] - before["VmRSS"]
    print(f"lingua {mode} accuracy, 5 models: loaded in {loaded:.2f} s; resident memory +{grown:.0f} MB", end="")
    print(f" (peak while loading +{peak:.0f} MB)")
    measure(files, args.errors)
    measure_latency(files)
    print(f"  resident memory after all calls: +{memory_mb()['VmRSS'] - before['VmRSS']:.0f} MB over the start")


if __name__ == "__main__":
    main()
