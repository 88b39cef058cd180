"""The model lifecycle: train a candidate, score it, compare it with the live model, put it live, roll back.

    train_candidate()  rasa train (--finetune <live>) into models/candidates/<time>-<random>.tar.gz, then score it
    evaluate_model()   score a model again (held-out NLU set per language, conversation tests)
    deploy()           if not worse than live: PUT /model on every Rasa server, and mark it live;
                       otherwise mark it refused, with the reasons, and leave the live model alone
    retrain()          the trainer's button: train_candidate() then deploy()
    rollback()         load a model that was live before, and mark it live again

Training fine-tunes the live model and reuses Rasa's cache (.rasa/cache), so after a new NLU example
only the NLU components train again, the classifier from the live model's coefficients; the dialogue
policies come from the cache (docs/model-lifecycle.md has the measured times). The live model is
whatever the Rasa server says it serves (GET /status): the history follows the server, and adopts a
model it has not seen before.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.store.db import session_scope
from bot.store.model_records import (
    CANDIDATE,
    LIVE,
    REFUSED,
    RETIRED,
    ModelRecord,
    all_records,
    ensure_table,
    get_record,
    live_record,
    mark_live,
    record_by_model_id,
)
from bot.store.models import as_utc, utcnow
from bot.training.evaluation import Verdict, compare, evaluation_steps, read_evaluation, store_evaluation
from bot.training.progress import Progress, ProgressCallback
from bot.training.rasa_jobs import RasaJobFailed, Step, StepResult, check_steps, log_tail, run_steps
from bot.training.rasa_server import RasaServer, RasaServerError
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")


class LifecycleError(RuntimeError):
    """A lifecycle step could not be done; the message says why, for a trainer or an operator."""


@dataclass(frozen=True)
class DeployOutcome:
    record: ModelRecord
    verdict: Verdict
    deployed: bool
    previous: ModelRecord | None  # the model that was live before


def _detached(record_id: int, workspace: Workspace) -> ModelRecord:
    with session_scope(workspace.database_url) as session:
        record = get_record(session, record_id)
        if record is None:
            raise LifecycleError(f"There is no model {record_id}; `python -m bot models list` shows them.")
        return record


def evaluation_dir(record_path: Path) -> Path:
    return record_path.with_name(record_path.name.removesuffix(".tar.gz") + ".evaluation")


def model_metadata_id(model: Path) -> str | None:
    """Rasa's model_id from the archive's metadata.json (what GET /status reports as model_id)."""
    try:
        with tarfile.open(model, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("./") == "metadata.json":
                    handle = archive.extractfile(member)
                    return str(json.load(handle)["model_id"]) if handle else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return None
    return None


@contextmanager
def _exclusive(workspace: Workspace, name: str, what: str, wait: bool) -> Iterator[None]:
    """A file lock in the models folder: one training (or one deploy) at a time, across processes."""
    workspace.models_dir.mkdir(parents=True, exist_ok=True)
    path = workspace.models_dir / f".{name}.lock"
    with path.open("a+", encoding="utf-8") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            raise LifecycleError(f"Busy: {holder}. Try again when it has finished.") from None
        try:
            file.truncate(0)
            file.write(f"{what} (process {os.getpid()}, since {utcnow():%Y-%m-%d %H:%M:%S} UTC)")
            file.flush()
            yield
        finally:
            file.truncate(0)
            fcntl.flock(file, fcntl.LOCK_UN)


def _servers(workspace: Workspace) -> list[RasaServer]:
    return [RasaServer(url, workspace.jwt_secret) for url in workspace.rasa_urls]


def find_model_file(model_id: str, folders: tuple[Path, ...]) -> Path | None:
    for folder in folders:
        for candidate in sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True):
            if model_metadata_id(candidate) == model_id:
                return candidate
    return None


def current_live(workspace: Workspace | None = None) -> ModelRecord | None:
    """The model the (first) Rasa server serves, as a record; the history is corrected to match it.

    A model the history has never seen (the first time, or after `python -m bot train` and a restart)
    is adopted: copied into the models folder, since models/varde.tar.gz is overwritten by the next
    `python -m bot train`, and recorded as live. Without a reachable server, the history's live model.
    """
    workspace = workspace or Workspace()
    ensure_table(workspace.database_url)
    try:
        served = _servers(workspace)[0].status()
    except (RasaServerError, IndexError) as error:
        log.warning("can't ask Rasa which model it serves (%s); using the history's live model", error)
        served = None
    with session_scope(workspace.database_url) as session:
        live = live_record(session)
        if served is None or not served.model_id or (live and live.model_id == served.model_id):
            return live
        known = record_by_model_id(session, served.model_id)
        if known is not None:
            log.warning(
                "Rasa serves model %s (%s), not %s: the history follows the server",
                known.id,
                known.name,
                live.id if live else "none",
            )
            known.add_note(f"found live on the Rasa server at {utcnow():%Y-%m-%d %H:%M} UTC")
            mark_live(session, known)
            return known
        source = find_model_file(served.model_id, workspace.model_search_dirs)
        if source is None:
            raise LifecycleError(
                f"Rasa serves {served.model_file} (model id {served.model_id}), which is in none of "
                f"{', '.join(str(d) for d in workspace.model_search_dirs)}; can't score or keep it."
            )
        workspace.models_dir.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S}-adopted-{secrets.token_hex(3)}.tar.gz"
        shutil.copy2(source, workspace.models_dir / name)
        record = ModelRecord(
            name=name,
            path=str(workspace.models_dir / name),
            model_id=served.model_id,
            trained_by="adopted",
            status=CANDIDATE,
            notes=f"served by Rasa as {served.model_file} (from {source}) when the history first saw it",
        )
        session.add(record)
        session.flush()
        mark_live(session, record)
        log.info("adopted the served model %s as model %s (%s)", source, record.id, name)
        return record


def _needs_evaluation(record: ModelRecord | None, fingerprint: str) -> bool:
    return record is not None and record.test_set_fingerprint != fingerprint


def _score(
    workspace: Workspace,
    progress: Progress,
    stage: str,
    records: list[ModelRecord],
    train_step: Step | None = None,
    log_file: Path | None = None,
) -> tuple[dict[str, StepResult], Path]:
    """One child process: optionally train first, then score each record with Rasa's test commands."""
    steps = [train_step] if train_step else []
    steps += _scoring_steps(workspace, records)
    log_file = log_file or evaluation_dir(Path(records[0].path)).with_suffix(".log")
    return run_steps(steps, workspace, log_file, progress, stage), log_file


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


