"""The shared services a scaled stack needs beside its own processes: a PostgreSQL database and the
RabbitMQ queue Rasa's event broker fills.

Guarantees: database names are ours (never input), made only from letters, digits and underscores; a
database is migrated to this release and seeded with the demo shop before any part starts; `drop_queue`
and `queue_depth` never raise when RabbitMQ is away (they report None).
"""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SAFE_NAME = re.compile(r"^[a-z0-9_]+$")


def database_url(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def create_database(name: str, admin_url: str = POSTGRES_ADMIN_URL, exist_ok: bool = False) -> str:
    """CREATE DATABASE `name` (migrated and seeded); its URL."""
    if not SAFE_NAME.match(name):
        raise ValueError(f"not a database name of ours: {name!r}")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if exists and not exist_ok:
            raise RuntimeError(f"database {name} exists")
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # checked above: ours, not input
    engine.dispose()
    url = database_url(name, admin_url)
    prepare(url)
    return url


def prepare(url: str) -> None:
    """Migrate to this release and seed the demo shop when it is empty or was seeded on another day."""
    from bot.store.migrate import upgrade
    from bot.store.seed import ensure_seeded

    upgrade(url)
    ensure_seeded(url)


def drop_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    if not SAFE_NAME.match(name):
        raise ValueError(f"not a database name of ours: {name!r}")
    from bot.store.db import get_engine

    get_engine(database_url(name, admin_url)).dispose()
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


async def _queue(amqp_url: str, queue: str, delete: bool) -> int | None:
    import aio_pika

    try:
        connection = await aio_pika.connect(amqp_url, timeout=5)
    except Exception:  # RabbitMQ away: nothing to report or delete
        return None
    async with connection:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except Exception:  # no such queue
            return None
        depth = declared.declaration_result.message_count or 0
        if delete:
            await declared.delete(if_unused=False, if_empty=False)
        return int(depth)


def queue_depth(amqp_url: str, queue: str) -> int | None:
    """Messages waiting in `queue`; None when it or RabbitMQ is not there."""
    return asyncio.run(_queue(amqp_url, queue, delete=False))


def drop_queue(amqp_url: str, queue: str) -> int | None:
    """Delete `queue` (with what waits in it, which nobody reads); how many messages it held."""
    return asyncio.run(_queue(amqp_url, queue, delete=True))
