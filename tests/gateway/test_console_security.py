"""The console's security rules, against the real gateway: sessions, CSRF, who sees what, text stays text."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import pytest
from sqlalchemy import select

from bot.identity import sign_customer_token
from bot.store.db import session_scope
from bot.store.desk import AgentNote
from bot.store.staff import LoginFailure, StaffUser
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.console_client import ConsoleClient, queued_ids
from tests.gateway.desk_support import OPEN, quiet_desk
from tests.gateway.test_socket import transcript
from tests.gateway.widget_client import WidgetClient, messages
from tests.support import RasaStack

pytestmark = pytest.mark.server

EXAMPLE_ID = "0123456789abcdef0123456789abcdef"


def console_routes(gateway: Gateway) -> list[tuple[str, str]]:
    """(method, path) of every console route, with an id filled in; the log-in page and static files aside."""
    routes = []
    for route in gateway.server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if not path.startswith("/console") or path.startswith(("/console/login", "/console/static")):
            continue
        if route.method == "HEAD":
            continue
        path = path.replace("{conversation_id}", EXAMPLE_ID).replace("{ticket_id}", "1")
        routes.append((route.method, path))
    return routes


def test_the_route_list_covers_the_console(desk: Gateway) -> None:
    found = console_routes(desk)
    assert ("GET", "/console") in found and ("GET", "/console/ws") in found
    assert ("POST", f"/console/conversations/{EXAMPLE_ID}/claim") in found
    assert len([r for r in found if r[0] == "POST"]) >= 8


async def test_without_a_session_every_console_route_and_the_socket_are_refused(desk: Gateway) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for method, path in console_routes(desk):
            if path == "/console/ws":
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(desk.url(path), headers={"Origin": desk.url("/").rstrip("/")})
                assert refused.value.status == 401
                continue
            async with http.request(method, desk.url(path), allow_redirects=False, data={"csrf_token": "x"}) as reply:
                if method == "GET":
                    assert (reply.status, reply.headers.get("Location")) == (303, "/console/login"), path
                else:
                    assert reply.status == 401, (method, path)


async def test_a_customers_widget_reaches_nothing_of_the_console(desk: Gateway) -> None:
    """The widget's page has no staff session; its socket speaks only the widget's protocol."""
    widget = await desk.widget()
    await widget.hello(token=sign_customer_token("C-1001"))
    await widget.ws.send_json({"type": "watch", "conversation_id": widget.conversation_id, "last_seq": 0})
    refused = await widget.next()
    assert (refused["type"], refused["code"]) == ("error", "bad_frame")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = {"Origin": "http://shop.test"}
        async with http.get(desk.url("/console"), headers=headers, allow_redirects=False) as reply:
            assert reply.status == 303
        async with http.get(desk.url("/console/ws"), headers={**headers, "Accept": "application/json"}) as reply:
            assert reply.status == 401
    await widget.close()


async def test_a_trainer_is_not_an_agent(desk: Gateway) -> None:
    tor = await ConsoleClient.logged_in(desk.url("/"), "trainer.tor")
    try:
        status, _ = await tor.page("/console")
        assert status == 403
    finally:
        await tor.close()


async def test_a_wrong_password_gets_no_session(desk: Gateway) -> None:
    client = ConsoleClient.anonymous(desk.url("/"))
    try:
        reply = await client.log_in("agent.anne", "not-her-password")
        assert reply.status == 401 and "Wrong username or password" in await reply.text()
        status, _ = await client.page("/console/conversations/" + EXAMPLE_ID)
        assert status == 200 and "Log in to the console" in (await client.page("/console"))[1]
    finally:
        await client.close()


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(warm_stack: RasaStack) -> None:
    quiet_desk()
    gateway = await start_gateway(
        gateway_settings(warm_stack, clock=OPEN, login_max_failures=3, login_window_seconds=4.0)
    )
    client = ConsoleClient.anonymous(gateway.url("/"))
    try:
        for _ in range(3):
            reply = await client.log_in("trainer.tor", "one-more-guess")
            assert reply.status == 401
        # Locked: even the right password is refused, politely, with when to come back; no session.
        reply = await client.log_in("trainer.tor", "demo-trainer")
        page = await reply.text()
        assert reply.status == 429 and "Too many failed log-ins" in page and "try again in 1 minute" in page
        assert 1 <= int(reply.headers["Retry-After"]) <= 4
        assert "Log in to the console" in (await client.page("/console"))[1]
        # Someone else at the same address is not locked out.
        other = ConsoleClient.anonymous(gateway.url("/"))
        assert (await other.log_in("agent.per", "demo-agent")).status == 303
        await other.close()
        # When the window has passed, the right password works again.
        await asyncio.sleep(int(reply.headers["Retry-After"]) + 0.5)
        assert (await client.log_in("trainer.tor", "demo-trainer")).status == 303
        assert "Log in to the console" not in (await client.page("/console/trainer"))[1]
    finally:
        await client.close()
        await stop_gateway(gateway)
        quiet_desk()


async def test_the_log_names_a_failed_log_in_only_by_a_staff_username(
    warm_stack: RasaStack, caplog: pytest.LogCaptureFixture
) -> None:
    """What was typed as a username may be a password in the wrong field: only a real account is named."""
    quiet_desk()
    caplog.set_level(logging.INFO, logger="bot.console.views")
    gateway = await start_gateway(gateway_settings(warm_stack, clock=OPEN, login_max_failures=2))
    client = ConsoleClient.anonymous(gateway.url("/"))
    try:
        assert (await client.log_in("agent.anne", "not-her-password")).status == 401
        for _ in range(2):
            assert (await client.log_in("agent.anne\tHer-Passw0rd!", "")).status == 401
        assert (await client.log_in("agent.anne\tHer-Passw0rd!", "")).status == 429  # locked: still unnamed
    finally:
        await client.close()
        await stop_gateway(gateway)
        quiet_desk()
    assert "failed log-in for 'agent.anne' from" in caplog.text
    assert "Passw0rd" not in caplog.text
    assert "failed log-in for a username that is no staff account" in caplog.text
    assert "log-in for a username that is no staff account from 127.0.0.1 refused: locked" in caplog.text


async def test_behind_a_trusted_proxy_failures_count_for_the_forwarded_client(warm_stack: RasaStack) -> None:
    quiet_desk()
    gateway = await start_gateway(gateway_settings(warm_stack, clock=OPEN, trusted_proxies=("127.0.0.1",)))
    try:
        client = ConsoleClient.anonymous(gateway.url("/"))
        headers = {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}  # the first entry is the client's own say
        assert (await client.log_in("agent.per", "wrong", headers=headers)).status == 401
        await client.close()
        with session_scope() as session:
            assert session.scalars(select(LoginFailure.address)).all() == ["203.0.113.7"]
    finally:
        await stop_gateway(gateway)
        quiet_desk()


def _stolen_cookie(client: ConsoleClient) -> str:
    from yarl import URL

    cookie = client.http.cookie_jar.filter_cookies(URL(client.url("/console")))["varde_staff"]
    return f"varde_staff={cookie.value}"


async def _page_with(gateway: Gateway, cookie: str) -> str:
    async with gateway.http.get(gateway.url("/console"), headers={"Cookie": cookie}) as reply:
        return await reply.text()


async def test_logging_out_or_a_new_password_ends_every_copy_of_the_session(desk: Gateway) -> None:
    from bot.services.staff import set_password

    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        copy = _stolen_cookie(anne)
        assert "Log in to the console" not in await _page_with(desk, copy)  # the copy works while she is in
        assert (await anne.post("/console/logout"))[0] == 200
        assert "Log in to the console" in await _page_with(desk, copy)  # and not after she logs out
        # She logs in again at once: the new session is good.
        assert (await anne.log_in("agent.anne", "demo-agent")).status == 303
        assert "Log in to the console" not in (await anne.page("/console"))[1]
        # Her password is changed (say, by an administrator): that session ends too.
        with session_scope() as session:
            set_password(session, "agent.anne", "a brand new long password")
        status, page = await anne.page("/console")
        assert status == 200 and "Log in to the console" in page
        assert (await anne.log_in("agent.anne", "a brand new long password")).status == 303
    finally:
        await anne.close()
        quiet_desk()  # the demo password back, for the tests after this one


async def test_the_session_cookie_is_httponly_strict_and_for_the_console_only(desk: Gateway) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(desk.url("/console/login")) as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        form = {"username": "agent.anne", "password": "demo-agent", "csrf_token": token}
        async with http.post(desk.url("/console/login"), data=form, allow_redirects=False) as reply:
            assert reply.status == 303
            cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("varde_staff=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/console"):
        assert attribute in cookie
    assert "demo-agent" not in cookie and "agent.anne" not in cookie  # encrypted


async def test_every_post_needs_the_sessions_csrf_token(desk: Gateway) -> None:
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        for method, path in console_routes(desk):
            if method != "POST":
                continue
            for headers in ({}, {"X-CSRF-Token": "forged"}):
                async with anne.http.post(anne.url(path), data={"availability": "available"}, headers=headers) as r:
                    assert r.status == 403, (path, headers)
        with session_scope() as session:
            assert session.get(StaffUser, "agent.anne").availability == "away"  # nothing happened
        # Another session's token is no good either.
        per = await ConsoleClient.logged_in(desk.url("/"), "agent.per")
        async with anne.http.post(
            anne.url("/console/availability"), data={"availability": "available"}, headers={"X-CSRF-Token": per.csrf}
        ) as reply:
            assert reply.status == 403
        await per.close()
        # The log-in form itself carries one.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            form = {"username": "agent.anne", "password": "demo-agent"}
            async with http.post(desk.url("/console/login"), data=form, allow_redirects=False) as reply:
                assert reply.status == 403
        # With it, it works; and logging out needs it too.
        await anne.set_available()
        async with anne.http.post(anne.url("/console/logout"), allow_redirects=False) as reply:
            assert reply.status == 403
        status, _ = await anne.post("/console/logout")
        assert status == 200 and (await anne.page("/console"))[1].count("Log in to the console") == 1
        with session_scope() as session:
            assert session.get(StaffUser, "agent.anne").availability == "away"
    finally:
        await anne.close()


async def test_the_console_socket_refuses_another_sites_page(desk: Gateway) -> None:
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anne.http.ws_connect(anne.url("/console/ws"), headers={"Origin": "http://evil.test"})
        assert refused.value.status == 403
    finally:
        await anne.close()


async def test_an_agent_sees_the_conversations_they_claimed_not_another_agents_notes(desk: Gateway) -> None:
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    per = await ConsoleClient.logged_in(desk.url("/"), "agent.per")
    try:
        await anne.set_available()
        await anne.connect()
        widget = await desk.widget()
        await widget.hello(token=sign_customer_token("C-1002"))
        await widget.turn("kan jeg få snakke med en person?")
        conversation_id = widget.conversation_id
        await anne.snapshot_where(lambda s: conversation_id in queued_ids(s))
        assert (await anne.claim(conversation_id))[0] == 200
        status, body = await anne.post(f"/console/conversations/{conversation_id}/notes", text="Ola is upset; refund")
        assert status == 200 and body["note"]["text"] == "Ola is upset; refund"
        page_status, page = await anne.page(f"/console/conversations/{conversation_id}")
        assert page_status == 200 and "Ola is upset; refund" in page and "Ola Hansen" in page

        # Per never had it: no page, no socket, no notes, no replies, no hand-back.
        assert (await per.page(f"/console/conversations/{conversation_id}"))[0] == 403
        assert (await per.post(f"/console/conversations/{conversation_id}/notes", text="hi"))[0] == 403
        assert (await per.reply(conversation_id, "Hei fra Per"))[0] == 409
        assert (await per.post(f"/console/conversations/{conversation_id}/handback"))[0] == 409
        await per.connect()
        await per.watch(conversation_id)
        refused = await per.until(lambda f: f["type"] == "error")
        assert refused[-1]["code"] == "forbidden"
        assert not [f for f in per.frames if f["type"] in ("message", "note")]
        await anne.post(f"/console/conversations/{conversation_id}/notes", text="second note")
        assert [f for f in await per_frames_for(per, 1.5) if f["type"] in ("message", "note")] == []

        # The customer never sees a note: not on the socket, not in the transcript.
        seen = await widget.quiet_for(1)
        assert "refund" not in str(widget.frames + seen)
        assert not [r for r in transcript(conversation_id) if "refund" in r.text]
        with session_scope() as session:
            notes = session.execute(select(AgentNote).where(AgentNote.conversation_id == conversation_id)).scalars()
            assert [n.author for n in notes] == ["agent.anne", "agent.anne"]
        await widget.close()
    finally:
        await anne.close()
        await per.close()


async def per_frames_for(client: ConsoleClient, seconds: float) -> list[dict]:
    frames: list[dict] = []
    try:
        while True:
            frames.append(await client.next(timeout=seconds))
    except asyncio.TimeoutError:  # quiet for that long: that is all
        return frames


async def test_customer_text_is_shown_as_text_in_the_console(desk: Gateway) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> kan jeg snakke med et menneske?'
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        await anne.set_available()
        widget = WidgetClient(await desk.http.ws_connect(desk.url("/ws"), headers={"Origin": "http://shop.test"}))
        await widget.hello(language="nb")
        frames = await widget.turn(hostile)
        assert messages(frames, "customer")[0]["text"] == hostile
        assert (await anne.claim(widget.conversation_id))[0] == 200
        status, page = await anne.page(f"/console/conversations/{widget.conversation_id}")
        assert status == 200
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
        status, dashboard = await anne.page("/console")
        assert "<script>alert" not in dashboard
        await widget.close()
    finally:
        await anne.close()


async def test_a_plain_form_post_without_the_script_gets_a_page_back(desk: Gateway) -> None:
    """The console's forms work without its script: a redirect when done, a readable page when not."""
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    try:
        form = {"csrf_token": anne.csrf, "availability": "available"}
        async with anne.http.post(anne.url("/console/availability"), data=form, allow_redirects=False) as reply:
            assert (reply.status, reply.headers["Location"]) == (303, "/console")
        claim = anne.url(f"/console/conversations/{EXAMPLE_ID}/claim")
        async with anne.http.post(claim, data={"csrf_token": anne.csrf}, allow_redirects=False) as reply:
            page = await reply.text()
            assert reply.status == 404 and "That conversation does not exist." in page and "Log out" in page
    finally:
        await anne.close()
