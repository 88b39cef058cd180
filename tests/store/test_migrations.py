"""Alembic migrations of the shop database, on SQLite and on the PostgreSQL server: an empty database reaches
the models' schema, one that Varde made before migrations is adopted, and production never migrates by itself."""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect, select, text

from bot.settings import get_settings
from bot.store import migrate
from bot.store.conversations import Conversation
from bot.store.db import create_schema, get_engine, session_scope
from bot.store.postgres_admin import scratch_database
from bot.store.transcript import resume_conversation
from tests.conftest import POSTGRES_URL
from tests.support import run_bot

PRODUCTION = {
    "BOT_ENV": "production",
    "BOT_IDENTITY_SECRET": "an identity secret of more than thirty-two characters",
    "BOT_RASA_JWT_SECRET": "a rasa api secret of more than thirty-two characters",
    "BOT_SESSION_SECRET": "a session secret of more than thirty-two characters",
}
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def baseline_schema() -> MetaData:
    """The tables of revision 0001: what create_all made from the models before there were migrations."""
    spec = importlib.util.spec_from_file_location("baseline", migrate.MIGRATIONS / "versions" / "0001_baseline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.schema()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of this test's own; on PostgreSQL a new one, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    with scratch_database("varde_migrations", POSTGRES_URL) as url:
        yield url


def differences(url: str) -> list:
    """What alembic's autogenerate finds between the database and the models: nothing, when they agree."""
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.only_our_tables}
        )
        return compare_metadata(context, migrate.models_metadata())


def tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names())


def test_an_empty_database_migrates_to_the_models(empty: str) -> None:
    assert migrate.current(empty) is None
    assert migrate.upgrade(empty) == migrate.head() == migrate.current(empty)
    assert tables(empty) == set(migrate.models_metadata().tables) | {"alembic_version"}
    assert differences(empty) == []
    assert migrate.upgrade(empty) == migrate.head()  # again: nothing to do


def test_a_database_made_by_create_all_is_adopted_with_its_data(empty: str) -> None:
    engine = get_engine(empty)
    baseline_schema().create_all(engine)  # the old create_schema and ensure_table, before migrations
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255))"))  # Rasa's
        connection.execute(
            text("INSERT INTO conversations (id, language, state, last_seq, created_at, updated_at) "
                 "VALUES ('old', 'nb', 'bot', 3, :at, :at)"),
            {"at": WHEN},
        )  # fmt: skip
    create_schema(empty)  # what every start does in development
    assert migrate.current(empty) == migrate.head()
    assert differences(empty) == []
    assert "events" in tables(empty)  # not ours: left alone
    with session_scope(empty) as session:
        assert session.get(Conversation, "old").last_seq == 3


