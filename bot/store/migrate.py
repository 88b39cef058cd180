"""Schema migrations of the shop database with Alembic (bot/store/migrations), and `python -m bot db ...`.

Development follows the code: whatever opens the database (the gateway, seeding, the CLI's commands,
all through bot.store.db.create_schema) upgrades it to head first. Production (BOT_ENV=production)
changes the schema only when the operator runs `python -m bot db upgrade`; anything else refuses to
start on a database that is not at head (SchemaNotCurrent), so a new release never alters a shop's
tables behind its back.

An upgrade is one transaction, and two processes that upgrade at once take turns (PostgreSQL: an
advisory lock; SQLite: BEGIN IMMEDIATE). A database that Varde made before it had migrations is adopted
by the first revision (migrations/versions/0001_baseline.py says how).
"""

from __future__ import annotations

import argparse
import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection, make_url

from bot.settings import SettingsError, get_settings
from bot.store.db import get_engine
from bot.store.models import Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)
# Alembic is imported where it is used, after this: it tells of its plugins at INFO as it is imported, and of
# its context on every run. upgrade() logs each revision it runs. (The CLI starts without it, too.)
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock upgrades take turns on (any fixed number; these are the letters of "varde").
_ADVISORY_LOCK = 0x7661726465


class SchemaNotCurrent(SettingsError):
    """The database is not at the revision this release needs, and this process may not upgrade it."""


def models_metadata() -> MetaData:
    """Every table the models declare (the modules that declare them are imported first)."""
    from bot.store import conversations, desk, insight_indexes, model_records, staff, taught  # noqa: F401

    return Base.metadata


def only_our_tables(name: str | None, kind: str, _parents: object) -> bool:
    """Alembic's include_name: tables that are not Varde's (Rasa's tracker, by default in the same database)
    are never compared, so a migration never drops them. A table removed from the models is therefore
    dropped by a hand-written revision."""
    return kind != "table" or name in models_metadata().tables


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The revision this release's models are at (the history is one line: there is one head)."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def current(url: str | None = None) -> str | None:
    """The database's revision; None for an empty database or one made before migrations."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _known(revision: str | None) -> bool:
    from alembic.util import CommandError

    try:
        return revision is None or _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _shown(url: str | None) -> str:
    return make_url(url or get_settings().database_url).render_as_string(hide_password=True)


def _refusal(url: str | None, at: str | None) -> str:
    if not _known(at):
        return (
            f"The database {_shown(url)} is at revision {at}, which this release of Varde does not know "
            f"(it needs {head()}): a newer release upgraded it. Run that release, or restore a backup."
        )
    where = f"revision {at}" if at else "no revision (empty, or made before Varde had migrations)"
    return (
        f"The database {_shown(url)} is at {where}, and this release of Varde needs revision {head()}: "
        "run `python -m bot db upgrade` (after a backup) before starting it."
    )


def _take_turns(connection: Connection) -> None:
    """Hold the database's migration lock until the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    elif connection.dialect.name == "sqlite":
        # pysqlite opens a transaction before DML only; this one holds the write lock for the DDL too, so
        # a failed upgrade leaves nothing half done and a second process waits (the 30 s busy timeout).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Migrate the database to `revision` in one transaction; returns the revision it is at afterwards."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    at = current(url)
    if not _known(at):
        raise SchemaNotCurrent(_refusal(url, at))
    try:
        with get_engine(url).begin() as connection:
            _take_turns(connection)
            at = MigrationContext.configure(connection).get_current_revision()  # another process may have gone first
            for script in reversed(list(_scripts().iterate_revisions(revision, at))):
                log.info("database %s: migrating to revision %s: %s", _shown(url), script.revision, script.doc)
            command.upgrade(_config(connection), revision)
            return MigrationContext.configure(connection).get_current_revision()
    except CommandError as refused:  # rolled back; e.g. a database the first revision would not adopt
        raise SchemaNotCurrent(f"The database {_shown(url)} was not upgraded: {refused}") from refused


def ensure_current(url: str | None = None) -> None:
    """The database at head, or a refusal: development upgrades it; production raises SchemaNotCurrent
    unless it is at head already."""
    at = current(url)
    if at == head():
        return
    if get_settings().is_production or not _known(at):
        raise SchemaNotCurrent(_refusal(url, at))
    upgrade(url)


def add_commands(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="the shop database's schema: upgrade it to this release, show its revision")
    actions = db.add_subparsers(dest="db_command", required=True)
    actions.add_parser("upgrade", help="migrate the database (BOT_DATABASE_URL) to this release's schema")
    actions.add_parser("current", help="the database's revision and this release's")
    revision = actions.add_parser(
        "revision", help="developers: write a migration of what the models changed since head (database at head)"
    )
    revision.add_argument("message", help="what it changes, e.g. 'orders: gift_note'")
    revision.add_argument("--empty", action="store_true", help="an empty migration, to write by hand")


def run(args: argparse.Namespace) -> int:
    if args.db_command == "upgrade":
        before = current()
        after = upgrade()
        if before == after:
            log.info("database %s is at revision %s, this release's: nothing to do", _shown(None), after)
        else:
            log.info("database %s upgraded from revision %s to %s", _shown(None), before, after)
    elif args.db_command == "current":
        at = current()
        print(f"database: {at or 'no revision'}{' (head)' if at == head() else ''}\nthis release: {head()}")
    elif args.db_command == "revision":
        from alembic import command

        number = f"{sum(1 for _ in _scripts().walk_revisions()) + 1:04d}"
        with get_engine().begin() as connection:
            command.revision(_config(connection), args.message, autogenerate=not args.empty, rev_id=number)
    return 0
