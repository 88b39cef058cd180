"""Simulated customers on the three ways into the assistant, each timing its turns and keeping the ledger.

- `gateway`: the widget's WebSocket (docs/gateway-protocol.md): the product's path.
- `stock`: Rasa as shipped (`rasa run`), its REST channel: the baseline, raw Rasa.
- `rest`: the REST channel of our Rasa server (`python -m bot rasa`, bot/rasa_main.py): the same
  Rasa without its per-response schema check.
- `channel`: our Rasa channel (/webhooks/gateway/webhook) straight, as the gateway calls it: the
  difference to `rest` is what our channel costs inside Rasa, the rest is the gateway's own.

A turn's latency runs from sending the message to having every reply: the REST answer, or the
gateway's last reply frame of the turn (it sends a turn's replies together; its `typing` off frame,
sent when it has finished the turn, ends the wait).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.ledger import Ledger, SeqTracker
from bench.scripts import Script
from bot.web.texts import TEXTS

# "Taking longer" (Rasa past BOT_RASA_TIMEOUT) is a notice: the answer still comes, and is what counts.
SLOW_NOTICES = frozenset(TEXTS["slow"].values())

TURN_TIMEOUT_SECONDS = 30.0
PATHS = ("rest", "channel", "gateway")


@dataclass(frozen=True)
class TurnResult:
    path: str
    latency: float  # seconds: send -> all replies
    first_reply: float | None  # seconds: send -> first reply (gateway only; REST answers all at once)
    ok: bool
    finished_at: float  # time.monotonic()
    # Gateway only, seconds from sending: the echo (message stored), typing on (turn sent to Rasa).
    echo: float | None = None
    typing_on: float | None = None


@dataclass(frozen=True)
class Endpoints:
    rest: str
    channel: str
    gateway_ws: str
    gateway_origin: str
    rasa_headers: dict[str, str]
    stock: str = ""  # Rasa as shipped: its REST webhook, and the server (for the trackers)
    stock_rasa: str = ""


class Conversation:
    """One customer's conversation on one path; `texts` is what the customer sent, in order."""

    path = ""

    def __init__(self, http: aiohttp.ClientSession, endpoints: Endpoints, script: Script, ledger: Ledger) -> None:
        self.http = http
        self.endpoints = endpoints
        self.script = script
        self.ledger = ledger
        self.token = script.token()
        self.texts: list[str] = []
        self.failed: set[int] = set()  # indexes of turns the customer saw fail (for bench.verify)
        self.sender_id = f"bench-{self.path}-{uuid.uuid4().hex}"

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def turn(self, text: str) -> TurnResult:
        raise NotImplementedError


class RestConversation(Conversation):
    path = "rest"

    def _url(self) -> str:
        return self.endpoints.rest

    def _headers(self) -> dict[str, str]:
        return {}

    async def turn(self, text: str) -> TurnResult:
        body = {
            "sender": self.sender_id,
            "message": text,
            "metadata": {"language": self.script.language, "customer_token": self.token},
        }
        self.texts.append(text)
        self.ledger.sent += 1
        started = time.monotonic()
        ok = False
        try:
            timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_SECONDS)
            async with self.http.post(self._url(), json=body, headers=self._headers(), timeout=timeout) as response:
                data = await response.json(content_type=None)
            replies = data.get("messages") if isinstance(data, dict) else data
            if response.status != 200:
                self.ledger.error(f"{self.path} {self.sender_id}: HTTP {response.status}")
            elif not replies:
                self.ledger.problem("lost", f"{self.path} {self.sender_id}: no reply to {text!r}")
            else:
                ok = True
                self.ledger.answered += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            self.ledger.problem("lost", f"{self.path} {self.sender_id}: {type(error).__name__} on {text!r}")
        now = time.monotonic()
        if not ok:
            self.failed.add(len(self.texts) - 1)
        return TurnResult(self.path, now - started, None, ok, now)


class StockConversation(RestConversation):
    """The same REST call to Rasa as shipped."""

    path = "stock"

    def _url(self) -> str:
        return self.endpoints.stock


class ChannelConversation(RestConversation):
    """Our Rasa channel, called as the gateway calls it (JWT), without the gateway in between."""

    path = "channel"

    def _url(self) -> str:
        return self.endpoints.channel

    def _headers(self) -> dict[str, str]:
        return self.endpoints.rasa_headers


