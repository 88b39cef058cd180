"""Filling the stores with past conversations, fast: copies of one real conversation, inserted as rows.

A conversation that went through the gateway lives in two places: Rasa's `events` table (its tracker,
one row per event, sender_id = conversation id) and the gateway's `conversations` and `messages` tables.
A real one, made by the benchmark through the gateway, is the template; each copy gets a new id and
goes in with SQLAlchemy Core's executemany, 500 conversations per transaction. The tables are reflected
from the database, so the copies follow whatever columns the running version has.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.engine import Engine

from bot.store.db import get_engine

BATCH = 500


def _tables(engine: Engine) -> tuple[Table, Table, Table]:
    metadata = MetaData()
    metadata.reflect(engine, only=["events", "conversations", "messages"])
    return metadata.tables["events"], metadata.tables["conversations"], metadata.tables["messages"]


def stored_conversations(url: str) -> dict[str, int]:
    """How many conversations each store holds now."""
    engine = get_engine(url)
    events, conversations, _ = _tables(engine)
    with engine.connect() as connection:
        trackers = connection.execute(select(func.count(func.distinct(events.c.sender_id)))).scalar_one()
        transcripts = connection.execute(select(func.count()).select_from(conversations)).scalar_one()
    return {"tracker_store": int(trackers), "transcripts": int(transcripts)}


def _template(engine: Engine, conversation_id: str) -> tuple[list[dict], dict, list[dict]]:
    events, conversations, messages = _tables(engine)
    with engine.connect() as connection:
        event_rows = connection.execute(
            select(events).where(events.c.sender_id == conversation_id).order_by(events.c.id)
        ).mappings()
        event_rows = [dict(row) for row in event_rows]
        conversation = dict(
            connection.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().one()
        )
        message_rows = connection.execute(
            select(messages).where(messages.c.conversation_id == conversation_id).order_by(messages.c.seq)
        ).mappings()
        message_rows = [dict(row) for row in message_rows]
    if not event_rows or not message_rows:
        raise RuntimeError(f"template conversation {conversation_id} is not in both stores")
    return event_rows, conversation, message_rows


def fill(url: str, template_id: str, count: int) -> dict[str, Any]:
    """Add `count` copies of the template conversation to both stores; returns what it did and how fast."""
    engine = get_engine(url)
    events, conversations, messages = _tables(engine)
    event_rows, conversation, message_rows = _template(engine, template_id)
    # The database numbers the copies' rows itself.
    event_rows = [{k: v for k, v in row.items() if k != "id"} for row in event_rows]
    message_rows = [{k: v for k, v in row.items() if k != "id"} for row in message_rows]
    started = time.monotonic()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        new_events: list[dict] = []
        new_conversations: list[dict] = []
        new_messages: list[dict] = []
        for _ in range(size):
            new_id = uuid.uuid4().hex
            new_events += [{**row, "sender_id": new_id} for row in event_rows]
            new_conversations.append({**conversation, "id": new_id})
            new_messages += [{**row, "conversation_id": new_id} for row in message_rows]
        with engine.begin() as connection:
            connection.execute(conversations.insert(), new_conversations)
            connection.execute(events.insert(), new_events)
            connection.execute(messages.insert(), new_messages)
        done += size
    seconds = time.monotonic() - started
    return {
        "conversations": count,
        "event_rows": count * len(event_rows),
        "message_rows": count * len(message_rows),
        "seconds": round(seconds, 2),
        "method": "rows copied from one real gateway conversation with SQLAlchemy Core executemany "
        f"({BATCH} conversations per transaction) into Rasa's events table and the gateway's tables",
    }
