"""GET /console/ws: an agent's live console (docs/gateway-protocol.md, "Console socket").

The guard (bot/console/auth.py) lets only an agent's session this far; the socket also refuses a page
from another origin. The server pushes a `snapshot` (queue, tickets, the agent's conversations) on
connect and whenever the desk changes. A conversation page sends `watch`: then it gets that
conversation's messages (from `last_seq`, in order, without gaps: bot/web/sender.py), the customer's typing, state
changes and notes, if the agent may see that conversation. `typing` from the agent reaches the
customer only while the agent has the conversation.

A session can end while its socket is open (a log-out elsewhere, a new password, `python -m bot staff
sign-out`, a role taken away): the socket asks again (auth.still_signed_in) every SESSION_CHECK_SECONDS
and before acting on each frame, and closes with 1008 "signed out", which the page shows. A log-out in
any gateway process closes it at once (the hub).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError

from bot.console import present, reads
from bot.console.auth import Agent, still_signed_in
from bot.console.desk import Desk
from bot.console.hub import ConsoleHub
from bot.console.keys import AGENT, DESK, HUB
from bot.console.paths import MAX_ID
from bot.services import assignment
from bot.services.staff import mark_seen
from bot.store.conversations import Message
from bot.store.staff import StaffRole
from bot.web.database import Database
from bot.web.keys import DATABASE, RELAY, SOCKETS
from bot.web.relay import Relay
from bot.web.sender import TranscriptSender

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
PRESENCE_SECONDS = 30  # well inside bot/services/staff.py's PRESENCE_WINDOW
MAX_FRAME_BYTES = 4096
MAX_QUEUED_FRAMES = 1000
SESSION_CHECK_SECONDS = 15.0  # a session ended elsewhere closes its sockets within this (issue 16: <= 30 s)
SIGNED_OUT = b"signed out"  # the close reason console.js shows as "signed out"
_REFRESH = object()
_CLOSE = object()


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin", "")
    return bool(origin) and origin.split("://", 1)[-1].rstrip("/") == request.host


async def console_socket(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        log.warning("console socket refused: origin %r", request.headers.get("Origin", "")[:100])
        raise web.HTTPForbidden(text="The console socket is for the console's own pages.")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    request.config_dict[SOCKETS].add(ws)
    agent: Agent = request[AGENT]
    config = request.config_dict
    connection = AgentConnection(ws, agent, config[DATABASE], config[RELAY], config[HUB], config[DESK])
    await connection.run()
    return ws


class _Watch:
    """The relay's subscriber for the conversation an agent's page shows."""

    def __init__(self, connection: AgentConnection, conversation_id: str) -> None:
        self.connection = connection
        self.conversation_id = conversation_id

    def push(self, item: Message | dict[str, Any]) -> None:
        self.connection.from_relay(self.conversation_id, item)


class AgentConnection:
    def __init__(
        self, ws: web.WebSocketResponse, agent: Agent, db: Database, relay: Relay, hub: ConsoleHub, desk: Desk
    ) -> None:
        self.ws = ws
        self.agent = agent
        self.username = agent.username
        self.db = db
        self.relay = relay
        self.hub = hub
        self.desk = desk
        self.watching: str | None = None
        self._watch: _Watch | None = None
        self._transcript = TranscriptSender(db, self._send_message)
        self._refresh_pending = False
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._ending: tuple[int, bytes] | None = None  # why the server closes this socket, once it does

    # --- what the hub and the relay push --------------------------------------------------------
    def _put(self, item: Any) -> None:
        if self._outbox.qsize() >= MAX_QUEUED_FRAMES:
            log.warning("console of %s is not reading; closing it", self.username)
            asyncio.get_running_loop().create_task(self._end(WSCloseCode.POLICY_VIOLATION, b"not reading"))
            return
        self._outbox.put_nowait(item)

    def refresh(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            self._put(_REFRESH)

    def note(self, conversation_id: str, note: dict[str, Any]) -> None:
        self._put({"type": "note", "conversation_id": conversation_id, "note": note})

    def log_out(self) -> None:
        asyncio.get_running_loop().create_task(self._end(WSCloseCode.POLICY_VIOLATION, SIGNED_OUT))

    def from_relay(self, conversation_id: str, item: Message | dict[str, Any]) -> None:
        if conversation_id != self.watching:
            return
        if isinstance(item, Message):
            self._put(item)
        elif not isinstance(item, dict):
            return
        elif (item.get("type") == "typing" and item.get("role") == "customer") or item.get("type") == "state":
            self._put({**item, "conversation_id": conversation_id})

    # --- reading ------------------------------------------------------------------------------
    async def run(self) -> None:
        self.hub.add(self)
        sender = asyncio.create_task(self._send_loop())
        presence = asyncio.create_task(self._present())
        checks = asyncio.create_task(self._check_session_every())
        self.refresh()
        log.info("console of %s connected", self.username)
        try:
            async for frame in self.ws:
                if frame.type == WSMsgType.TEXT:
                    await self._handle(frame.data)
                elif frame.type == WSMsgType.ERROR:
                    break
        finally:
            if self._ending is not None:
                await self.ws.close(code=self._ending[0], message=self._ending[1])
            self.hub.remove(self)
            self._unwatch()
            presence.cancel()
            checks.cancel()
            self._outbox.put_nowait(_CLOSE)
            await asyncio.gather(sender, presence, checks, return_exceptions=True)
            log.info("console of %s disconnected", self.username)

    async def _present(self) -> None:
        """While this console is open its agent counts as present (bot/services/staff.py)."""
        while True:
            try:
                await self.db.run(mark_seen, self.username)
            except SQLAlchemyError:
                log.warning("console of %s: could not mark the agent present", self.username)
            await asyncio.sleep(PRESENCE_SECONDS)

    async def _check_session_every(self) -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)  # read each time: tests shorten it
            if not await self._session_ok():
                return

    async def _session_ok(self) -> bool:
        """Is the session this socket opened with still good? If not, the socket closes ("signed out")."""
        try:
            ok = await self.db.run(still_signed_in, self.agent, StaffRole.AGENT)
        except SQLAlchemyError:
            log.warning("console of %s: database unavailable for the session check", self.username, exc_info=True)
            await self._end(WSCloseCode.TRY_AGAIN_LATER, b"database unavailable")
            return False
        if not ok:
            log.info("console of %s: its session has ended; closing the socket", self.username)
            await self._end(WSCloseCode.POLICY_VIOLATION, SIGNED_OUT)
        return ok

    async def _end(self, code: int, reason: bytes) -> None:
        """Close from outside the reading loop. The loop ends first and the handler's return would close
        with 1000; run() closes with this code and reason instead, so the page learns why."""
        if self._ending is None:
            self._ending = (code, reason)
        await self.ws.close(code=code, message=reason)

    async def _handle(self, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):  # "[[[[..." 2 000 deep fits in 4 KiB; it ended the socket (the fuzzer)
            return
        if not isinstance(frame, dict):
            return
        conversation_id = frame.get("conversation_id")
        # Ids are ASCII with no NUL: PostgreSQL refuses a NUL in a query (it ended the socket: the fuzzer), and
        # half of a surrogate pair can't even be sent to it.
        if not isinstance(conversation_id, str) or len(conversation_id) > 64 or not conversation_id.isascii():
            return
        if "\x00" in conversation_id:  # ASCII, but no id has one
            return
        if frame.get("type") not in ("watch", "typing") or not await self._session_ok():
            return
        try:
            if frame.get("type") == "watch":
                last_seq = frame.get("last_seq")
                # Past any seq a conversation has (and the database's integers): from the start instead.
                wanted = last_seq if isinstance(last_seq, int) and 0 <= last_seq <= MAX_ID else 0
                await self._start_watching(conversation_id, wanted)
            elif (
                frame.get("type") == "typing"
                and conversation_id == self.watching
                and await self.db.run(assignment.holds, conversation_id, self.username)
            ):
                self.desk.typing(conversation_id, bool(frame.get("on")))
        except SQLAlchemyError:
            log.warning("console of %s: database unavailable", self.username, exc_info=True)
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")

    async def _start_watching(self, conversation_id: str, last_seq: int) -> None:
        if not await self.db.run(assignment.may_view, conversation_id, self.username):
            log.warning("console of %s: watch of conversation %s refused", self.username, conversation_id)
            self._put({"type": "error", "code": "forbidden", "conversation_id": conversation_id})
            return
        self._unwatch()
        self.watching = conversation_id
        self._watch = _Watch(self, conversation_id)
        # Subscribe first, then catch up from last_seq: the sender fills the gap in between by seq.
        self.relay.subscribe(conversation_id, self._watch)
        self._put(("watch", conversation_id, max(0, last_seq)))

    def _unwatch(self) -> None:
        if self._watch is not None:
            self.relay.unsubscribe(self._watch.conversation_id, self._watch)
        self._watch = None
        self.watching = None

    # --- writing ------------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if item is _CLOSE:
                    return
                if item is _REFRESH:
                    self._refresh_pending = False
                    await self.ws.send_json(await self.db.run(reads.snapshot, self.username))
                elif isinstance(item, tuple):
                    _, conversation_id, last_seq = item
                    self._transcript.show(conversation_id, last_seq)
                    await self._transcript.catch_up()
                    # From here on, everything in the conversation reaches this page as it happens.
                    await self.ws.send_json({"type": "watching", "conversation_id": conversation_id})
                elif isinstance(item, Message):
                    if item.conversation_id == self.watching:
                        await self._transcript.deliver(item)
                else:
                    await self.ws.send_json(item)
        except (ConnectionResetError, RuntimeError) as error:
            log.info("console of %s lost while sending: %s", self.username, error)
        except SQLAlchemyError:
            log.warning("console of %s: database unavailable while sending", self.username, exc_info=True)
            await self._end(WSCloseCode.TRY_AGAIN_LATER, b"database unavailable")

    async def _send_message(self, message: Message) -> None:
        await self.ws.send_json(
            {"type": "message", "conversation_id": message.conversation_id, **present.message(message)}
        )
