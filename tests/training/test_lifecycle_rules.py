"""The going-live rule, progress bands and the models' history, on plain records (no Rasa needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.store.db import session_scope
from bot.store.model_records import LIVE, RETIRED, ModelRecord, ensure_table, live_record, mark_live
from bot.training.evaluation import compare
from bot.training.history import serving_model
from bot.training.lifecycle import Lifecycle, LifecycleError
from bot.training.progress import Progress, ProgressEvent
from bot.training.workspace import Workspace


def scored(record_id: int, nb: float, en: float, failed: int = 0, fingerprint: str = "tests-1") -> ModelRecord:
    return ModelRecord(
        id=record_id,
        name=f"{record_id}.tar.gz",
        path=f"/models/{record_id}.tar.gz",
        trained_by="tests",
        nlu_scores={
            "nb": {"macro_f1": nb, "accuracy": nb, "examples": 525},
            "en": {"macro_f1": en, "accuracy": en, "examples": 525},
        },
        conversations_passed=60 - failed,
        conversations_failed=failed,
        test_set_fingerprint=fingerprint,
        notes="",
    )


def test_equal_scores_may_go_live() -> None:
    assert compare(scored(2, 0.93, 0.94), scored(1, 0.93, 0.94)).accepted


def test_better_in_one_language_and_equal_in_the_other_may_go_live() -> None:
    verdict = compare(scored(2, 0.95, 0.94), scored(1, 0.93, 0.94))
    assert verdict.accepted, verdict.reasons


def test_two_more_misread_messages_in_any_language_are_refused_with_the_numbers() -> None:
    verdict = compare(scored(2, 0.99, 0.94 - 2 / 525), scored(1, 0.90, 0.94))
    assert not verdict.accepted
    assert verdict.reasons == [
        "en: 2 more held-out messages misread than by the live model (macro-F1 0.9362, live 0.9400)"
    ]


def test_one_more_misread_message_is_noise_and_may_go_live() -> None:
    # A trainer's new example can move one borderline message between two intents.
    verdict = compare(scored(2, 0.93, 0.94 - 1 / 525), scored(1, 0.93, 0.94))
    assert verdict.accepted, verdict.reasons


def test_any_failed_conversation_test_is_refused() -> None:
    verdict = compare(scored(2, 0.99, 0.99, failed=1), scored(1, 0.90, 0.90))
    assert not verdict.accepted
    assert verdict.reasons == ["1 of 60 conversation tests failed"]


def test_scores_from_different_test_sets_are_not_compared() -> None:
    with pytest.raises(ValueError, match="different test sets"):
        compare(scored(2, 0.99, 0.99, fingerprint="tests-2"), scored(1, 0.90, 0.90))


def test_without_a_live_model_a_passing_candidate_may_go_live() -> None:
    verdict = compare(scored(2, 0.5, 0.5), None)
    assert verdict.accepted
    assert "no live model to compare with" in verdict.notes


def test_progress_bands_map_onto_one_bar_that_never_goes_back() -> None:
    events: list[ProgressEvent] = []
    progress = Progress(events.append)
    training = progress.band(0, 80)
    training.report("train", 0.5, "half way")
    progress.band(80, 100).report("deploy", 0.5, "loading")
    training.report("train", 0.1, "a late message from an earlier stage")
    assert [(e.stage, e.percent) for e in events] == [("train", 40), ("deploy", 90), ("train", 90)]


def test_a_broken_progress_listener_does_not_stop_the_job() -> None:
    def listener(event: ProgressEvent) -> None:
        raise ConnectionResetError("the page was closed")

    Progress(listener).report("train", 0.5, "still going")


@pytest.fixture
def history(tmp_path: Path) -> Workspace:
    workspace = Workspace(
        root=tmp_path, models_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}", rasa_urls=()
    )
    ensure_table(workspace.database_url)
    return workspace


def test_only_one_model_is_live_at_a_time(history: Workspace) -> None:
    with session_scope(history.database_url) as session:
        first, second = scored(1, 0.9, 0.9), scored(2, 0.9, 0.9)
        session.add_all([first, second])
        session.flush()
        mark_live(session, first)
        session.flush()
        mark_live(session, second)
    with session_scope(history.database_url) as session:
        assert live_record(session).id == 2
        assert session.get(ModelRecord, 1).status == RETIRED
        assert session.get(ModelRecord, 2).status == LIVE


def test_rollback_only_goes_back_to_a_model_that_was_live(history: Workspace) -> None:
    with session_scope(history.database_url) as session:
        session.add(scored(1, 0.9, 0.9))
    with pytest.raises(LifecycleError, match="never been live"):
        Lifecycle(history).rollback(1)
    with pytest.raises(LifecycleError, match="no model 7"):
        Lifecycle(history).rollback(7)


def test_a_restarted_rasa_serves_the_live_model_unless_train_made_a_newer_one(history: Workspace) -> None:
    live_file, trained_file = history.root / "live.tar.gz", history.root / "varde.tar.gz"
    live_file.write_bytes(b"live")
    trained_file.write_bytes(b"trained")
    os.utime(trained_file, (time.time() - 3600, time.time() - 3600))  # trained an hour ago
    with session_scope(history.database_url) as session:
        record = scored(1, 0.9, 0.9)
        record.path = str(live_file)
        session.add(record)
        session.flush()
        mark_live(session, record)
    assert serving_model(trained_file, history) == live_file
    later = time.time() + 60  # clearly after the deploy, whatever the clock's resolution
    os.utime(trained_file, (later, later))  # `python -m bot train` made a new model after the deploy
    assert serving_model(trained_file, history) == trained_file
    assert serving_model(None, history) == live_file


def test_models_list_shows_the_history_as_json(history: Workspace) -> None:
    with session_scope(history.database_url) as session:
        session.add(scored(1, 0.9312, 0.9401))
    env = {**os.environ, "BOT_DATABASE_URL": history.database_url}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "models", "list", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"macro_f1": 0.9312' in result.stdout
    assert '"status": "candidate"' in result.stdout


def test_a_training_that_fails_says_why_and_records_no_model(data_copy: Workspace) -> None:
    stories = data_copy.root / "data" / "rules" / "broken.yml"
    stories.write_text('version: "3.1"\nrules:\n- rule: uses an action nobody defined\n  steps:\n'
                       "  - intent: greet\n  - action: action_that_does_not_exist\n")  # fmt: skip
    with pytest.raises(LifecycleError, match="Training failed") as failure:
        Lifecycle(data_copy).train_candidate("tests")
    assert "action_that_does_not_exist" in str(failure.value)
    assert Lifecycle(data_copy).list_models() == []
    assert not list(data_copy.models_dir.glob("*.tar.gz"))


def test_a_live_model_that_cannot_be_fine_tuned_means_a_full_training(data_copy: Workspace) -> None:
    """Fine-tuning needs the live model's settings; after a change to config.yml Rasa refuses it, and the
    candidate is trained in full instead, with a note that says why."""
    ensure_table(data_copy.database_url)
    with session_scope(data_copy.database_url) as session:
        live = ModelRecord(name="varde.tar.gz", path=str(PROJECT_ROOT / "models" / "varde.tar.gz"), trained_by="tests")
        session.add(live)
        session.flush()
        mark_live(session, live)
        live_id = live.id
    config = data_copy.config_file.read_text(encoding="utf-8")
    assert "threshold: 0.3\n" in config
    data_copy.config_file.write_text(config.replace("threshold: 0.3\n", "threshold: 0.35\n"), encoding="utf-8")

    record = Lifecycle(data_copy).train_candidate("tests", evaluate=False)

    assert Path(record.path).exists()
    assert f"trained in full: model {live_id} could not be fine-tuned (Cannot finetune" in (record.notes or "")
    assert "fine-tuned from" not in (record.notes or "")
    assert record.finetuned_from is None
