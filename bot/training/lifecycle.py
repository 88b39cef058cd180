"""The model lifecycle: train a candidate, score it, compare it with the live model, put it live, roll back.

    lifecycle = Lifecycle(workspace, progress_callback)
    lifecycle.train_candidate()  rasa train (--finetune <live>) into models/candidates/<time>-<random>.tar.gz,
                                 then score it
    lifecycle.evaluate_model()   score a model again (held-out NLU set per language, conversation tests)
    lifecycle.deploy()           if not worse than live: PUT /model on every Rasa server, and mark it live;
                                 otherwise mark it refused, with the reasons, and leave the live model alone
    lifecycle.retrain()          the trainer's button: train_candidate() then deploy()
    lifecycle.rollback()         load a model that was live before, and mark it live again
    lifecycle.current_live(), lifecycle.list_models()

Training fine-tunes the live model and reuses Rasa's cache (.rasa/cache), so after a new NLU example
only the NLU components train again, the classifier from the live model's coefficients; the dialogue
policies come from the cache (docs/model-lifecycle.md has the measured times). The live model is
whatever the Rasa server says it serves (GET /status): the history follows the server, and adopts a
model it has not seen before.

This module holds the jobs and their rules; each mechanism they use has a module of its own:
    history.py          the models' history in the database (and the model a restarting Rasa serves)
    train_and_score.py  the Rasa commands in one child process, and the scores they report
    rasa_server.py      Rasa over HTTP: which model it serves; load one on every server
    model_files.py      model archives on disk: their Rasa id, the newest, where their reports go
    locks.py            one training (one deploy) at a time, across processes
    progress.py         progress events; a job's stages as bands of one bar
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from bot.store.model_records import CANDIDATE, ModelRecord
from bot.store.models import utcnow
from bot.training.errors import LifecycleError
from bot.training.evaluation import Verdict, compare
from bot.training.history import History
from bot.training.locks import exclusive
from bot.training.model_files import model_metadata_id
from bot.training.progress import Progress, ProgressCallback
from bot.training.rasa_server import RasaServer, RasaServerError, load_everywhere
from bot.training.train_and_score import (
    finetune_refusal,
    read_scores,
    run_scoring,
    run_training,
    train_step,
    training_failed,
)
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")


@dataclass(frozen=True)
class DeployOutcome:
    record: ModelRecord
    verdict: Verdict
    deployed: bool
    previous: ModelRecord | None  # the model that was live before


class Lifecycle:
    """The lifecycle's jobs on one workspace, reporting to one progress bar.

    Making one reads nothing (the history's table is made sure of at its first use), so it may be made
    in an event loop and used in a worker thread. Make one per job: its progress is that job's bar.
    `progress` is a callback for the events, or a Progress (a band of a bigger job's bar)."""

    def __init__(self, workspace: Workspace | None = None, progress: Progress | ProgressCallback | None = None) -> None:
        self.workspace = workspace or Workspace()
        self.progress = progress if isinstance(progress, Progress) else Progress(progress)
        self.history = History(self.workspace.database_url)

    def _stage(self, start: float, end: float) -> Lifecycle:
        """The same lifecycle, reporting to start..end % of this one's bar."""
        stage = Lifecycle(self.workspace, self.progress.band(start, end))
        stage.history = self.history
        return stage

    def _servers(self) -> list[RasaServer]:
        return [RasaServer(url, self.workspace.jwt_secret) for url in self.workspace.rasa_urls]

    def current_live(self) -> ModelRecord | None:
        """The model the (first) Rasa server serves, as a record; the history is corrected to match it.

        A model the history has never seen (the first time, or after `python -m bot train` and a restart)
        is adopted: copied into the models folder, since models/varde.tar.gz is overwritten by the next
        `python -m bot train`, and recorded as live. Without a reachable server, the history's live model.
        """
        try:
            served = self._servers()[0].status()
        except (RasaServerError, IndexError) as error:
            log.warning("can't ask Rasa which model it serves (%s); using the history's live model", error)
            served = None
        return self.history.follow(served, self.workspace)

    def list_models(self) -> list[ModelRecord]:
        """The history, newest first."""
        return self.history.all()

    def train_candidate(self, trained_by: str, evaluate: bool = True, finetune: bool = True) -> ModelRecord:
        """Train a new model from the workspace's data into its models folder; score it (and the live model,
        when its scores are missing or from another test set) in the same child process.

        With `finetune`, the live model is fine-tuned with the data as it is now: after a trainer's examples
        that is the fast way (docs/model-lifecycle.md). When Rasa says the live model can't be fine-tuned
        (the settings, the domain or the intents changed), the candidate is trained in full instead."""
        workspace, progress = self.workspace, self.progress
        self.history.ensure_table()  # a database that fails, before a training of minutes rather than after
        live = self._live_or_none() if (evaluate or finetune) else None
        fingerprint = workspace.test_set_fingerprint()
        with exclusive(workspace.models_dir, "train", f"{trained_by} is training a model", wait=False):
            stem = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            model = workspace.models_dir / f"{stem}.tar.gz"
            log_file = workspace.models_dir / f"{stem}.log"
            data_fingerprint = workspace.data_fingerprint()
            base = _finetune_base(live) if finetune else None
            record = ModelRecord(name=model.name, path=str(model), trained_by=trained_by, status=CANDIDATE)
            to_score = [record] + ([live] if _needs_evaluation(live, fingerprint) else []) if evaluate else []
            log.info("training %s for %s (log: %s)%s", model.name, trained_by, log_file,
                     f", fine-tuning model {base.id}" if base else "")  # fmt: skip
            trained, results = run_training(workspace, progress, to_score, train_step(workspace, stem, base), log_file)
            if base is not None and (trained is None or trained.exit_code != 0):
                reason = finetune_refusal(log_file)
                if reason is None:
                    raise training_failed(trained, log_file)
                log.info("model %s can't be fine-tuned (%s); training in full", base.id, reason)
                record.add_note(f"trained in full: model {base.id} could not be fine-tuned ({reason})")
                base = None
                trained, results = run_training(
                    workspace, progress, to_score, train_step(workspace, stem, None), log_file
                )
            if trained is None or trained.exit_code != 0 or not model.exists():
                raise training_failed(trained, log_file)
            if base is not None:
                record.finetuned_from = base.id
                record.add_note(f"fine-tuned from model {base.id}")
            record.model_id = model_metadata_id(model)
            record.training_seconds = trained.seconds
            record.data_fingerprint = data_fingerprint
            self.history.add_trained(record)
            log.info("trained model %s (%s) in %.1f s", record.id, model.name, trained.seconds)
            if evaluate:
                try:
                    self.history.store_scores(read_scores(workspace, to_score, results, log_file))
                except LifecycleError as error:
                    raise LifecycleError(f"Model {record.id} was trained ({model.name}); {error}") from error
                record = self.history.get(record.id)
                log.info("model %s: %s", record.id, _describe_scores(record))
        how = f"fine-tuned from model {base.id}" if base is not None else "trained"
        progress.report("train", 1, f"model {record.id} {how} in {record.training_seconds:.0f} s")
        return record

    def _live_or_none(self) -> ModelRecord | None:
        try:
            return self.current_live()
        except LifecycleError as error:
            log.warning("no live model to compare with or fine-tune: %s", error)
            return None

    def _score(self, records: list[ModelRecord], progress: Progress) -> None:
        """Score the records in one child process and store their scores."""
        what = ", ".join(str(record.id) for record in records)
        with exclusive(self.workspace.models_dir, "train", f"scoring model(s) {what}", wait=False):
            for record in records:
                if not Path(record.path).exists():
                    raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't be scored.")
            results, log_file = run_scoring(self.workspace, progress, records)
            self.history.store_scores(read_scores(self.workspace, records, results, log_file))

    def evaluate_model(self, record_id: int) -> ModelRecord:
        """Score a model on the current test set (and the live model too, when its scores are stale)."""
        record = self.history.get(record_id)
        live = self.current_live()
        fingerprint = self.workspace.test_set_fingerprint()
        stale_live = live is not None and live.id != record.id and _needs_evaluation(live, fingerprint)
        self._score([record, live] if stale_live else [record], self.progress)  # type: ignore[list-item]
        record = self.history.get(record_id)
        self.progress.report("evaluate", 1, f"model {record.id}: {_describe_scores(record)}")
        return record

    def _load(self, record: ModelRecord, live: ModelRecord | None) -> None:
        """PUT /model on every server; if one fails, the ones already switched go back to the live model."""
        model = Path(record.path)
        try:
            load_everywhere(self._servers(), model, record.model_id, Path(live.path) if live else None)
        except RasaServerError as error:
            raise LifecycleError(f"Loading {model.name} failed: {error}") from error

    def deploy(self, record_id: int) -> DeployOutcome:
        """Put a model live if it is not worse than the live one; otherwise mark it refused, with the reasons."""
        progress = self.progress
        record = self.history.get(record_id)
        if not Path(record.path).exists():
            raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't go live.")
        live = self.current_live()
        if live is not None and live.id == record.id:
            return DeployOutcome(record, Verdict(True, notes=["already live"]), deployed=False, previous=live)
        fingerprint = self.workspace.test_set_fingerprint()
        stale = [r for r in (record, live) if r is not None and _needs_evaluation(r, fingerprint)]
        if stale:
            progress.report("evaluate", 0, f"scoring model(s) {', '.join(str(r.id) for r in stale)} on the test set")
            self._score(stale, progress.band(0, 80))
            record, live = self.history.get(record.id), self.history.get(live.id) if live else None
        progress.report("compare", 0.8, f"comparing model {record.id} with the live model {live.id if live else '-'}")
        verdict = compare(record, live)
        log.info("model %s against live %s: %s", record.id, live.id if live else "-", verdict.summary())
        if not verdict.accepted:
            self.history.refuse(record.id, verdict.reasons)
            progress.report("refused", 1, f"model {record.id} stays out: {'; '.join(verdict.reasons)}")
            return DeployOutcome(self.history.get(record.id), verdict, deployed=False, previous=live)
        with exclusive(self.workspace.models_dir, "deploy", f"putting model {record.id} live", wait=True):
            progress.report("deploy", 0.9, f"loading model {record.id} into the Rasa server")
            self._load(record, live)
            self.history.put_live(record.id)
        progress.report("done", 1, f"model {record.id} is live")
        return DeployOutcome(self.history.get(record.id), verdict, deployed=True, previous=live)

    def retrain(self, trained_by: str) -> DeployOutcome:
        """The trainer's button: train a candidate, score it, and put it live if it is not worse."""
        record = self._stage(0, 85).train_candidate(trained_by)
        return self._stage(85, 100).deploy(record.id)

    def rollback(self, record_id: int) -> ModelRecord:
        """Load a model that was live before and mark it live again; no scoring gate, that's the point."""
        record = self.history.get(record_id)
        live = self.current_live()
        if live is not None and live.id == record.id:
            self.progress.report("done", 1, f"model {record.id} is already live")
            return record
        if record.live_since is None:
            raise LifecycleError(
                f"Model {record.id} has never been live ({record.status}); rollback only goes back to an earlier "
                f"live model. Use `python -m bot models deploy {record.id}` to put a new one live."
            )
        if not Path(record.path).exists():
            raise LifecycleError(f"Model {record.id}'s file {record.path} is gone; it can't go live again.")
        with exclusive(self.workspace.models_dir, "deploy", f"rolling back to model {record.id}", wait=True):
            self.progress.report("rollback", 0.3, f"loading model {record.id} ({record.name}) into the Rasa server")
            self._load(record, live)
            note = f"{utcnow():%Y-%m-%d %H:%M} UTC rolled back to (was: {live.id if live else '-'})"
            self.history.put_live(record.id, note)
        self.progress.report("done", 1, f"model {record.id} is live again")
        return self.history.get(record.id)


def _needs_evaluation(record: ModelRecord | None, fingerprint: str) -> TypeGuard[ModelRecord]:
    return record is not None and record.test_set_fingerprint != fingerprint


def _finetune_base(live: ModelRecord | None) -> ModelRecord | None:
    """The live model, to fine-tune, when its file is here; a trainer's examples are what changed since."""
    if live is None or not Path(live.path).exists():
        return None
    return live


def _describe_scores(record: ModelRecord) -> str:
    parts = [
        f"{language} macro-F1 {score['macro_f1']:.4f} accuracy {score['accuracy']:.4f}"
        for language, score in sorted((record.nlu_scores or {}).items())
    ]
    passed, failed = record.conversations_passed or 0, record.conversations_failed or 0
    parts.append(f"conversation tests {passed} passed, {failed} failed")
    return ", ".join(parts)


__all__ = ["DeployOutcome", "Lifecycle", "LifecycleError"]
