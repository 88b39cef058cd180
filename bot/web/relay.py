"""Conversation routing: customer turns to Rasa and the replies back, into the transcript and to the sockets.

About 460 lines on purpose: this is the one place that decides a turn's order, delivery and failure. The
mechanisms are in their own modules (work_queues, held_messages, rasa_turns, rasa_answers, watchers,
broker, retrying), the decisions after a reply in bot/services/after_reply.py.

- Ordering: each conversation has at most one turn at Rasa at a time (a queue and one worker task per
  conversation, while it has work: bot/web/work_queues.py); many conversations run concurrently.
- Delivery: a write to the transcript and its broadcast happen under the conversation's lock, so this
  process hands messages to the sockets in seq order. Each socket still checks seqs itself
  (bot/web/sender.py), which covers writes by other processes.
- Turn states (bot/store/turns.py): a customer turn is stored `received` (or `sent_to_rasa` when this
  gateway takes it to Rasa at once), claimed by a conditional UPDATE before Rasa is asked, so one turn is
  answered once by one gateway, and settles `answered` (with the replies, in one transaction) or `failed`
  (with the system message, in one transaction). Turns left open by a gateway that stopped are re-driven
  or closed at start-up (bot/web/recovery.py).
- Failure: Rasa down, failing, or answering nothing (the action server is down) give the customer the
  clear system message at once; turns queued behind a failed one are covered by the same message (and
  marked failed). Rasa slower than BOT_RASA_TIMEOUT: the customer is told it is taking longer, and the
  gateway keeps waiting up to BOT_RASA_LATE_ANSWER_SECONDS, then delivers the late answer (Rasa's state
  has moved on with it: a ticket may exist) or says it failed. The turns behind it wait, in order.
- The database down: replies Rasa gave are kept in memory and stored with backoff for up to
  BOT_DATABASE_RETRY_SECONDS before the customer is told anything failed; a customer's message that
  arrives then is held here (in memory, in order per conversation, at most MAX_HELD_MESSAGES in the
  process: bot/web/held_messages.py) and stored and answered when the database is back, the widget
  showing it as still sending.
- Stopping (SIGTERM): stop_taking() refuses new turns, finish() waits for the ones in flight and the held
  messages for up to a grace period (bot/gateway/app.py).
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

from sqlalchemy.exc import SQLAlchemyError

from bot.services import after_reply, assignment
from bot.services.after_reply import Handoff, TicketTaken, TurnFor
from bot.settings import Settings
from bot.store import feedback, transcript, turns
from bot.store.conversations import ConversationState, Message, TurnState
from bot.store.transcript import CustomerTurn, NewMessage
from bot.web import metrics
from bot.web.broker import CONVERSATION, Broker, LocalBroker
from bot.web.broker_events import conversation_event, conversation_of, read_conversation_event
from bot.web.database import Database
from bot.web.frames import error_frame, rating_request_frame, state_frame, typing_frame
from bot.web.held_messages import Held, HeldMessages
from bot.web.rasa_answers import read_answer
from bot.web.rasa_client import RasaClient, RasaReply, RasaUnavailable
from bot.web.rasa_turns import Turn, ask_rasa
from bot.web.retrying import healable, retry_until, run_until_stored
from bot.web.texts import text
from bot.web.watchers import Item, Subscriber, Watchers
from bot.web.work_queues import WorkQueues

log = logging.getLogger(__name__)

__all__ = ["DeskListener", "Relay", "Subscriber", "Turn"]

# A turn due after one another gateway has at Rasa: how often to try its claim again (a turn takes 0.1-2 s).
CLAIM_POLL_SECONDS = 0.05
CLAIM_POLL_MAX_SECONDS = 0.5


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
        self._turns: WorkQueues[Turn] = WorkQueues(self._take_turn, self._turn_failed, _describe, self._skipped)
        self._held = HeldMessages(settings.database_retry_seconds, self._accept_held, self._broadcast, self._take)
        self.taking_turns = True  # False once the process is stopping (stop_taking)

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
        """An event another gateway process broadcast: to this process's sockets of that conversation. Most
        are for conversations nobody here watches: those are dropped before the message is made again."""
        conversation_id = conversation_of(event)
        if conversation_id is None or not self._watchers.watching(conversation_id):
            return
        read = read_conversation_event(event)
        if read is not None:
            conversation_id, item = read
            self._watchers.deliver(conversation_id, [item])

    def typing(self, conversation_id: str, role: str, on: bool) -> None:
        """The customer or the agent is typing: shown on the other side (each socket keeps what it shows)."""
        self._broadcast(conversation_id, [typing_frame(role, on)])

    def state_changed(self, conversation_id: str, state: str) -> None:
        self._broadcast(conversation_id, [state_frame(state)])

    def broadcast(self, conversation_id: str, frame: dict[str, Any]) -> None:
        """A frame for every socket of the conversation, in this process and the others (a rating saved)."""
        self._broadcast(conversation_id, [frame])

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
                not behind_another,  # taken at once: claimed as it is stored
            )
            if outcome.outcome == "accepted" and outcome.message is not None:
                self._broadcast(conversation_id, [outcome.message])
        return replace(outcome, context=None) if behind_another else outcome

    async def receive(
        self,
        conversation_id: str,
        client_id: str,
        text_: str,
        payload: str | None,
        language: str | None,
        metadata: dict[str, Any],
        received: float,
    ) -> CustomerTurn:
        """A customer's message: stored and on its way to Rasa, or held while the database is down.

        Raises the database's error only when the message can't be held either (too many held)."""
        held = Held(client_id, text_, payload, language, metadata, received)
        if self._held.holding(conversation_id):
            # Messages of this conversation are held already: this one goes behind them, in order.
            return self._held.hold(conversation_id, held)
        try:
            outcome = await self.accept(conversation_id, client_id, text_, payload, language)
        except SQLAlchemyError as error:
            if not healable(error):
                raise
            log.warning("conversation %s: database unavailable; holding the customer's message", conversation_id)
            return self._held.hold(conversation_id, held)
        self._take(outcome, metadata, received)
        return outcome

    def _take(self, outcome: CustomerTurn, metadata: dict[str, Any], received: float) -> None:
        if outcome.outcome == "accepted" and outcome.message is not None:
            claimed = outcome.message.turn_state == TurnState.SENT_TO_RASA
            self.submit(Turn(outcome.message, metadata, received, outcome.context, claimed))

    async def _accept_held(self, conversation_id: str, held: Held) -> CustomerTurn:
        return await self.accept(conversation_id, held.client_id, held.text, held.payload, held.language)

    async def _store(self, conversation_id: str, work: Any, *args: Any) -> list[Message]:
        """One unit of work that writes messages, and their broadcast, under the conversation's lock."""
        async with self._lock(conversation_id):
            messages = await self._db.run(work, *args)
            self._broadcast(conversation_id, messages)
        return messages

    async def _store_until_stored(self, conversation_id: str, work: Any, *args: Any) -> list[Message]:
        """_store, tried again while the database is down (the lock is not held between attempts)."""
        return await retry_until(
            self._settings.database_retry_seconds,
            lambda: self._store(conversation_id, work, *args),
            getattr(work, "__name__", "a write"),
        )

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

    def redrive(self, turn: Turn) -> None:
        """A turn a stopped gateway left `received` (bot/web/recovery.py): taken like a new one, claimed first."""
        self.submit(replace(turn, context=None, claimed=False))

    async def close_lost(self, conversation_id: str, message_ids: list[int], language: str) -> bool:
        """Turns too old to answer now: failed, and the customer told once; False when another gateway did."""
        told = NewMessage(role="system", text=text("turn_lost", language), language=language)
        return bool(await self._store(conversation_id, turns.fail_and_tell, conversation_id, message_ids, told))

    def _turn_failed(self, conversation_id: str, turn: Turn) -> None:
        # Not stored (the database is what failed, most likely): the turn stays open, and a sweep
        # (bot/web/recovery.py) stores the system message once its heartbeat has stopped.
        language = turn.metadata.get("language")
        self._broadcast(conversation_id, [error_frame("unavailable", text("unavailable", language))])

    async def _skipped(self, conversation_id: str, skipped: list[Turn]) -> None:
        """Turns behind a failed one: covered by its system message, and never re-driven."""
        ids = [turn.message.id for turn in skipped]
        await run_until_stored(self._db, self._settings.database_retry_seconds, turns.fail, ids)

    async def _claim_in_order(self, message: Message) -> bool:
        """Claim the turn for Rasa, after any earlier turn of its conversation has settled: with two gateways,
        the earlier one may be at Rasa through the other (two messages sent at once). False when another
        gateway took this turn or it was settled; a turn whose gateway died is settled by the recovery sweep."""
        within = self._settings.database_retry_seconds
        pause = CLAIM_POLL_SECONDS
        while not await run_until_stored(self._db, within, turns.claim, message.id):
            if not await run_until_stored(self._db, within, turns.waiting_behind, message.id):
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, CLAIM_POLL_MAX_SECONDS)
        return True

    async def _take_turn(self, turn: Turn) -> bool:
        """Answer one customer turn; False when the customer got the system message instead."""
        message = turn.message
        conversation_id = message.conversation_id
        within = self._settings.database_retry_seconds
        if not turn.claimed and not await self._claim_in_order(message):
            # Another gateway took it (start-up recovery, say), or it was settled: never answered twice.
            log.info("conversation %s: turn seq=%d was taken elsewhere", conversation_id, message.seq)
            return True
        # Every unit of work costs a worker-thread hop and a session (bench/, README): a turn taken as soon
        # as it was stored uses the context read with it.
        context = turn.context or await run_until_stored(
            self._db, within, transcript.turn_context, conversation_id, message.seq
        )
        if context is None:
            return True
        route = after_reply.turn_for(context.state)
        if route is TurnFor.AGENT:
            # A person has the conversation: the bot stays silent; the agent's console got the message
            # with everyone else watching the conversation.
            log.info("conversation %s: customer turn seq=%d is for the agent", conversation_id, message.seq)
            await run_until_stored(self._db, within, turns.for_the_agent, message.id)
            return True
        if route is TurnFor.REOPENED_BOT and await self._db.run(assignment.reopen, conversation_id):
            # An agent closed it, and the customer writes again: the bot carries on.
            log.info("conversation %s: closed conversation reopened with the bot", conversation_id)
            self.state_changed(conversation_id, ConversationState.BOT)
        self._broadcast(conversation_id, [typing_frame("bot", True)])
        started = time.monotonic()
        heartbeat = asyncio.create_task(self._keep_claimed(message.id), name=f"claimed-{message.id}")
        try:
            return await self._answer(turn, context.language, started, context.earlier)
        finally:
            heartbeat.cancel()
            self._broadcast(conversation_id, [typing_frame("bot", False)])

    async def _keep_claimed(self, message_id: int) -> None:
        """While this process has the turn at Rasa: a heartbeat, so no sweep takes this live turn for lost."""
        while True:
            await asyncio.sleep(turns.HEARTBEAT_SECONDS)
            try:
                await self._db.run(turns.touch, message_id)
            except SQLAlchemyError:
                log.info("turn %d: heartbeat not stored (database unavailable)", message_id)

    async def _answer(self, turn: Turn, language: str, started: float, earlier: list[transcript.AnsweredTurn]) -> bool:
        message = turn.message
        conversation_id = message.conversation_id
        asked = time.monotonic()
        try:
            reply = await self._ask(turn, language, earlier)
        except RasaUnavailable as failure:
            await self._tell_unavailable(turn, language, failure, started)
            return False
        if reply.frustration:
            log.info("conversation %s: seq=%d sounded frustrated (%s)", conversation_id, message.seq,
                     ", ".join(reply.frustration))  # fmt: skip
        language = reply.language or language
        answer = read_answer(reply)
        if answer.empty:
            # How a down (or failing) action server looks from here: Rasa answers, but says nothing. NLU
            # ran all the same: keep what it understood.
            await run_until_stored(
                self._db, self._settings.database_retry_seconds, transcript.record_understanding, message.id,
                reply.intent, reply.confidence, reply.language,
            )  # fmt: skip
            await self._tell_unavailable(turn, language, RasaUnavailable("no reply"), started)
            return False
        rasa_seconds = time.monotonic() - asked
        # One unit of work for the understanding, the replies and the turn's state: each commit waits for the
        # disk. Rasa has answered, so its state moved on: the replies are kept and stored once the database
        # takes them, before anything else is said.
        stored = await self._store_until_stored(
            conversation_id, transcript.record_reply, message.id, reply.intent, reply.confidence, reply.language,
            conversation_id, answer.bot_messages(language),
        )  # fmt: skip
        for payload in answer.custom:
            await self._act_on(conversation_id, payload)
        why = after_reply.rating_question(reply.intent)
        if why is not None:
            await self.ask_for_rating(conversation_id, why)
        # From the customer's frame to the replies handed to the sockets: Rasa's share and the gateway's.
        total = time.monotonic() - turn.received
        metrics.turn_answered(rasa_seconds, total - rasa_seconds, reply.intent)
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

    async def _ask(self, turn: Turn, language: str, earlier: list[transcript.AnsweredTurn]) -> RasaReply:
        """Rasa's reply; past BOT_RASA_TIMEOUT the customer is told it is taking longer, and the same request
        goes on up to BOT_RASA_LATE_ANSWER_SECONDS (asking again could make Rasa handle the turn twice)."""
        settings = self._settings
        asking = asyncio.ensure_future(
            ask_rasa(self._rasa, turn, earlier, max(settings.rasa_timeout, settings.rasa_late_answer_seconds))
        )
        try:
            try:
                return await asyncio.wait_for(asyncio.shield(asking), settings.rasa_timeout)
            except asyncio.TimeoutError:
                pass
            message = turn.message
            log.warning("conversation %s: Rasa slower than %.0f s over seq=%d; told the customer, still waiting",
                        message.conversation_id, settings.rasa_timeout, message.seq)  # fmt: skip
            await self._say_slow(message.conversation_id, language)
            return await asking
        finally:
            if not asking.done():
                asking.cancel()

    async def _say_slow(self, conversation_id: str, language: str) -> None:
        slow = NewMessage(role="system", text=text("slow", language), language=language)
        try:
            await self._store(conversation_id, transcript.append_messages, conversation_id, [slow])
        except SQLAlchemyError:
            # Nothing is lost by not storing this one: it is only said, and the answer is still awaited.
            self._broadcast(conversation_id, [error_frame("unavailable", slow.text)])

    async def _tell_unavailable(self, turn: Turn, language: str, failure: RasaUnavailable, started: float) -> None:
        message = turn.message
        metrics.turn_failed(failure.reason)
        told = NewMessage(role="system", text=text("unavailable", language), language=language)
        await self._store_until_stored(
            message.conversation_id, turns.fail_and_tell, message.conversation_id, [message.id], told
        )
        log.warning(
            "conversation %s: no answer to seq=%d from Rasa (%s) after %d ms; told the customer",
            message.conversation_id,
            message.seq,
            failure.reason,
            (time.monotonic() - started) * 1000,
        )

    async def _act_on(self, conversation_id: str, payload: dict[str, Any]) -> None:
        """Custom payloads are how actions tell the gateway something (bot/services/after_reply.py)."""
        for step in after_reply.read_payload(payload):
            if isinstance(step, Handoff):
                metrics.handed_over(step.reason, step.queue)
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

    # --- stopping ---------------------------------------------------------------------------------
    def stop_taking(self) -> None:
        """No new turns from now on (the sockets send new messages elsewhere: bot/gateway/socket.py)."""
        self.taking_turns = False

    def in_flight(self) -> int:
        """Conversations with a turn at Rasa or waiting, or with held messages."""
        return self._turns.active() + self._held.conversations()

    async def finish(self, grace: float) -> bool:
        """Wait up to `grace` seconds for the turns in flight and the held messages; whether all finished.
        What is left is cancelled by close(), stays open in the database, and is recovered at a start-up."""
        deadline = time.monotonic() + grace
        while self.in_flight() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self.in_flight()

    async def close(self) -> None:
        await self._held.close()
        await self._turns.close()


def _describe(turn: Turn) -> str:
    return f"turn seq={turn.message.seq}"
