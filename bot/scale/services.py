"""The shared services a scaled stack needs beside its own processes: a PostgreSQL database and the
RabbitMQ queue Rasa's event broker fills.

Guarantees: database names are ours (never input), made only from letters, digits and underscores; a
database is migrated to this release and seeded with the demo shop before any part starts; `drop_queue`
and `queue_depth` never raise when RabbitMQ is away (they report None).
"""

from __future__ import annotations

import asyncio

from bot.store import postgres_admin
from bot.store.postgres_admin import POSTGRES_ADMIN_URL, drop_database

__all__ = ["create_database", "drop_database", "drop_queue", "prepare", "queue_depth"]


def create_database(name: str, admin_url: str = POSTGRES_ADMIN_URL, exist_ok: bool = False) -> str:
    """CREATE DATABASE `name`, migrated and seeded; its URL."""
    url = postgres_admin.create_database(name, admin_url, exist_ok)
    prepare(url)
    return url


def prepare(url: str) -> None:
    """Migrate to this release and seed the demo shop when it is empty or was seeded on another day."""
    from bot.store.migrate import upgrade
    from bot.store.seed import ensure_seeded

    upgrade(url)
    ensure_seeded(url)


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
