"""The one transcript sender (bot/web/sender.py): each message once, in seq order, gaps filled from the store."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from bot.store.conversations import Message
from bot.web.sender import TranscriptSender


def message(seq: int, conversation_id: str = "c1") -> Message:
    return Message(
        id=seq, conversation_id=conversation_id, seq=seq, role="bot", text=f"m{seq}",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )  # fmt: skip


class FakeDatabase:
    """Stands in for bot/web/database.py: `run(work, ...)` answers messages_after from a list."""

    def __init__(self, stored: list[Message]) -> None:
        self.stored = stored

    async def run(self, work, conversation_id: str, after_seq: int, upto_seq: int | None = None):  # type: ignore[no-untyped-def]
        return [
            m
            for m in self.stored
            if m.conversation_id == conversation_id and m.seq > after_seq and (upto_seq is None or m.seq <= upto_seq)
        ]


def test_in_order_exactly_once_with_catch_up() -> None:
    sent: list[int] = []

    async def send(m: Message) -> None:
        sent.append(m.seq)

    async def scenario() -> None:
        sender = TranscriptSender(FakeDatabase([message(seq) for seq in range(1, 7)]), send)  # type: ignore[arg-type]
        await sender.deliver(message(1))  # not showing anything yet
        sender.show("c1", 2)  # the other end has 1..2
        await sender.catch_up()  # everything stored after 2
        await sender.deliver(message(4))  # already sent
        await sender.deliver(message(6, "c2"))  # another conversation
        assert sent == [3, 4, 5, 6]
        sent.clear()
        sender.show("c1", 3)
        await sender.deliver(message(6))  # a live message that overtook 4 and 5
        await sender.deliver(message(5))
        assert sent == [4, 5, 6]

    asyncio.run(scenario())
