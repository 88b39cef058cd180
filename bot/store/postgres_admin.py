"""Databases of our own on a PostgreSQL server: made and dropped by name, for the scaled stack, the
benchmarks and the tests.

Guarantee: a name is ours (never input): only lower-case letters, digits and underscores, checked before
it is put into CREATE or DROP DATABASE (which take no bound parameters).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import get_engine

POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SAFE_NAME = re.compile(r"^[a-z0-9_]+$")


def _checked(name: str) -> str:
    if not SAFE_NAME.match(name):
        raise ValueError(f"not a database name of ours: {name!r}")
    return name


def database_url(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    """The URL of database `name` on the server of `admin_url`."""
    return make_url(admin_url).set(database=_checked(name)).render_as_string(hide_password=False)


def create_database(
    name: str, admin_url: str = POSTGRES_ADMIN_URL, exist_ok: bool = False, template: str | None = None
) -> str:
    """CREATE DATABASE `name` (empty, or a copy of database `template`, to which no one may be connected);
    its URL. With `exist_ok`, an existing one is kept as it is."""
    copy_of = f' TEMPLATE "{_checked(template)}"' if template is not None else ""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": _checked(name)}
            ).first()
            if exists and not exist_ok:
                raise RuntimeError(f"database {name} exists")
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    finally:
        engine.dispose()
    return database_url(name, admin_url)


def drop_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """DROP DATABASE `name`, closing our own pooled connections to it first and anyone else's by force."""
    get_engine(database_url(name, admin_url)).dispose()
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextmanager
def scratch_database(prefix: str, admin_url: str = POSTGRES_ADMIN_URL, template: str | None = None) -> Iterator[str]:
    """A new database named `prefix` plus a random suffix, empty or a copy of `template`; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    url = create_database(name, admin_url, template=template)
    try:
        yield url
    finally:
        drop_database(name, admin_url)