def _store_scores(
    workspace: Workspace, records: list[ModelRecord], results: dict[str, StepResult], log_file: Path
) -> None:
    fingerprint = workspace.test_set_fingerprint()
    try:
        check_steps(_scoring_steps(workspace, records), results, log_file)
    except RasaJobFailed as error:
        raise LifecycleError(f"Scoring failed: {error}") from error
    with session_scope(workspace.database_url) as session:
        for index, record in enumerate(records):
            mine = {label: r for label, r in results.items() if label.startswith(f"{index}:")}
            try:
                evaluation = read_evaluation(
                    evaluation_dir(Path(record.path)),
                    workspace.nlu_test_files,
                    workspace.stories_file,
                    mine,
                    fingerprint,
                    prefix=f"{index}:",
                )
            except (ValueError, OSError, KeyError) as error:
                raise LifecycleError(f"Scoring model {record.name} failed: {error}\n{log_tail(log_file)}") from error
            stored = get_record(session, record.id)
            assert stored is not None
            store_evaluation(stored, evaluation)


def _score_records(workspace: Workspace, records: list[ModelRecord], progress: Progress) -> None:
    """Score the records in one child process and store their scores."""
    what = ", ".join(str(record.id) for record in records)
    with _exclusive(workspace, "train", f"scoring model(s) {what}", wait=False):
        for record in records:
            if not Path(record.path).exists():
                raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't be scored.")
        try:
            results, log_file = _score(workspace, progress, "evaluate", records)
        except RasaJobFailed as error:
            raise LifecycleError(f"Scoring failed: {error}") from error
        _store_scores(workspace, records, results, log_file)


def _describe_scores(record: ModelRecord) -> str:
    parts = [
        f"{language} macro-F1 {score['macro_f1']:.4f} accuracy {score['accuracy']:.4f}"
        for language, score in sorted((record.nlu_scores or {}).items())
    ]
    passed, failed = record.conversations_passed or 0, record.conversations_failed or 0
    parts.append(f"conversation tests {passed} passed, {failed} failed")
    return ", ".join(parts)


def _train_step(workspace: Workspace, stem: str, base: ModelRecord | None) -> Step:
    """`rasa train`, fine-tuning `base` when given: its featurizers keep their vocabularies (new words are
    appended) and the intent classifier starts from its coefficients (bot/nlu/classifier.py)."""
    command = [
        "train", "--config", str(workspace.config_file), "--domain", str(workspace.domain_file),
        "--data", str(workspace.data_dir), "--out", str(workspace.models_dir), "--fixed-model-name", stem,
    ]  # fmt: skip
    if base is None:
        return Step("train", tuple(command), "training (NLU and dialogue; unchanged parts come from Rasa's cache)", 3)
    command += ["--finetune", base.path]
    return Step("train", tuple(command), f"fine-tuning model {base.id} with the new examples", weight=3)


