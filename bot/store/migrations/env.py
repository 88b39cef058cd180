"""Alembic's environment for the shop database; run by bot/store/migrate.py (`python -m bot db ...`).

migrate.py hands over an open connection in a transaction (config.attributes["connection"]), so a whole
upgrade commits or rolls back at once; without one, the database is BOT_DATABASE_URL's (bot.settings).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.migrate import models_metadata, only_our_tables

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=models_metadata(),  # what `python -m bot db revision` compares the database with
        include_name=only_our_tables,  # Rasa's tracker tables share the database by default
        compare_type=True,
        render_as_batch=True,  # SQLite alters a table by copying it: autogenerate writes batch operations
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    # The first revision looks at the database to adopt one made before migrations: no SQL script of it.
    raise SystemExit("Varde's migrations run against the database, not as an SQL script (--sql).")
if (connection := config.attributes.get("connection")) is not None:
    run(connection)
else:
    from bot.store.db import get_engine

    with get_engine().begin() as connection:
        run(connection)
