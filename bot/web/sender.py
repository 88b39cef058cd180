"""In-order, exactly-once delivery of one conversation's transcript to one socket, with catch-up.

A socket's single sender task owns one TranscriptSender. It sends each transcript message exactly once,
in seq order: a message newer than the next one expected first has the gap filled from the database, a
message already sent (or older) is skipped. So a resume, a write by another process (bot/web/broker.py)
or a message that overtook its predecessor never shows anyone a message twice or out of order.
Used by the customer's widget (bot/gateway/socket.py) and the agent's console (bot/console/socket.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.store import transcript
from bot.store.conversations import Message
from bot.web.database import Database


class TranscriptSender:
    def __init__(self, db: Database, send: Callable[[Message], Awaitable[None]]) -> None:
        """`send(message)` writes one message to the socket (in that socket's frame format)."""
        self._db = db
        self._send = send
        self.showing: str | None = None  # the conversation shown
        self.sent_seq = 0  # the newest seq sent

    def show(self, conversation_id: str, last_seq: int) -> None:
        """Start showing a conversation whose messages up to `last_seq` the other end has already."""
        self.showing, self.sent_seq = conversation_id, last_seq

    async def deliver(self, message: Message) -> None:
        """A live message: sent once, in order, after whatever came before it and was not sent yet."""
        if message.conversation_id == self.showing and message.seq > self.sent_seq:
            await self.catch_up(message.seq - 1)
            await self._send_one(message)

    async def catch_up(self, upto_seq: int | None = None) -> None:
        """Send what this socket has not had, up to upto_seq (None: everything stored)."""
        if self.showing is None or (upto_seq is not None and upto_seq <= self.sent_seq):
            return
        for message in await self._db.run(transcript.messages_after, self.showing, self.sent_seq, upto_seq):
            await self._send_one(message)

    async def _send_one(self, message: Message) -> None:
        await self._send(message)
        self.sent_seq = message.seq