def _finetune_base(live: ModelRecord | None) -> ModelRecord | None:
    """The live model, to fine-tune, when its file is here; a trainer's examples are what changed since."""
    if live is None or not Path(live.path).exists():
        return None
    return live


# What Rasa says when a model can't be fine-tuned (rasa.graph_components.validators.finetuning_validator):
# other settings, new or missing intents, a changed domain, another Rasa version.
_CANNOT_FINETUNE = ("Cannot finetune", "Finetuning is enabled but", "minimum compatible Rasa Version")


def train_candidate(
    trained_by: str,
    workspace: Workspace | None = None,
    progress_callback: ProgressCallback | None = None,
    evaluate: bool = True,
    finetune: bool = True,
) -> ModelRecord:
    """Train a new model from the workspace's data into its models folder; score it (and the live model,
    when its scores are missing or from another test set) in the same child process.

    With `finetune`, the live model is fine-tuned with the data as it is now: after a trainer's examples
    that is the fast way (docs/model-lifecycle.md). When Rasa says the live model can't be fine-tuned
    (the settings, the domain or the intents changed), the candidate is trained in full instead."""
    workspace = workspace or Workspace()
    progress = Progress(progress_callback)
    ensure_table(workspace.database_url)
    live = _live_or_none(workspace) if (evaluate or finetune) else None
    fingerprint = workspace.test_set_fingerprint()
    with _exclusive(workspace, "train", f"{trained_by} is training a model", wait=False):
        stem = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        model = workspace.models_dir / f"{stem}.tar.gz"
        log_file = workspace.models_dir / f"{stem}.log"
        data_fingerprint = workspace.data_fingerprint()
        base = _finetune_base(live) if finetune else None
        record = ModelRecord(name=model.name, path=str(model), trained_by=trained_by, status=CANDIDATE)
        to_score = [record] + ([live] if _needs_evaluation(live, fingerprint) else []) if evaluate else []
        log.info("training %s for %s (log: %s)%s", model.name, trained_by, log_file,
                 f", fine-tuning model {base.id}" if base else "")  # fmt: skip
        trained, results = _run_training(workspace, progress, to_score, _train_step(workspace, stem, base), log_file)
        if base is not None and (trained is None or trained.exit_code != 0):
            reason = _finetune_refusal(log_file)
            if reason is None:
                _raise_training_failed(trained, log_file)
            log.info("model %s can't be fine-tuned (%s); training in full", base.id, reason)
            record.add_note(f"trained in full: model {base.id} could not be fine-tuned ({reason})")
            base = None
            trained, results = _run_training(
                workspace, progress, to_score, _train_step(workspace, stem, None), log_file
            )
        if trained is None or trained.exit_code != 0 or not model.exists():
            _raise_training_failed(trained, log_file)
        assert trained is not None
        if base is not None:
            record.finetuned_from = base.id
            record.add_note(f"fine-tuned from model {base.id}")
        record.model_id = model_metadata_id(model)
        record.training_seconds = trained.seconds
        record.data_fingerprint = data_fingerprint
        with session_scope(workspace.database_url) as session:
            session.add(record)
            session.flush()
            same = [r.id for r in all_records(session) if r.data_fingerprint == data_fingerprint and r.id != record.id]
            if same:
                record.add_note(f"trained on the same data as model {same[0]}")
        log.info("trained model %s (%s) in %.1f s", record.id, model.name, trained.seconds)
        if evaluate:
            try:
                _store_scores(workspace, to_score, results, log_file)
            except LifecycleError as error:
                raise LifecycleError(f"Model {record.id} was trained ({model.name}); {error}") from error
            record = _detached(record.id, workspace)
            log.info("model %s: %s", record.id, _describe_scores(record))
    how = f"fine-tuned from model {base.id}" if base is not None else "trained"
    progress.report("train", 1, f"model {record.id} {how} in {record.training_seconds:.0f} s")
    return record


def _live_or_none(workspace: Workspace) -> ModelRecord | None:
    try:
        return current_live(workspace)
    except LifecycleError as error:
        log.warning("no live model to compare with or fine-tune: %s", error)
        return None


