"""Storing what must not be lost while the database is down: retried with backoff, up to a deadline.

Used for Rasa's replies (the customer must see them once the database is back, and they are stored
before the customer is told anything failed) and for the claims and failures of a turn. A unit of work
is one transaction, so a failed attempt left nothing behind, and the next attempt starts clean.
Errors that waiting cannot heal (a broken constraint: a bug or a race someone else won) are not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.web.database import Database

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

FIRST_WAIT_SECONDS = 0.2
LONGEST_WAIT_SECONDS = 5.0


def healable(error: BaseException) -> bool:
    """A database error that may go away by itself: the server down or restarting, a lock, a lost connection."""
    return isinstance(error, SQLAlchemyError) and not isinstance(error, IntegrityError)


async def retry_until(within: float, attempt: Callable[[], Awaitable[T]], what: str) -> T:
    """`attempt()`, tried again with doubling waits (0.2 s up to 5 s) while it fails with a database error
    that may heal, for `within` seconds; the last error is raised when the deadline passes."""
    deadline = time.monotonic() + within
    wait = FIRST_WAIT_SECONDS
    first = True
    while True:
        try:
            return await attempt()
        except SQLAlchemyError as error:
            left = deadline - time.monotonic()
            if not healable(error) or left <= 0:
                raise
            if first:
                log.warning("database unavailable for %s (%s); retrying for up to %.0f s", what,
                            type(error).__name__, left)  # fmt: skip
                first = False
            await asyncio.sleep(min(wait, left))
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)


async def run_until_stored(
    db: Database,
    within: float,
    work: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`db.run(work, ...)` with retry_until: one unit of work, tried again while the database is down."""
    return await retry_until(within, lambda: db.run(work, *args, **kwargs), getattr(work, "__name__", "a write"))
