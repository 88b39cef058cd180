"""The models' history: every model the lifecycle trained or adopted, its scores, who trained it, its status.

A model is a `candidate` when trained, `refused` when it scored below the live model, `live` while the
Rasa server answers with it, and `retired` once another model took over (rollback can bring it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session

from bot.store.db import create_schema
from bot.store.models import Base, utcnow

CANDIDATE, LIVE, REFUSED, RETIRED = "candidate", "live", "refused", "retired"
STATUSES = (CANDIDATE, LIVE, REFUSED, RETIRED)


class ModelRecord(Base):
    __tablename__ = "model_records"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = Column(String(200), nullable=False)  # file name, e.g. 20261123-171500-3fa2c1.tar.gz
    path: Mapped[str] = Column(Text, nullable=False)  # absolute path of the .tar.gz
    model_id: Mapped[str | None] = Column(String(64), unique=True)  # Rasa's id from the model's metadata
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    trained_by: Mapped[str] = Column(String(100), nullable=False)
    training_seconds: Mapped[float | None] = Column(Float)  # None for a model the lifecycle did not train
    finetuned_from: Mapped[int | None] = Column(Integer)  # the model it fine-tuned; None: a full training
    data_fingerprint: Mapped[str | None] = Column(String(64))  # config.yml + domain.yml + data/ it was trained on
    status: Mapped[str] = Column(String(10), nullable=False, default=CANDIDATE)
    # {"nb": {"macro_f1": 0.93, "accuracy": 0.93, "examples": 525}, "en": {...}}
    nlu_scores: Mapped[dict[str, Any] | None] = Column(JSON)
    conversations_passed: Mapped[int | None] = Column(Integer)
    conversations_failed: Mapped[int | None] = Column(Integer)
    # Scores are comparable only when measured on the same test files: their fingerprint.
    test_set_fingerprint: Mapped[str | None] = Column(String(64))
    evaluated_at: Mapped[datetime | None] = Column(DateTime(timezone=True))
    evaluation_seconds: Mapped[float | None] = Column(Float)
    live_since: Mapped[datetime | None] = Column(DateTime(timezone=True))  # the last time it went live
    notes: Mapped[str] = Column(Text, nullable=False, default="")

    @property
    def evaluated(self) -> bool:
        return self.nlu_scores is not None

    def macro_f1(self, language: str) -> float | None:
        score = (self.nlu_scores or {}).get(language)
        return None if score is None else float(score["macro_f1"])

    def add_note(self, note: str) -> None:
        self.notes = f"{self.notes}\n{note}".strip() if self.notes else note


def ensure_table(url: str | None = None) -> None:
    """The table exists, with the columns this release declares: the lifecycle may run before anything else
    made the schema (bot.store.db.create_schema: migrations to head; production refuses a database behind)."""
    create_schema(url)


def get_record(session: Session, record_id: int) -> ModelRecord | None:
    return session.get(ModelRecord, record_id)


def record_by_model_id(session: Session, model_id: str) -> ModelRecord | None:
    return session.execute(select(ModelRecord).where(ModelRecord.model_id == model_id)).scalar_one_or_none()


def live_record(session: Session) -> ModelRecord | None:
    return session.execute(select(ModelRecord).where(ModelRecord.status == LIVE)).scalars().first()


def all_records(session: Session) -> Sequence[ModelRecord]:
    """Newest first."""
    return session.execute(select(ModelRecord).order_by(ModelRecord.id.desc())).scalars().all()


def mark_live(session: Session, record: ModelRecord, now: datetime | None = None) -> None:
    """Make `record` the one live model; whatever was live before is retired."""
    session.execute(
        update(ModelRecord).where(ModelRecord.status == LIVE, ModelRecord.id != record.id).values(status=RETIRED)
    )
    record.status = LIVE
    record.live_since = now or utcnow()
