"""Issue 15: every customer turn has a state, and none is left without an answer or an honest word.

The four ways a message used to end with no answer, and SIGTERM:
- turns a stopped gateway left are re-driven (or, too old, closed with a plain sorry) at start-up, once,
  with two gateways starting together on SQLite and on PostgreSQL;
- Rasa's late answer (after BOT_RASA_TIMEOUT) is delivered and stored, after a "taking longer";
- Rasa's replies are stored once the database is back, never replaced by a failure message;
- a message sent while the database is down is kept, stored and answered when it is back;
- on SIGTERM the gateway finishes the turn in flight, sends new messages elsewhere, and exits.

Fast tier: the real gateway (the app on a test server, or its own process for SIGTERM) on a database of
the test's own, in front of a stand-in for Rasa that the test makes slow on purpose. The database fails
through a switch on the gateway's Database (every unit of work raises what a lost server raises).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from bot.gateway import app as gateway_app
from bot.identity import verify_customer_token
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.store import migrate, turns
from bot.store.conversations import Message, TurnState
from bot.store.db import get_engine, session_scope
from bot.store.models import utcnow
from bot.store.postgres_admin import scratch_database
from bot.store.transcript import accept_customer_turn, open_conversation
from bot.web.database import Database
from bot.web.texts import TEXTS
from tests.conftest import POSTGRES_URL
from tests.gateway.conftest import SHOP_ORIGIN, gateway_settings, start_gateway, stop_gateway
from tests.gateway.fake_rasa import FakeRasa, fake_rasa
from tests.gateway.widget_client import WidgetClient, messages
from tests.support import RasaStack, free_port


def answer_to(said: str) -> str:
    return f"svar: {said}"


@asynccontextmanager
async def stand_in() -> AsyncIterator[FakeRasa]:
    """The fast tests' stand-in for Rasa (tests/gateway/fake_rasa.py), answering `answer_to(text)`."""
    async with fake_rasa() as rasa:
        rasa.answer = lambda sender, said: answer_to(said)
        yield rasa


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database migrated once for this file, for the tests to copy (migrating a new file
    takes about 0.25 s; a copy a few milliseconds)."""
    path = tmp_path_factory.mktemp("turns-template") / "shop.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    get_engine(url).dispose()
    return path


def copy_of(template: Path, tmp_path: Path) -> str:
    """A database of this test's own: a copy of `template` (SQLite's backup API)."""
    path = tmp_path / "shop.db"
    source = sqlite3.connect(template)
    with closing(source), closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> Iterator[str]:
    """An empty database of this test's own, migrated; on PostgreSQL a new one, dropped afterwards."""
    if request.param == "sqlite":
        yield copy_of(migrated_sqlite, tmp_path)
        return
    with scratch_database("varde_turns", POSTGRES_URL) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    return copy_of(migrated_sqlite, tmp_path)


def settings_for(url: str, rasa: FakeRasa, **changes: object) -> Settings:
    fields: dict[str, object] = {
        "database_url": url,
        "rasa_url": rasa.rasa_url,
        "action_server_url": rasa.rasa_url,
        "allowed_origins": (SHOP_ORIGIN,),
        "rasa_timeout": 5.0,
    }
    return dataclasses.replace(get_settings(), **{**fields, **changes})


def transcript(url: str, conversation_id: str) -> list[Message]:
    with session_scope(url) as session:
        query = session.query(Message).filter_by(conversation_id=conversation_id).order_by(Message.seq)
        return list(query)


def turn_states(url: str, conversation_id: str) -> list[str | None]:
    return [message.turn_state for message in transcript(url, conversation_id) if message.role == "customer"]


async def eventually(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.1)


def left_turn(
    url: str,
    said: str | list[str],
    age: timedelta,
    customer_id: str | None = None,
    language: str = "en",
    state: TurnState = TurnState.RECEIVED,
) -> str:
    """A conversation whose customer turns a gateway stored `age` ago and never answered (it stopped)."""
    with session_scope(url) as session:
        conversation = open_conversation(session, None, customer_id, language).conversation
        for text_ in [said] if isinstance(said, str) else said:
            turn = accept_customer_turn(session, conversation.id, str(uuid.uuid4()), text_, None, language, 20)
            assert turn.message is not None
        when = utcnow() - age
        session.execute(
            update(Message)
            .where(Message.conversation_id == conversation.id)
            .values(created_at=when, turn_state_at=when, turn_state=state.value)
        )
        return conversation.id


