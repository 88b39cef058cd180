"""Training times, in a temporary copy of the project's training files (data/ itself is never touched).

- From scratch: `rasa train` with an empty cache.
- Add one NLU example to live: the trainer's one new example (bot.training.nlu_files.add_example), the
  lifecycle's training (fine-tuning the model the server serves, Rasa's cache for the unchanged parts,
  in the training process kept ready), `PUT /model` into the running server, until the server's NLU
  answers the example's text with its intent. The example is a dialect message today's model does not
  understand, so the answer shows the new model, not the old one. For comparison, one more example
  trained in a new process with Rasa's cache only, as before fine-tuning.
- Optionally the model lifecycle's whole button (bot.training.lifecycle.Lifecycle.retrain): the same, plus
  scoring candidate and live model on the held-out set and the conversation tests before deploying,
  in the training process the trainers' page keeps ready (bot/training/warm_runner.py).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from bench.quality import rasa_commands
from bot.settings import PROJECT_ROOT
from bot.training.nlu_files import add_example
from bot.training.rasa_server import RasaServer, RasaServerError
from bot.training.workspace import TRAINING_FILES, Workspace

# (intent, language, text): dialect Norwegian ("where's the thing I bought") and an English one; today's
# model gives neither its intent. The second is for the lifecycle's run.
NEW_EXAMPLES = (
    ("order_status", "nb", "kor e dingsen eg kjøpte"),
    ("order_status", "nb", "kjem tinget mitt snart"),
)
# Added before the cache-only comparison, so that it trains on new data too.
COMPARISON_EXAMPLE = ("order_status", "nb", "ka skjedde med pakka mi")
ANSWER_TIMEOUT_SECONDS = 60


def copy_project(root: Path, rasa_url: str, jwt_secret: str, database_url: str) -> Workspace:
    for name in TRAINING_FILES:
        source, target = PROJECT_ROOT / name, root / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return Workspace(
        root=root,
        models_dir=root / "models" / "candidates",
        database_url=database_url,
        rasa_urls=(rasa_url,),
        jwt_secret=jwt_secret,
        cache_dir=root / "cache",
    )


def train(workspace: Workspace, name: str) -> tuple[float, Path]:
    command = [
        "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
        "--out", "models", "--fixed-model-name", name,
    ]  # fmt: skip
    log_file = workspace.root / f"train-{name}.log"
    seconds = rasa_commands([command], workspace.rasa_env(), log_file, cwd=workspace.root)
    return seconds, workspace.root / "models" / f"{name}.tar.gz"


def intent_of(server: RasaServer, text: str) -> str | None:
    try:
        return (server.parse(text).get("intent") or {}).get("name")
    except RasaServerError:
        return None


def wait_for_intent(server: RasaServer, text: str, intent: str) -> float:
    """Seconds until the server's NLU gives `text` the intent (raises after ANSWER_TIMEOUT_SECONDS)."""
    started = time.monotonic()
    while time.monotonic() - started < ANSWER_TIMEOUT_SECONDS:
        if intent_of(server, text) == intent:
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{text!r} not answered as {intent} within {ANSWER_TIMEOUT_SECONDS} s")


def from_scratch(workspace: Workspace) -> dict[str, Any]:
    shutil.rmtree(workspace.cache_dir or workspace.root / "cache", ignore_errors=True)
    seconds, model = train(workspace, "scratch")
    return {"seconds": round(seconds, 1), "model_mib": round(model.stat().st_size / 2**20, 1)}


def add_example_to_live(workspace: Workspace, compare_cache_only: bool = True) -> dict[str, Any]:
    """Run after from_scratch (its cache is what a real project's .rasa/cache holds). The new example is
    trained as a trainer's retrain trains it (Lifecycle.train_candidate: fine-tuning the model the server
    serves, in the training process kept ready), without the scoring, then loaded with PUT /model.
    `compare_cache_only`: then one more example, trained without fine-tuning (a whole training more)."""
    from bot.training import warm_runner
    from bot.training.lifecycle import Lifecycle

    intent, language, text = NEW_EXAMPLES[0]
    server = RasaServer(workspace.rasa_urls[0], workspace.jwt_secret)
    before = intent_of(server, text)
    warm_runner.prepare(workspace)  # as the trainers' page does when it opens
    runner_ready = warm_runner.wait_ready(workspace)
    started = time.monotonic()
    add_example(intent, language, text, workspace)
    added = time.monotonic()
    record = Lifecycle(workspace).train_candidate("bench", evaluate=False)
    trained = time.monotonic()
    server.load_model(Path(record.path))
    loaded = time.monotonic()
    wait_for_intent(server, text, intent)
    answered = time.monotonic()
    result: dict[str, Any] = {
        "example": {"intent": intent, "language": language, "text": text, "intent_before": before},
        "add_seconds": round(added - started, 2),
        "train_seconds": round(trained - added, 1),
        "finetuned_from": record.finetuned_from,
        "runner_kept_ready": runner_ready,
        "load_seconds": round(loaded - trained, 1),
        "first_answer_seconds": round(answered - loaded, 2),
        "total_seconds": round(answered - started, 1),
        "method": "add_example + Lifecycle.train_candidate (fine-tunes the served model, runner kept ready; "
        "no scoring) + PUT /model, until /model/parse gives the intent",
    }
    if compare_cache_only:
        result["cache_only_train_seconds"] = cache_only_training(workspace)
    return result


def cache_only_training(workspace: Workspace) -> float:
    """One more example, trained with Rasa's cache but without fine-tuning: what fine-tuning saves."""
    add_example(*COMPARISON_EXAMPLE, workspace)
    seconds, _ = train(workspace, "cache-only")
    return round(seconds, 1)


def lifecycle_to_live(workspace: Workspace) -> dict[str, Any]:
    """The trainer's button: train, score candidate and live model, deploy if not worse."""
    from bot.training import warm_runner
    from bot.training.lifecycle import Lifecycle

    warm_runner.prepare(workspace)  # as the trainers' page does when it opens
    runner_ready = warm_runner.wait_ready(workspace)
    intent, language, text = NEW_EXAMPLES[1]
    server = RasaServer(workspace.rasa_urls[0], workspace.jwt_secret)
    before = intent_of(server, text)
    started = time.monotonic()
    add_example(intent, language, text, workspace)
    outcome = Lifecycle(workspace).retrain("bench")
    finished = time.monotonic()
    result: dict[str, Any] = {
        "example": {"intent": intent, "language": language, "text": text, "intent_before": before},
        "deployed": outcome.deployed,
        "verdict": outcome.verdict.summary(),
        "train_seconds": outcome.record.training_seconds,
        "runner_kept_ready": runner_ready,
        "notes": outcome.record.notes,
        "retrain_seconds": round(finished - started, 1),
    }
    if outcome.deployed:
        wait_for_intent(server, text, intent)
    result["total_seconds"] = round(time.monotonic() - started, 1)
    return result
