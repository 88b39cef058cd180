"""Issue 16: the fuzzer. Hypothesis sends the real gateway (in front of a stand-in Rasa, fast tier) malformed,
oversized, out-of-order and duplicated frames on the widget socket (/ws) and the console socket, and random
form posts and queries to every console route, as an agent, a trainer and no one.

Properties, after every example:
- no 5xx, and nothing logged at ERROR (a handler or task that crashed);
- no message lost or doubled: every customer message stored reached Rasa once and has its one answer, and
  the frames a socket got show each message once, in seq order;
- no data from another conversation: a victim chatting meanwhile never appears in the attacker's frames,
  the attacker's frames hold only answers from the conversations it was welcomed into, and the victim's
  transcript holds only what the victim said and its answers;
- the process still answers: a new widget gets an answer, and the console its snapshot.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.identity import sign_customer_token
from bot.services.staff import add_staff_user
from bot.settings import get_settings
from bot.store.conversations import Message
from bot.store.db import session_scope
from bot.store.models import HandoffRequest
from bot.store.postgres_admin import scratch_database
from bot.store.seed import seed_demo
from bot.store.staff import LoginFailure
from tests.conftest import POSTGRES_URL
from tests.gateway.conftest import SHOP_ORIGIN
from tests.gateway.console_client import ConsoleClient
from tests.gateway.fake_rasa import answer_to
from tests.gateway.fuzz_support import Harness, running_gateway
from tests.gateway.widget_client import WidgetClient

PASSWORD = "a long enough password for the fuzzer"
# `make test` (and a plain `pytest`) draws the full number of examples below; `make test-fast` sets
# BOT_TEST_FUZZ=quick and draws a third of them (still derandomized: the same ones each quick run).
QUICK = os.environ.get("BOT_TEST_FUZZ") == "quick"


def examples(full: int) -> int:
    return max(1, full // 3) if QUICK else full


# The gateway answers a local socket within milliseconds: after the ops, a socket is read until no frame has
# come for this long (it was a fixed 0.3 s, then 0.2 s more after the transcripts settled).
QUIET = 0.1


FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is a failure again
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Routes a random post must not reach: log-outs end the fuzzer's own sessions (tests/gateway/test_sessions_end.py
# covers them), and retrain starts a real training of minutes.
NOT_FUZZED = ("/logout", "/console/trainer/retrain")
FORM_FIELDS = ("csrf_token", "text", "note", "resolution", "availability", "intent", "intent_other", "back",
               "username", "password", "language", "reason", "since", "until", "period", "topic")  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The gateway on this run's SQLite database, and on a PostgreSQL database of its own (which refuses what
    SQLite takes: NUL characters, integers past 32 bits)."""
    with ExitStack() as stack:
        url = get_settings().database_url
        if request.param == "postgresql":
            url = stack.enter_context(scratch_database("varde_fuzz", POSTGRES_URL))
        seed_demo(url)
        harness = stack.enter_context(running_gateway(tmp_path_factory.mktemp("fuzz-training"), database_url=url))
        yield harness
        with session_scope(url) as session:  # the random log-ins' failures must not brake later tests' log-ins
            session.execute(delete(LoginFailure))


@pytest.fixture(scope="module")
def usernames() -> dict[str, str]:
    return {role: f"{role}.fuzz-{uuid.uuid4().hex[:8]}" for role in ("agent", "trainer", "nobody")}


@pytest.fixture(scope="module")
def staff(fuzzed: Harness, usernames: dict[str, str]) -> Iterator[dict[str, ConsoleClient]]:
    """An agent and a trainer of the fuzzer's own, logged in, and a browser that is not."""
    clients: dict[str, ConsoleClient] = {}
    for role, username in usernames.items():
        if role != "nobody":
            with session_scope(fuzzed.database_url) as session:
                add_staff_user(session, username, "Fuzz", role, PASSWORD)
        clients[role] = fuzzed.run(_browser(fuzzed.url("/"), username if role != "nobody" else None))
    yield clients
    for client in clients.values():
        fuzzed.run(client.close())


