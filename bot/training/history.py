"""The models' history as the lifecycle keeps it: a model trained, scored, refused or put live, the server's
model adopted when the history has never seen it, and the model a (re)starting Rasa server should load.

The table is bot/store/model_records.py's. A History makes sure it exists (and has every column) before
its first read or write, so the lifecycle may run before anything else created the schema. Records come
back detached from their session: plain objects a caller may keep.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.store.db import session_scope
from bot.store.model_records import (
    CANDIDATE,
    REFUSED,
    ModelRecord,
    all_records,
    ensure_table,
    get_record,
    live_record,
    mark_live,
    record_by_model_id,
)
from bot.store.models import as_utc, utcnow
from bot.training.errors import LifecycleError
from bot.training.evaluation import Evaluation, store_evaluation
from bot.training.model_files import find_model_file
from bot.training.rasa_server import ServedModel
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")


class History:
    """The models' history in one database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._table_ready = False

    def ensure_table(self) -> None:
        """Make sure of the table (once per History); every session does this first."""
        if not self._table_ready:
            ensure_table(self.database_url)
            self._table_ready = True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session (committed at the end of the block), once the table is there."""
        self.ensure_table()
        with session_scope(self.database_url) as session:
            yield session

    def get(self, record_id: int) -> ModelRecord:
        """The record; LifecycleError when there is none."""
        with self.session() as session:
            record = get_record(session, record_id)
            if record is None:
                raise LifecycleError(f"There is no model {record_id}; `python -m bot models list` shows them.")
            return record

    def all(self) -> list[ModelRecord]:
        """Newest first."""
        with self.session() as session:
            return list(all_records(session))

    def live(self) -> ModelRecord | None:
        """The history's live model (not asking any server)."""
        with self.session() as session:
            return live_record(session)

    def add_trained(self, record: ModelRecord) -> None:
        """Record a model just trained (`record` gets its id), noting an earlier model trained on the same data."""
        with self.session() as session:
            session.add(record)
            session.flush()
            data = record.data_fingerprint
            same = [r.id for r in all_records(session) if r.data_fingerprint == data and r.id != record.id]
            if same:
                record.add_note(f"trained on the same data as model {same[0]}")

    def store_scores(self, evaluations: dict[int, Evaluation]) -> None:
        """Each record's scores, by record id, in one transaction."""
        with self.session() as session:
            for record_id, evaluation in evaluations.items():
                stored = get_record(session, record_id)
                assert stored is not None
                store_evaluation(stored, evaluation)

    def refuse(self, record_id: int, reasons: list[str]) -> None:
        with self.session() as session:
            stored = get_record(session, record_id)
            assert stored is not None
            stored.status = REFUSED
            stored.add_note(f"{utcnow():%Y-%m-%d %H:%M} UTC refused: {'; '.join(reasons)}")

    def put_live(self, record_id: int, note: str | None = None) -> None:
        """Mark the record live (whatever was live before is retired), with a note when given."""
        with self.session() as session:
            stored = get_record(session, record_id)
            assert stored is not None
            mark_live(session, stored)
            if note:
                stored.add_note(note)

    def follow(self, served: ServedModel | None, workspace: Workspace) -> ModelRecord | None:
        """The live model, after making the history agree with the model a server serves (`served`; None
        when no server could say): a known model is marked live, an unknown one is adopted.

        Adopting copies the model into the models folder, since models/varde.tar.gz is overwritten by the
        next `python -m bot train`, and records it as live; LifecycleError when its file is nowhere to be
        found (workspace.model_search_dirs)."""
        with self.session() as session:
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
        live = History(workspace.database_url).live()
    except SQLAlchemyError as error:
        log.warning("can't read the models' history (%s); serving %s", error, fallback)
        return fallback
    if live is None or live.live_since is None or not Path(live.path).exists():
        return fallback
    if fallback is not None and fallback.stat().st_mtime > as_utc(live.live_since).timestamp():
        log.info("%s is newer than the live model %s: serving it", fallback.name, live.name)
        return fallback
    return Path(live.path)