# --- a gateway stopped with turns received and not answered ------------------------------------------------
async def test_turns_a_stopped_gateway_left_are_answered_once_or_closed_at_start_up(database_url: str) -> None:
    asked = ["where is my parcel?", "it was order 10234"]
    young = left_turn(database_url, asked, timedelta(seconds=40), customer_id="C-1001")
    old = left_turn(database_url, "hello?", timedelta(minutes=10))
    # At Rasa when its gateway died (no heartbeat for a minute): Rasa may have acted on it, so never again.
    at_rasa = left_turn(database_url, "make me a ticket", timedelta(seconds=60), state=TurnState.SENT_TO_RASA)
    assert turn_states(database_url, young) == ["received", "received"]
    assert turn_states(database_url, old) == ["received"]
    async with stand_in() as rasa:
        rasa.delays[asked[0]] = 0.5  # the second must wait for it, whichever gateway takes which
        # Two gateways start together on one database: each sweeps at start-up, one claims each turn.
        settings = settings_for(database_url, rasa)
        gateways = await asyncio.gather(start_gateway(settings), start_gateway(settings))
        try:
            await eventually(
                lambda: (
                    turn_states(database_url, young) == ["answered", "answered"]
                    and turn_states(database_url, old) == turn_states(database_url, at_rasa) == ["failed"]
                )
            )
            await asyncio.sleep(0.5)  # a second answer or a second sorry would be here by now
        finally:
            await asyncio.gather(*(stop_gateway(gateway) for gateway in gateways))
    assert rasa.calls == Counter(asked)  # each once; the old turn never went to Rasa
    assert rasa.timeline == [f"{step}: {said}" for said in asked for step in ("asked", "answered")]  # in order
    # Signed in when it was sent: Rasa hears it from the same customer (tokens are never stored).
    assert verify_customer_token(rasa.metadata[asked[0]].get("customer_token")) == "C-1001"
    answered = transcript(database_url, young)
    assert [(m.role, m.text) for m in answered] == [
        ("customer", asked[0]),
        ("customer", asked[1]),
        ("bot", answer_to(asked[0])),
        ("bot", answer_to(asked[1])),
    ]
    closed = transcript(database_url, old)
    assert [(m.role, m.text) for m in closed] == [("customer", "hello?"), ("system", TEXTS["turn_lost"]["en"])]
    lost = transcript(database_url, at_rasa)
    assert [(m.role, m.text) for m in lost] == [("customer", "make me a ticket"), ("system", TEXTS["turn_lost"]["en"])]


async def test_a_left_turn_of_a_signed_in_customer_is_answered_by_the_real_rasa_as_that_customer(
    warm_stack: RasaStack,
) -> None:
    """With the real Rasa and action server: Kari's order question, left by a stopped gateway, is answered at
    the next start with her order's tracking number, which only a verified Kari is told."""
    settings = gateway_settings(warm_stack)
    left = left_turn(settings.database_url, "hvor er ordre 10234?", timedelta(seconds=40), "C-1001", "nb")
    gateway = await start_gateway(settings)
    try:
        await eventually(lambda: turn_states(settings.database_url, left) == ["answered"], timeout=60)
    finally:
        await stop_gateway(gateway)
    replies = [m.text for m in transcript(settings.database_url, left) if m.role == "bot"]
    assert any("70712345678901234" in reply for reply in replies), replies


