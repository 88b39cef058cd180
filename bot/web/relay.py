"""Conversation routing: customer turns to Rasa and the replies back, into the transcript and to the sockets.

- Ordering: each conversation has at most one turn at Rasa at a time (a queue and one worker task per
  conversation, while it has work: bot/web/work_queues.py); many conversations run concurrently.
- Delivery: a write to the transcript and its broadcast happen under the conversation's lock, so this
  process hands messages to the sockets in seq order. Each socket still checks seqs itself
  (bot/web/sender.py), which covers writes by other processes.
- Failure: Rasa down, slow, failing, or answering nothing (the action server is down) all give the
  customer the same clear system message within the timeout (BOT_RASA_TIMEOUT); the customer's turn
  stays stored, and turns queued behind a failed one are covered by the same message.
- People: a reply with the custom payload {"handoff": {"queued": true}} puts the conversation in the
  queue; while an agent has it, customer turns are stored and shown to the agent, never sent to Rasa
  (the decisions: bot/services/after_reply.py).
- Several processes: everything broadcast here goes to this process's sockets and, through the broker
  (bot/web/broker.py), to the other gateway processes' sockets of the same conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import replace
from typing import Any, Protocol

from bot.services import after_reply, assignment
from bot.services.after_reply import Handoff, TicketTaken, TurnFor
from bot.settings import Settings
from bot.store import feedback, transcript
from bot.store.conversations import ConversationState, Message
from bot.store.transcript import CustomerTurn, NewMessage
from bot.web.broker import CONVERSATION, Broker, LocalBroker
from bot.web.broker_events import conversation_event, read_conversation_event
from bot.web.database import Database
from bot.web.frames import error_frame, rating_request_frame, state_frame, typing_frame
from bot.web.rasa_answers import read_answer
from bot.web.rasa_client import RasaClient, RasaUnavailable
from bot.web.rasa_turns import Turn, ask_rasa
from bot.web.texts import text
from bot.web.watchers import Item, Subscriber, Watchers
from bot.web.work_queues import WorkQueues

log = logging.getLogger(__name__)

__all__ = ["DeskListener", "Relay", "Subscriber", "Turn"]


class DeskListener(Protocol):
    """Told when the queue or the tickets change, so agents' consoles refresh (bot/console/hub.py)."""

    def desk_changed(self) -> None: ...


class _NoDesk:
    def desk_changed(self) -> None:
        return None


