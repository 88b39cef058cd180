"""A failed statement's error names the statement but never the values it sent (bot/store/db.py): customers'
words and e-mail addresses must not reach the logs through a database error, on our engines or on Rasa's
tracker store (bot/rasa_main.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store import db
from bot.store.postgres_admin import scratch_database
from tests.conftest import POSTGRES_URL

SECRET = "kari.nordmann@example.no, card 4111 1111 1111 1111"


def fail_with_a_customers_words(engine: Engine) -> str:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES (1, 'first')"))
    with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
        connection.execute(text("INSERT INTO notes VALUES (1, :body)"), {"body": SECRET})
    return str(failed.value)


def test_sqlite_errors_carry_no_values(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    try:
        error = fail_with_a_customers_words(engine)
    finally:
        engine.dispose()
    assert "INSERT INTO notes" in error  # what failed is still said
    assert "4111" not in error and "kari" not in error


@pytest.mark.postgres
def test_postgresql_errors_carry_no_values() -> None:
    with scratch_database("varde_hidden", POSTGRES_URL) as url:
        engine = db.get_engine(url)
        try:
            error = fail_with_a_customers_words(engine)
        finally:
            engine.dispose()
    assert "INSERT INTO notes" in error
    assert "4111" not in error and "kari" not in error


def test_rasas_tracker_store_errors_carry_no_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.tracker_store
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.rasa_main import engine_kwargs_hiding_values

    monkeypatch.setattr(rasa.core.tracker_store, "create_engine_kwargs", engine_kwargs_hiding_values())
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    try:
        error = fail_with_a_customers_words(store.engine)
    finally:
        store.engine.dispose()
    assert "4111" not in error and "kari" not in error
