"""Engine and session handling: one engine per database URL, one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import get_settings
from bot.store import conversations, desk, staff  # noqa: F401  (their tables join Base.metadata)
from bot.store.models import Base


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 gives a file database a NullPool: a new connection, and the PRAGMAs below, for
        # every unit of work. Kept connections made the gateway's turn 15-20 ms faster (bench/, README).
        engine = create_engine(
            url, future=True, poolclass=QueuePool, connect_args={"timeout": 30, "check_same_thread": False}
        )
        # WAL lets the action server read while the gateway writes.
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
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
    engine = get_engine(url)
    Base.metadata.create_all(engine)
    add_missing_columns(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add nullable columns that a newer release declares to tables an older one created.

    create_all makes missing tables only; this keeps an existing database (a developer's, a demo's)
    working after a release that added columns, without a migration tool. Only nullable columns
    without server defaults are added, which every database accepts as a plain ALTER TABLE ADD COLUMN.
    """
    existing = inspect(engine)
    added: list[str] = []
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if not existing.has_table(table.name):
                continue
            present = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in present or not column.nullable or column.server_default is not None:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                preparer = engine.dialect.identifier_preparer
                connection.execute(
                    text(f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {preparer.quote(column.name)} {kind}")
                )
                added.append(f"{table.name}.{column.name}")
    return added


def drop_schema(url: str | None = None) -> None:
    Base.metadata.drop_all(get_engine(url))
