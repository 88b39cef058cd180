"""Our engines' pooled PostgreSQL connections (bot/store/db.py): one back from work within the last second
is used without a round trip to check it; one idle longer is checked first, so a connection the database
dropped while it sat in the pool (a restart, an idle timeout) is replaced before any work sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.store import db
from bot.store.postgres_admin import scratch_database
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres

IDLE = 0.2  # PING_AFTER_IDLE_SECONDS for these tests


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, list[int]]]:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", IDLE)
    with scratch_database("varde_pool", POSTGRES_URL) as url:
        engine = db.get_engine(url)
        pings: list[int] = []
        real_ping = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            pings.append(1)
            return bool(real_ping(dbapi_connection))

        monkeypatch.setattr(engine.dialect, "do_ping", counted)
        try:
            yield engine, pings
        finally:
            engine.dispose()
            db.get_engine.cache_clear()
            db._session_factory.cache_clear()


def backend_pid(engine: Engine) -> int:
    with db.session_scope(str(engine.url)) as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_just_returned_is_used_without_a_ping(engine: tuple[Engine, list[int]]) -> None:
    engine_, pings = engine
    first = backend_pid(engine_)
    for _ in range(5):
        assert backend_pid(engine_) == first  # the same pooled connection, each time
    assert pings == []


def test_a_connection_idle_longer_is_pinged_first(engine: tuple[Engine, list[int]]) -> None:
    engine_, pings = engine
    first = backend_pid(engine_)
    time.sleep(IDLE * 1.5)
    assert backend_pid(engine_) == first  # alive: kept
    assert pings == [1]


def test_a_connection_the_database_dropped_while_idle_is_replaced(engine: tuple[Engine, list[int]]) -> None:
    engine_, pings = engine
    dropped = backend_pid(engine_)
    with db.get_engine(POSTGRES_URL).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}).scalar_one()
    time.sleep(IDLE * 1.5)
    # The unit of work does not see the dead connection: it runs on a new one.
    replaced = backend_pid(engine_)
    assert replaced != dropped
    assert pings == [1]