async def _browser(base: str, username: str | None) -> ConsoleClient:
    """A browser at the console (made on the gateway's loop), logged in as `username` unless None."""
    client = ConsoleClient.anonymous(base)
    if username is not None:
        assert (await client.log_in(username, PASSWORD)).status == 303
    if username is not None and not client.csrf:  # a trainer's pages carry the token, not the agents' desk
        async with client.http.get(client.url("/console/trainer")) as page:
            found = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
        assert found, "no CSRF token on the trainer's page"
        client.csrf = found.group(1)
    return client


def no_errors(harness: Harness) -> None:
    errors = harness.errors.take()
    assert not errors, "the gateway logged errors:\n" + "\n".join(errors)


# --- the widget socket ------------------------------------------------------------------------------------
def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30)
    containers = lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)  # noqa: E731
    return st.recursive(scalars, containers, max_leaves=8)


TARGETS = ("none", "own", "own-with-secret", "victim", "victim-wrong-secret", "random")
said = st.sampled_from(["hei", "hvor er pakka mi?", "takk", "/greet", "<b>hei</b>", "hei", " hei ", "ja", "h\x00ei"])
texts = st.one_of(said, said, st.text(max_size=40))
hellos = st.tuples(
    st.just("hello"),
    st.sampled_from(TARGETS),
    st.integers(0, 5) | st.integers(-3, 10**12) | json_values(),
    st.sampled_from([None, None, "garbage", "signed"]),
    st.sampled_from(["nb", "sv", "xx", None]),
)
messages = st.tuples(
    st.just("message"),
    st.sampled_from("abcd"),  # a few client ids: resends and duplicates
    st.one_of(texts, texts, texts, st.just("x" * 2001), st.just("")),
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["/greet", "/restart"]), st.text(max_size=20)),
)
junk = st.one_of(
    st.tuples(st.just("typing"), json_values()),
    st.tuples(st.just("rating"), json_values(), json_values()),
    st.tuples(st.just("raw"), st.text(max_size=60)),
    st.tuples(st.just("json"), st.dictionaries(st.sampled_from(["type", "client_id", "text", "conversation_id",
              "last_seq", "payload", "on", "rating", "resume_secret"]), json_values(), max_size=5)),
    st.tuples(st.just("binary"), st.binary(max_size=40)),
    st.tuples(st.just("deep"), st.integers(100, 7000)),  # "[[[[...]]]]" as deep as a frame can hold
    st.tuples(st.just("oversized")),
    st.tuples(st.just("reconnect"), st.booleans(), st.integers(0, 6)),  # and resume (with this last_seq), or not
)  # fmt: skip
# Mostly the frames a widget sends, in any order and repeated; some of everything else.
frame_kinds = st.one_of(hellos, messages, messages, messages, junk)
sequences = st.tuples(st.integers(0, 3), st.lists(frame_kinds, min_size=1, max_size=12)).map(
    lambda drawn: ([("hello", "none", 0, None, "nb")] if drawn[0] else []) + drawn[1]  # mostly a hello first
)


def nested(depth: int) -> str:
    """A typing frame whose `on` is a list `depth` lists deep."""
    return '{"type": "typing", "on": ' + "[" * depth + "]" * depth + "}"


