"""Adding an NLU example: one line in one file, in the right place, or a clear refusal that changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.settings import PROJECT_ROOT
from bot.training.nlu_files import ExampleRejected, add_example, exact_key, load_examples, masked_key
from bot.training.workspace import Workspace
from tests.nlu import check_held_out
from tests.training.conftest import git


def added_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


def removed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]


def test_an_example_changes_exactly_one_line_of_the_intents_file(data_copy: Workspace) -> None:
    added = add_example("order_status", "nb", "  hvor   i all verden er pakken min blitt av  ", data_copy)

    assert git(data_copy.root, "diff", "--name-only").split() == ["data/nlu/nb/orders.yml"]
    diff = git(data_copy.root, "diff", "--unified=0")
    assert added_lines(diff) == ["+    - hvor i all verden er pakken min blitt av"]
    assert removed_lines(diff) == []
    assert added.path == data_copy.root / "data/nlu/nb/orders.yml"
    lines = added.path.read_text(encoding="utf-8").splitlines()
    assert lines[added.line_number - 1] == "    - hvor i all verden er pakken min blitt av"
    # It went into the order_status block (the file's first block), after that intent's examples.
    examples = load_examples(added.path)
    assert ("order_status", "hvor i all verden er pakken min blitt av") in examples
    assert lines[0].startswith("#"), "the file's comment is kept"


def test_the_topic_file_follows_the_intent_and_language(data_copy: Workspace) -> None:
    cases = {
        ("faq_loyalty", "en"): "data/nlu/en/loyalty.yml",
        ("request_human", "nb"): "data/nlu/nb/handoff.yml",
        ("deny", "en"): "data/nlu/en/smalltalk.yml",
        ("faq_complaints", "nb"): "data/nlu/nb/returns.yml",
        ("order_status", "sv"): "data/nlu/sv/orders.yml",
        ("check_points", "da"): "data/nlu/da/loyalty.yml",
    }
    texts = iter(
        [
            "what do the club's tiers mean for me",
            "kan en ekte person ta over chatten",
            "nah not today",
            "gjelder reklamasjonsretten for sko også",
            "när dyker min låda med grejer upp egentligen",
            "hvor mange point har jeg samlet sammen i år mon tro",
        ]
    )
    for (intent, language), expected in cases.items():
        added = add_example(intent, language, next(texts), data_copy)
        assert added.path.relative_to(data_copy.root).as_posix() == expected
    changed = git(data_copy.root, "diff", "--numstat").splitlines()
    assert sorted(line.split("\t")[2] for line in changed) == sorted(cases.values())
    assert all(line.split("\t")[:2] == ["1", "0"] for line in changed), changed


def test_order_numbers_and_emails_are_annotated_as_docs_intents_md_asks(data_copy: Workspace) -> None:
    order = add_example("order_status", "en", "any news on order 48213 for me", data_copy)
    assert order.text == "any news on order [48213](order_id) for me"
    email = add_example("inform", "nb", "eposten min er kari.test@example.no", data_copy)
    assert email.text == "eposten min er [kari.test@example.no](email)"
    # In other intents a number is an amount, not an order number.
    amount = add_example("faq_loyalty", "en", "points for spending 2500 kr on a tent", data_copy)
    assert amount.text == "points for spending 2500 kr on a tent"


@pytest.mark.parametrize(
    ("intent", "language", "text", "reason"),
    [
        ("order_status", "nb", "hvor er pakka mi", "Already an example of 'order_status'"),
        ("greet", "nb", "Hvor er PAKKA mi?!", "as an example of 'order_status'"),
        ("no_such_intent", "nb", "hei", "Unknown intent"),
        ("greet", "fi", "hei vaan", "Unknown language"),
        ("greet", "nb", "   ", "empty"),
        ("greet", "nb", "hei " * 200, "at most 500"),
        ("greet", "nb", "hei\nhallo", "no line breaks"),
        ("greet", "nb", "/greet", "can't start with '/'"),
        ("inform", "nb", "kunden er [C-1001](customer_id)", "Unknown entity"),
        ("greet", "nb", "heisann, Tindra", "held-out test example"),
    ],
)
def test_a_refused_example_says_why_and_changes_nothing(
    data_copy: Workspace, intent: str, language: str, text: str, reason: str
) -> None:
    with pytest.raises(ExampleRejected, match=reason):
        add_example(intent, language, text, data_copy)
    assert git(data_copy.root, "status", "--porcelain") == ""


def test_a_held_out_example_with_another_order_number_is_refused(data_copy: Workspace) -> None:
    intent, held_out = next((i, t) for i, t in load_examples(data_copy.root / "tests/nlu/en.yml") if "](order_id)" in t)
    start, end = held_out.index("["), held_out.index(")", held_out.index("](order_id)")) + 1
    with pytest.raises(ExampleRejected, match="held-out"):
        add_example(intent, "en", f"{held_out[:start]}[99999](order_id){held_out[end:]}", data_copy)
    assert git(data_copy.root, "status", "--porcelain") == ""


def test_a_file_with_windows_line_endings_keeps_them(data_copy: Workspace) -> None:
    path = data_copy.root / "data/nlu/en/handoff.yml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    add_example("request_human", "en", "could a colleague of yours take over please", data_copy)
    after = path.read_bytes()
    assert after.count(b"\r\n") == before.count(b"\r\n") + 1
    assert b"\n" not in after.replace(b"\r\n", b"")


def test_the_written_file_is_still_valid_rasa_data(data_copy: Workspace) -> None:
    add_example("thanks", "nb", "tusen hjertelig takk for god hjelp", data_copy)
    content = YAML(typ="safe", pure=True).load((data_copy.root / "data/nlu/nb/smalltalk.yml").read_text())
    assert content["version"] == "3.1"
    command = [sys.executable, "-m", "rasa", "data", "validate", "--data", "data", "--domain", "domain.yml"]
    result = subprocess.run(
        [*command, "--config", "config.yml"],
        cwd=data_copy.root,
        env=data_copy.rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_normalising_agrees_with_the_held_out_checker() -> None:
    """An example accepted here never makes tests/nlu/check_held_out.py fail."""
    texts = [text for path in sorted((PROJECT_ROOT / "data/nlu").rglob("*.yml")) for _, text in load_examples(path)]
    texts += ["Når FÅR jeg pakken?", "ordre [10234](order_id)!", "mail: a.b@example.no", "Ærlig talt, øl og ß"]
    assert texts
    for text in texts:
        assert exact_key(text) == check_held_out.exact_key(text), text
        assert masked_key(text) == check_held_out.masked_key(text), text


def test_the_cli_refuses_an_unknown_intent_without_touching_the_data() -> None:
    before = {p: p.read_bytes() for p in (PROJECT_ROOT / "data/nlu").rglob("*.yml")}
    command = [sys.executable, "-m", "bot", "nlu", "add", "--intent", "no_such_intent", "--language", "nb", "hei"]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Unknown intent 'no_such_intent'" in result.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_topic_files_agree_with_docs_intents_md(data_copy: Workspace) -> None:
    from bot.training.nlu_files import known_intents, topic_file

    table = {}
    for line in (PROJECT_ROOT / "docs/intents.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in known_intents(data_copy):
            table[cells[0]] = cells[1]
    assert set(table) == set(known_intents(data_copy))
    for intent, topic in table.items():
        for language in data_copy.languages:
            assert topic_file(data_copy, intent, language) == data_copy.nlu_dir / language / f"{topic}.yml"


def test_two_writers_at_once_both_land(data_copy: Workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"status for my parcel number {n} please" for n in ("one", "two", "three", "four")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda t: add_example("order_status", "en", t, data_copy), texts))
    diff = git(data_copy.root, "diff", "--unified=0")
    assert sorted(added_lines(diff)) == sorted(f"+    - {t}" for t in texts)
    assert Path(data_copy.root / "data/nlu/en/orders.yml").read_text().count("status for my parcel number") == 4


def test_the_cli_adds_one_line_in_the_training_root(data_copy: Workspace) -> None:
    """BOT_TRAINING_ROOT points the CLI (like the trainer pages) at a copy of the training files."""
    command = [sys.executable, "-m", "bot", "nlu", "add", "--intent", "thanks", "--language", "en"]
    env = {**os.environ, "BOT_TRAINING_ROOT": str(data_copy.root)}
    result = subprocess.run(
        [*command, "cheers, that sorted it"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "data/nlu/en/smalltalk.yml" in result.stdout
    assert added_lines(git(data_copy.root, "diff", "--unified=0")) == ["+    - cheers, that sorted it"]
