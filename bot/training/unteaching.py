"""Taught NLU examples and the customers they came from (issue 16): recorded when a trainer teaches,
removed when a customer's conversations are erased.

Teaching (bot/training/teaching.py) records every source message of the line it writes
(bot/store/taught.py). Erasure (`python -m bot privacy erase ...`) calls erase_taught_examples before it
deletes the conversations: each line taught from one of them leaves its file in data/nlu, every record
of that line goes, and the models that were trained with it get a note saying so. The live model keeps
answering with what it learnt until the next training: the data's fingerprint has changed, so the next
`python -m bot train` or the trainers' Retrain builds a model without the line, and the operator is told.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.conversations import Conversation, Message
from bot.store.model_records import ModelRecord, live_record
from bot.store.models import as_utc, utcnow
from bot.store.taught import TaughtExample
from bot.training.nlu_files import AddedExample, remove_example
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")


@dataclass(frozen=True)
class TaughtLine:
    example_file: str  # relative to the training root
    intent: str
    example: str


@dataclass
class Unlearned:
    """What erase_taught_examples did."""

    removed: list[TaughtLine] = field(default_factory=list)  # lines taken out of data/nlu
    already_gone: list[TaughtLine] = field(default_factory=list)  # recorded, but no longer in their file
    marked_models: list[int] = field(default_factory=list)  # model records trained with a removed line
    live_model: int | None = None  # the live model, if it is one of them: it needs retraining
    first_taught: datetime | None = None  # when the first removed line was taught

    def summary(self) -> str:
        """One paragraph for the operator."""
        if not self.removed and not self.already_gone:
            return "taught NLU examples: none came from these conversations"
        files = sorted({line.example_file for line in self.removed})
        text = f"taught NLU examples: removed {len(self.removed)} line(s) from " + (", ".join(files) or "no file")
        if self.already_gone:
            text += f"; {len(self.already_gone)} recorded line(s) were no longer in their file"
        if self.first_taught is not None:
            live = f"the live model ({self.live_model}) among them" if self.live_model is not None else "any"
            text += (
                f". Models trained since {self.first_taught:%Y-%m-%d %H:%M} UTC ({live}) still know them until "
                "retrained: the next `python -m bot train`, or Retrain on the trainer pages, builds one without them"
            )
        if self.marked_models:
            text += f" (noted on model(s) {', '.join(map(str, self.marked_models))})"
        return text + "."


def record_sources(
    session: Session, added: AddedExample, root: Path, message_ids: Iterable[int], taught_by: str
) -> int:
    """Record each message behind a line just written (teaching.assign); returns how many."""
    example_file = str(added.path.relative_to(root))
    rows = session.execute(
        select(Message.id, Message.conversation_id, Conversation.customer_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id.in_(list(message_ids)))
    ).all()
    for message_id, conversation_id, customer_id in rows:
        session.add(
            TaughtExample(
                example_file=example_file,
                intent=added.intent,
                language=added.language,
                example=added.text,
                message_id=message_id,
                conversation_id=conversation_id,
                customer_id=customer_id,
                taught_by=taught_by,
            )
        )
    return len(rows)


def lines_from(session: Session, conversation_ids: list[str]) -> dict[TaughtLine, datetime]:
    """The lines taught from these conversations, each with when it was first taught."""
    found: dict[TaughtLine, datetime] = {}
    if not conversation_ids:
        return found
    query = select(TaughtExample).where(TaughtExample.conversation_id.in_(conversation_ids))
    for row in session.scalars(query):
        line = TaughtLine(row.example_file, row.intent, row.example)
        taught_at = as_utc(row.taught_at)
        found[line] = min(found.get(line, taught_at), taught_at)
    return found


def erase_taught_examples(session: Session, conversation_ids: list[str], workspace: Workspace) -> Unlearned:
    """Take every line taught from these conversations out of data/nlu, forget every record of those lines
    (other conversations' too: the line is gone), and note the models trained with them. In the caller's
    transaction, which then erases the conversations: if writing a file fails, nothing is erased."""
    done = Unlearned()
    lines = lines_from(session, conversation_ids)
    for line in sorted(lines, key=lambda line: (line.example_file, line.intent, line.example)):
        path = workspace.root / line.example_file
        if remove_example(path, line.intent, line.example):
            done.removed.append(line)
            log.info("privacy: removed a taught example of %s from %s", line.intent, line.example_file)
        else:
            done.already_gone.append(line)
        session.execute(
            delete(TaughtExample).where(
                TaughtExample.example_file == line.example_file,
                TaughtExample.intent == line.intent,
                TaughtExample.example == line.example,
            ),
            execution_options={"synchronize_session": False},
        )
    if done.removed:
        done.first_taught = min(lines[line] for line in done.removed)
        _note_models(session, done, done.first_taught)
    return done


def _note_models(session: Session, done: Unlearned, first_taught: datetime) -> None:
    """Every model trained after the first removed line was taught learnt it: say so on each (a rollback
    to one brings the line back), and remember whether the live model is one of them."""
    note = (
        f"{utcnow():%Y-%m-%d %H:%M} UTC: trained with {len(done.removed)} example(s) since erased at a "
        "customer's request (privacy); retrain, and don't roll back to this model"
    )
    for record in session.scalars(select(ModelRecord).order_by(ModelRecord.id)):
        if as_utc(record.created_at) >= first_taught:
            record.add_note(note)
            done.marked_models.append(record.id)
    live = live_record(session)
    if live is not None and live.id in done.marked_models:
        done.live_model = live.id