class Attacker:
    """One browser sending what hypothesis draws; remembers every frame and which conversations it was let into."""

    def __init__(self, harness: Harness, victim: WidgetClient) -> None:
        self.harness = harness
        self.victim = victim
        self.tag = uuid.uuid4().hex[:8]  # its client_ids are its own across examples
        self.widget: WidgetClient | None = None
        self.secrets: dict[str, str] = {}  # conversation -> resume secret, from welcomes
        self.current: str | None = None
        self.sockets: list[WidgetClient] = []

    async def open(self) -> WidgetClient:
        self.widget = await self.harness.gateway.widget(SHOP_ORIGIN)
        self.sockets.append(self.widget)
        return self.widget

    def hello_frame(self, target: str, last_seq: Any, token: str | None, language: str | None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "hello", "last_seq": last_seq, "language": language}
        if token == "signed":
            frame["customer_token"] = sign_customer_token("C-1002")
        elif token:
            frame["customer_token"] = token
        if target.startswith("own") and self.current:
            frame["conversation_id"] = self.current
            if target == "own-with-secret" and self.current in self.secrets:
                frame["resume_secret"] = self.secrets[self.current]
        elif target.startswith("victim"):
            frame["conversation_id"] = self.victim.conversation_id
            if target == "victim-wrong-secret":
                frame["resume_secret"] = uuid.uuid4().hex
        elif target == "random":
            frame["conversation_id"] = uuid.uuid4().hex
        return frame

    async def send(self, op: tuple[Any, ...]) -> None:
        widget = self.widget or await self.open()
        if widget.ws.closed or op[0] == "reconnect":
            await self.drain(0.05)
            widget = await self.open()
            if op[0] == "reconnect":
                if op[1]:  # as the widget does after a reload: its conversation, from what it has seen
                    await widget.ws.send_json(self.hello_frame("own-with-secret", op[2], None, "nb"))
                return
        kind = op[0]
        try:
            if kind == "hello":
                await widget.ws.send_json(self.hello_frame(*op[1:]))
            elif kind == "message":
                frame = {"type": "message", "client_id": f"{self.tag}-{op[1]}", "text": op[2]}
                if op[3] is not None:
                    frame["payload"] = op[3]
                await widget.ws.send_json(frame)
            elif kind == "typing":
                await widget.ws.send_json({"type": "typing", "on": op[1]})
            elif kind == "rating":
                await widget.ws.send_json({"type": "rating", "rating": op[1], "comment": op[2]})
            elif kind == "raw":
                await widget.ws.send_str(op[1])
            elif kind == "json":
                await widget.ws.send_str(json.dumps(op[1], default=str))
            elif kind == "binary":
                await widget.ws.send_bytes(op[1])
            elif kind == "deep":
                await widget.ws.send_str(nested(op[1]))
            elif kind == "oversized":
                await widget.ws.send_str(json.dumps({"type": "message", "client_id": "big", "text": "x" * 20_000}))
        except (ConnectionResetError, RuntimeError):
            pass  # the server closed the socket (e.g. 1009 for the oversized frame): the next op reconnects
        await self.drain(0)

    async def drain(self, seconds: float) -> None:
        """Read whatever has arrived on the open socket; note the welcomes."""
        if self.widget is None:
            return
        deadline = time.monotonic() + seconds
        while True:
            try:
                message = await self.widget.ws.receive(timeout=max(0.001, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            self.note(json.loads(message.data))
            if time.monotonic() >= deadline:
                return

    async def drain_until_quiet(self, quiet: float = QUIET, most: float = 5.0) -> None:
        """Read until nothing has arrived for `quiet` seconds (at most `most` seconds); note the welcomes."""
        if self.widget is None:
            return
        end = time.monotonic() + most
        while (remaining := end - time.monotonic()) > 0:
            try:
                message = await self.widget.ws.receive(timeout=min(quiet, remaining))
            except asyncio.TimeoutError:
                return
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            self.note(json.loads(message.data))

    def note(self, frame: dict[str, Any]) -> None:
        assert self.widget is not None
        self.widget.frames.append(frame)
        if frame["type"] == "welcome":
            self.current = frame["conversation_id"]
            if frame.get("resume_secret"):
                self.secrets[self.current] = frame["resume_secret"]

    @property
    def conversations(self) -> set[str]:
        return {f["conversation_id"] for w in self.sockets for f in w.frames if f["type"] == "welcome"}


def transcript(database_url: str, conversation_id: str) -> list[Message]:
    with session_scope(database_url) as session:
        query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        return list(session.scalars(query))


async def settled(database_url: str, conversation_ids: set[str], timeout: float = 15) -> dict[str, list[Message]]:
    """The transcripts, once every customer message has its answer (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {cid: await asyncio.to_thread(transcript, database_url, cid) for cid in conversation_ids}
        answered = all(
            sum(m.role == "customer" for m in messages) <= sum(m.role in ("bot", "system") for m in messages)
            for messages in rows.values()
        )
        if answered or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.05)


def check_transcript(harness: Harness, conversation_id: str, messages: list[Message]) -> None:
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1)), "seqs with a gap or twice"
    customer = [m for m in messages if m.role == "customer"]
    assert len({m.client_id for m in customer}) == len(customer), "a customer message stored twice"
    said = Counter(m.payload or m.text for m in customer)
    heard = Counter({text: n for (sender, text), n in harness.rasa.turns.items() if sender == conversation_id})
    assert heard == said, "Rasa did not get each stored customer message exactly once"
    answers = Counter(m.text for m in messages if m.role == "bot")
    assert answers == Counter({answer_to(conversation_id, text): n for text, n in said.items()}), "answers"
    assert not [m for m in messages if m.role == "system"], "a turn failed"


def check_frames(widget: WidgetClient, allowed: set[str], forbidden: list[str]) -> None:
    """Per welcome: messages once each, in seq order, answers only from conversations it was let into."""
    raw = json.dumps(widget.frames)
    for secret in forbidden:
        assert secret not in raw, "another conversation's data reached this socket"
    current, last = None, 0
    for frame in widget.frames:
        if frame["type"] == "welcome":
            current, last = frame["conversation_id"], -1
            assert current in allowed
        elif frame["type"] == "message":
            assert current is not None, "a message before any welcome"
            assert frame["seq"] > last, f"seq {frame['seq']} after {last}: twice or out of order"
            last = frame["seq"]
            if frame["role"] == "bot":
                assert frame["text"].startswith(f"[{current}]"), "an answer from another conversation"


async def still_answers(harness: Harness) -> None:
    widget = await harness.gateway.widget(SHOP_ORIGIN)
    try:
        await widget.hello()
        frames = await widget.turn("er dere der?", timeout=10)
        assert answer_to(widget.conversation_id or "", "er dere der?") in [f.get("text") for f in frames]
    finally:
        await widget.close()
    async with harness.gateway.http.get(harness.url("/health")) as health:
        assert health.status < 500


@settings(FUZZ, max_examples=examples(15))
@given(ops=sequences)
def test_widget_socket_survives_any_frames_and_loses_mixes_or_doubles_nothing(
    fuzzed: Harness, ops: list[tuple[Any, ...]]
) -> None:
    fuzzed.run(_widget_example(fuzzed, ops))
    no_errors(fuzzed)


async def _widget_example(harness: Harness, ops: list[tuple[Any, ...]]) -> None:
    victim = await harness.gateway.widget(SHOP_ORIGIN)
    attacker = Attacker(harness, victim)
    private = f"victim's private words {uuid.uuid4().hex}"
    try:
        await victim.hello()
        await victim.say(private)  # the victim writes while the attacker works
        for op in ops:
            await attacker.send(op)
        await attacker.drain_until_quiet()
        victim_id = victim.conversation_id or ""
        # Until every conversation the attacker was welcomed into (a welcome read late included) has settled.
        settled_ones: set[str] = set()
        while (wanted := {*attacker.conversations, victim_id}) != settled_ones:
            rows = await settled(harness.database_url, wanted)
            settled_ones = wanted
            await attacker.drain_until_quiet()
        for conversation_id, messages in rows.items():
            check_transcript(harness, conversation_id, messages)
        assert {m.text for m in rows[victim_id] if m.role == "customer"} <= {private}, "the attacker wrote into it"
        for widget in attacker.sockets:
            check_frames(widget, attacker.conversations, [private, victim_id, victim.resume_secret or "?"])
        await still_answers(harness)
    finally:
        for widget in [victim, *attacker.sockets]:
            await widget.close()


# --- the console socket -----------------------------------------------------------------------------------
console_ops = st.one_of(
    st.tuples(st.sampled_from(["watch", "watch", "typing", "hello", 7, None]),
              st.sampled_from(["victim", "mine", "mine", "random", "long", 5]),
              st.integers(-2, 4) | st.sampled_from([2**31, 2**63, 2**70]) | json_values()),
    st.tuples(st.just("raw"), st.text(max_size=60)),
    st.tuples(st.just("binary"), st.binary(max_size=20)),
    st.tuples(st.just("deep"), st.integers(100, 2000)),
    st.tuples(st.just("oversized"),),
)  # fmt: skip


@pytest.fixture(scope="module")
def once_claimed(fuzzed: Harness, usernames: dict[str, str]) -> str:
    """A conversation the fuzzer's agent took over once (so may watch), with a customer turn and its answer."""

    async def chat() -> str:
        widget = await fuzzed.gateway.widget(SHOP_ORIGIN)
        await widget.hello()
        await widget.turn("hjelp meg", timeout=10)
        await widget.close()
        return widget.conversation_id or ""

    conversation_id = fuzzed.run(chat())
    with session_scope(fuzzed.database_url) as session:
        session.add(
            HandoffRequest(
                conversation_id=conversation_id, reason="requested", language="nb", status="closed",
                agent_username=usernames["agent"],
            )
        )  # fmt: skip
    return conversation_id


@settings(FUZZ, max_examples=examples(12))
@given(ops=st.lists(console_ops, min_size=1, max_size=10))
def test_console_socket_survives_any_frames_and_shows_no_one_elses_chat(
    fuzzed: Harness, staff: dict[str, ConsoleClient], once_claimed: str, ops: list[tuple[Any, ...]]
) -> None:
    fuzzed.run(_console_example(fuzzed, staff["agent"], once_claimed, ops))
    no_errors(fuzzed)


async def _console_example(harness: Harness, agent: ConsoleClient, mine: str, ops: list[tuple[Any, ...]]) -> None:
    victim = await harness.gateway.widget(SHOP_ORIGIN)
    private = f"victim's private words {uuid.uuid4().hex}"
    try:
        await victim.hello()
        await victim.turn(private, timeout=10)
        ids = {"victim": victim.conversation_id, "mine": mine, "random": uuid.uuid4().hex, "long": "x" * 100, 5: 5}
        await agent.connect()
        assert agent.ws is not None
        for op in ops:
            if agent.ws.closed:
                await agent.connect()
            try:
                if op[0] == "raw":
                    await agent.ws.send_str(op[1])
                elif op[0] == "binary":
                    await agent.ws.send_bytes(op[1])
                elif op[0] == "deep":
                    await agent.ws.send_str(nested(op[1]).replace("typing", "watch"))
                elif op[0] == "oversized":
                    await agent.ws.send_str(json.dumps({"type": "watch", "conversation_id": "x" * 5000}))
                else:
                    frame = {"type": op[0], "conversation_id": ids[op[1]], "last_seq": op[2], "on": op[2]}
                    await agent.ws.send_str(json.dumps(frame, default=str))
            except (ConnectionResetError, RuntimeError):
                pass
        received = await _read_all(agent.ws)
        if agent.ws.closed:
            await agent.connect()
        await agent.send({"type": "watch", "conversation_id": mine, "last_seq": 0})  # the same socket still serves
        shown = await agent.until(lambda f: f["type"] == "watching" and f["conversation_id"] == mine, timeout=5)
        for frame in received + shown:  # what came after the ops, and up to this watch's answer
            if frame.get("type") in ("message", "typing", "state", "note", "watching"):
                assert frame.get("conversation_id") == mine, f"another conversation's {frame['type']}"
        assert private not in json.dumps(received + shown), "the victim's words reached the agent"
        seqs = [f["seq"] for f in shown if f["type"] == "message" and f["conversation_id"] == mine]
        assert seqs[-2:] == [1, 2], "the agent's own conversation, from the start, after whatever came before"
        await agent.ws.close()
        snapshot = await agent.connect()  # still answers, and the session still holds
        assert snapshot["type"] == "snapshot"
        await agent.ws.close()
        await still_answers(harness)
    finally:
        await victim.close()


async def _read_all(
    ws: aiohttp.ClientWebSocketResponse, quiet: float = QUIET, most: float = 5.0
) -> list[dict[str, Any]]:
    """The frames that arrive until none has for `quiet` seconds (at most `most` seconds)."""
    frames, end = [], time.monotonic() + most
    while (remaining := end - time.monotonic()) > 0:
        try:
            message = await ws.receive(timeout=min(quiet, remaining))
        except asyncio.TimeoutError:
            break
        if message.type != aiohttp.WSMsgType.TEXT:
            break
        frames.append(json.loads(message.data))
    return frames


# --- random form posts and queries to every console route ---------------------------------------------------
def console_routes(harness: Harness) -> list[tuple[str, str]]:
    """(method, path template) of every route under /console, from the app's own router."""
    found = []
    for resource in harness.gateway.server.app.router.resources():
        apps = [resource._app] if hasattr(resource, "_app") else []  # the mounted console
        for app in apps:
            for inner in app.router.resources():
                for route in inner:
                    path = inner.canonical  # with the mount's prefix
                    if route.method in ("GET", "POST") and not path.endswith("/ws") and "/static" not in path:
                        found.append((route.method, path))
    return sorted(set(found))


path_values = st.one_of(
    st.text(max_size=20),
    st.integers(-5, 10**6).map(str),
    st.integers(-(2**70), 2**70).map(str),  # past any database's integer
    st.sampled_from(["victim", "", "1", "9" * 25, "١٢", "0x1f", " 7", "a\x00b"]),
)
form_values = st.one_of(
    st.text(max_size=50),
    st.just("x" * 5000),
    st.integers().map(str),
    st.sampled_from(
        [
            "order_status",
            "ignore",
            "away",
            "available",
            "solved",
            "follow_up",
            "nb",
            "/console/trainer",
            "//evil.test",
            "n\x00l",
        ]
    ),
)
form_data = st.dictionaries(st.sampled_from(FORM_FIELDS) | st.text(max_size=10), form_values, max_size=6)


@settings(FUZZ, max_examples=examples(12))
@given(
    who=st.sampled_from(["agent", "trainer", "nobody"]),
    params=st.lists(path_values, min_size=2, max_size=2),
    form=form_data,
    csrf=st.sampled_from(["valid", "valid", "missing", "wrong"]),
)
def test_every_console_route_answers_random_posts_without_a_5xx(
    fuzzed: Harness, staff: dict[str, ConsoleClient], who: str, params: list[str], form: dict[str, str], csrf: str
) -> None:
    """Each example: every route, with the same drawn path values, form or query, token and browser."""
    routes = [route for route in console_routes(fuzzed) if not route[1].endswith(NOT_FUZZED)]
    assert len(routes) >= 15, routes
    for method, template in routes:
        status = fuzzed.run(_request(fuzzed, staff[who], method, template, params, form, csrf))
        assert status < 500, (method, template, params, form)
    no_errors(fuzzed)


async def _request(
    harness: Harness, client: ConsoleClient, method: str, template: str, params: list[str], form: dict, csrf: str
) -> int:
    path = template
    for value in params:
        if "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + quote(value, safe="") + path[end + 1 :]
    headers = {"Origin": client.base}
    if csrf == "valid":
        headers["X-CSRF-Token"] = client.csrf
    elif csrf == "wrong":
        headers["X-CSRF-Token"] = "wrong"
    async with client.http.request(
        method,
        harness.url(path),
        data=form if method == "POST" else None,
        params=form if method == "GET" else None,
        headers=headers,
        allow_redirects=False,
    ) as response:
        await response.read()
        return response.status


@pytest.mark.parametrize("path", ["/console/tickets/{id}", "/console/trainer/models/{id}/rollback"])
@pytest.mark.parametrize("number", ["9" * 25, str(2**31), "١٢", "-1"])
def test_an_id_no_row_can_have_is_not_found(
    fuzzed: Harness, staff: dict[str, ConsoleClient], path: str, number: str
) -> None:
    """Found by the fuzzer: a ticket or model id past the database's integers was a 500 (OverflowError)."""
    who = "trainer" if "trainer" in path else "agent"
    method = "POST" if path.endswith("rollback") else "GET"
    assert fuzzed.run(_request(fuzzed, staff[who], method, path, [number], {}, "valid")) == 404
    no_errors(fuzzed)


def test_watching_from_a_seq_past_the_databases_integers_starts_from_the_beginning(
    fuzzed: Harness, staff: dict[str, ConsoleClient], once_claimed: str
) -> None:
    """Found next to the fuzzer's first finding (an id past the database's integers): `watch` with last_seq
    2**70 killed the console's sender (OverflowError, swallowed), and the page got nothing more on that socket."""

    async def watch() -> list[int]:
        agent = staff["agent"]
        await agent.connect()
        try:
            await agent.send({"type": "watch", "conversation_id": once_claimed, "last_seq": 2**70})
            shown = await agent.until(lambda f: f["type"] == "watching", timeout=5)
            return [f["seq"] for f in shown if f["type"] == "message"]
        finally:
            await agent.ws.close()  # type: ignore[union-attr]

    assert fuzzed.run(watch()) == [1, 2]
    no_errors(fuzzed)


def test_the_fuzzers_staff_are_still_signed_in(fuzzed: Harness, staff: dict[str, ConsoleClient]) -> None:
    """The random posts never reached a log-out: otherwise they tested only the log-in page."""
    assert fuzzed.run(staff["agent"].connect())["type"] == "snapshot"
    fuzzed.run(staff["agent"].ws.close())  # type: ignore[union-attr]


def test_the_copy_of_the_training_files_is_where_the_trainer_writes(fuzzed: Harness) -> None:
    assert Path(fuzzed.training_root / "data" / "nlu").is_dir()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "client_id": "c-1", "text": "hei\x00du"},
        {"type": "message", "client_id": "c\x00-2", "text": "hei"},
        {"type": "message", "client_id": "c-3", "text": "hei", "payload": "/greet\x00"},
        {"type": "rating", "rating": 3, "comment": "\x00"},
    ],
)
def test_a_nul_character_in_a_widget_frame_is_refused_politely(fuzzed: Harness, frame: dict[str, Any]) -> None:
    """PostgreSQL refuses NUL in text (SQLite takes it): stored as it came, it failed the socket's handler."""

    async def send() -> list[dict[str, Any]]:
        widget = await fuzzed.gateway.widget(SHOP_ORIGIN)
        try:
            await widget.hello()
            await widget.ws.send_json(frame)
            refused = await widget.until(lambda f: f["type"] == "error", timeout=5)
            return refused + await widget.quiet_for(0.2)  # and nothing after it (no echo, no answer)
        finally:
            await widget.close()

    frames = fuzzed.run(send())
    assert [f.get("code") for f in frames if f["type"] == "error"] == ["bad_frame"], frames
    fuzzed.run(still_answers(fuzzed))
    no_errors(fuzzed)