async def test_turns_covered_by_a_failure_message_are_never_sent_to_rasa_again(sqlite_url: str) -> None:
    """A turn that waited behind a failed one got the same system message: it is failed, not left open."""
    async with stand_in() as rasa:
        rasa.delays["first"], rasa.failing = 1.0, {"first"}
        settings = settings_for(sqlite_url, rasa)
        gateway = await start_gateway(settings)
        try:
            widget = await gateway.widget()
            await widget.hello(language="en")
            await widget.say("first")
            await widget.say("second")  # waits behind "first"
            await widget.until(lambda f: f["type"] == "message" and f["role"] == "system")
            await widget.close()
        finally:
            await stop_gateway(gateway)
        await eventually(lambda: turn_states(sqlite_url, widget.conversation_id) == ["failed", "failed"])
        with session_scope(sqlite_url) as session:  # as if long ago: a start-up's sweep looks at it
            session.execute(update(Message).values(created_at=utcnow() - timedelta(seconds=40)))
        again = await start_gateway(settings)
        await asyncio.sleep(1.0)
        await stop_gateway(again)
    assert rasa.calls == Counter({"first": 1})
    roles = [m.role for m in transcript(sqlite_url, widget.conversation_id)]
    assert roles == ["customer", "customer", "system"], roles