@dataclass
class _Live:
    """What one customer's widget received live, for the checks after the run."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    echoes: dict[str, int] = field(default_factory=dict)


class GatewayConversation(Conversation):
    path = "gateway"

    def __init__(self, http: aiohttp.ClientSession, endpoints: Endpoints, script: Script, ledger: Ledger) -> None:
        super().__init__(http, endpoints, script, ledger)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.live = _Live()
        self.seqs = SeqTracker("gateway")
        self.sent_ids: list[str] = []

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(
            self.endpoints.gateway_ws, headers={"Origin": self.endpoints.gateway_origin}, autoping=True
        )
        await self.ws.send_json(
            {
                "type": "hello",
                "conversation_id": None,
                "last_seq": 0,
                "customer_token": self.token,
                "language": self.script.language,
            }
        )
        welcome = await self._next(TURN_TIMEOUT_SECONDS)
        if welcome.get("type") != "welcome":
            raise ConnectionError(f"expected welcome, got {welcome}")
        self.sender_id = welcome["conversation_id"]  # the gateway's id is Rasa's sender id
        self.seqs.where = f"gateway {self.sender_id}"

    async def _next(self, timeout: float) -> dict[str, Any]:
        assert self.ws is not None
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket gave {message.type.name}")
        return json.loads(message.data)

    def _record(self, frame: dict[str, Any]) -> None:
        self.seqs.see(int(frame["seq"]), self.ledger)
        self.live.messages.append(frame)
        client_id = frame.get("client_id")
        if frame.get("role") == "customer" and client_id:
            self.live.echoes[client_id] = self.live.echoes.get(client_id, 0) + 1

    async def turn(self, text: str) -> TurnResult:
        assert self.ws is not None
        client_id = uuid.uuid4().hex
        self.texts.append(text)
        self.sent_ids.append(client_id)
        self.ledger.sent += 1
        started = time.monotonic()
        deadline = started + TURN_TIMEOUT_SECONDS
        echoed, replies, failed, first, last = False, 0, False, None, None
        echo_at: float | None = None
        typing_at: float | None = None
        await self.ws.send_json({"type": "message", "client_id": client_id, "text": text})
        try:
            while True:
                frame = await self._next(max(0.01, deadline - time.monotonic()))
                kind = frame.get("type")
                if kind == "message":
                    self._record(frame)
                    if frame.get("client_id") == client_id:
                        echoed = True
                        echo_at = time.monotonic() - started
                    elif frame.get("role") == "bot":
                        replies += 1
                        last = time.monotonic()
                        first = first if first is not None else last - started
                    elif frame.get("role") == "system" and frame.get("text") not in SLOW_NOTICES:
                        failed = True
                        last = time.monotonic()
                elif kind == "error":
                    failed = True
                    if frame.get("client_id") == client_id:
                        break  # refused: no echo, no typing will follow
                elif kind == "typing" and frame.get("on") is True and echoed and typing_at is None:
                    typing_at = time.monotonic() - started
                elif kind == "typing" and frame.get("on") is False and echoed:
                    break
        except (asyncio.TimeoutError, ConnectionError) as error:
            self.ledger.problem("lost", f"gateway {self.sender_id}: {type(error).__name__} waiting on {text!r}")
        done = time.monotonic()  # typing off: the gateway has finished the turn
        # The latency ends when the customer has every reply (they come in one burst), as REST's does.
        now = last if last is not None else done
        ok = echoed and replies > 0 and not failed
        if not ok:
            self.failed.add(len(self.texts) - 1)
        if ok:
            self.ledger.answered += 1
        elif failed:
            self.ledger.error(f"gateway {self.sender_id}: system message or error frame for {text!r}")
        elif echoed:
            self.ledger.problem("lost", f"gateway {self.sender_id}: no reply to {text!r}")
        return TurnResult(self.path, now - started, first, ok, now, echo_at, typing_at)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        self.seqs.finish(self.ledger)
        for client_id in self.sent_ids:
            count = self.live.echoes.get(client_id, 0)
            if count == 0:
                self.ledger.problem("lost", f"gateway {self.sender_id}: customer message {client_id} never echoed")
            elif count > 1:
                self.ledger.problem("duplicated", f"gateway {self.sender_id}: customer message echoed {count} times")


CONVERSATIONS: dict[str, type[Conversation]] = {
    "stock": StockConversation,
    "rest": RestConversation,
    "channel": ChannelConversation,
    "gateway": GatewayConversation,
}


def new_conversation(
    path: str, http: aiohttp.ClientSession, endpoints: Endpoints, script: Script, ledger: Ledger
) -> Conversation:
    return CONVERSATIONS[path](http, endpoints, script, ledger)
