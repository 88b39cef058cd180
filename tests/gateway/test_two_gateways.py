"""Two gateway processes, one conversation: the customer on one, the agent on the other, Redis between them.

The owner of a conversation lives in the database; messages, typing and queue changes travel over
Redis pub/sub (BOT_BROKER_URL). Gateway B is a real `python -m bot gateway` process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio

from bot.identity import sign_customer_token
from bot.settings import PROJECT_ROOT
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.console_client import ConsoleClient, queued_ids
from tests.gateway.desk_support import OPEN, quiet_desk, state_of
from tests.gateway.widget_client import WidgetClient, messages, texts
from tests.support import RasaStack

pytestmark = pytest.mark.server

REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gateway_b(warm_stack: RasaStack) -> Iterator[str]:
    """The second gateway, its own process, on the same database, Rasa and Redis."""
    port = free_port()
    env = dict(warm_stack.env)
    env.update(
        BOT_RASA_URL=warm_stack.rasa_url,
        BOT_ACTION_SERVER_URL=warm_stack.actions_url,
        BOT_BROKER_URL=REDIS_URL,
        BOT_CLOCK=OPEN,
    )
    log = (warm_stack.log_dir / "gateway-b.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "gateway", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/console/login", timeout=2).close()
                break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gateway B did not start; see {warm_stack.log_dir}/gateway-b.log") from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest_asyncio.fixture(loop_scope="function")
async def gateway_a(warm_stack: RasaStack) -> AsyncIterator[Gateway]:
    quiet_desk()
    started = await start_gateway(gateway_settings(warm_stack, clock=OPEN, broker_url=REDIS_URL))
    try:
        yield started
    finally:
        await stop_gateway(started)


async def test_customer_on_one_gateway_agent_on_another(gateway_a: Gateway, gateway_b: str) -> None:
    anne = await ConsoleClient.logged_in(gateway_b, "agent.anne")
    try:
        await anne.set_available()
        await anne.connect()
        kari = await gateway_a.widget()
        await kari.hello(token=sign_customer_token("C-1001"))

        # The queue on B updates when the customer on A asks for a person.
        await kari.turn("kan jeg få snakke med et menneske?")
        conversation_id = kari.conversation_id
        await anne.snapshot_where(lambda s: conversation_id in queued_ids(s))

        # The claim on B reaches the customer on A.
        assert (await anne.claim(conversation_id))[0] == 200
        joined = await kari.until(lambda f: f["type"] == "state")
        assert joined[-1]["state"] == "agent" and "Anne fra kundeservice" in texts(joined, "system")
        assert state_of(conversation_id) == ("agent", "agent.anne")

        # Typing and messages both ways, across the two processes.
        await anne.watch(conversation_id)
        await anne.until(lambda f: f["type"] == "message" and f["role"] == "system")
        await kari.ws.send_json({"type": "typing", "on": True})
        assert (await anne.until(lambda f: f["type"] == "typing"))[-1]["on"] is True
        await kari.say("Er du der, Anne?")
        heard = await anne.until(lambda f: f["type"] == "message" and f["role"] == "customer")
        assert heard[-1]["text"] == "Er du der, Anne?"
        await anne.send({"type": "typing", "conversation_id": conversation_id, "on": True})
        assert (await kari.until(lambda f: f["type"] == "typing" and f["role"] == "agent"))[-1]["on"] is True
        assert (await anne.reply(conversation_id, "Ja, jeg er her."))[0] == 200
        answer = await kari.until(lambda f: f["type"] == "message" and f["role"] == "agent")
        assert (answer[-1]["text"], answer[-1]["author"]) == ("Ja, jeg er her.", "Anne")
        seqs = [f["seq"] for f in kari.frames if f["type"] == "message"]
        assert seqs == sorted(set(seqs))  # every message once, in order

        # Handed back on B, the bot on A answers.
        assert (await anne.post(f"/console/conversations/{conversation_id}/handback"))[0] == 200
        await kari.until(lambda f: f["type"] == "state" and f["state"] == "bot")
        frames = await kari.turn("hvor er ordre 10234?")
        assert "70712345678901234" in texts(frames)
        await kari.close()
    finally:
        await anne.close()


async def test_a_rating_given_on_one_gateway_reaches_the_tab_on_the_other(gateway_a: Gateway, gateway_b: str) -> None:
    """Two tabs of one conversation, each on its own gateway process: rated in one, the other hears it (and
    hides its rating box) through the broker, like every other broadcast; its own rating after that is thanked."""
    token = sign_customer_token("C-1001")
    tab_a = await gateway_a.widget()
    await tab_a.hello(token=token)
    await tab_a.turn("hvor er ordre 10234?")
    async with aiohttp.ClientSession() as http:
        # Gateway B's own page is its allowed origin.
        tab_b = WidgetClient(await http.ws_connect(f"{gateway_b}/ws", headers={"Origin": gateway_b}))
        try:
            await tab_b.hello(tab_a.conversation_id, last_seq=len(messages(tab_a.frames)), token=token)
            assert tab_b.conversation_id == tab_a.conversation_id

            await tab_a.turn("tusen takk for hjelpen")
            await tab_b.until(lambda f: f["type"] == "rating_request")
            await tab_a.ws.send_json({"type": "rating", "rating": 5})
            assert (await tab_a.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {"type": "rating_saved"}
            assert (await tab_b.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {"type": "rating_saved"}

            await tab_b.ws.send_json({"type": "rating", "rating": 2})
            assert (await tab_b.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {
                "type": "rating_saved",
                "already": True,
            }
        finally:
            await tab_b.close()
            await tab_a.close()
