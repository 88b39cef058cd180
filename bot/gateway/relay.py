"""Conversation routing: customer turns to Rasa and the replies back, into the transcript and to the sockets.

- Ordering: each conversation has at most one turn at Rasa at a time (a queue and one worker task per
  conversation, while it has work); many conversations run concurrently.
- Delivery: a write to the transcript and its broadcast happen under the conversation's lock, so this
  process hands messages to the sockets in seq order. Each socket still checks seqs itself
  (bot/gateway/socket.py), which covers writes by other processes.
- Failure: Rasa down, slow, failing, or answering nothing (the action server is down) all give the
  customer the same clear system message within the timeout (BOT_RASA_TIMEOUT); the customer's turn
  stays stored, and turns queued behind a failed one are covered by the same message.
- People: a reply with the custom payload {"handoff": {"queued": true}} puts the conversation in the
  queue; while an agent has it, customer turns are stored and shown to the agent, never sent to Rasa.
- Several processes: everything broadcast here goes to this process's sockets and, through the broker
  (bot/gateway/broker.py), to the other gateway processes' sockets of the same conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from bot.gateway.broker import CONVERSATION, Broker, LocalBroker
from bot.gateway.database import Database
from bot.gateway.protocol import error_frame, rating_request_frame, state_frame, typing_frame
from bot.gateway.rasa_client import RasaClient, RasaReply, RasaUnavailable
from bot.gateway.texts import text
from bot.services import assignment
from bot.settings import Settings
from bot.store import feedback, transcript
from bot.store.conversations import Message
from bot.store.models import as_utc
from bot.store.transcript import AnsweredTurn, CustomerTurn, NewMessage, TurnContext

# The customer is done (thanks, goodbye): the widget asks for a rating, once per conversation.
ENDING_INTENTS = ("thanks", "goodbye")

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """A socket showing a conversation; `push` must not block."""

    def push(self, item: Message | dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Turn:
    """A stored customer message waiting for its answer."""

    message: Message
    metadata: dict[str, Any]  # for Rasa: customer_token, language (the page's guess)
    received: float = field(default_factory=time.monotonic)  # when the frame arrived, for the turn's timing
    context: TurnContext | None = None  # as read when the message was stored (see submit)


class Relay:
    def __init__(self, db: Database, rasa: RasaClient, settings: Settings, broker: Broker | None = None) -> None:
        self._db = db
        self._rasa = rasa
        self._settings = settings
        self._broker: Broker = broker or LocalBroker()
        # Called when the queue or the tickets change, so agents' consoles refresh (bot/console/hub.py).
        self.on_desk_change: Callable[[], None] = lambda: None
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
        self._deliver(conversation_id, items)
        for item in items:
            if isinstance(item, Message):
                self._broker.publish(CONVERSATION, {"kind": "message", "message": message_event(item)})
            else:
                self._broker.publish(CONVERSATION, {"kind": "frame", "conversation_id": conversation_id, "frame": item})

    def _deliver(self, conversation_id: str, items: list[Message] | list[dict[str, Any]]) -> None:
        for subscriber in list(self._subscribers.get(conversation_id, ())):
            for item in items:
                subscriber.push(item)

    def deliver_remote(self, event: dict[str, Any]) -> None:
        """An event another gateway process broadcast: to this process's sockets of that conversation."""
        if event.get("kind") == "message" and isinstance(event.get("message"), dict):
            message = message_from_event(event["message"])
            self._deliver(message.conversation_id, [message])
        elif event.get("kind") == "frame" and isinstance(event.get("frame"), dict):
            self._deliver(str(event.get("conversation_id")), [event["frame"]])

    def typing(self, conversation_id: str, role: str, on: bool) -> None:
        """The customer or the agent is typing: shown on the other side (each socket keeps what it shows)."""
        self._broadcast(conversation_id, [typing_frame(role, on)])

    def state_changed(self, conversation_id: str, state: str) -> None:
        self._broadcast(conversation_id, [state_frame(state)])

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
            # A turn of this conversation still at Rasa will change it: the context read with this message
            # would be stale by the time it is taken, so it is read again then.
            behind_another = conversation_id in self._workers
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
        return replace(outcome, context=None) if behind_another else outcome

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
        if conversation_id in self._workers and turn.context is not None:
            # Turns ahead of this one will change the conversation: read its context when its turn comes.
            turn = replace(turn, context=None)
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
        # Every unit of work costs a worker-thread hop and a session (bench/, README): a turn taken as soon
        # as it was stored uses the context read with it.
        context = turn.context or await self._db.run(transcript.turn_context, conversation_id, message.seq)
        if context is None:
            return True
        if context.state == "agent":
            # A person has the conversation: the bot stays silent; the agent's console got the message
            # with everyone else watching the conversation.
            log.info("conversation %s: customer turn seq=%d is for the agent", conversation_id, message.seq)
            return True
        if context.state == "closed" and await self._db.run(assignment.reopen, conversation_id):
            # An agent closed it, and the customer writes again: the bot carries on.
            log.info("conversation %s: closed conversation reopened with the bot", conversation_id)
            self.state_changed(conversation_id, "bot")
        self._broadcast(conversation_id, [typing_frame("bot", True)])
        started = time.monotonic()
        try:
            return await self._answer(turn, context.state, context.language, started, context.earlier)
        finally:
            self._broadcast(conversation_id, [typing_frame("bot", False)])

    async def _answer(self, turn: Turn, state: str, language: str, started: float, earlier: list[Message]) -> bool:
        message = turn.message
        conversation_id = message.conversation_id
        metadata = {**turn.metadata, "earlier_turns": [_earlier_turn(m) for m in earlier]}
        asked = time.monotonic()
        try:
            reply = await self._rasa.send(
                conversation_id, message.payload or message.text, metadata, self._settings.rasa_timeout
            )
        except RasaUnavailable as failure:
            await self._tell_unavailable(conversation_id, language, failure, started, message.seq)
            return False
        if reply.frustration:
            log.info("conversation %s: seq=%d sounded frustrated (%s)", conversation_id, message.seq,
                     ", ".join(reply.frustration))  # fmt: skip
        language = reply.language or language
        shown, custom = _split_reply(reply)
        if not shown and not custom:
            # How a down (or failing) action server looks from here: Rasa answers, but says nothing. NLU
            # ran all the same: keep what it understood.
            await self._db.run(
                transcript.record_understanding, message.id, reply.intent, reply.confidence, reply.language
            )
            await self._tell_unavailable(conversation_id, language, RasaUnavailable("no reply"), started, message.seq)
            return False
        rasa_seconds = time.monotonic() - asked
        replies = [NewMessage(role="bot", text=m["text"], buttons=m["buttons"], language=language) for m in shown]
        # One unit of work for the understanding and the replies: each commit waits for the disk.
        async with self._lock(conversation_id):
            stored = await self._db.run(
                transcript.record_reply, message.id, reply.intent, reply.confidence, reply.language, conversation_id,
                replies,
            )  # fmt: skip
            self._broadcast(conversation_id, stored)
        for payload in custom:
            await self._act_on(conversation_id, state, payload)
        if reply.intent in ENDING_INTENTS:
            await self.ask_for_rating(conversation_id, f"the customer said {reply.intent}")
        # From the customer's frame to the replies handed to the sockets: Rasa's share and the gateway's.
        total = time.monotonic() - turn.received
        log.info(
            "conversation %s: bot answered seq=%d with %d message(s) in %d ms (Rasa %d ms, gateway %d ms; "
            "intent=%s confidence=%s language=%s)",
            conversation_id,
            message.seq,
            len(stored),
            total * 1000,
            rasa_seconds * 1000,
            (total - rasa_seconds) * 1000,
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
        handoff = payload.get("handoff")
        if isinstance(handoff, dict):
            if handoff.get("queued", True) is False:
                # No one can join: the bot offers to take a message (a ticket); nothing to queue.
                log.info("conversation %s: handoff (%s) with no one to join", conversation_id, handoff.get("reason"))
            elif await self._db.run(assignment.enqueue, conversation_id):
                log.info("conversation %s: handed over (%s), now queued", conversation_id, handoff.get("reason"))
                self.state_changed(conversation_id, "queued")
                self.on_desk_change()
        ticket = payload.get("ticket")
        if isinstance(ticket, dict):
            log.info("conversation %s: message taken as ticket %s", conversation_id, ticket.get("id"))
            if await self._db.run(assignment.leave_queue, conversation_id):
                self.state_changed(conversation_id, "bot")
            self.on_desk_change()

    async def ask_for_rating(self, conversation_id: str, why: str) -> bool:
        """Ask the customer for a rating, once per conversation (a conditional UPDATE decides who asks)."""
        language = await self._db.run(feedback.claim_rating_prompt, conversation_id)
        if language is None:
            return False
        log.info("conversation %s: asked for a rating (%s)", conversation_id, why)
        self._broadcast(conversation_id, [rating_request_frame(language)])
        return True

    async def close(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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


# Enough of an earlier turn to tell whether it is asked again (bot/services/frustration.py).
EARLIER_TURN_CHARS = 300


def _earlier_turn(message: AnsweredTurn) -> dict[str, Any]:
    return {
        "text": message.text[:EARLIER_TURN_CHARS],
        "intent": message.intent,
        "at": as_utc(message.created_at).isoformat(),
    }


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
