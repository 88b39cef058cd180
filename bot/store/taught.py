"""Where each NLU example a trainer taught came from (issue 16): one row per customer message behind it.

A trainer teaches from an inbox group: similar messages, possibly from several conversations, and the
newest one's masked text becomes one line in data/nlu. Every message of the group is recorded as a
source of that line, since each said the same words. Erasing any source's conversation removes the line
(bot/training/unteaching.py): the line is these customers' words, masked or not.

No foreign key to messages: a row must outlive nothing it points to, and erasure deletes the rows of a
conversation before its messages. The time limit (`privacy purge`) drops the rows with the messages and
keeps the masked line, which then leads back to no one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped

from bot.store.models import Base, utcnow


class TaughtExample(Base):
    __tablename__ = "taught_examples"
    __table_args__ = (Index("ix_taught_examples_line", "example_file", "intent"),)

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    # The line: its file relative to the training root (data/nlu/nb/orders.yml), its intent, its text
    # as written (with entity markup); nlu_files refuses duplicates, so these three find one line.
    example_file: Mapped[str] = Column(String(300), nullable=False)
    intent: Mapped[str] = Column(String(100), nullable=False)
    language: Mapped[str] = Column(String(5), nullable=False)
    example: Mapped[str] = Column(Text, nullable=False)
    # One source message of the line.
    message_id: Mapped[int] = Column(Integer, nullable=False, index=True)
    conversation_id: Mapped[str] = Column(String(64), nullable=False, index=True)
    customer_id: Mapped[str | None] = Column(String(20), index=True)  # None: a guest's conversation
    taught_by: Mapped[str] = Column(String(64), nullable=False)
    taught_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