def _run_training(
    workspace: Workspace, progress: Progress, to_score: list[ModelRecord], train: Step, log_file: Path
) -> tuple[StepResult | None, dict[str, StepResult]]:
    try:
        results, _ = _score(workspace, progress, "train", to_score, train, log_file)
    except RasaJobFailed as error:
        raise LifecycleError(f"Training failed: {error}\n{log_tail(log_file)}") from error
    return results.get("train"), results


def _finetune_refusal(log_file: Path) -> str | None:
    """Rasa's reason for refusing to fine-tune, from the training log; None for any other failure."""
    text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    for line in reversed(text.splitlines()):
        if any(marker in line for marker in _CANNOT_FINETUNE):
            return line.split("Exception: ", 1)[-1].strip()[:200]
    return None


def _raise_training_failed(trained: StepResult | None, log_file: Path) -> None:
    code = "no exit code" if trained is None else f"exit code {trained.exit_code}"
    raise LifecycleError(f"Training failed ({code}):\n{log_tail(log_file)}")


def evaluate_model(
    record_id: int, workspace: Workspace | None = None, progress_callback: ProgressCallback | None = None
) -> ModelRecord:
    """Score a model on the current test set (and the live model too, when its scores are stale)."""
    workspace = workspace or Workspace()
    progress = Progress(progress_callback)
    ensure_table(workspace.database_url)
    record = _detached(record_id, workspace)
    live = current_live(workspace)
    fingerprint = workspace.test_set_fingerprint()
    stale_live = live is not None and live.id != record.id and _needs_evaluation(live, fingerprint)
    _score_records(workspace, [record, live] if stale_live else [record], progress)  # type: ignore[list-item]
    record = _detached(record_id, workspace)
    progress.report("evaluate", 1, f"model {record.id}: {_describe_scores(record)}")
    return record


def _load_everywhere(workspace: Workspace, model: Path, model_id: str | None, fallback: Path | None) -> None:
    """PUT /model on every server; if one fails, the ones already switched go back to `fallback`."""
    switched: list[RasaServer] = []
    for server in _servers(workspace):
        try:
            served = server.load_model(model)
            if model_id and served.model_id != model_id:
                raise RasaServerError(f"{server.url} reports model id {served.model_id}, expected {model_id}")
            switched.append(server)
            log.info("%s now serves %s", server.url, model.name)
        except RasaServerError as error:
            for done in switched:
                if fallback is not None:
                    try:
                        done.load_model(fallback)
                    except RasaServerError:
                        log.exception("could not put %s back on %s", fallback.name, done.url)
            raise LifecycleError(f"Loading {model.name} failed: {error}") from error


def deploy(
    record_id: int, workspace: Workspace | None = None, progress_callback: ProgressCallback | None = None
) -> DeployOutcome:
    """Put a model live if it is not worse than the live one; otherwise mark it refused, with the reasons."""
    workspace = workspace or Workspace()
    progress = Progress(progress_callback)
    ensure_table(workspace.database_url)
    record = _detached(record_id, workspace)
    if not Path(record.path).exists():
        raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't go live.")
    live = current_live(workspace)
    if live is not None and live.id == record.id:
        return DeployOutcome(record, Verdict(True, notes=["already live"]), deployed=False, previous=live)
    fingerprint = workspace.test_set_fingerprint()
    stale = [r for r in (record, live) if r is not None and _needs_evaluation(r, fingerprint)]
    if stale:
        progress.report("evaluate", 0, f"scoring model(s) {', '.join(str(r.id) for r in stale)} on the test set")
        _score_records(workspace, stale, progress.band(0, 80))
        record, live = _detached(record.id, workspace), _detached(live.id, workspace) if live else None
    progress.report("compare", 0.8, f"comparing model {record.id} with the live model {live.id if live else '-'}")
    verdict = compare(record, live)
    log.info("model %s against live %s: %s", record.id, live.id if live else "-", verdict.summary())
    if not verdict.accepted:
        with session_scope(workspace.database_url) as session:
            stored = get_record(session, record.id)
            assert stored is not None
            stored.status = REFUSED
            stored.add_note(f"{utcnow():%Y-%m-%d %H:%M} UTC refused: {'; '.join(verdict.reasons)}")
        progress.report("refused", 1, f"model {record.id} stays out: {'; '.join(verdict.reasons)}")
        return DeployOutcome(_detached(record.id, workspace), verdict, deployed=False, previous=live)
    with _exclusive(workspace, "deploy", f"putting model {record.id} live", wait=True):
        progress.report("deploy", 0.9, f"loading model {record.id} into the Rasa server")
        _load_everywhere(workspace, Path(record.path), record.model_id, Path(live.path) if live else None)
        with session_scope(workspace.database_url) as session:
            stored = get_record(session, record.id)
            assert stored is not None
            mark_live(session, stored)
    progress.report("done", 1, f"model {record.id} is live")
    return DeployOutcome(_detached(record.id, workspace), verdict, deployed=True, previous=live)


