"""Conversation routing: customer turns to Rasa and the replies back, into the transcript and to the sockets.

- Ordering: each conversation has at most one turn at Rasa at a time (a queue and one worker task per
  conversation, while it has work); many conversations run concurrently.
- Delivery: a write to the transcript and its broadcast happen under the conversation's lock, so this
  process hands messages to the sockets in seq order. Each socket still checks seqs itself
  (bot/gateway/socket.py), which covers writes by other processes.
- Failure: Rasa down, slow, failing, or answering nothing (the action server is down) all give the
  customer the same clear system message within the timeout (BOT_RASA_TIMEOUT); the customer's turn
  stays stored, and turns queued behind a failed one are covered by the same message.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from bot.gateway.database import Database
from bot.gateway.protocol import error_frame, typing_frame
from bot.gateway.rasa_client import RasaClient, RasaReply, RasaUnavailable
from bot.gateway.texts import text
from bot.settings import Settings
from bot.store import transcript
from bot.store.conversations import Message
from bot.store.transcript import CustomerTurn, NewMessage

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """A socket showing a conversation; `push` must not block."""

    def push(self, item: Message | dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Turn:
    """A stored customer message waiting for its answer."""

    message: Message
    metadata: dict[str, Any]  # for Rasa: customer_token, language (the page's guess)


class Relay:
    def __init__(self, db: Database, rasa: RasaClient, settings: Settings) -> None:
        self._db = db
        self._rasa = rasa
        self._settings = settings
        self._subscribers: dict[str, set[Subscriber]] = {}
        # Locks live while someone holds or waits on them; idle conversations cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._pending: dict[str, deque[Turn]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    # --- who is watching ---------------------------------------------------------------------
    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)

    def unsubscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        watchers = self._subscribers.get(conversation_id)
        if watchers is not None:
            watchers.discard(subscriber)
            if not watchers:
                del self._subscribers[conversation_id]

    def _broadcast(self, conversation_id: str, items: list[Message] | list[dict[str, Any]]) -> None:
        for subscriber in list(self._subscribers.get(conversation_id, ())):
            for item in items:
                subscriber.push(item)

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    # --- writing the transcript --------------------------------------------------------------
    async def accept(
        self, conversation_id: str, client_id: str, text_: str, payload: str | None, language: str | None
    ) -> CustomerTurn:
        """Store a customer's message (once per client_id) and echo it to every socket of the conversation."""
        lock = self._lock(conversation_id)
        async with lock:
            outcome = await self._db.run(
                transcript.accept_customer_turn,
                conversation_id,
                client_id,
                text_,
                payload,
                language,
                self._settings.max_messages_per_minute,
            )
            if outcome.outcome == "accepted" and outcome.message is not None:
                self._broadcast(conversation_id, [outcome.message])
        return outcome

    async def append(self, conversation_id: str, new: list[NewMessage]) -> list[Message]:
        """Store bot, agent or system turns and deliver them, in order."""
        lock = self._lock(conversation_id)
        async with lock:
            messages = await self._db.run(transcript.append_messages, conversation_id, new)
            self._broadcast(conversation_id, messages)
        return messages

    # --- turns to Rasa, one at a time per conversation ---------------------------------------
    def submit(self, turn: Turn) -> None:
        conversation_id = turn.message.conversation_id
        self._pending.setdefault(conversation_id, deque()).append(turn)
        if conversation_id not in self._workers:
            task = asyncio.create_task(self._work(conversation_id), name=f"conversation-{conversation_id}")
            self._workers[conversation_id] = task

    async def _work(self, conversation_id: str) -> None:
        queue = self._pending[conversation_id]
        try:
            while queue:
                turn = queue.popleft()
                try:
                    answered = await self._take_turn(turn)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The turn is stored; a failure here (the database, say) must not stop later turns.
                    log.exception("conversation %s: turn seq=%d failed", conversation_id, turn.message.seq)
                    language = turn.metadata.get("language")
                    self._broadcast(conversation_id, [error_frame("unavailable", text("unavailable", language))])
                    answered = False
                if not answered and queue:
                    # The system message just sent covers the turns waiting behind this one: they stay in
                    # the transcript, and the customer is asked to try again instead of waiting twice as long.
                    skipped = [queued.message.seq for queued in queue]
                    queue.clear()
                    log.warning("conversation %s: seq=%s not sent to Rasa after a failure", conversation_id, skipped)
        finally:
            self._pending.pop(conversation_id, None)
            self._workers.pop(conversation_id, None)

    async def _take_turn(self, turn: Turn) -> bool:
        """Answer one customer turn; False when the customer got the system message instead."""
        message = turn.message
        conversation_id = message.conversation_id
        conversation = await self._db.run(transcript.get_conversation, conversation_id)
        if conversation is None:
            return True
        if conversation.state == "agent":
            # A person has the conversation: the bot stays silent (delivery to the agent is the console's).
            log.info("conversation %s: customer turn seq=%d held for the agent", conversation_id, message.seq)
            return True
        self._broadcast(conversation_id, [typing_frame("bot", True)])
        started = time.monotonic()
        try:
            return await self._answer(turn, conversation.state, conversation.language, started)
        finally:
            self._broadcast(conversation_id, [typing_frame("bot", False)])

    async def _answer(self, turn: Turn, state: str, language: str, started: float) -> bool:
        message = turn.message
        conversation_id = message.conversation_id
        try:
            reply = await self._rasa.send(
                conversation_id, message.payload or message.text, turn.metadata, self._settings.rasa_timeout
            )
        except RasaUnavailable as failure:
            await self._tell_unavailable(conversation_id, language, failure, started, message.seq)
            return False
        # NLU ran even when the actions then failed: keep what it understood either way.
        await self._db.run(transcript.record_understanding, message.id, reply.intent, reply.confidence, reply.language)
        language = reply.language or language
        shown, custom = _split_reply(reply)
        if not shown and not custom:
            # How a down (or failing) action server looks from here: Rasa answers, but says nothing.
            await self._tell_unavailable(conversation_id, language, RasaUnavailable("no reply"), started, message.seq)
            return False
        stored = await self.append(
            conversation_id,
            [NewMessage(role="bot", text=m["text"], buttons=m["buttons"], language=language) for m in shown],
        )
        for payload in custom:
            await self._act_on(conversation_id, state, payload)
        log.info(
            "conversation %s: bot answered seq=%d with %d message(s) in %d ms (intent=%s confidence=%s language=%s)",
            conversation_id,
            message.seq,
            len(stored),
            (time.monotonic() - started) * 1000,
            reply.intent,
            f"{reply.confidence:.2f}" if reply.confidence is not None else None,
            language,
        )
        return True

    async def _tell_unavailable(
        self, conversation_id: str, language: str, failure: RasaUnavailable, started: float, seq: int
    ) -> None:
        await self.append(
            conversation_id, [NewMessage(role="system", text=text("unavailable", language), language=language)]
        )
        log.warning(
            "conversation %s: no answer to seq=%d from Rasa (%s) after %d ms; told the customer",
            conversation_id,
            seq,
            failure.reason,
            (time.monotonic() - started) * 1000,
        )

    async def _act_on(self, conversation_id: str, state: str, payload: dict[str, Any]) -> None:
        """Custom payloads are how actions tell the gateway something (DESIGN.md)."""
        if "handoff" in payload and state == "bot":
            await self._db.run(transcript.set_state, conversation_id, "queued")
            log.info("conversation %s: handed over, now queued", conversation_id)

    async def close(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _split_reply(reply: RasaReply) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the customer is shown (text with optional buttons), and custom payloads for the gateway."""
    shown: list[dict[str, Any]] = []
    custom: list[dict[str, Any]] = []
    for message in reply.messages:
        if isinstance(message.get("custom"), dict):
            custom.append(message["custom"])
        body = message.get("text")
        buttons = _buttons(message.get("buttons"))
        if (isinstance(body, str) and body) or buttons:
            shown.append({"text": body if isinstance(body, str) else "", "buttons": buttons or None})
    return shown, custom


def _buttons(raw: object) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": button["title"], "payload": button["payload"]}
        for button in raw
        if isinstance(button, dict) and isinstance(button.get("title"), str) and isinstance(button.get("payload"), str)
    ]
