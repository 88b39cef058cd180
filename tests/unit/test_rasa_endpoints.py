"""Rasa's action calls over kept-alive connections (bot/rasa_endpoints.py) answer as Rasa's own calls do,
against a real HTTP server on this machine; and the event brokers' log copy (bot/rasa_main.py) is Rasa's
without the deep copy. Rasa's replaced functions are pinned by hash, as in test_rasa_main.py."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import json
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from unittest.mock import patch

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.shared.core.events import remove_parse_data
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.rasa_endpoints import close_sessions, kept_session, session_for, to_json
from bot.rasa_main import closing_kept_sessions, event_without_parse_data

# sha256 of Rasa 3.6.21's EndpointConfig.session, which bot/rasa_endpoints.py replaces, and of .request, which
# must keep using it as `async with self.session() as session`.
RASA_REQUEST_SHA256 = "ccdb778aed8208e23cde3c3f47eac7fbbbb735dac8f7ef7254d54451c64ad608"
RASA_SESSION_SHA256 = "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb"
# remove_parse_data, and the two brokers' _publish: its only callers, which only log what it returns.
RASA_REMOVE_PARSE_DATA_SHA256 = "c341972527e87eaf52ee0fb7aad045c8a7c7ac5d54b6b89ca3c8046139bb5b1c"
RASA_PIKA_PUBLISH_SHA256 = "9f76ab9c1448db882b85b9452dd566bee6c294397d9fe1359989ba98a485176f"
RASA_KAFKA_PUBLISH_SHA256 = "e4023bc7fbb9c277e7a0383488832423143a8fe5fa02e3d17e815126668fca67"


def sha256_of(*functions: object) -> str:
    return hashlib.sha256("".join(inspect.getsource(f) for f in functions).encode()).hexdigest()  # type: ignore[arg-type]


def test_rasas_request_is_the_one_bot_rasa_endpoints_follows() -> None:
    assert sha256_of(EndpointConfig.request) == RASA_REQUEST_SHA256, "check bot/rasa_endpoints.py"
    assert sha256_of(EndpointConfig.session) == RASA_SESSION_SHA256, "check bot/rasa_endpoints.py"


def test_rasas_remove_parse_data_and_its_callers_are_the_ones_the_launcher_replaces() -> None:
    from rasa.core.brokers.kafka import KafkaEventBroker
    from rasa.core.brokers.pika import PikaEventBroker

    assert sha256_of(remove_parse_data) == RASA_REMOVE_PARSE_DATA_SHA256
    assert sha256_of(PikaEventBroker._publish) == RASA_PIKA_PUBLISH_SHA256
    assert sha256_of(KafkaEventBroker._publish) == RASA_KAFKA_PUBLISH_SHA256


@pytest.mark.parametrize(
    "event",
    [
        {"event": "user", "text": "hei", "parse_data": {"intent": {"name": "greet"}, "entities": []}, "timestamp": 1.0},
        {"event": "bot", "text": "Hei!", "data": {"buttons": [{"title": "Ja"}]}},
        {"event": "slot", "name": "order_id", "value": {"nested": ["10234"]}},
    ],
)
def test_the_log_copy_of_an_event_is_rasas_and_leaves_the_event_alone(event: dict) -> None:
    before = copy.deepcopy(event)
    ours = event_without_parse_data(event)
    assert ours == remove_parse_data(event)
    assert "parse_data" not in ours
    assert event == before  # the published event keeps its parse data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ActionServer:
    """A real HTTP server that records which client connection each request came on."""

    def __init__(self, keepalive_timeout: float = 75.0) -> None:
        self.peers: list[tuple[str, int]] = []
        self.bodies: list[dict] = []
        self.keepalive_timeout = keepalive_timeout
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        self.peers.append(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        body = await request.json()
        self.bodies.append(body)
        if body.get("fail"):
            return web.Response(status=404, text="no such action")
        if body.get("plain"):
            return web.Response(text="not json")
        return web.json_response({"events": [], "responses": [{"text": f"svar på {body['next_action']}"}]})

    async def start(self, port: int | None = None) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app, keepalive_timeout=self.keepalive_timeout)
        await self.runner.setup()
        port = port or free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="function")
async def server() -> AsyncIterator[ActionServer]:
    running = ActionServer()
    await running.start()
    yield running
    await running.stop()
    await close_sessions()


async def call(endpoint: EndpointConfig, body: dict) -> object:
    """Rasa's own EndpointConfig.request, as RemoteAction calls it, with the launcher's kept session."""
    with patch.object(EndpointConfig, "session", kept_session):
        return await endpoint.request(json=body, method="post", timeout=10)


@pytest.mark.asyncio(loop_scope="function")
async def test_calls_share_one_connection_and_answer_as_rasas_own(server: ActionServer) -> None:
    endpoint = EndpointConfig(server.url, headers={"X-Shop": "tindra"})
    answers = [await call(endpoint, {"next_action": f"action_{n}"}) for n in range(3)]
    rasas = await endpoint.request(json={"next_action": "action_0"}, method="post", timeout=10)
    assert answers[0] == rasas == {"events": [], "responses": [{"text": "svar på action_0"}]}
    assert answers[2] == {"events": [], "responses": [{"text": "svar på action_2"}]}
    assert len(set(server.peers[:3])) == 1  # Rasa's own opened a connection of its own for its call
    assert server.peers[3] not in server.peers[:3]


@pytest.mark.asyncio(loop_scope="function")
async def test_errors_and_plain_answers_are_rasas(server: ActionServer) -> None:
    endpoint = EndpointConfig(server.url)
    with pytest.raises(ClientResponseError) as ours:
        await call(endpoint, {"fail": True})
    with pytest.raises(ClientResponseError) as rasas:
        await endpoint.request(json={"fail": True}, method="post", timeout=10)
    assert (ours.value.status, ours.value.text) == (rasas.value.status, rasas.value.text) == (404, b"no such action")
    assert await call(endpoint, {"plain": True}) is None


@pytest.mark.asyncio(loop_scope="function")
async def test_a_connection_the_server_closed_is_not_reused() -> None:
    impatient = ActionServer(keepalive_timeout=0.3)  # closes idle connections sooner than the client would
    await impatient.start()
    try:
        endpoint = EndpointConfig(impatient.url)
        assert await call(endpoint, {"next_action": "a"})
        # aiohttp's server closes an idle connection at its next check past the limit: within 1.3 s here.
        await asyncio.sleep(2.0)
        assert await call(endpoint, {"next_action": "b"}) == {"events": [], "responses": [{"text": "svar på b"}]}
        assert impatient.peers[0] != impatient.peers[1]
    finally:
        await impatient.stop()
        await close_sessions()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_dead_action_server_is_a_connection_error_as_before(server: ActionServer) -> None:
    endpoint = EndpointConfig(server.url)
    assert await call(endpoint, {"next_action": "a"})
    await server.stop()
    with pytest.raises(aiohttp.ClientConnectionError):  # what RemoteAction turns into "failed to run"
        await call(endpoint, {"next_action": "b"})


def test_each_event_loop_gets_its_own_session() -> None:
    port = free_port()

    async def one_loop() -> object:
        running = ActionServer()
        await running.start(port)
        try:
            return await call(EndpointConfig(f"http://127.0.0.1:{port}/webhook"), {"next_action": "a"})
        finally:
            await running.stop()
            await close_sessions()

    # The same endpoint on two loops in turn, as a restarted server would have: the second loop must get a
    # session of its own (the first one's belongs to a closed loop).
    assert asyncio.run(one_loop()) == asyncio.run(one_loop()) == {"events": [], "responses": [{"text": "svar på a"}]}


@pytest.mark.asyncio(loop_scope="function")
async def test_the_kept_sessions_close_when_the_rasa_server_stops(server: ActionServer) -> None:
    endpoint = EndpointConfig(server.url)
    assert await call(endpoint, {"next_action": "a"})
    kept = session_for(endpoint)
    assert not kept.closed
    app_without_agent = SimpleNamespace(ctx=SimpleNamespace())  # Rasa's listener returns early for it
    await closing_kept_sessions()(app_without_agent, asyncio.get_running_loop())
    assert kept.closed
    assert await call(endpoint, {"next_action": "b"}) == {"events": [], "responses": [{"text": "svar på b"}]}


@pytest.mark.asyncio(loop_scope="function")
async def test_the_action_server_reads_the_body_rasa_sent(server: ActionServer) -> None:
    """Written by ujson (or json for what ujson refuses), read back as the same value."""
    endpoint = EndpointConfig(server.url)
    tracker = {
        "sender_id": "c/1",
        "events": [{"event": "user", "text": "Hvor er <b>pakken</b> min? 😀 \u0000", "timestamp": 1733480000.123456}],
        "slots": {"order_id": "10234", "points": 1250, "confidence": 0.9999910703685307, "none": None},
    }
    odd = {"next_action": "action_x", "slots": {"huge": 2**70, "nan_is_not_json": float("nan")}}
    await call(endpoint, {"next_action": "action_x", "tracker": tracker})
    await call(endpoint, odd)
    assert server.bodies[0] == {"next_action": "action_x", "tracker": tracker}
    assert server.bodies[1]["slots"]["huge"] == 2**70  # past ujson: the standard library wrote it
    assert to_json(tracker) == json.dumps(tracker, ensure_ascii=False, separators=(",", ":"))
