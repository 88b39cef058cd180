"""The gateway's way to the database: SQLAlchemy's sync sessions, each unit of work on a worker thread.

The event loop serves every open socket, so it never waits on the database itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.store.db import create_schema, get_engine, session_scope

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    def __init__(self, url: str, threads: int = 8) -> None:
        self.url = url
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gateway-db")

    async def run(self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work(session, ...)` as one unit of work: committed when it returns, rolled back when it raises."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(self._unit, work, *args, **kwargs)
        )

    def _unit(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        with session_scope(self.url) as session:
            return work(session, *args, **kwargs)

    async def create_schema(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, create_schema, self.url)

    async def ping(self) -> None:
        def select_one() -> None:
            with get_engine(self.url).connect() as connection:
                connection.execute(text("SELECT 1"))

        await asyncio.get_running_loop().run_in_executor(self._executor, select_one)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
