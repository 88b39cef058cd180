"""Who is watching which conversation in this process: the sockets (widgets, agents' consoles) that show it."""

from __future__ import annotations

from typing import Any, Protocol

from bot.store.conversations import Message

# What a socket is handed: a transcript message, or a frame (typing, state, error, rating request).
Item = Message | dict[str, Any]


class Subscriber(Protocol):
    """A socket showing a conversation; `push` must not block."""

    def push(self, item: Item) -> None: ...


class Watchers:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)

    def unsubscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        watchers = self._subscribers.get(conversation_id)
        if watchers is not None:
            watchers.discard(subscriber)
            if not watchers:
                del self._subscribers[conversation_id]

    def watching(self, conversation_id: str) -> bool:
        return conversation_id in self._subscribers

    def deliver(self, conversation_id: str, items: list[Item]) -> None:
        """To every socket of the conversation, each item in the order given."""
        for subscriber in list(self._subscribers.get(conversation_id, ())):
            for item in items:
                subscriber.push(item)