def test_half_an_emoji_is_stored_as_unreadable_and_answered(fuzzed: Harness) -> None:
    """Found by a live review: a text cut in the middle of an emoji (the widget's length limit could) carries
    half a surrogate pair, which neither database can store. The turn failed, the widget sent it again and
    again, and every later message stayed unsent. The half becomes U+FFFD; the rest of the text is kept."""

    async def send() -> list[dict[str, Any]]:
        widget = await fuzzed.gateway.widget(SHOP_ORIGIN)
        try:
            await widget.hello()
            raw = json.dumps({"type": "message", "client_id": "c-half", "text": "hvor er pakken min \ud83d"})
            await widget.ws.send_str(raw)  # as JSON.stringify writes it: "\\ud83d"
            answered = await widget.until(lambda f: f["type"] == "message" and f.get("role") == "bot", timeout=10)
            return answered + await widget.quiet_for(0.3)
        finally:
            await widget.close()

    frames = fuzzed.run(send())
    echo = next(f for f in frames if f["type"] == "message" and f.get("client_id") == "c-half")
    assert echo["text"] == "hvor er pakken min \ufffd"
    assert not [f for f in frames if f["type"] == "error"], frames
    fuzzed.run(still_answers(fuzzed))
    no_errors(fuzzed)


def test_a_frame_nested_thousands_deep_is_refused_politely(fuzzed: Harness) -> None:
    """Found while fuzzing (reading what json.loads does): "[[[[..." 5 000 deep (10 KB, within the frame
    limit) made json.loads raise RecursionError, which failed the socket's handler."""

    async def send() -> list[dict[str, Any]]:
        widget = await fuzzed.gateway.widget(SHOP_ORIGIN)
        try:
            await widget.hello()
            await widget.ws.send_str(nested(5000))
            refused = await widget.until(lambda f: f["type"] == "error", timeout=5)
            return refused + await widget.quiet_for(0.2)  # and nothing after it (no echo, no answer)
        finally:
            await widget.close()

    frames = fuzzed.run(send())
    assert [f.get("code") for f in frames if f["type"] == "error"] == ["bad_frame"], frames
    no_errors(fuzzed)


