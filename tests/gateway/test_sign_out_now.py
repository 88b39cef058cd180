"""Issue 16, attack test: `python -m bot staff sign-out` and `staff password`, run by an operator in another
process, close the user's open console at once (over the broker), not at the socket's next session check.

Fast tier: the real gateway with Redis as its broker, in front of a stand-in for Rasa (tests/gateway/fake_rasa.py).
Each test signs in a staff user of its own, so another test run on the same Redis is never told about it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from bot.console import socket as console_socket
from bot.services.staff import add_staff_user
from bot.settings import get_settings
from bot.store.db import session_scope
from tests.gateway.conftest import Gateway
from tests.gateway.console_client import ConsoleClient
from tests.gateway.fake_rasa import fake_rasa, gateway_before
from tests.gateway.test_sessions_end import closed_within
from tests.support import run_bot
from tests.unit.test_limiter_and_resume_secret import REDIS_URL, redis_is_there

PASSWORD = "a long enough password for tests"


@pytest_asyncio.fixture(loop_scope="function")
async def brokered(shop: str) -> AsyncIterator[Gateway]:
    if not redis_is_there():
        pytest.skip(f"no Redis at {REDIS_URL}")
    async with fake_rasa() as rasa, gateway_before(rasa, get_settings(), broker_url=REDIS_URL) as gateway:
        yield gateway


async def agent_with_open_console(gateway: Gateway) -> tuple[str, ConsoleClient]:
    username = f"agent.{uuid.uuid4().hex[:10]}"
    with session_scope() as session:
        add_staff_user(session, username, "Test", "agent", PASSWORD)
    client = ConsoleClient.anonymous(gateway.url("/"))
    assert (await client.log_in(username, PASSWORD)).status == 303
    await client.connect()
    return username, client


@pytest.mark.parametrize("command", ["sign-out", "password"])
async def test_the_command_closes_the_open_console_at_once(
    brokered: Gateway, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The periodic check is far away: only the broker's event can close the socket in time.
    monkeypatch.setattr(console_socket, "SESSION_CHECK_SECONDS", 600.0)
    username, agent = await agent_with_open_console(brokered)
    try:
        done = await asyncio.to_thread(
            run_bot, "staff", command, username, stdin="another long enough password\n", BOT_BROKER_URL=REDIS_URL
        )
        assert done.returncode == 0, done.stderr
        assert "open consoles closed now" in done.stdout
        code, reason = await closed_within(agent, 2)
        assert (code, reason) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "signed out")
    finally:
        await agent.close()


async def test_without_a_broker_the_operator_is_told_when_consoles_close(shop: str) -> None:
    username = f"agent.{uuid.uuid4().hex[:10]}"
    with session_scope() as session:
        add_staff_user(session, username, "Test", "agent", PASSWORD)
    done = await asyncio.to_thread(run_bot, "staff", "sign-out", username, BOT_BROKER_URL="")
    assert done.returncode == 0, done.stderr
    assert "open consoles close within 15 s" in done.stdout