async def test_a_turn_a_live_gateway_has_at_rasa_is_not_taken_for_lost_by_another(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat: while gateway A waits on a slow Rasa, gateway B's start-up sweep leaves A's turn alone
    (heartbeats sped up here, 0.2 s, lost after 0.8 s without one)."""
    monkeypatch.setattr(turns, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(turns, "ABANDONED_SECONDS", 0.8)
    async with stand_in() as rasa:
        rasa.delays["a slow one"] = 3.0
        settings = settings_for(sqlite_url, rasa, rasa_timeout=5.0)
        first = await start_gateway(settings)
        try:
            widget = await first.widget()
            await widget.hello(language="en")
            await widget.say("a slow one")
            await eventually(lambda: rasa.calls["a slow one"] == 1)
            await asyncio.sleep(1.5)  # past ABANDONED_SECONDS since the claim
            second = await start_gateway(settings)  # its sweep runs now
            frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "bot", timeout=10)
            await stop_gateway(second)
            await widget.close()
        finally:
            await stop_gateway(first)
    assert [(f["role"], f["text"]) for f in messages(frames)] == [
        ("customer", "a slow one"),
        ("bot", answer_to("a slow one")),
    ]
    assert [m.role for m in transcript(sqlite_url, widget.conversation_id)] == ["customer", "bot"]


# --- Rasa answers after the gateway's timeout -----------------------------------------------------------
async def test_a_late_answer_is_delivered_and_stored_after_a_taking_longer(sqlite_url: str) -> None:
    async with stand_in() as rasa:
        rasa.delays["open a ticket for me"] = 2.5
        settings = settings_for(sqlite_url, rasa, rasa_timeout=1.0, rasa_late_answer_seconds=10.0)
        gateway = await start_gateway(settings)
        try:
            widget = await gateway.widget()
            await widget.hello(language="en")
            await widget.say("open a ticket for me")
            frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "bot", timeout=10)
            said = [(f["role"], f["text"]) for f in messages(frames)]
            assert said == [
                ("customer", "open a ticket for me"),
                ("system", TEXTS["slow"]["en"]),  # at the timeout, not a failure: the answer still comes
                ("bot", answer_to("open a ticket for me")),
            ], said
            assert not [f for f in frames if f["type"] == "error"]
            # The conversation goes on in order.
            assert answer_to("thanks") in [f["text"] for f in messages(await widget.turn("thanks"), "bot")]
            await widget.close()
        finally:
            await stop_gateway(gateway)
    stored = transcript(sqlite_url, widget.conversation_id)
    assert [m.role for m in stored] == ["customer", "system", "bot", "customer", "bot"]
    assert turn_states(sqlite_url, widget.conversation_id) == ["answered", "answered"]
    assert rasa.calls == Counter({"open a ticket for me": 1, "thanks": 1})


# --- the database fails -----------------------------------------------------------------------------------
@pytest.fixture
def database_switch(monkeypatch: pytest.MonkeyPatch) -> type[Database]:
    """The gateway's Database with a switch: while `down`, every unit of work fails as a lost server makes it."""

    class Switched(Database):
        down = False

        async def run(self, work: Any, *args: Any, **kwargs: Any) -> Any:
            if Switched.down:
                raise OperationalError("(unit of work)", {}, ConnectionError("server closed the connection"))
            return await super().run(work, *args, **kwargs)

    monkeypatch.setattr(gateway_app, "Database", Switched)
    return Switched


async def test_replies_rasa_gave_are_stored_and_shown_once_the_database_is_back(
    sqlite_url: str, database_switch: type[Database]
) -> None:
    loop = asyncio.get_running_loop()

    def database_fails_while_rasa_answers(said: str) -> None:
        database_switch.down = True  # type: ignore[attr-defined]
        loop.call_later(2.0, setattr, database_switch, "down", False)

    async with stand_in() as rasa:
        rasa.on_call = database_fails_while_rasa_answers
        gateway = await start_gateway(settings_for(sqlite_url, rasa))
        try:
            widget = await gateway.widget()
            await widget.hello(language="en")
            started = time.monotonic()
            frames = await widget.turn("cancel my order 10234", timeout=15)
            waited = time.monotonic() - started
            await widget.close()
        finally:
            await stop_gateway(gateway)
    said = [(f["role"], f["text"]) for f in messages(frames)]
    assert said == [("customer", "cancel my order 10234"), ("bot", answer_to("cancel my order 10234"))], said
    assert not [f for f in frames if f["type"] == "error"]  # never told it failed: it did not
    assert waited >= 2.0
    assert [m.role for m in transcript(sqlite_url, widget.conversation_id)] == ["customer", "bot"]
    assert turn_states(sqlite_url, widget.conversation_id) == ["answered"]
    assert rasa.calls == Counter({"cancel my order 10234": 1})


async def test_a_message_sent_while_the_database_is_down_is_stored_and_answered_when_it_is_back(
    sqlite_url: str, database_switch: type[Database]
) -> None:
    async with stand_in() as rasa:
        gateway = await start_gateway(settings_for(sqlite_url, rasa))
        try:
            widget = await gateway.widget()
            await widget.hello(language="en")
            database_switch.down = True  # type: ignore[attr-defined]
            client_id = await widget.say("what are your opening hours?")
            held = await widget.quiet_for(1.5)
            assert not [f for f in held if f["type"] == "error"], held  # the widget keeps it as sending
            await widget.say("what are your opening hours?", client_id=client_id)  # a resend after a reconnect
            await asyncio.sleep(0.3)
            database_switch.down = False  # type: ignore[attr-defined]
            frames = held + await widget.until(lambda f: f["type"] == "message" and f["role"] == "bot", timeout=15)
            frames += await widget.quiet_for(0.5)
            await widget.close()
        finally:
            await stop_gateway(gateway)
    said = [(f["role"], f.get("client_id")) for f in messages(frames)]
    assert said == [("customer", client_id), ("bot", None)], said
    assert not [f for f in frames if f["type"] == "error"]
    assert [m.role for m in transcript(sqlite_url, widget.conversation_id)] == ["customer", "bot"]
    assert turn_states(sqlite_url, widget.conversation_id) == ["answered"]
    assert rasa.calls == Counter({"what are your opening hours?": 1})


# --- SIGTERM --------------------------------------------------------------------------------------------
@asynccontextmanager
async def gateway_process(url: str, rasa: FakeRasa, tmp_path: Path) -> AsyncIterator[tuple[subprocess.Popen, str]]:
    """`python -m bot gateway`, its own process, on the test's database and the stand-in Rasa."""
    port = free_port()
    env = {
        **os.environ,
        "BOT_DATABASE_URL": url,
        "BOT_RASA_URL": rasa.rasa_url,
        "BOT_ACTION_SERVER_URL": rasa.rasa_url,
        "BOT_ALLOWED_ORIGINS": SHOP_ORIGIN,
        "BOT_GATEWAY_PORT": str(port),
        "BOT_SHUTDOWN_GRACE_SECONDS": "10",
        "BOT_TRAINING_WARM_RUNNER": "0",
    }
    log = (tmp_path / "gateway.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "gateway"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / "gateway.log").read_text()[-3000:]
                with suppress(aiohttp.ClientError):
                    async with http.get(base + "/health"):
                        break
                assert time.monotonic() < deadline, "the gateway did not start"
                await asyncio.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


async def widget_at(http: aiohttp.ClientSession, base: str) -> WidgetClient:
    widget = WidgetClient(await http.ws_connect(base + "/ws", headers={"Origin": SHOP_ORIGIN}))
    await widget.hello(language="en")
    return widget


async def closed_with(widget: WidgetClient, timeout: float = 15) -> tuple[list[dict[str, Any]], int | None]:
    """Frames up to the socket's close, and its close code."""
    frames = []
    while True:
        try:
            frames.append(await widget.next(timeout))
        except ConnectionError:
            return frames, widget.ws.close_code


async def test_on_sigterm_the_gateway_finishes_the_turn_in_flight_and_sends_new_ones_elsewhere(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with stand_in() as rasa, aiohttp.ClientSession() as http:
        rasa.delays["a slow question"] = 3.0
        async with gateway_process(sqlite_url, rasa, tmp_path) as (process, base):
            asking, newcomer = await widget_at(http, base), await widget_at(http, base)
            await asking.say("a slow question")
            await eventually(lambda: rasa.calls["a slow question"] == 1)
            stopped = time.monotonic()
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            await newcomer.say("a new question")  # while it stops: not taken, the widget goes elsewhere
            new_frames, new_code = await closed_with(newcomer)
            frames, code = await closed_with(asking)
            exit_code = await asyncio.to_thread(process.wait, 20)
            exit_seconds = time.monotonic() - stopped
    assert [(f["role"], f["text"]) for f in messages(frames, "bot")] == [("bot", answer_to("a slow question"))]
    assert code == new_code == aiohttp.WSCloseCode.GOING_AWAY  # the widget reconnects and resends its outbox
    assert not messages(new_frames, "customer")  # not stored here: its resend goes to the next gateway
    assert exit_code == 0 and exit_seconds < 10, (exit_code, exit_seconds)
    print(f"\nSIGTERM with a 3-s turn in flight: answered, sockets closed 1001, exit 0 after {exit_seconds:.2f} s")
    assert rasa.calls == Counter({"a slow question": 1})
    assert turn_states(sqlite_url, asking.conversation_id) == ["answered"]
    assert transcript(sqlite_url, newcomer.conversation_id) == []


async def test_a_turn_rasa_could_not_lock_is_sent_again_and_answered_once(sqlite_url: str) -> None:
    """Rasa's channel says it did nothing with a message whose conversation lock it could not take (its
    Redis restarting): the gateway sends it again, and the customer gets the answer, not "having trouble"."""
    async with stand_in() as rasa:
        rasa.not_handled["hei"] = 3
        gateway = await start_gateway(settings_for(sqlite_url, rasa))
        try:
            widget = await gateway.widget()
            await widget.hello(language="nb")
            await widget.say("hei")
            frames = await widget.until(lambda f: f["type"] == "message" and f["role"] in ("bot", "system"))
            await widget.close()
        finally:
            await stop_gateway(gateway)
    assert [f["text"] for f in messages(frames, "bot")] == [answer_to("hei")]
    assert messages(frames, "system") == []
    assert rasa.calls == Counter({"hei": 4})  # three times not handled, then answered
    assert turn_states(sqlite_url, widget.conversation_id) == ["answered"]


async def test_a_turn_rasa_can_not_lock_for_the_whole_wait_gets_the_honest_message(sqlite_url: str) -> None:
    async with stand_in() as rasa:
        rasa.not_handled["hei"] = 1000
        settings = settings_for(sqlite_url, rasa, rasa_timeout=1.0, rasa_late_answer_seconds=2.0)
        gateway = await start_gateway(settings)
        try:
            widget = await gateway.widget()
            await widget.hello(language="nb")
            await widget.say("hei")
            frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "system" and
                                        f["text"] == TEXTS["unavailable"]["nb"])  # fmt: skip
            await widget.close()
        finally:
            await stop_gateway(gateway)
    assert messages(frames, "bot") == []
    assert 2 <= rasa.calls["hei"] <= 6  # sent again with backoff, within the wait
    assert turn_states(sqlite_url, widget.conversation_id) == ["failed"]
