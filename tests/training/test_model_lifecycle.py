"""The model lifecycle against the real Rasa server: refuse a worse model, put a good one live, roll back.

The models are trained from a copy of the project's training files in a temporary folder, with the
history in a database of their own; only the Rasa server is shared with the other tests, and it gets
its original model back at the end, whatever happened.

The good candidate differs from the live model only in its greeting text (a marker the customer can
see): its NLU is the same, so its scores equal the live model's, deterministically, and it may go live.
The worse candidate keeps two Bokmål examples per intent; its Bokmål macro-F1 drops, and it is refused.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.i18n import SUPPORTED_LANGUAGES
from bot.settings import PROJECT_ROOT
from bot.store.model_records import LIVE, REFUSED, RETIRED, ModelRecord
from bot.training.lifecycle import DeployOutcome, Lifecycle
from bot.training.model_files import find_model_file
from bot.training.nlu_files import add_example
from bot.training.progress import ProgressEvent
from bot.training.rasa_server import RasaServer
from bot.training.workspace import Workspace
from tests.support import RasaStack, http_json, texts
from tests.training.conftest import copy_training_files

pytestmark = pytest.mark.server

MARKER = "[new model]"


def add_marker_to_greeting(domain_file: Path) -> None:
    yaml = YAML()  # round trip; the copy's formatting doesn't matter
    domain = yaml.load(domain_file.read_text(encoding="utf-8"))
    for variation in domain["responses"]["utter_greet"]:
        variation["text"] = f"{variation['text']} {MARKER}"
    with domain_file.open("w", encoding="utf-8") as file:
        yaml.dump(domain, file)


def keep_two_examples_per_intent(nlu_file: Path) -> None:
    kept, lines = 0, []
    for line in nlu_file.read_text(encoding="utf-8").splitlines(keepends=True):
        if re.match(r"^\s*-\s*intent:", line):
            kept = 0
        elif re.match(r"^\s+- ", line):
            kept += 1
            if kept > 2:
                continue
        lines.append(line)
    nlu_file.write_text("".join(lines), encoding="utf-8")


def greeting(stack: RasaStack, sender: str) -> str:
    return texts(stack.chat(sender, "hello there", language="en"))


@pytest.fixture(scope="module")
def workspace(rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("lifecycle")
    copy_training_files(root)
    workspace = Workspace(
        root=root,
        models_dir=root / "models" / "candidates",
        database_url=f"sqlite:///{root / 'history.db'}",
        rasa_urls=(rasa_stack.rasa_url,),
        jwt_secret=rasa_stack.env["BOT_RASA_JWT_SECRET"],
        # The project's cache, which `python -m bot train` filled for the model the server runs now.
        cache_dir=PROJECT_ROOT / ".rasa" / "cache",
    )
    # This module changes the server's model: make sure it is this run's server, not another run's on
    # the same port (wait_healthy accepts any healthy server there).
    assert rasa_stack.processes["rasa"].poll() is None, "this run's Rasa server is not running"
    server = RasaServer(rasa_stack.rasa_url, workspace.jwt_secret)
    original = server.status()
    original_file = find_model_file(original.model_id, workspace.model_search_dirs)
    assert original_file is not None
    try:
        yield workspace
    finally:
        if server.status().model_id != original.model_id:
            server.load_model(original_file)  # the other tests' model, whatever happened here


@pytest.fixture(scope="module")
def good_candidate(workspace: Workspace) -> tuple[ModelRecord, list[ProgressEvent]]:
    add_marker_to_greeting(workspace.domain_file)
    events: list[ProgressEvent] = []
    return Lifecycle(workspace, events.append).train_candidate("tests"), events


@pytest.fixture(scope="module")
def worse_candidate(
    workspace: Workspace, good_candidate: tuple[ModelRecord, list[ProgressEvent]]
) -> tuple[ModelRecord, list[ProgressEvent]]:
    """Trained after the good one, from the same domain and stories: only the NLU data changed."""
    backup = workspace.root / "data-before-crippling"
    shutil.copytree(workspace.data_dir, backup)
    for nlu_file in sorted((workspace.nlu_dir / "nb").glob("*.yml")):
        keep_two_examples_per_intent(nlu_file)
    # A new example as well, never seen before, so the NLU can't come from an earlier run's cache.
    add_example("greet", "nb", f"hilsen fra testkjøring {secrets.token_hex(4)}", workspace)
    events: list[ProgressEvent] = []
    try:
        return Lifecycle(workspace, events.append).train_candidate("tests"), events
    finally:
        shutil.rmtree(workspace.data_dir)
        backup.rename(workspace.data_dir)


def test_training_reports_progress_and_keeps_the_model_with_its_scores(
    good_candidate: tuple[ModelRecord, list[ProgressEvent]],
) -> None:
    record, events = good_candidate
    assert Path(record.path).is_file() and Path(record.path).parent.name == "candidates"
    assert record.status == "candidate" and record.trained_by == "tests"
    assert record.training_seconds and record.training_seconds > 0
    assert set(record.nlu_scores) == set(SUPPORTED_LANGUAGES)
    assert record.conversations_failed == 0 and record.conversations_passed > 0
    percents = [event.percent for event in events]
    assert percents == sorted(percents) and percents[-1] == 100
    assert {"train"} <= {event.stage for event in events}
    assert any("testing nb intents" in event.message for event in events)


def test_a_change_to_nlu_data_only_fine_tunes_the_live_model_and_reuses_the_cached_dialogue_policies(
    workspace: Workspace, worse_candidate: tuple[ModelRecord, list[ProgressEvent]]
) -> None:
    record, events = worse_candidate
    messages = [event.message for event in events]
    live = next(r for r in Lifecycle(workspace).list_models() if r.trained_by == "adopted")  # the server's model
    assert f"fine-tuned from model {live.id}" in (record.notes or ""), record.notes
    assert record.finetuned_from == live.id
    assert f"fine-tuning model {live.id} with the new examples..." in messages
    # RulePolicy is not in this list: when fine-tuning, Rasa can't restore it from the cache (the old
    # model's copy is in the way: "Destination path ... is not empty") and trains it again, in < 1 s.
    for policy in ("MemoizationPolicy", "TEDPolicy"):
        assert f"{policy} reused from cache" in messages, messages
    assert "GuardedIntentClassifier trained" in messages


def test_a_worse_candidate_is_refused_and_the_live_model_still_answers(
    rasa_stack: RasaStack, workspace: Workspace, worse_candidate: tuple[ModelRecord, list[ProgressEvent]]
) -> None:
    live_before = Lifecycle(workspace).current_live()
    assert live_before is not None

    outcome = Lifecycle(workspace).deploy(worse_candidate[0].id)

    assert not outcome.deployed and not outcome.verdict.accepted
    assert any(
        reason.startswith("nb: ") and "more held-out messages misread" in reason for reason in outcome.verdict.reasons
    ), outcome.verdict
    refused = outcome.record
    assert refused.status == REFUSED
    assert Path(refused.path).is_file(), "a refused model stays on disk"
    assert refused.macro_f1("nb") < live_before.macro_f1("nb"), "with its scores"
    assert "nb: " in refused.notes and "more held-out messages misread" in refused.notes
    assert RasaServer(rasa_stack.rasa_url, workspace.jwt_secret).status().model_id == live_before.model_id
    reply = greeting(rasa_stack, "lifecycle-refused")
    assert reply and MARKER not in reply
    assert Lifecycle(workspace).current_live().id == live_before.id


def test_a_better_or_equal_candidate_goes_live_without_downtime_and_keeps_conversations(
    rasa_stack: RasaStack, workspace: Workspace, good_candidate: tuple[ModelRecord, list[ProgressEvent]]
) -> None:
    record = good_candidate[0]
    before = greeting(rasa_stack, "lifecycle-ongoing")
    assert MARKER not in before
    answered, failures, deploying = [], [], threading.Event()

    def customers_keep_writing() -> None:
        deadline = time.monotonic() + 120
        while deploying.is_set() and time.monotonic() < deadline:
            try:
                answered.append(bool(texts(rasa_stack.chat(f"lifecycle-busy-{len(answered)}", "hi", language="en"))))
            except Exception as error:
                failures.append(repr(error))
            time.sleep(0.2)

    deploying.set()
    writer = threading.Thread(target=customers_keep_writing)
    writer.start()
    try:
        outcome: DeployOutcome = Lifecycle(workspace).deploy(record.id)
    finally:
        deploying.clear()
        writer.join()

    assert outcome.deployed, outcome.verdict.summary()
    assert outcome.record.status == LIVE and outcome.previous is not None
    assert not failures, failures
    assert answered and all(answered)
    assert RasaServer(rasa_stack.rasa_url, workspace.jwt_secret).status().model_id == record.model_id
    assert MARKER in greeting(rasa_stack, "lifecycle-new")
    tracker = http_json(
        f"{rasa_stack.rasa_url}/conversations/lifecycle-ongoing/tracker",
        headers={"Authorization": f"Bearer {RasaServer(rasa_stack.rasa_url, workspace.jwt_secret).token()}"},
    )
    assert any(event.get("text") == "hello there" for event in tracker["events"]), "the conversation is kept"
    history = {r.id: r.status for r in Lifecycle(workspace).list_models()}
    assert history[outcome.previous.id] == RETIRED


def test_a_rollback_brings_the_old_model_back(
    rasa_stack: RasaStack, workspace: Workspace, good_candidate: tuple[ModelRecord, list[ProgressEvent]]
) -> None:
    record = good_candidate[0]
    outcome = Lifecycle(workspace).deploy(record.id)  # live already when the test above ran first
    assert outcome.deployed or outcome.verdict.notes == ["already live"]
    previous = next(r for r in Lifecycle(workspace).list_models() if r.trained_by == "adopted")

    restored = Lifecycle(workspace).rollback(previous.id)

    assert restored.status == LIVE
    assert RasaServer(rasa_stack.rasa_url, workspace.jwt_secret).status().model_id == previous.model_id
    assert MARKER not in greeting(rasa_stack, "lifecycle-rolled-back")
    statuses = {r.id: r.status for r in Lifecycle(workspace).list_models()}
    assert statuses[record.id] == RETIRED and statuses[previous.id] == LIVE