def test_a_console_frame_nested_thousands_deep_is_ignored(
    fuzzed: Harness, staff: dict[str, ConsoleClient], once_claimed: str
) -> None:
    """Found while fuzzing: "[[[[..." 2 000 deep (4 KB, within the console's frame limit) made json.loads
    raise RecursionError, which ended the console socket with an unhandled error."""

    async def watch() -> list[int]:
        agent = staff["agent"]
        await agent.connect()
        try:
            await agent.ws.send_str(nested(2000))  # type: ignore[union-attr]
            await agent.send({"type": "watch", "conversation_id": once_claimed, "last_seq": 0})
            shown = await agent.until(lambda f: f["type"] == "watching", timeout=5)
            return [f["seq"] for f in shown if f["type"] == "message"]
        finally:
            await agent.ws.close()  # type: ignore[union-attr]

    assert fuzzed.run(watch()) == [1, 2]
    no_errors(fuzzed)


def test_a_nul_character_in_a_console_request_is_a_400(fuzzed: Harness, staff: dict[str, ConsoleClient]) -> None:
    """Found while fuzzing on PostgreSQL, which refuses NUL in text (SQLite takes it): a log-in name with one
    was a 500 there. Refused before any handler reads it, on either database."""

    async def requests() -> list[int]:
        browser = ConsoleClient.anonymous(fuzzed.url("/"))
        try:
            statuses = [(await browser.log_in("agent\x00anne", "x\x00")).status]
        finally:
            await browser.close()
        agent = staff["agent"]
        for method, path, form in [
            ("POST", "/console/availability", {"availability": "available\x00"}),
            ("POST", "/console/conversations/{x}/notes", {"text": "note"}),
            ("GET", "/console", {"language": "\x00"}),
        ]:
            statuses.append(await _request(fuzzed, agent, method, path, ["a\x00b"], form, "valid"))
        return statuses

    assert fuzzed.run(requests()) == [400, 400, 400, 400]
    no_errors(fuzzed)


@pytest.mark.parametrize("bad_id", ["a\x00b", "a\ud83db"])
def test_an_id_with_a_nul_or_half_an_emoji_in_a_console_frame_is_ignored(
    fuzzed: Harness, staff: dict[str, ConsoleClient], once_claimed: str, bad_id: str
) -> None:
    """On PostgreSQL a NUL in a watched conversation id reached the database driver and ended the socket; half
    a surrogate pair can't even be sent to either database."""

    async def watch() -> list[int]:
        agent = staff["agent"]
        await agent.connect()
        try:
            for frame_type in ("watch", "typing"):
                frame = {"type": frame_type, "conversation_id": bad_id, "last_seq": 0, "on": True}
                await agent.ws.send_str(json.dumps(frame))  # type: ignore[union-attr]
            await agent.send({"type": "watch", "conversation_id": once_claimed, "last_seq": 0})
            shown = await agent.until(lambda f: f["type"] == "watching", timeout=5)
            return [f["seq"] for f in shown if f["type"] == "message"]
        finally:
            await agent.ws.close()  # type: ignore[union-attr]

    assert fuzzed.run(watch()) == [1, 2]
    no_errors(fuzzed)
