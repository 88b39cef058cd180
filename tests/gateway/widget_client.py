"""A test widget: speaks docs/gateway-protocol.md over a real WebSocket, and remembers what it got."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Frame = dict[str, Any]


@dataclass
class WidgetClient:
    ws: aiohttp.ClientWebSocketResponse
    frames: list[Frame] = field(default_factory=list)  # everything received, in order
    conversation_id: str | None = None
    resume_secret: str | None = None  # what the welcome of a new conversation carried

    async def hello(
        self,
        conversation_id: str | None = None,
        last_seq: int = 0,
        token: str | None = None,
        language: str = "nb",
        resume_secret: str | None = None,
    ) -> Frame:
        frame: Frame = {
            "type": "hello",
            "conversation_id": conversation_id,
            "last_seq": last_seq,
            "customer_token": token,
            "language": language,
        }
        if resume_secret:
            frame["resume_secret"] = resume_secret
        await self.ws.send_json(frame)
        welcome = await self.until(lambda f: f["type"] == "welcome")
        self.conversation_id = welcome[-1]["conversation_id"]
        self.resume_secret = welcome[-1].get("resume_secret", resume_secret)
        return welcome[-1]

    async def say(self, text: str, client_id: str | None = None, payload: str | None = None) -> str:
        client_id = client_id or str(uuid.uuid4())
        frame: Frame = {"type": "message", "client_id": client_id, "text": text}
        if payload:
            frame["payload"] = payload
        await self.ws.send_json(frame)
        return client_id

    async def next(self, timeout: float = 15) -> Frame:
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket gave {message.type.name} {message.data!r} {message.extra!r}")
        frame = json.loads(message.data)
        self.frames.append(frame)
        return frame

    async def until(self, done: Callable[[Frame], bool], timeout: float = 15) -> list[Frame]:
        """Frames received up to and including the first that is `done`."""
        deadline = time.monotonic() + timeout
        received: list[Frame] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise asyncio.TimeoutError(f"waited {timeout} s; got {received}")
            frame = await self.next(remaining)
            received.append(frame)
            if done(frame):
                return received

    async def turn(self, text: str, timeout: float = 15, **kwargs: Any) -> list[Frame]:
        """Say something and collect everything up to the end of the bot's answer (typing off)."""
        client_id = await self.say(text, **kwargs)
        echoed = await self.until(lambda f: f["type"] == "message" and f.get("client_id") == client_id, timeout)
        rest = await self.until(lambda f: f["type"] == "typing" and f["on"] is False, timeout)
        return echoed + rest

    async def quiet_for(self, seconds: float) -> list[Frame]:
        """Whatever arrives within `seconds` (nothing, when the gateway has nothing more to say)."""
        received: list[Frame] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                received.append(await self.next(remaining))
            except asyncio.TimeoutError:
                break
        return received

    async def close(self) -> None:
        await self.ws.close()


def messages(frames: list[Frame], role: str | None = None) -> list[Frame]:
    return [f for f in frames if f["type"] == "message" and (role is None or f["role"] == role)]


def texts(frames: list[Frame], role: str = "bot") -> str:
    return "\n".join(f["text"] for f in messages(frames, role))