class Relay:
    def __init__(
        self,
        db: Database,
        rasa: RasaClient,
        settings: Settings,
        broker: Broker | None = None,
        desk: DeskListener | None = None,
    ) -> None:
        self._db = db
        self._rasa = rasa
        self._settings = settings
        self._broker: Broker = broker or LocalBroker()
        self._desk: DeskListener = desk or _NoDesk()
        self._watchers = Watchers()
        # Locks live while someone holds or waits on them; idle conversations cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: WorkQueues[Turn] = WorkQueues(self._take_turn, self._turn_failed, _describe)

    # --- who is watching ---------------------------------------------------------------------
    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        self._watchers.subscribe(conversation_id, subscriber)

    def unsubscribe(self, conversation_id: str, subscriber: Subscriber) -> None:
        self._watchers.unsubscribe(conversation_id, subscriber)

    def _broadcast(self, conversation_id: str, items: list[Message] | list[dict[str, Any]]) -> None:
        delivered: list[Item] = list(items)
        self._watchers.deliver(conversation_id, delivered)
        for item in delivered:
            self._broker.publish(CONVERSATION, conversation_event(conversation_id, item))

    def deliver_remote(self, event: dict[str, Any]) -> None:
        """An event another gateway process broadcast: to this process's sockets of that conversation."""
        read = read_conversation_event(event)
        if read is not None:
            conversation_id, item = read
            self._watchers.deliver(conversation_id, [item])

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
            behind_another = self._turns.busy(conversation_id)
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
        if self._turns.busy(conversation_id) and turn.context is not None:
            # Turns ahead of this one will change the conversation: read its context when its turn comes.
            turn = replace(turn, context=None)
        self._turns.submit(conversation_id, turn)

    def _turn_failed(self, conversation_id: str, turn: Turn) -> None:
        language = turn.metadata.get("language")
        self._broadcast(conversation_id, [error_frame("unavailable", text("unavailable", language))])

    async def _take_turn(self, turn: Turn) -> bool:
        """Answer one customer turn; False when the customer got the system message instead."""
        message = turn.message
        conversation_id = message.conversation_id
        # Every unit of work costs a worker-thread hop and a session (bench/, README): a turn taken as soon
        # as it was stored uses the context read with it.
        context = turn.context or await self._db.run(transcript.turn_context, conversation_id, message.seq)
        if context is None:
            return True
        route = after_reply.turn_for(context.state)
        if route is TurnFor.AGENT:
            # A person has the conversation: the bot stays silent; the agent's console got the message
            # with everyone else watching the conversation.
            log.info("conversation %s: customer turn seq=%d is for the agent", conversation_id, message.seq)
            return True
        if route is TurnFor.REOPENED_BOT and await self._db.run(assignment.reopen, conversation_id):
            # An agent closed it, and the customer writes again: the bot carries on.
            log.info("conversation %s: closed conversation reopened with the bot", conversation_id)
            self.state_changed(conversation_id, ConversationState.BOT)
        self._broadcast(conversation_id, [typing_frame("bot", True)])
        started = time.monotonic()
        try:
            return await self._answer(turn, context.language, started, context.earlier)
        finally:
            self._broadcast(conversation_id, [typing_frame("bot", False)])

    async def _answer(self, turn: Turn, language: str, started: float, earlier: list[transcript.AnsweredTurn]) -> bool:
        message = turn.message
        conversation_id = message.conversation_id
        asked = time.monotonic()
        try:
            reply = await ask_rasa(self._rasa, turn, earlier, self._settings.rasa_timeout)
        except RasaUnavailable as failure:
            await self._tell_unavailable(conversation_id, language, failure, started, message.seq)
            return False
        if reply.frustration:
            log.info("conversation %s: seq=%d sounded frustrated (%s)", conversation_id, message.seq,
                     ", ".join(reply.frustration))  # fmt: skip
        language = reply.language or language
        answer = read_answer(reply)
        if answer.empty:
            # How a down (or failing) action server looks from here: Rasa answers, but says nothing. NLU
            # ran all the same: keep what it understood.
            await self._db.run(
                transcript.record_understanding, message.id, reply.intent, reply.confidence, reply.language
            )
            await self._tell_unavailable(conversation_id, language, RasaUnavailable("no reply"), started, message.seq)
            return False
        rasa_seconds = time.monotonic() - asked
        # One unit of work for the understanding and the replies: each commit waits for the disk.
        async with self._lock(conversation_id):
            stored = await self._db.run(
                transcript.record_reply, message.id, reply.intent, reply.confidence, reply.language, conversation_id,
                answer.bot_messages(language),
            )  # fmt: skip
            self._broadcast(conversation_id, stored)
        for payload in answer.custom:
            await self._act_on(conversation_id, payload)
        why = after_reply.rating_question(reply.intent)
        if why is not None:
            await self.ask_for_rating(conversation_id, why)
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

    async def _act_on(self, conversation_id: str, payload: dict[str, Any]) -> None:
        """Custom payloads are how actions tell the gateway something (bot/services/after_reply.py)."""
        for step in after_reply.read_payload(payload):
            if isinstance(step, Handoff) and not step.queue:
                # No one can join: the bot offers to take a message (a ticket); nothing to queue.
                log.info("conversation %s: handoff (%s) with no one to join", conversation_id, step.reason)
            elif isinstance(step, Handoff):
                if await self._db.run(assignment.enqueue, conversation_id):
                    log.info("conversation %s: handed over (%s), now queued", conversation_id, step.reason)
                    self.state_changed(conversation_id, ConversationState.QUEUED)
                    self._desk.desk_changed()
            elif isinstance(step, TicketTaken):
                log.info("conversation %s: message taken as ticket %s", conversation_id, step.ticket_id)
                if await self._db.run(assignment.leave_queue, conversation_id):
                    self.state_changed(conversation_id, ConversationState.BOT)
                self._desk.desk_changed()

    async def ask_for_rating(self, conversation_id: str, why: str) -> bool:
        """Ask the customer for a rating, once per conversation (a conditional UPDATE decides who asks)."""
        language = await self._db.run(feedback.claim_rating_prompt, conversation_id)
        if language is None:
            return False
        log.info("conversation %s: asked for a rating (%s)", conversation_id, why)
        self._broadcast(conversation_id, [rating_request_frame(language)])
        return True

    async def close(self) -> None:
        await self._turns.close()


def _describe(turn: Turn) -> str:
    return f"turn seq={turn.message.seq}"
