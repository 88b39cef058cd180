"""A customer who keeps talking while parts of the service die: the widget's own behaviour
(docs/gateway-protocol.md), over the public port (HAProxy).

- A socket that drops is opened again (through HAProxy, so another gateway takes it) with `hello`, the
  conversation's id, its resume secret and the last seq seen: the gateway replays what was missed.
- A message whose echo never came is sent again with the same `client_id` (stored and answered once).
- A turn ends with its answer: the bot's replies (typing off), or the "having trouble" system message.

Afterwards `audit` reads the stored transcript through a fresh socket and counts, per customer message,
whether it is there once, in the order sent, and what answered it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

RECONNECT_SECONDS = 60.0  # keep trying this long (a gateway restart, HAProxy noticing)
TURN_SECONDS = 90.0  # a turn with no answer after this long is counted as unanswered


@dataclass
class Turn:
    client_id: str
    text: str
    sent_at: float  # time.monotonic()
    answered_at: float | None = None
    outcome: str = "none"  # "answered", "trouble", "none"
    resends: int = 0


@dataclass
class Audit:
    sent: int = 0
    answered: int = 0
    trouble: int = 0
    unanswered: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    foreign: int = 0  # a customer message this customer never sent (another conversation's), stored or live
    problems: list[str] = field(default_factory=list)

    def add(self, other: Audit) -> None:
        for name in ("sent", "answered", "trouble", "unanswered", "lost", "duplicated", "out_of_order", "foreign"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems[: max(0, 20 - len(self.problems))]

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class ChaosCustomer:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str, language: str, name: str) -> None:
        self.http = http
        self.url = url
        self.token = token
        self.language = language
        self.name = name
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.conversation_id: str | None = None
        self.resume_secret: str | None = None
        self.last_seq = 0
        self.turns: list[Turn] = []
        self.reconnects = 0
        self.live: list[dict[str, Any]] = []

    async def _open(self) -> None:
        deadline = time.monotonic() + RECONNECT_SECONDS
        while True:
            try:
                ws = await self.http.ws_connect(
                    self.url.replace("http://", "ws://") + "/ws", headers={"Origin": self.url}, timeout=10
                )
                await ws.send_json({
                    "type": "hello", "conversation_id": self.conversation_id, "resume_secret": self.resume_secret,
                    "last_seq": self.last_seq, "customer_token": self.token, "language": self.language,
                })  # fmt: skip
                while True:
                    frame = await self._receive(ws, 15)
                    if frame.get("type") == "welcome":
                        break
                    if frame.get("type") == "error":
                        raise ConnectionError(f"hello refused: {frame}")
                if self.conversation_id and frame["conversation_id"] != self.conversation_id:
                    raise RuntimeError(f"{self.name}: resumed into another conversation")
                self.conversation_id = frame["conversation_id"]
                self.resume_secret = frame.get("resume_secret") or self.resume_secret
                self.ws = ws
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                if time.monotonic() > deadline:
                    raise ConnectionError(f"{self.name}: no gateway for {RECONNECT_SECONDS:.0f} s: {error}") from error
                await asyncio.sleep(0.5)

    @staticmethod
    async def _receive(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> dict[str, Any]:
        message = await ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket gave {message.type.name}")
        return json.loads(message.data)

    async def open(self) -> None:
        await self._open()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def turn(self, text: str) -> Turn:
        turn = Turn(uuid.uuid4().hex, text, time.monotonic())
        self.turns.append(turn)
        deadline = turn.sent_at + TURN_SECONDS
        echoed = False
        replied = False
        needs_send = True
        sends = 0
        while time.monotonic() < deadline:
            try:
                if self.ws is None or self.ws.closed:
                    self.reconnects += 1
                    await self._open()
                    needs_send = not echoed  # the replay after welcome brings what we missed
                if needs_send:
                    assert self.ws is not None
                    await self.ws.send_json({"type": "message", "client_id": turn.client_id, "text": text})
                    sends += 1
                    turn.resends = sends - 1
                    needs_send = False
                assert self.ws is not None
                frame = await self._receive(self.ws, max(0.05, deadline - time.monotonic()))
            except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, ConnectionResetError):
                if self.ws is not None and not self.ws.closed:
                    await self.ws.close()
                self.ws = None
                continue
            kind = frame.get("type")
            if kind == "message":
                self.last_seq = max(self.last_seq, int(frame["seq"]))
                self.live.append(frame)
                role = frame.get("role")
                if frame.get("client_id") == turn.client_id:
                    echoed = True
                elif echoed and role == "bot":
                    replied = True
                    turn.outcome, turn.answered_at = "answered", time.monotonic()
                elif echoed and role == "system":
                    turn.outcome, turn.answered_at = "trouble", time.monotonic()
                    return turn
            elif kind == "typing" and frame.get("on") is False and replied:
                return turn
            elif kind == "error" and frame.get("client_id") == turn.client_id:
                await asyncio.sleep(float(frame.get("retry_after") or 1))
                needs_send = True
        return turn

    async def audit(self) -> Audit:
        """The stored transcript, replayed to a fresh socket, against what this customer sent."""
        result = Audit(sent=len(self.turns))
        replay = ChaosCustomer(self.http, self.url, self.token, self.language, self.name)
        replay.conversation_id, replay.resume_secret = self.conversation_id, self.resume_secret
        await replay._open()
        frames: list[dict[str, Any]] = []
        assert replay.ws is not None
        while True:
            try:
                frame = await replay._receive(replay.ws, 2.0)
            except (asyncio.TimeoutError, ConnectionError):
                break
            if frame.get("type") == "message":
                frames.append(frame)
        await replay.close()
        sent = {turn.client_id: index for index, turn in enumerate(self.turns)}
        # Every customer message carries the id its sender made: one this customer never made is another's.
        result.foreign = sum(
            1
            for frame in [*frames, *self.live]
            if frame.get("role") == "customer" and frame.get("client_id") not in sent
        )
        seen: dict[str, int] = {}
        order: list[int] = []
        for frame in frames:
            if frame.get("role") == "customer":
                client_id = frame.get("client_id")
                if client_id not in sent:
                    continue
                seen[client_id] = seen.get(client_id, 0) + 1
                if seen[client_id] == 1:
                    order.append(sent[client_id])
        result.lost = sum(1 for client_id in sent if client_id not in seen)
        result.duplicated = sum(count - 1 for count in seen.values())
        result.out_of_order = sum(1 for a, b in itertools.pairwise(order) if b < a)
        # What answered each stored customer message: the first bot or system message after it.
        for index, frame in enumerate(frames):
            if frame.get("role") != "customer" or frame.get("client_id") not in sent:
                continue
            after = [f for f in frames[index + 1 :] if f.get("role") in ("customer", "bot", "system")]
            # Its answer comes before the next customer message (each customer waits for it).
            reply = after[0] if after and after[0].get("role") != "customer" else None
            if reply is None:
                result.unanswered += 1
            elif reply["role"] == "bot":
                result.answered += 1
            else:
                result.trouble += 1
        if result.lost or result.duplicated or result.out_of_order or result.foreign:
            result.problems.append(
                f"{self.name} {self.conversation_id}: lost {result.lost}, duplicated {result.duplicated}, "
                f"out of order {result.out_of_order}, foreign {result.foreign}"
            )
        return result
