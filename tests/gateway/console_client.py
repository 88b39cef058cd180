"""A test agent: logs in to the console over HTTP like a browser, posts with the CSRF token, opens the socket."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Frame = dict[str, Any]
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
PASSWORDS = {"agent.anne": "demo-agent", "agent.per": "demo-agent", "trainer.tor": "demo-trainer"}


@dataclass
class ConsoleClient:
    base: str  # the gateway's URL, e.g. http://127.0.0.1:41234
    http: aiohttp.ClientSession
    csrf: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None
    frames: list[Frame] = field(default_factory=list)

    @classmethod
    def anonymous(cls, base: str) -> ConsoleClient:
        """A browser at the console, not logged in yet."""
        # The gateway is on 127.0.0.1: aiohttp keeps cookies for IP addresses only when told to.
        return cls(base.rstrip("/"), aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))

    @classmethod
    async def logged_in(cls, base: str, username: str) -> ConsoleClient:
        client = cls.anonymous(base)
        await client.log_in(username, PASSWORDS[username])
        return client

    def url(self, path: str) -> str:
        return self.base + path

    async def log_in(
        self, username: str, password: str, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        async with self.http.get(self.url("/console/login")) as page:
            token = _CSRF_FIELD.search(await page.text()).group(1)  # type: ignore[union-attr]
        form = {"username": username, "password": password, "csrf_token": token}
        response = await self.http.post(self.url("/console/login"), data=form, headers=headers, allow_redirects=False)
        if response.status == 303:
            async with self.http.get(self.url("/console")) as dashboard:
                found = _CSRF_META.search(await dashboard.text())
                self.csrf = found.group(1) if found else ""
        return response

    async def post(self, path: str, **form: str) -> tuple[int, dict[str, Any]]:
        headers = {"X-CSRF-Token": self.csrf, "Accept": "application/json"}
        async with self.http.post(self.url(path), data=form, headers=headers) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = {"text": await response.text()}
            return response.status, body if isinstance(body, dict) else {}

    async def page(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url(path)) as response:
            return response.status, await response.text()

    async def set_available(self, available: bool = True) -> None:
        status, _ = await self.post("/console/availability", availability="available" if available else "away")
        assert status == 200

    async def claim(self, conversation_id: str) -> tuple[int, dict[str, Any]]:
        return await self.post(f"/console/conversations/{conversation_id}/claim")

    async def reply(self, conversation_id: str, text: str) -> tuple[int, dict[str, Any]]:
        return await self.post(f"/console/conversations/{conversation_id}/messages", text=text)

    # --- the socket ------------------------------------------------------------------------------
    async def connect(self) -> Frame:
        """Open the console socket; returns the first snapshot."""
        self.ws = await self.http.ws_connect(self.url("/console/ws"), headers={"Origin": self.base})
        return (await self.until(lambda f: f["type"] == "snapshot"))[-1]

    async def send(self, frame: Frame) -> None:
        assert self.ws is not None
        await self.ws.send_json(frame)

    async def watch(self, conversation_id: str, last_seq: int = 0) -> None:
        await self.send({"type": "watch", "conversation_id": conversation_id, "last_seq": last_seq})

    async def next(self, timeout: float = 15) -> Frame:
        assert self.ws is not None
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"console socket gave {message.type.name} {message.data!r}")
        frame = json.loads(message.data)
        self.frames.append(frame)
        return frame

    async def until(self, done: Callable[[Frame], bool], timeout: float = 20) -> list[Frame]:
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

    async def snapshot_where(self, done: Callable[[Frame], bool], timeout: float = 20) -> Frame:
        """The first snapshot pushed that satisfies `done`."""
        return (await self.until(lambda f: f["type"] == "snapshot" and done(f), timeout))[-1]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


def queued_ids(snapshot: Frame) -> list[str]:
    return [entry["conversation_id"] for entry in snapshot["queue"]]
