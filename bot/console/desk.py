"""What an agent does with a conversation: claim it, write to the customer, note, hand back, close.

Each operation changes the owner in the database first (bot/services/assignment.py), then tells the
customer (a system message in the transcript, so a reload shows it too), the customer's widget (a
state frame) and every agent's console (the queue). Hand-back and close also give Rasa the agent's
turns as `bot` events, so the bot knows what was said when it carries on. A close ends the conversation,
so the customer is asked for a rating (once per conversation; bot/services/after_reply.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import present
from bot.console.auth import Agent
from bot.console.hub import ConsoleHub
from bot.services import after_reply, assignment, tickets
from bot.services.assignment import ClaimOutcome, LeftBehind, Released
from bot.services.hours import is_open, parse_clock
from bot.services.staff import set_availability
from bot.settings import Settings
from bot.store.conversations import Conversation, ConversationState, Message, MessageRole
from bot.store.desk import AgentNote
from bot.store.models import as_utc, utcnow
from bot.store.transcript import NewMessage
from bot.web.database import Database
from bot.web.rasa_client import RasaClient, RasaUnavailable
from bot.web.relay import Relay
from bot.web.texts import text

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 2000
RASA_SYNC_TIMEOUT = 5.0


class Desk:
    def __init__(self, db: Database, relay: Relay, rasa: RasaClient, hub: ConsoleHub, settings: Settings) -> None:
        self._db = db
        self._relay = relay
        self._rasa = rasa
        self._hub = hub
        self._settings = settings

    async def claim(self, agent: Agent, conversation_id: str) -> ClaimOutcome:
        outcome = await self._db.run(assignment.claim, conversation_id, agent.username)
        if not outcome.won:
            log.info(
                "conversation %s: claim by %s refused (state %s, held by %s)",
                conversation_id,
                agent.username,
                outcome.state,
                outcome.holder,
            )
            return outcome
        log.info("conversation %s: claimed by %s", conversation_id, agent.username)
        language = await self._language(conversation_id)
        await self._say(conversation_id, "agent_joined", language, agent)
        self._relay.state_changed(conversation_id, ConversationState.AGENT)
        self._hub.desk_changed()
        return outcome

    async def reply(self, agent: Agent, conversation_id: str, body: str) -> Message | None:
        """The agent's message to the customer; None unless the agent has the conversation now."""
        body = body.strip()[:MAX_REPLY_CHARS]
        if not body or not await self._db.run(assignment.holds, conversation_id, agent.username):
            return None
        language = await self._language(conversation_id)
        [stored] = await self._relay.append(
            conversation_id, [NewMessage(role=MessageRole.AGENT, text=body, language=language, author=agent.name)]
        )
        self._relay.typing(conversation_id, "agent", False)
        return stored

    def typing(self, conversation_id: str, on: bool) -> None:
        self._relay.typing(conversation_id, "agent", on)

    async def add_note(self, agent: Agent, conversation_id: str, body: str) -> dict | None:
        body = body.strip()[:MAX_NOTE_CHARS]
        if not body or not await self._db.run(assignment.may_view, conversation_id, agent.username):
            return None
        note = present.note(await self._db.run(_add_note, conversation_id, agent, body))
        self._hub.note_added(conversation_id, note)
        return note

    async def hand_back(self, agent: Agent, conversation_id: str) -> bool:
        released = await self._db.run(assignment.release, conversation_id, agent.username, ConversationState.BOT)
        if released is None:
            return False
        log.info("conversation %s: handed back to the bot by %s", conversation_id, agent.username)
        await self._after_release(
            agent.username, released, text("agent_handed_back", released.language, agent=agent.name)
        )
        return True

    async def close(self, agent: Agent, conversation_id: str, resolution: str, note: str | None) -> bool:
        released = await self._db.run(
            assignment.release, conversation_id, agent.username, ConversationState.CLOSED, resolution, note
        )
        if released is None:
            return False
        log.info("conversation %s: closed by %s (%s)", conversation_id, agent.username, resolution)
        await self._after_release(agent.username, released, text("agent_closed", released.language, agent=agent.name))
        try:
            await self._relay.ask_for_rating(conversation_id, after_reply.rating_question_on_close(agent.username))
        except Exception:  # the close stands whatever happens to the question
            log.exception("conversation %s: asking for a rating after the close failed", conversation_id)
        return True

    async def set_availability(self, agent: Agent, availability: str) -> None:
        await self._db.run(set_availability, agent.username, availability)
        log.info("agent %s is now %s", agent.username, availability)
        self._hub.desk_changed()

    async def ticket_done(self, agent: Agent, ticket_id: int) -> bool:
        done = await self._db.run(tickets.mark_done, ticket_id, agent.username)
        if done:
            log.info("ticket %d answered by %s", ticket_id, agent.username)
            self._hub.desk_changed()
        return done

    async def take_back_from_absent_agents(self) -> list[LeftBehind]:
        """Conversations whose agent's console has been closed for BOT_AGENT_GONE_SECONDS: a customer must
        never wait for a person who has gone home. Safe in every gateway process at once (one UPDATE wins)."""
        gone_since = utcnow() - timedelta(seconds=self._settings.agent_gone_seconds)
        held = await self._db.run(assignment.held_by_absent_agents, gone_since)
        if not held:
            return []
        in_hours = is_open(parse_clock(self._settings.clock))
        taken = []
        for conversation_id, username in held:
            left = await self._db.run(assignment.take_back, conversation_id, username, gone_since, in_hours)
            if left is None:
                continue  # let go meanwhile, or another process was first
            log.warning(
                "conversation %s: %s's console has been closed for over %d s; the conversation is now %s",
                conversation_id, username, self._settings.agent_gone_seconds, left.state,
            )  # fmt: skip
            key = "agent_left_queued" if left.state == ConversationState.QUEUED else "agent_left_bot"
            await self._after_release(username, left, text(key, left.language, agent=left.agent_name, place=left.place))
            taken.append(left)
        return taken

    # --- helpers ---------------------------------------------------------------------------------
    async def _after_release(self, username: str, released: Released, line: str) -> None:
        """The agent let go (or went away): tell the customer, their widget, every console, and Rasa."""
        conversation_id, language = released.conversation_id, released.language
        await self._relay.append(conversation_id, [NewMessage(role=MessageRole.SYSTEM, text=line, language=language)])
        self._relay.typing(conversation_id, "agent", False)
        self._relay.state_changed(conversation_id, released.state)
        self._hub.desk_changed()
        await self._tell_rasa(username, conversation_id, released.claimed_at)

    async def _say(self, conversation_id: str, key: str, language: str, agent: Agent) -> None:
        line = text(key, language, agent=agent.name)
        await self._relay.append(conversation_id, [NewMessage(role=MessageRole.SYSTEM, text=line, language=language)])

    async def _language(self, conversation_id: str) -> str:
        language = await self._db.run(_conversation_language, conversation_id)
        return language or self._settings.default_language

    async def _tell_rasa(self, username: str, conversation_id: str, since: datetime | None) -> None:
        """Append the agent's turns to Rasa's tracker as `bot` events; the transcript keeps them anyway.

        Rasa's conversation was never paused (the gateway simply sent it nothing), so nothing needs
        resuming: its next user message is handled with the context it had, plus these turns.
        """
        turns = await self._db.run(_agent_turns, conversation_id, since)
        if not turns:
            return
        events = [
            {
                "event": "bot",
                "text": turn.text,
                "timestamp": as_utc(turn.created_at).timestamp(),
                "metadata": {"agent": username},
            }
            for turn in turns
        ]
        try:
            await self._rasa.append_events(conversation_id, events, RASA_SYNC_TIMEOUT)
            log.info("conversation %s: %d agent turn(s) added to Rasa's tracker", conversation_id, len(events))
        except RasaUnavailable as failure:
            log.warning(
                "conversation %s: could not add the agent's turns to Rasa's tracker (%s); the transcript has them",
                conversation_id,
                failure.reason,
            )


def _conversation_language(session: Session, conversation_id: str) -> str | None:
    return session.execute(select(Conversation.language).where(Conversation.id == conversation_id)).scalar()


def _agent_turns(session: Session, conversation_id: str, since: datetime | None) -> list[Message]:
    query = select(Message).where(Message.conversation_id == conversation_id, Message.role == MessageRole.AGENT)
    if since is not None:
        query = query.where(Message.created_at >= since)
    return list(session.execute(query.order_by(Message.seq)).scalars())


def _add_note(session: Session, conversation_id: str, agent: Agent, body: str) -> AgentNote:
    note = AgentNote(conversation_id=conversation_id, author=agent.username, author_name=agent.name, text=body)
    session.add(note)
    session.flush()
    return note
