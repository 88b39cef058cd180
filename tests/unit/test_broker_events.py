"""What one gateway process tells another about a conversation (bot/web/broker_events.py): the conversation
is read before the rest, so events for conversations nobody watches here cost no message object."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.store.conversations import Message
from bot.web.broker_events import conversation_event, conversation_of, read_conversation_event
from bot.web.watchers import Watchers


def message() -> Message:
    at = datetime(2026, 12, 6, tzinfo=timezone.utc)
    return Message(id=7, conversation_id="c-1", seq=3, role="bot", text="<b>Hei</b>", language="nb", created_at=at)


def test_the_conversation_of_each_kind_of_event_and_the_item_back() -> None:
    as_message = conversation_event("c-1", message())
    as_frame = conversation_event("c-2", {"type": "typing", "role": "bot", "on": True})
    assert conversation_of(as_message) == "c-1" and conversation_of(as_frame) == "c-2"
    conversation_id, item = read_conversation_event(as_message)
    assert conversation_id == "c-1" and isinstance(item, Message)
    assert (item.seq, item.text, item.created_at) == (3, "<b>Hei</b>", message().created_at)
    assert read_conversation_event(as_frame) == ("c-2", {"type": "typing", "role": "bot", "on": True})


def test_an_event_this_process_cannot_read_is_none() -> None:
    for event in ({}, {"kind": "message", "message": "x"}, {"kind": "frame"}, {"kind": "other"}):
        assert conversation_of(event) is None and read_conversation_event(event) is None


def test_watchers_tell_which_conversations_are_watched_here() -> None:
    class Socket:
        def push(self, item: object) -> None: ...

    watchers, socket = Watchers(), Socket()
    assert not watchers.watching("c-1")
    watchers.subscribe("c-1", socket)
    assert watchers.watching("c-1") and not watchers.watching("c-2")
    watchers.unsubscribe("c-1", socket)
    assert not watchers.watching("c-1")
