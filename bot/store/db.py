"""Engine and session handling: one engine per database URL, one session per unit of work."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import get_settings
from bot.store import conversations, desk, insight_indexes, staff, taught  # noqa: F401  (their tables join Base.metadata)

# A failed statement's error (logged by whoever catches it) names the statement, never the values it was
# sending: those are customers' words, e-mail addresses and ratings, which must not outlive an erasure in a log.
NO_VALUES_IN_ERRORS = {"hide_parameters": True}


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 gives a file database a NullPool: a new connection, and the PRAGMAs below, for
        # every unit of work. Kept connections made the gateway's turn 15-20 ms faster (bench/, README).
        engine = create_engine(
            url, future=True, poolclass=QueuePool, connect_args={"timeout": 30, "check_same_thread": False},
            **NO_VALUES_IN_ERRORS,
        )  # fmt: skip
        # WAL lets the action server read while the gateway writes.
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, future=True, **NO_VALUES_IN_ERRORS)
    # SQLAlchemy's pool_pre_ping costs a round trip on every checkout: 2-3 per customer turn in the gateway
    # and one per action. A connection back in the pool within the last second is taken as it is (if it
    # has died since, the unit fails as one that dies mid-use would: the gateway's writes are tried again);
    # one idle longer (a restarted database, a dropped idle connection) is checked first.
    event.listen(engine, "connect", _note_returned)
    event.listen(engine, "checkin", _note_returned)
    event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
    return engine


# A pooled connection idle longer than this is checked with one round trip before it is used.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED = "varde_returned"


def _note_returned(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        # The dialect's own ping, as pool_pre_ping's; a dead connection means the database went away, so
        # every pooled one goes (as with pool_pre_ping) and the pool connects afresh.
        if not dialect.do_ping(dbapi_connection):
            raise InvalidatePoolError("connection lost while idle in the pool")

    return checkout


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at once,
    # without its busy wait, when other connections open it at the same moment: wait here instead.
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache(maxsize=8)
def _session_factory(url: str | None) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back when it raises."""
    session: Session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def create_schema(url: str | None = None) -> None:
    """The schema this release's models declare, before any work on the database.

    Alembic's migrations to head (bot/store/migrate.py), which adopt a database made before Varde had
    migrations. In production (BOT_ENV=production) only `python -m bot db upgrade` migrates: this
    raises SchemaNotCurrent (a SettingsError) unless the database is at head already.
    """
    from bot.store.migrate import ensure_current

    ensure_current(url)


def drop_schema(url: str | None = None) -> None:
    """Every table of the models and the migrations' record of the schema (alembic_version)."""
    from bot.store.migrate import models_metadata

    engine = get_engine(url)
    models_metadata().drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
