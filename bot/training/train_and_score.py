"""The lifecycle's Rasa commands: `rasa train` (fine-tuning the live model, or in full) and `rasa test` for
each model to score, run together in one child process (bot/training/rasa_jobs.py), and the scores read
from Rasa's reports.

Nothing here writes the models' history: reading scores gives Evaluations, and history.py stores them.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.model_records import ModelRecord
from bot.training.errors import LifecycleError
from bot.training.evaluation import Evaluation, evaluation_steps, read_evaluation
from bot.training.model_files import evaluation_dir
from bot.training.progress import Progress
from bot.training.rasa_jobs import RasaJobFailed, Step, StepResult, check_steps, log_tail, run_steps
from bot.training.workspace import Workspace

# What Rasa says when a model can't be fine-tuned (rasa.graph_components.validators.finetuning_validator):
# other settings, new or missing intents, a changed domain, another Rasa version.
_CANNOT_FINETUNE = ("Cannot finetune", "Finetuning is enabled but", "minimum compatible Rasa Version")


def train_step(workspace: Workspace, stem: str, base: ModelRecord | None) -> Step:
    """`rasa train`, fine-tuning `base` when given: its featurizers keep their vocabularies (new words are
    appended) and the intent classifier starts from its coefficients (bot/nlu/classifier.py)."""
    command = [
        "train", "--config", str(workspace.config_file), "--domain", str(workspace.domain_file),
        "--data", str(workspace.data_dir), "--out", str(workspace.models_dir), "--fixed-model-name", stem,
    ]  # fmt: skip
    if base is None:
        return Step("train", tuple(command), "training (NLU and dialogue; unchanged parts come from Rasa's cache)", 3)
    # Rasa's validation loads and parses every data file a second time (6 of a fine-tune's 37 s). A fine-tune
    # follows trainers' examples, each already checked on the way in (an intent of the domain, not a
    # duplicate, the file still valid: nlu_files.add_example); with a new domain or config Rasa refuses to
    # fine-tune, and the full training that follows is validated.
    command += ["--finetune", base.path, "--skip-validation"]
    return Step("train", tuple(command), f"fine-tuning model {base.id} with the new examples", weight=3)


def _scoring_steps(workspace: Workspace, records: list[ModelRecord]) -> list[Step]:
    steps: list[Step] = []
    for index, record in enumerate(records):
        steps += evaluation_steps(
            Path(record.path),
            evaluation_dir(Path(record.path)),
            workspace.nlu_test_files,
            workspace.stories_file,
            prefix=f"{index}:",
        )
    return steps


def _run(
    workspace: Workspace,
    progress: Progress,
    stage: str,
    records: list[ModelRecord],
    train: Step | None = None,
    log_file: Path | None = None,
) -> tuple[dict[str, StepResult], Path]:
    """One child process: optionally train first, then score each record with Rasa's test commands."""
    steps = [train] if train else []
    steps += _scoring_steps(workspace, records)
    log_file = log_file or evaluation_dir(Path(records[0].path)).with_suffix(".log")
    return run_steps(steps, workspace, log_file, progress, stage), log_file


def run_training(
    workspace: Workspace, progress: Progress, to_score: list[ModelRecord], train: Step, log_file: Path
) -> tuple[StepResult | None, dict[str, StepResult]]:
    """`train`, then the scoring of `to_score`, in one child: the train step's result (None if it never
    ran) and every step's. LifecycleError, with the log's end, when the child itself failed."""
    try:
        results, _ = _run(workspace, progress, "train", to_score, train, log_file)
    except RasaJobFailed as error:
        raise LifecycleError(f"Training failed: {error}\n{log_tail(log_file)}") from error
    return results.get("train"), results


def run_scoring(
    workspace: Workspace, progress: Progress, records: list[ModelRecord]
) -> tuple[dict[str, StepResult], Path]:
    """Score the records in one child; its log goes beside the first record's model."""
    try:
        return _run(workspace, progress, "evaluate", records)
    except RasaJobFailed as error:
        raise LifecycleError(f"Scoring failed: {error}") from error


def read_scores(
    workspace: Workspace, records: list[ModelRecord], results: dict[str, StepResult], log_file: Path
) -> dict[int, Evaluation]:
    """Each record's scores (by record id) from Rasa's reports, on the current test set's fingerprint;
    LifecycleError when a scoring step failed or a report can't be read."""
    fingerprint = workspace.test_set_fingerprint()
    try:
        check_steps(_scoring_steps(workspace, records), results, log_file)
    except RasaJobFailed as error:
        raise LifecycleError(f"Scoring failed: {error}") from error
    evaluations: dict[int, Evaluation] = {}
    for index, record in enumerate(records):
        mine = {label: r for label, r in results.items() if label.startswith(f"{index}:")}
        try:
            evaluations[record.id] = read_evaluation(
                evaluation_dir(Path(record.path)),
                workspace.nlu_test_files,
                workspace.stories_file,
                mine,
                fingerprint,
                prefix=f"{index}:",
            )
        except (ValueError, OSError, KeyError) as error:
            raise LifecycleError(f"Scoring model {record.name} failed: {error}\n{log_tail(log_file)}") from error
    return evaluations


def finetune_refusal(log_file: Path) -> str | None:
    """Rasa's reason for refusing to fine-tune, from the training log; None for any other failure."""
    text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    for line in reversed(text.splitlines()):
        if any(marker in line for marker in _CANNOT_FINETUNE):
            return line.split("Exception: ", 1)[-1].strip()[:200]
    return None


def training_failed(trained: StepResult | None, log_file: Path) -> LifecycleError:
    """The error for a training that failed, with its exit code and the log's end."""
    code = "no exit code" if trained is None else f"exit code {trained.exit_code}"
    return LifecycleError(f"Training failed ({code}):\n{log_tail(log_file)}")
