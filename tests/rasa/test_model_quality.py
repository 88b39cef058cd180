"""The trained model on the held-out NLU set and the conversation tests, with Rasa's own test commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LANGUAGES
from bot.rasa_process import rasa_environment
from bot.settings import PROJECT_ROOT, get_settings

MIN_MACRO_F1 = 0.90


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    env = rasa_environment(get_settings())
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )


@dataclass(frozen=True)
class Scoring:
    out: Path  # out/<language>/intent_report.json, out/conversations/story_report.json
    exit_code: int
    output: str


@pytest.fixture(scope="module")
def scoring(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Scoring:
    """Rasa's own `rasa test nlu` per language and `rasa test core --e2e`, run as the retrain gate runs
    them: in one interpreter (bot.training.rasa_runner), so TensorFlow and the model load once, without
    plots (they took seconds per language and nobody looks at them here)."""
    out = tmp_path_factory.mktemp("scoring")
    commands = [
        ["test", "nlu", "--nlu", f"tests/nlu/{language}.yml", "--model", str(trained_model),
         "--out", str(out / language), "--no-plot"]
        for language in SUPPORTED_LANGUAGES
    ]  # fmt: skip
    # --e2e runs every user text through NLU too, so a story also checks the intent and entities.
    commands.append(
        ["test", "core", "--e2e", "--stories", "tests/test_stories.yml", "--model", str(trained_model),
         "--out", str(out / "conversations"), "--no-plot"]
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bot.training.rasa_runner", *(json.dumps(command) for command in commands)],
        cwd=PROJECT_ROOT,
        env=rasa_environment(get_settings()),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return Scoring(out, result.returncode, result.stdout[-3000:] + result.stderr[-3000:])


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_intent_macro_f1_on_the_held_out_set(scoring: Scoring, language: str) -> None:
    report_file = scoring.out / language / "intent_report.json"
    assert report_file.exists(), scoring.output
    report = json.loads(report_file.read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"{language}: accuracy {report['accuracy']:.3f}, macro-F1 {macro_f1:.3f}")
    assert macro_f1 >= MIN_MACRO_F1


def test_held_out_set_shares_nothing_with_training_data() -> None:
    result = subprocess.run(
        [sys.executable, "tests/nlu/check_held_out.py"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_every_conversation_test_passes(scoring: Scoring) -> None:
    assert scoring.exit_code == 0, scoring.output
    failed = (scoring.out / "conversations" / "failed_test_stories.yml").read_text()
    assert "- story:" not in failed, failed[:5000]
    report = json.loads((scoring.out / "conversations" / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0


def form_questions() -> set[str]:
    """utter_ask_<slot> for every slot a form asks for: Rasa's forms send these by name."""
    from ruamel.yaml import YAML

    forms = YAML(typ="safe").load((PROJECT_ROOT / "domain.yml").read_text())["forms"]
    return {f"utter_ask_{slot}" for form in forms.values() for slot in form["required_slots"]}


def dispatched_by_actions(response: str) -> bool:
    """Whether a form or a custom action sends this response: by literal name, or by a name pattern
    such as f"utter_order_{status}" (the FAQ action sends utter_<faq intent>)."""
    from bot.services.faq import FAQ_INTENTS

    if response in form_questions():
        return True
    code = "\n".join(
        p.read_text() for folder in ("actions", "bot/services") for p in (PROJECT_ROOT / folder).glob("*.py")
    )
    literals = set(re.findall(r'"(utter_[a-z_]+)"', code))
    prefixes = tuple(set(re.findall(r'f"(utter_[a-z_]+_)\{', code)))
    return response in literals or response.startswith(prefixes) or response in {f"utter_{i}" for i in FAQ_INTENTS}


def test_data_validates_with_only_the_expected_notices() -> None:
    """`rasa data validate` passes. Two notices are expected, and checked rather than ignored: Rasa 3.6
    prints its slot auto-fill notice for any domain with slots, and it cannot see that custom actions
    dispatch responses by name, so every response it calls unused must really be sent by an action."""
    result = rasa("data", "validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    unexpected = []
    for line in output.splitlines():
        if "UserWarning" not in line and "WARNING" not in line:
            continue
        unused = re.search(r"The utterance '(\w+)' is not used in any story or rule", line)
        if "Slot auto-fill has been removed" in line or (unused and dispatched_by_actions(unused.group(1))):
            continue
        unexpected.append(line)
    assert not unexpected, "\n".join(unexpected)
