"""Issue 16, attack tests: a console session that ends ends everywhere (open sockets too, trainers too), and
an agent can't read the desk's whole history of tickets by counting ids. Against the real gateway."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
from yarl import URL

from bot.console import socket as console_socket
from bot.services.staff import set_password
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.staff import StaffRole, StaffUser
from tests.gateway.conftest import Gateway
from tests.gateway.console_client import ConsoleClient
from tests.support import run_bot

pytestmark = pytest.mark.server


async def closed_within(client: ConsoleClient, seconds: float) -> tuple[int, str]:
    """Read the console socket until the server closes it; (close code, reason). Fails after `seconds`."""
    assert client.ws is not None
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the console socket was still open after {seconds} s")
        try:
            message = await client.ws.receive(timeout=remaining)
        except asyncio.TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.CLOSE:
            return message.data, str(message.extra or "")
        if message.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return client.ws.close_code or 0, f"{message.type.name} {message.data!r}"


def test_the_socket_checks_its_session_at_least_every_30_seconds() -> None:
    assert 0 < console_socket.SESSION_CHECK_SECONDS <= 30


async def test_staff_sign_out_closes_an_open_console_within_the_check_interval(
    desk: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m bot staff sign-out`, another process: the open tab stops receiving the queue."""
    monkeypatch.setattr(console_socket, "SESSION_CHECK_SECONDS", 1.0)
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        await anne.connect()
        signed_out = await asyncio.to_thread(
            run_bot, "staff", "sign-out", "agent.anne", BOT_DATABASE_URL=desk.settings.database_url
        )
        assert signed_out.returncode == 0, signed_out.stderr
        code, reason = await closed_within(anne, 5)
        assert (code, reason) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "signed out")
        # And it can't come back with the same cookie.
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anne.http.ws_connect(anne.url("/console/ws"), headers={"Origin": anne.base})
        assert refused.value.status == 401
    finally:
        await anne.close()


async def test_a_new_password_closes_the_open_console_at_its_next_action(desk: Gateway) -> None:
    """Even before the periodic check: the next frame the page sends finds the session gone."""
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        await anne.connect()
        with session_scope() as session:
            set_password(session, "agent.anne", "a brand new long password")
        await anne.watch("0123456789abcdef0123456789abcdef")
        code, reason = await closed_within(anne, 3)
        assert (code, reason) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "signed out")
    finally:
        await anne.close()


async def test_an_agent_who_is_no_longer_an_agent_loses_the_open_console(desk: Gateway) -> None:
    per = await ConsoleClient.logged_in(desk.url("/"), "agent.per")
    try:
        await per.connect()
        with session_scope() as session:
            session.get(StaffUser, "agent.per").role = StaffRole.TRAINER
        await per.watch("0123456789abcdef0123456789abcdef")
        code, reason = await closed_within(per, 3)
        assert (code, reason) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "signed out")
    finally:
        with session_scope() as session:
            session.get(StaffUser, "agent.per").role = StaffRole.AGENT
        await per.close()


async def test_logging_out_closes_the_sockets_of_a_copied_cookie(desk: Gateway) -> None:
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    thief = ConsoleClient.anonymous(desk.url("/"))
    try:
        cookie = anne.http.cookie_jar.filter_cookies(URL(anne.url("/console")))["varde_staff"]
        thief.http.cookie_jar.update_cookies({"varde_staff": cookie.value}, URL(anne.url("/console")))
        await thief.connect()
        assert (await anne.post("/console/logout"))[0] == 200
        code, reason = await closed_within(thief, 3)
        assert (code, reason) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "signed out")
    finally:
        await anne.close()
        await thief.close()


async def test_a_trainers_log_out_ends_every_copy_of_the_session(desk: Gateway) -> None:
    tor = await ConsoleClient.logged_in(desk.url("/"), "trainer.tor")
    try:
        cookie = tor.http.cookie_jar.filter_cookies(URL(tor.url("/console")))["varde_staff"].value
        headers = {"Cookie": f"varde_staff={cookie}"}
        async with desk.http.get(desk.url("/console/trainer"), headers=headers, allow_redirects=False) as reply:
            assert reply.status == 200  # the copy works while he is logged in
        async with tor.http.get(tor.url("/console/trainer")) as page:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        async with tor.http.post(tor.url("/console/trainer/logout"), data={"csrf_token": csrf}) as reply:
            assert reply.status == 200 and "Log in to the console" in await reply.text()
        async with desk.http.get(desk.url("/console/trainer"), headers=headers, allow_redirects=False) as reply:
            assert (reply.status, reply.headers.get("Location")) == (303, "/console/login")
    finally:
        await tor.close()


# --- tickets -------------------------------------------------------------------------------------
def _ticket(status: str, done_by: str | None = None) -> int:
    with session_scope() as session:
        ticket = Ticket(
            conversation_id="0123456789abcdef0123456789abcdef",
            customer_id=None,
            email="kunde@example.com",
            message=f"Et {status} spørsmål om en jakke",
            language="nb",
            reason="requested",
            status=status,
            done_by=done_by,
        )
        session.add(ticket)
        session.flush()
        return ticket.id


async def test_an_agent_cannot_read_the_ticket_history_by_counting_ids(desk: Gateway) -> None:
    """Open tickets are the whole desk's work: any agent opens them. An answered one stays with whoever
    answered it; to everyone else every other id looks the same: no such ticket."""
    answered_by_anne = _ticket("done", done_by="agent.anne")
    still_open = _ticket("open")
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    per = await ConsoleClient.logged_in(desk.url("/"), "agent.per")
    try:
        status, page = await per.page(f"/console/tickets/{answered_by_anne}")
        assert status == 404 and "Et done spørsmål" not in page and "kunde@example.com" not in page
        assert (await per.page(f"/console/tickets/{answered_by_anne + 1000}"))[0] == 404  # same answer as none
        status, page = await anne.page(f"/console/tickets/{answered_by_anne}")
        assert status == 200 and "Et done spørsmål" in page
        for agent in (anne, per):
            status, page = await agent.page(f"/console/tickets/{still_open}")
            assert status == 200 and "Et open spørsmål" in page
        # Per answers the open one: from then on it is his, and Anne's count of ids finds nothing.
        assert (await per.post(f"/console/tickets/{still_open}/done"))[0] == 200
        assert (await anne.page(f"/console/tickets/{still_open}"))[0] == 404
        assert (await per.page(f"/console/tickets/{still_open}"))[0] == 200
    finally:
        await anne.close()
        await per.close()
