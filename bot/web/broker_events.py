"""A conversation's messages and frames as the broker (bot/web/broker.py) carries them between gateway
processes, and back again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.conversations import Message
from bot.store.models import as_utc
from bot.web.watchers import Item


def conversation_event(conversation_id: str, item: Item) -> dict[str, Any]:
    """One item broadcast to a conversation, as an event on the broker's conversation topic."""
    if isinstance(item, Message):
        return {"kind": "message", "message": message_event(item)}
    return {"kind": "frame", "conversation_id": conversation_id, "frame": item}


def conversation_of(event: dict[str, Any]) -> str | None:
    """Which conversation another process's event is about, read before the rest of it; None if unreadable."""
    if event.get("kind") == "message" and isinstance(event.get("message"), dict):
        found = event["message"].get("conversation_id")
        return None if found is None else str(found)
    if event.get("kind") == "frame" and isinstance(event.get("frame"), dict):
        return str(event.get("conversation_id"))
    return None


def read_conversation_event(event: dict[str, Any]) -> tuple[str, Item] | None:
    """The conversation and item of another process's event; None for an event this process cannot read."""
    conversation_id = conversation_of(event)
    if conversation_id is None:
        return None
    if event["kind"] == "message":
        message = message_from_event(event["message"])
        return message.conversation_id, message
    return conversation_id, event["frame"]


def message_event(message: Message) -> dict[str, Any]:
    """A transcript message as the broker carries it to other gateway processes."""
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "role": message.role,
        "text": message.text,
        "payload": message.payload,
        "buttons": message.buttons,
        "client_id": message.client_id,
        "author": message.author,
        "language": message.language,
        "created_at": as_utc(message.created_at).isoformat(),
    }


def message_from_event(data: dict[str, Any]) -> Message:
    """The message again, detached from any database session: for sockets to send, never to save."""
    return Message(
        id=data.get("id"),
        conversation_id=str(data["conversation_id"]),
        seq=int(data["seq"]),
        role=str(data["role"]),
        text=str(data.get("text") or ""),
        payload=data.get("payload"),
        buttons=data.get("buttons"),
        client_id=data.get("client_id"),
        author=data.get("author"),
        language=data.get("language"),
        created_at=datetime.fromisoformat(data["created_at"]),
    )
