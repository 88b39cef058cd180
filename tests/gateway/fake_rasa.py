"""A stand-in for Rasa on a local port, for the gateway's fast tests (no trained model, no Rasa).

The real gateway talks to it over HTTP exactly as to Rasa's gateway channel (bot/rasa_channel.py): each
turn is answered with one bot message that names the conversation and repeats the text, so a test can
tell whose answer reached which socket. The Rasa stack's other endpoints answer as Rasa would.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.rasa_channel import NOT_HANDLED
from bot.settings import Settings
from bot.web.rasa_client import GATEWAY_WEBHOOK
from tests.gateway.conftest import SHOP_ORIGIN, Gateway, start_gateway, stop_gateway


def answer_to(conversation_id: str, text: str) -> str:
    """What the fake bot says to `text` in a conversation: whose turn it was is in the answer."""
    return f"[{conversation_id}] du skrev: {text}"


Answer = Callable[[str, str], str]  # (conversation id, text) -> the bot's answer


@dataclass
class FakeRasa:
    """Answers each turn with `answer(sender, text)` after `delays[text]` seconds (HTTP 500 for a text in
    `failing`; "not handled, no lock" `not_handled[text]` times first), and records what it was asked, in
    order."""

    server: TestServer
    turns: Counter[tuple[str, str]] = field(default_factory=Counter)  # (sender, text) -> times Rasa got it
    calls: Counter[str] = field(default_factory=Counter)  # text -> times Rasa got it
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # text -> the metadata it came with
    timeline: list[str] = field(default_factory=list)  # "asked: TEXT" and "answered: TEXT", in order
    delays: dict[str, float] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    # text -> how many more times to answer as Rasa's channel does when it can't take the conversation's lock
    not_handled: Counter[str] = field(default_factory=Counter)
    on_call: Callable[[str], None] | None = None  # told of each turn as it arrives
    answer: Answer = answer_to

    @property
    def rasa_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def actions_url(self) -> str:
        return self.rasa_url  # /health asks it for /health: answered below


def _app(fake: dict[str, FakeRasa]) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        sender, text = str(body.get("sender")), str(body.get("message"))
        rasa = fake["it"]
        rasa.turns[(sender, text)] += 1
        rasa.calls[text] += 1
        rasa.metadata[text] = body.get("metadata") or {}
        if rasa.on_call:
            rasa.on_call(text)
        rasa.timeline.append(f"asked: {text}")
        await asyncio.sleep(rasa.delays.get(text, 0))
        rasa.timeline.append(f"answered: {text}")
        if text in rasa.failing:
            return web.json_response({"error": "failing on purpose"}, status=500)
        if rasa.not_handled[text] > 0:
            rasa.not_handled[text] -= 1
            return web.json_response(NOT_HANDLED, status=503)
        reply = {"recipient_id": sender, "text": rasa.answer(sender, text)}
        return web.json_response({"messages": [reply], "intent": "greet", "confidence": 0.9, "language": "nb"})

    async def events(request: web.Request) -> web.Response:
        return web.json_response({})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"model_id": "fake", "model_file": "fake.tar.gz"})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post(GATEWAY_WEBHOOK, webhook)
    app.router.add_post("/conversations/{conversation_id}/tracker/events", events)
    app.router.add_get("/status", status)
    app.router.add_get("/health", health)
    app.router.add_get("/", health)
    return app


@asynccontextmanager
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    holder: dict[str, FakeRasa] = {}
    server = TestServer(_app(holder), host="127.0.0.1")
    await server.start_server()
    holder["it"] = FakeRasa(server)
    try:
        yield holder["it"]
    finally:
        await server.close()


@asynccontextmanager
async def gateway_before(rasa: FakeRasa, settings: Settings, **changes: object) -> AsyncIterator[Gateway]:
    """The real gateway (this run's database) in front of the fake Rasa."""
    fields: dict[str, object] = {
        "rasa_url": rasa.rasa_url,
        "action_server_url": rasa.actions_url,
        "allowed_origins": (SHOP_ORIGIN,),
        "rasa_timeout": 5.0,
    }
    started = await start_gateway(dataclasses.replace(settings, **{**fields, **changes}))
    try:
        yield started
    finally:
        await stop_gateway(started)