def retrain(
    trained_by: str, workspace: Workspace | None = None, progress_callback: ProgressCallback | None = None
) -> DeployOutcome:
    """The trainer's button: train a candidate, score it, and put it live if it is not worse."""
    workspace = workspace or Workspace()
    progress = Progress(progress_callback)
    record = train_candidate(trained_by, workspace, _forward(progress.band(0, 85)))
    return deploy(record.id, workspace, _forward(progress.band(85, 100)))


def _forward(progress: Progress) -> ProgressCallback:
    """A callback that feeds a sub-band of a bigger job's progress."""
    return lambda event: progress.report(event.stage, event.percent / 100, event.message)


def rollback(
    record_id: int, workspace: Workspace | None = None, progress_callback: ProgressCallback | None = None
) -> ModelRecord:
    """Load a model that was live before and mark it live again; no scoring gate, that's the point."""
    workspace = workspace or Workspace()
    progress = Progress(progress_callback)
    ensure_table(workspace.database_url)
    record = _detached(record_id, workspace)
    live = current_live(workspace)
    if live is not None and live.id == record.id:
        progress.report("done", 1, f"model {record.id} is already live")
        return record
    if record.live_since is None:
        raise LifecycleError(
            f"Model {record.id} has never been live ({record.status}); rollback only goes back to an earlier live "
            f"model. Use `python -m bot models deploy {record.id}` to put a new one live."
        )
    if not Path(record.path).exists():
        raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't go live again.")
    with _exclusive(workspace, "deploy", f"rolling back to model {record.id}", wait=True):
        progress.report("rollback", 0.3, f"loading model {record.id} ({record.name}) into the Rasa server")
        _load_everywhere(workspace, Path(record.path), record.model_id, Path(live.path) if live else None)
        with session_scope(workspace.database_url) as session:
            stored = get_record(session, record.id)
            assert stored is not None
            mark_live(session, stored)
            stored.add_note(f"{utcnow():%Y-%m-%d %H:%M} UTC rolled back to (was: {live.id if live else '-'})")
    progress.report("done", 1, f"model {record.id} is live again")
    return _detached(record.id, workspace)


def list_models(workspace: Workspace | None = None) -> list[ModelRecord]:
    workspace = workspace or Workspace()
    ensure_table(workspace.database_url)
    with session_scope(workspace.database_url) as session:
        return list(all_records(session))


def describe(record: ModelRecord) -> dict[str, Any]:
    """A record as plain data, for JSON (the trainer pages) and the CLI."""
    return {
        "id": record.id,
        "name": record.name,
        "path": record.path,
        "status": record.status,
        "created_at": as_utc(record.created_at).isoformat() if record.created_at else None,
        "trained_by": record.trained_by,
        "training_seconds": record.training_seconds,
        "finetuned_from": record.finetuned_from,
        "nlu": record.nlu_scores or {},
        "conversations": {"passed": record.conversations_passed, "failed": record.conversations_failed},
        "evaluated_at": as_utc(record.evaluated_at).isoformat() if record.evaluated_at else None,
        "evaluation_seconds": record.evaluation_seconds,
        "live_since": as_utc(record.live_since).isoformat() if record.live_since else None,
        "notes": record.notes,
    }


def serving_model(fallback: Path | None, workspace: Workspace | None = None) -> Path | None:
    """The model a (re)starting Rasa server should load: the history's live model, unless `fallback`
    (models/ newest, from `python -m bot train`) was trained after that model went live."""
    try:
        workspace = workspace or Workspace()
        ensure_table(workspace.database_url)
        with session_scope(workspace.database_url) as session:
            live = live_record(session)
    except SQLAlchemyError as error:
        log.warning("can't read the models' history (%s); serving %s", error, fallback)
        return fallback
    if live is None or live.live_since is None or not Path(live.path).exists():
        return fallback
    if fallback is not None and fallback.stat().st_mtime > as_utc(live.live_since).timestamp():
        log.info("%s is newer than the live model %s: serving it", fallback.name, live.name)
        return fallback
    return Path(live.path)


__all__ = [
    "LIVE",
    "REFUSED",
    "RETIRED",
    "DeployOutcome",
    "LifecycleError",
    "current_live",
    "deploy",
    "describe",
    "evaluate_model",
    "list_models",
    "retrain",
    "rollback",
    "serving_model",
    "train_candidate",
]
