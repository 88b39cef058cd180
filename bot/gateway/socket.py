"""GET /ws: one widget's WebSocket (docs/gateway-protocol.md).

About 390 lines on purpose: one connection's whole life (hello, resume, messages, typing, ratings, leaving,
shutdown) in one class; the mechanisms it uses (sender, relay, limits, texts) live in bot/web/.

The reader handles the browser's frames one at a time; a single sender task writes everything the
browser gets. The sender owns delivery order (bot/web/sender.py): it sends each transcript message
exactly once, in seq order, and fills any gap from the database, so a resume or a write from elsewhere
never shows the customer a message twice or out of order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError

from bot.gateway.protocol import (
    CustomerMessage,
    FrameError,
    Hello,
    Rating,
    Typing,
    message_frame,
    parse_frame,
    rating_saved_frame,
    welcome_frame,
)
from bot.identity import verify_customer_token
from bot.settings import Settings
from bot.store import feedback, transcript
from bot.store.conversations import Message
from bot.web.addresses import client_address
from bot.web.database import Database
from bot.web.frames import error_frame
from bot.web.keys import DATABASE, LIMITER, RELAY, SETTINGS, SOCKETS
from bot.web.limits import Limiter, limit_key, new_lease
from bot.web.relay import Relay
from bot.web.sender import TranscriptSender
from bot.web.texts import text

log = logging.getLogger(__name__)

# A browser that stops reading gets this many frames queued before the gateway lets it go.
MAX_QUEUED_FRAMES = 1000
HEARTBEAT_SECONDS = 30
TYPING_REPEAT_SECONDS = 2.0
LIMIT_WINDOW_SECONDS = 60.0  # the limits per socket and per address count a minute (bot/settings.py)
# A socket over its address's limit waits this long for the hello whose language the refusal is in.
REFUSED_HELLO_SECONDS = 10.0


@dataclass(frozen=True)
class _Welcome:
    """Start showing a conversation: the welcome frame, then everything after `last_seq`."""

    conversation_id: str
    state: str
    last_seq: int
    resumed: bool  # a new conversation has no history to send
    resume_secret: str | None = None  # a new conversation's, sent in this welcome and never again


_CLOSE = object()


def origin_allowed(request: web.Request, settings: Settings) -> bool:
    """The page's origin is the gateway's own (the demo page) or on the allow-list."""
    origin = request.headers.get("Origin", "").rstrip("/")
    if not origin:
        return False
    if origin in settings.allowed_origins:
        return True
    # Browsers send Host and Origin as they are; equal means the page came from this gateway.
    return urlsplit(origin).netloc == request.host


async def widget_socket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(max_msg_size=settings.max_frame_bytes, heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    if not origin_allowed(request, settings):
        log.info("socket refused: origin %r not allowed", request.headers.get("Origin", "")[:100])
        await ws.send_json(error_frame("bad_origin", text("bad_origin", settings.default_language)))
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"origin not allowed")
        return ws
    request.app[SOCKETS].add(ws)
    limiter = request.app[LIMITER]
    address = client_address(request)
    place, lease = limit_key("socket", address), new_lease()
    wait = await limiter.hold(place, lease, settings.max_sockets_per_address)
    connection = WidgetConnection(ws, request.app[RELAY], request.app[DATABASE], settings, limiter, address)
    try:
        if wait is None:
            await connection.run()
        else:
            log.info("socket refused: its address has %d open already", settings.max_sockets_per_address)
            await connection.refuse_socket(wait)
    finally:
        if wait is None:
            await limiter.release(place, lease)
    return ws


class WidgetConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        relay: Relay,
        db: Database,
        settings: Settings,
        limiter: Limiter,
        address: str,
    ) -> None:
        self.ws = ws
        self.relay = relay
        self.db = db
        self.settings = settings
        self.limiter = limiter
        self._address = address  # only ever hashed into a limit's key; never logged
        self._hellos: deque[float] = deque()  # when this socket's recent hellos came
        self.conversation_id: str | None = None
        self.language = settings.default_language
        self.customer_token: str | None = None
        self.page_language: str | None = None
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        # The sender task's view: which conversation it shows and the newest seq it sent.
        self._transcript = TranscriptSender(db, self._send_message)
        self._typing: tuple[bool, float] = (False, 0.0)  # the last typing state passed on, and when

    # --- the relay pushes here -----------------------------------------------------------------
    def push(self, item: Message | dict[str, Any] | _Welcome) -> None:
        if isinstance(item, dict) and item.get("type") == "typing" and item.get("role") == "customer":
            return  # the customer's own typing is for the agent's console
        if self._outbox.qsize() >= MAX_QUEUED_FRAMES:
            log.warning("socket of conversation %s is not reading; closing it", self.conversation_id)
            asyncio.get_running_loop().create_task(self.ws.close(code=WSCloseCode.POLICY_VIOLATION))
            return
        self._outbox.put_nowait(item)

    # --- reading ---------------------------------------------------------------------------------
    async def run(self) -> None:
        sender = asyncio.create_task(self._send_loop())
        try:
            async for frame in self.ws:
                if frame.type == WSMsgType.TEXT:
                    await self._handle(frame.data)
                elif frame.type == WSMsgType.BINARY:
                    self.push(error_frame("bad_frame", text("bad_frame", self.language)))
                elif frame.type == WSMsgType.ERROR:
                    # aiohttp has closed the socket already (e.g. 1009 for a frame over max_msg_size).
                    log.info("socket of conversation %s closed: %s", self.conversation_id, self.ws.exception())
                    break
        finally:
            if self.conversation_id:
                self.relay.unsubscribe(self.conversation_id, self)
                log.info("conversation %s: socket closed (%s)", self.conversation_id, self.ws.close_code)
            self._outbox.put_nowait(_CLOSE)
            await sender

    async def refuse_socket(self, retry_after: int) -> None:
        """Over its address's open sockets: answer the hello in the page's language, then close."""
        language = self.settings.default_language
        try:
            frame = await self.ws.receive(timeout=REFUSED_HELLO_SECONDS)
            if frame.type == WSMsgType.TEXT:
                hello = parse_frame(frame.data, self.settings.max_message_chars)
                if isinstance(hello, Hello) and hello.language:
                    language = hello.language
        except (asyncio.TimeoutError, FrameError):
            pass
        if self.ws.closed:
            return
        message = text("busy_address", language, seconds=retry_after)
        await self.ws.send_json(error_frame("rate_limited", message, retry_after=retry_after))
        await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too many sockets from this address")

    async def _handle(self, raw: str) -> None:
        try:
            frame = parse_frame(raw, self.settings.max_message_chars)
        except FrameError as refused:
            self._refuse(refused)
            return
        try:
            if isinstance(frame, Hello):
                await self._hello(frame)
            elif isinstance(frame, CustomerMessage):
                await self._message(frame)
            elif isinstance(frame, Rating):
                await self._rating(frame)
            elif isinstance(frame, Typing) and self.conversation_id and self._typing_news(frame.on):
                # Shown in the console of an agent who has the conversation; no one else watches it.
                self.relay.typing(self.conversation_id, "customer", frame.on)
        except FrameError as refused:
            self._refuse(refused)
        except (SQLAlchemyError, OverflowError):
            # Nothing was stored (nor held: bot/web/relay.py): the widget keeps the message as not sent, and
            # may send it again.
            log.warning("conversation %s: database unavailable", self.conversation_id, exc_info=True)
            client_id = frame.client_id if isinstance(frame, CustomerMessage) else None
            self.push(error_frame("unavailable", text("unavailable", self.language), client_id))

    def _typing_news(self, on: bool) -> bool:
        """A change, or a reminder after a while: a widget that floods typing frames floods no one else."""
        now = time.monotonic()
        if on == self._typing[0] and now - self._typing[1] < TYPING_REPEAT_SECONDS:
            return False
        self._typing = (on, now)
        return True

    def _refuse(self, refused: FrameError) -> None:
        log.info("conversation %s: frame refused (%s: %s)", self.conversation_id, refused.code, refused.detail)
        message = text(
            refused.text_key, self.language, limit=self.settings.max_message_chars, seconds=refused.retry_after
        )
        self.push(error_frame(refused.code, message, refused.client_id, refused.retry_after))

    def _count_hello(self) -> int | None:
        """Count a hello on this socket: None within the limit, else the seconds to wait."""
        now = time.monotonic()
        while self._hellos and self._hellos[0] <= now - LIMIT_WINDOW_SECONDS:
            self._hellos.popleft()
        if len(self._hellos) >= self.settings.max_hellos_per_socket:
            return max(1, int(self._hellos[0] + LIMIT_WINDOW_SECONDS - now + 0.999))
        self._hellos.append(now)
        return None

    async def _hello(self, hello: Hello) -> None:
        if self.conversation_id is None:
            self.language = hello.language or self.settings.default_language  # for a refusal's words
        wait = self._count_hello()
        if wait is not None:
            raise FrameError("rate_limited", "too many hellos on one socket", text_key="busy_address", retry_after=wait)
        customer_id = verify_customer_token(hello.customer_token)
        language = hello.language or self.settings.default_language
        opened = None
        if hello.conversation_id:
            opened = await self.db.run(
                transcript.resume_conversation, hello.conversation_id, customer_id, hello.resume_secret
            )
        if opened is None:
            if hello.conversation_id:  # the id is an opaque reference; what was presented with it is never logged
                log.info("conversation %r not resumed: not this customer's, or no valid resume secret",
                         hello.conversation_id)  # fmt: skip
            # A new conversation (none asked for, or not this browser's to resume): counted per address.
            wait = await self.limiter.hit(
                limit_key("conversation", self._address),
                self.settings.max_new_conversations_per_address,
                LIMIT_WINDOW_SECONDS,
            )
            if wait is not None:
                raise FrameError(
                    "rate_limited", "too many new conversations from one address", text_key="busy_address",
                    retry_after=wait,
                )  # fmt: skip
            opened = await self.db.run(transcript.open_conversation, None, customer_id, language)
        conversation, resumed = opened.conversation, opened.resumed
        if self.conversation_id and self.conversation_id != conversation.id:
            self.relay.unsubscribe(self.conversation_id, self)
        self.conversation_id = conversation.id
        self.language = conversation.language
        self.customer_token = hello.customer_token if customer_id else None
        self.page_language = hello.language
        # Subscribe and queue the welcome with no await between: every live message comes after it.
        self.relay.subscribe(conversation.id, self)
        # A last_seq beyond the conversation's end (a stale browser) would hide its next messages.
        last_seq = min(hello.last_seq, conversation.last_seq) if resumed else 0
        self.push(_Welcome(conversation.id, conversation.state, last_seq, resumed, opened.resume_secret))
        if resumed:
            log.info("conversation %s resumed after seq %d", conversation.id, last_seq)
        else:
            log.info(
                "conversation %s opened (customer %s, %s)",
                conversation.id,
                customer_id or "guest",
                conversation.language,
            )

    async def _rating(self, rating: Rating) -> None:
        """Stored only for a conversation that was asked and has not answered: one rating each."""
        if self.conversation_id is None:
            raise FrameError("bad_frame", "rating before hello")
        if not await self.db.run(feedback.record_rating, self.conversation_id, rating.rating, rating.comment):
            if await self.db.run(feedback.is_rated, self.conversation_id):
                # Rated already (in another tab that missed the news, or twice at once): thanked, and the first
                # rating stays. Only this socket is told; the others were when it was saved.
                log.info("conversation %s: rated again; the first rating stays", self.conversation_id)
                self.push(rating_saved_frame(already=True))
                return
            raise FrameError("bad_frame", "no rating was asked for")
        log.info(
            "conversation %s: rated %d%s",
            self.conversation_id,
            rating.rating,
            " with a comment" if rating.comment else "",
        )
        # To every socket of the conversation, in this process and (through the broker) in the others: every tab
        # hides its rating box.
        self.relay.broadcast(self.conversation_id, rating_saved_frame())

    async def _message(self, message: CustomerMessage) -> None:
        if self.conversation_id is None:
            raise FrameError("bad_frame", "message before hello", message.client_id)
        received = time.monotonic()
        # Refused before anything is stored: what the customer sent before stays, and this one may come again.
        wait = await self.limiter.hit(
            limit_key("message", self._address), self.settings.max_messages_per_address, LIMIT_WINDOW_SECONDS
        )
        if wait is not None:
            raise FrameError("rate_limited", "over the per-address limit", message.client_id, retry_after=wait)
        self._typing = (False, 0.0)  # a sent message ends the typing; the next keystroke is news again
        if not self.relay.taking_turns:
            # This gateway is stopping: nothing is stored here. The widget reconnects on "going away" (to
            # another gateway, or to this one's successor) and sends the message again from its outbox.
            log.info("conversation %s: stopping; socket closed so the message goes elsewhere", self.conversation_id)
            await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"gateway restarting, reconnect")
            return
        metadata: dict[str, Any] = {"language": self.page_language or self.language}
        if self.customer_token:
            metadata["customer_token"] = self.customer_token
        if self.settings.clock:
            metadata["clock"] = self.settings.clock  # development and tests: the hours' "now"
        outcome = await self.relay.receive(
            self.conversation_id, message.client_id, message.text, message.payload, self.language, metadata, received
        )
        if outcome.outcome == "rate_limited":
            raise FrameError(
                "rate_limited", "over the per-minute limit", message.client_id, retry_after=outcome.retry_after
            )
        if outcome.outcome == "duplicate":
            # Stored and answered before; its echo and replies reach this socket by seq.
            seq = outcome.message.seq if outcome.message else None
            log.info("conversation %s: resend of seq=%s ignored", self.conversation_id, seq)
            return
        if outcome.outcome == "held":
            # The database is down: the relay stores it (and it is echoed, and answered) once it is back;
            # until then the widget shows it as still being sent.
            log.info("conversation %s: message held until the database is back", self.conversation_id)
            return
        assert outcome.message is not None
        log.info("conversation %s: customer turn seq=%d", self.conversation_id, outcome.message.seq)

    # --- writing -------------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if item is _CLOSE:
                    return
                if isinstance(item, _Welcome):
                    self._transcript.show(item.conversation_id, item.last_seq)
                    await self.ws.send_json(welcome_frame(item.conversation_id, item.state, item.resume_secret))
                    if item.resumed:
                        await self._transcript.catch_up()
                elif isinstance(item, Message):
                    await self._transcript.deliver(item)
                else:
                    await self.ws.send_json(item)
        except (ConnectionResetError, RuntimeError) as error:
            # The browser went away mid-send; the transcript has everything for its next hello.
            log.info("socket of conversation %s lost while sending: %s", self.conversation_id, error)
        except SQLAlchemyError:
            # A gap could not be filled: closing makes the widget reconnect and resume from what it has.
            log.warning("conversation %s: database unavailable while sending", self.conversation_id, exc_info=True)
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")

    async def _send_message(self, message: Message) -> None:
        frame = message_frame(message)
        # What the conversation speaks now (the bot answers in the customer's language): refusals follow it.
        self.language = frame.get("language", self.language)
        await self.ws.send_json(frame)
