"""Customers' messages kept in memory while the database is down, stored in order once it is back.

A message that arrives while the database refuses writes is held here (in order per conversation, at most
MAX_HELD_MESSAGES in the process) and the widget shows it as still sending. One task per conversation tries
to store the held messages, oldest first, for up to BOT_DATABASE_RETRY_SECONDS each; each stored message
is then taken to Rasa like a new one. When the database stays down that long, every widget of the
conversation is told the held messages were not sent.

Memory, not Redis: Redis is optional (one process runs without it), and a message held in a gateway that
dies with it is still in the widget's outbox, which sends it again on its next connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.store.transcript import CustomerTurn
from bot.web.frames import error_frame
from bot.web.retrying import retry_until
from bot.web.texts import text

log = logging.getLogger(__name__)

# Customer messages this process keeps in memory while the database is down (about 2 kB each at most).
MAX_HELD_MESSAGES = 1000


@dataclass(frozen=True)
class Held:
    """A customer's message that could not be stored yet."""

    client_id: str
    text: str
    payload: str | None
    language: str | None
    metadata: dict[str, Any]
    received: float
    until: float = 0.0  # monotonic: given up (and the widget told) after this


# Store one held message (what Relay.accept does); tell a conversation's sockets; take a stored turn to Rasa.
Store = Callable[[str, Held], Awaitable[CustomerTurn]]
Tell = Callable[[str, list[dict[str, Any]]], None]
Take = Callable[[CustomerTurn, dict[str, Any], float], None]


class HeldMessages:
    def __init__(self, retry_seconds: float, store: Store, tell: Tell, take: Take) -> None:
        self._retry_seconds = retry_seconds
        self._store, self._tell, self._take = store, tell, take
        self._held: dict[str, deque[Held]] = {}
        self._holders: dict[str, asyncio.Task[None]] = {}

    def holding(self, conversation_id: str) -> bool:
        """Messages of this conversation are held: a new one must go behind them, in order."""
        return conversation_id in self._held

    def conversations(self) -> int:
        return len(self._holders)

    def hold(self, conversation_id: str, held: Held) -> CustomerTurn:
        """Keep the message until the database takes it; raises OverflowError when too many are held."""
        waiting = self._held.setdefault(conversation_id, deque())
        if any(kept.client_id == held.client_id for kept in waiting):
            return CustomerTurn("held")  # the widget sent it again; it is kept once
        if sum(len(kept) for kept in self._held.values()) >= MAX_HELD_MESSAGES:
            if not waiting:
                del self._held[conversation_id]
            raise OverflowError("too many messages held while the database is down")
        waiting.append(replace(held, until=time.monotonic() + self._retry_seconds))
        if conversation_id not in self._holders:
            self._holders[conversation_id] = asyncio.create_task(
                self._store_held(conversation_id), name=f"held-{conversation_id}"
            )
        return CustomerTurn("held")

    async def _store_held(self, conversation_id: str) -> None:
        """Store a conversation's held messages in order once the database is back, and take them to Rasa."""
        waiting = self._held[conversation_id]
        try:
            while waiting:
                held = waiting[0]
                try:
                    outcome = await retry_until(
                        held.until - time.monotonic(),
                        lambda held=held: self._store(conversation_id, held),  # type: ignore[misc]
                        "a held customer message",
                    )
                except SQLAlchemyError:
                    # Given up: each widget is told (its message shows as not sent, to send again later).
                    log.warning("conversation %s: database still unavailable; %d held message(s) not sent",
                                conversation_id, len(waiting))  # fmt: skip
                    for kept in waiting:
                        frame = error_frame("unavailable", text("unavailable", kept.language), kept.client_id)
                        self._tell(conversation_id, [frame])
                    waiting.clear()
                    return
                waiting.popleft()
                log.info("conversation %s: held message stored (%s)", conversation_id, outcome.outcome)
                if outcome.outcome == "rate_limited":
                    message = text("rate_limited", held.language)
                    self._tell(
                        conversation_id, [error_frame("rate_limited", message, held.client_id, outcome.retry_after)]
                    )
                self._take(outcome, held.metadata, held.received)
        finally:
            self._held.pop(conversation_id, None)
            self._holders.pop(conversation_id, None)

    async def close(self) -> None:
        holders = list(self._holders.values())
        for task in holders:
            task.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
