"""Staff sessions for the console: an encrypted cookie, a CSRF token per session, and one guard for all.

- The session lives in an encrypted, authenticated cookie (aiohttp-session's EncryptedCookieStorage,
  Fernet; the key comes from setting BOT_SESSION_SECRET). HttpOnly, SameSite=Strict, path /console,
  Secure in production; it expires 12 hours after log-in. A log-out (an agent's or a trainer's), a new
  password or `python -m bot staff sign-out` ends every session of that user
  (StaffUser.sessions_valid_after): copies of the cookie, and the open console sockets, which ask
  `still_signed_in` at least every 30 s and before each frame they act on (bot/console/socket.py).
- Every session, even the anonymous one of the log-in page, holds a random CSRF token. Every POST
  under /console must carry it (form field `csrf_token` or header `X-CSRF-Token`), or gets 403.
- `console_guard` checks every request under /console (but the log-in page and the static files):
  no agent session is a redirect to the log-in page for a page, and 401 for anything else (a POST,
  the socket). The trainer pages (/console/trainer...) are for role trainer only, the insights
  dashboard (/console/insights...) for roles lead and trainer, everything else for role agent only:
  another role gets 403. A customer's widget has no staff session at all, so
  it can reach none of it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy.orm import Session

from bot.console.keys import AGENT, HUB
from bot.services.staff import sign_out_everywhere
from bot.settings import Settings
from bot.store.models import as_utc
from bot.store.staff import StaffRole, StaffUser
from bot.web.keys import DATABASE

log = logging.getLogger(__name__)

COOKIE_NAME = "varde_staff"
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CONSOLE = "/console"
LOGIN = "/console/login"
STATIC = "/console/static/"
TRAINER = "/console/trainer"  # the trainer pages (bot/console/trainer_views.py): role trainer only
INSIGHTS = "/console/insights"  # the dashboard (bot/console/insights_views.py): roles lead and trainer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Agent:
    """The staff user behind a console request."""

    username: str
    name: str
    role: str
    availability: str  # as the request found it; the console's socket keeps it current
    session_started: float = 0.0  # when this session logged in (time.time()): the socket re-checks it


def session_key(settings: Settings) -> bytes:
    """32 bytes for Fernet, derived from the secret (any length) so that it never doubles as another key."""
    return hashlib.sha256(b"varde console sessions\0" + settings.session_secret.encode()).digest()


def setup_sessions(app: web.Application, settings: Settings) -> None:
    storage = EncryptedCookieStorage(
        session_key(settings),
        cookie_name=COOKIE_NAME,
        max_age=SESSION_HOURS * 3600,
        path=CONSOLE,
        httponly=True,
        samesite="Strict",
        secure=settings.is_production,
    )
    aiohttp_session.setup(app, storage)


def is_trainer_path(path: str) -> bool:
    return path == TRAINER or path.startswith(TRAINER + "/")


def allowed_roles(path: str) -> tuple[StaffRole, ...]:
    """Who may open a console path: the trainer pages are the trainer's, the insights the lead's and the
    trainer's, the rest (queue, conversations, tickets, the socket) the agent's."""
    if is_trainer_path(path):
        return (StaffRole.TRAINER,)
    if path == INSIGHTS or path.startswith(INSIGHTS + "/"):
        return (StaffRole.LEAD, StaffRole.TRAINER)
    return (StaffRole.AGENT,)


def is_console_path(path: str) -> bool:
    return path == CONSOLE or path.startswith(CONSOLE + "/")


async def csrf_token(request: web.Request) -> str:
    """This session's CSRF token, made on first use."""
    session = await aiohttp_session.get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def _csrf_ok(request: web.Request, session: aiohttp_session.Session) -> bool:
    expected = session.get("csrf")
    if not isinstance(expected, str):
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        field = (await request.post()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


async def start_session(request: web.Request, user: StaffUser) -> None:
    """A fresh session after log-in (never the one from before it), with a fresh CSRF token."""
    session = await aiohttp_session.new_session(request)
    session["username"] = user.username
    session["csrf"] = secrets.token_urlsafe(32)
    session["started"] = time.time()  # sub-second: a log-in right after a log-out must not look older


async def end_session(request: web.Request) -> None:
    """A log-out, of an agent or a trainer: not only this cookie but every session of the user ends (so a
    copy of the cookie is worthless), they are away, and their open console sockets close, here and in
    the other gateway processes (the hub); any the hub misses close at their next session check."""
    session = await aiohttp_session.get_session(request)
    username = session.get("username")
    if isinstance(username, str):
        await request.config_dict[DATABASE].run(sign_out_everywhere, username)
        request.config_dict[HUB].logged_out(username)
    session.invalidate()


def _agent(session: Mapping[str, Any], user: StaffUser | None) -> Agent | None:
    if user is None or session.get("username") != user.username:
        return None
    started = session.get("started")
    if not isinstance(started, (int, float)):
        return None
    if user.sessions_valid_after is not None and started <= as_utc(user.sessions_valid_after).timestamp():
        return None  # ended by a log-out, a new password or `staff sign-out`
    return Agent(user.username, user.name, user.role, user.availability, float(started))


def still_signed_in(db_session: Session, agent: Agent, role: StaffRole) -> bool:
    """For a long-lived connection (the console socket): is the session it opened with still good, for a
    user who still has `role`? False once a log-out, a new password or `staff sign-out` ended it, once
    the user is gone or has another role, or once the session is older than a cookie may be."""
    if time.time() - agent.session_started > SESSION_HOURS * 3600:
        return False
    user = _staff_user(db_session, agent.username)
    current = _agent({"username": agent.username, "started": agent.session_started}, user)
    return current is not None and current.role == role


def _wants_page(request: web.Request) -> bool:
    """A page load (redirected to the log-in page), not the socket or a script's request (401)."""
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() != "websocket"
        and "application/json" not in request.headers.get("Accept", "")
    )


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_console_path(request.path) or request.path.startswith(STATIC):
        return await handler(request)
    session = await aiohttp_session.get_session(request)
    if request.path != LOGIN:
        # Who first (401, or the log-in page), then whether this page sent the request (CSRF, 403).
        username = session.get("username")
        user = await request.config_dict[DATABASE].run(_staff_user, username) if isinstance(username, str) else None
        agent = _agent(session, user)
        if agent is None:
            if _wants_page(request):
                raise web.HTTPSeeOther(LOGIN)
            raise web.HTTPUnauthorized(text="Log in to the console first.")
        allowed = allowed_roles(request.path)
        if agent.role not in allowed:
            whom = " and ".join(f"{role}s" for role in allowed)
            raise web.HTTPForbidden(text=f"This part of the console is for {whom}.")
        request[AGENT] = agent
    if request.method == "POST" and not await _csrf_ok(request, session):
        log.warning("console: %s %s refused, CSRF token missing or wrong", request.method, request.path)
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page.")
    return await handler(request)


def _staff_user(db_session: Session, username: str) -> StaffUser | None:
    return db_session.get(StaffUser, username)


async def console_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Console pages run only their own scripts and styles, and are never framed."""
    if not is_console_path(request.path):
        return
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