def test_an_older_releases_database_gets_the_columns_and_indexes_it_lacked(empty: str) -> None:
    legacy = MetaData()
    for table in baseline_schema().sorted_tables:
        if table.name != "conversations":
            table.to_metadata(legacy)
    Table(  # the conversations table as the gateway's first release made it
        "conversations",
        legacy,
        Column("id", String(64), primary_key=True),
        Column("customer_id", String(20), index=True),
        Column("language", String(5), nullable=False),
        Column("state", String(10), nullable=False),
        Column("last_seq", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    engine = get_engine(empty)
    legacy.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO conversations VALUES ('old', NULL, 'nb', 'bot', 3, :at, :at)"), {"at": WHEN}
        )
    assert migrate.upgrade(empty) == migrate.head()
    assert differences(empty) == []
    indexes = {index["name"] for index in inspect(engine).get_indexes("conversations")}
    assert "ix_conversations_agent_username" in indexes  # add_missing_columns added the column only
    with session_scope(empty) as session:
        old = session.get(Conversation, "old")
        assert (old.last_seq, old.agent_username, old.queued_at, old.rating) == (3, None, None, None)


def test_a_database_unlike_any_varde_made_is_not_adopted_and_is_left_as_it_was(empty: str) -> None:
    engine = get_engine(empty)
    with engine.begin() as connection:  # customers without its NOT NULL phone: no release made that
        connection.execute(
            text("CREATE TABLE customers (id VARCHAR(20) PRIMARY KEY, name VARCHAR(200) NOT NULL, "
                 "email VARCHAR(320) NOT NULL UNIQUE, language VARCHAR(5) NOT NULL, member_since DATE NOT NULL)")
        )  # fmt: skip
    with pytest.raises(migrate.SchemaNotCurrent, match=r"not adopted(.|\n)*customers(.|\n)*phone"):
        migrate.upgrade(empty)
    assert migrate.current(empty) is None
    assert tables(empty) == {"customers"}  # one transaction: nothing was created or recorded


def test_two_processes_upgrading_at_once_take_turns(empty: str) -> None:
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            migrate.upgrade(empty)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert migrate.current(empty) == migrate.head()
    with get_engine(empty).connect() as connection:
        assert connection.execute(select(text("count(*)")).select_from(text("alembic_version"))).scalar() == 1


def test_production_refuses_a_database_behind_until_the_operator_upgrades(
    empty: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    production = dataclasses.replace(get_settings(), env="production")
    monkeypatch.setattr(migrate, "get_settings", lambda: production)
    with pytest.raises(migrate.SchemaNotCurrent, match="run `python -m bot db upgrade`"):
        create_schema(empty)  # what the gateway's start, seeding and the CLI's commands do first
    assert tables(empty) == set()
    assert migrate.upgrade(empty) == migrate.head()  # `python -m bot db upgrade`
    create_schema(empty)


def test_a_database_a_newer_release_upgraded_is_refused_with_a_clear_message(empty: str) -> None:
    migrate.upgrade(empty)
    with get_engine(empty).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    for step in (create_schema, migrate.upgrade):
        with pytest.raises(migrate.SchemaNotCurrent, match="at revision ffff, which this release of Varde does not"):
            step(empty)


def test_db_upgrade_and_current_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    refused = run_bot("seed", "--if-stale", BOT_DATABASE_URL=url, **PRODUCTION)  # as `make run` seeds
    assert refused.returncode == 2, refused.stderr
    assert f"needs revision {migrate.head()}: run `python -m bot db upgrade`" in refused.stderr
    assert "Traceback" not in refused.stderr
    before = run_bot("db", "current", BOT_DATABASE_URL=url)
    assert before.returncode == 0 and "database: no revision" in before.stdout
    upgraded = run_bot("db", "upgrade", BOT_DATABASE_URL=url, **PRODUCTION)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from revision None to {migrate.head()}" in upgraded.stderr
    after = run_bot("db", "current", BOT_DATABASE_URL=url)
    assert after.returncode == 0 and f"database: {migrate.head()} (head)" in after.stdout


def test_conversations_from_before_resume_secrets_have_none(empty: str) -> None:
    """Revision 0002 adds the hash of a guest's resume secret; a guest conversation from before has none,
    so no one can resume it (issue 16: the id alone opens nothing)."""
    assert migrate.upgrade(empty, "0001") == "0001"
    with get_engine(empty).begin() as connection:
        connection.execute(
            text("INSERT INTO conversations (id, language, state, last_seq, created_at, updated_at) "
                 "VALUES ('old-guest', 'nb', 'bot', 2, :at, :at)"),
            {"at": WHEN},
        )  # fmt: skip
    assert migrate.upgrade(empty) == migrate.head()
    assert differences(empty) == []
    with session_scope(empty) as session:
        assert session.get(Conversation, "old-guest").resume_secret_hash is None
        assert resume_conversation(session, "old-guest", None, None) is None
        assert resume_conversation(session, "old-guest", None, "anything") is None


def test_customer_turns_from_before_turn_states_are_settled(empty: str) -> None:
    """Revision 0003 gives every customer turn a state; the ones stored before it were handled by the gateway
    of their day, so they are `answered` and no start-up ever sends them to Rasa again (issue 15)."""
    assert migrate.upgrade(empty, "0002") == "0002"
    with get_engine(empty).begin() as connection:
        connection.execute(
            text("INSERT INTO conversations (id, language, state, last_seq, created_at, updated_at) "
                 "VALUES ('old', 'nb', 'bot', 2, :at, :at)"),
            {"at": WHEN},
        )  # fmt: skip
        for seq, role in ((1, "customer"), (2, "bot")):
            connection.execute(
                text("INSERT INTO messages (conversation_id, seq, role, text, created_at) "
                     "VALUES ('old', :seq, :role, 'hei', :at)"),
                {"seq": seq, "role": role, "at": WHEN},
            )  # fmt: skip
    assert migrate.upgrade(empty) == migrate.head()
    assert differences(empty) == []
    with get_engine(empty).connect() as connection:
        states = connection.execute(text("SELECT role, turn_state FROM messages ORDER BY seq")).all()
    assert [tuple(row) for row in states] == [("customer", "answered"), ("bot", None)]
