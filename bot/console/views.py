"""The console's pages and actions. The guard (auth.py) has checked the session and the CSRF token.

Actions answer JSON to the console's script (Accept: application/json) and redirect a plain form post
back to a page, so each also works without the script.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.console import reads
from bot.console.auth import Agent, csrf_token, end_session, start_session
from bot.console.canned import canned_replies
from bot.console.keys import AGENT, DESK, HUB
from bot.console.paths import path_id
from bot.services.assignment import RESOLUTIONS
from bot.services.login_guard import LoginLimits, LoginOutcome, log_in
from bot.store.conversations import ConversationState
from bot.store.staff import AVAILABILITY, StaffRole
from bot.web.addresses import client_address
from bot.web.keys import DATABASE, SETTINGS

log = logging.getLogger(__name__)

# Where each role lands after log-in; the trainer inbox (issue 5) adds its own page here.
ROLE_HOME = {StaffRole.AGENT: "/console", StaffRole.TRAINER: "/console/trainer", StaffRole.LEAD: "/console/insights"}


def _agent(request: web.Request) -> Agent:
    return request[AGENT]


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


async def _done(request: web.Request, back: str, status: int = 200, **body: Any) -> web.StreamResponse:
    if _wants_json(request):
        return web.json_response(body, status=status)
    if status >= 400:
        context = await _context(request, message=body.get("error", "That didn't work."), back=back)
        return _page(request, "message.html", context, status)
    raise web.HTTPSeeOther(back)


def _page(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def _context(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"agent": request.get(AGENT), "csrf": await csrf_token(request), **extra}


def _conversation_id(request: web.Request) -> str:
    conversation_id = request.match_info["conversation_id"]
    if len(conversation_id) > 64:
        raise web.HTTPNotFound()
    return conversation_id


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- log-in -------------------------------------------------------------------------------------
async def login_page(request: web.Request) -> web.Response:
    return _page(request, "login.html", await _context(request, error=None))


async def login(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    username = form.get("username", "").strip()
    settings = request.config_dict[SETTINGS]
    limits = LoginLimits(settings.login_max_failures, timedelta(seconds=settings.login_window_seconds))
    address = client_address(request)
    outcome = await request.config_dict[DATABASE].run(log_in, username, form.get("password", ""), address, limits)
    user = outcome.user
    if outcome.locked_for is not None:
        minutes = max(1, math.ceil(outcome.retry_after_seconds / 60))
        log.warning(
            "console: log-in for %s from %s refused: locked for %d s after repeated failures",
            _who(outcome, username), address, outcome.retry_after_seconds,
        )  # fmt: skip
        error = f"Too many failed log-ins. For your account's safety, try again in {minutes} minute(s)."
        response = _page(request, "login.html", await _context(request, error=error, username=username[:64]), 429)
        response.headers["Retry-After"] = str(outcome.retry_after_seconds)
        return response
    if user is None:
        log.warning("console: failed log-in for %s from %s", _who(outcome, username), address)
        context = await _context(request, error="Wrong username or password.", username=username[:64])
        return _page(request, "login.html", context, status=401)
    await start_session(request, user)
    log.info("console: %s logged in (%s)", user.username, user.role)
    raise web.HTTPSeeOther(ROLE_HOME.get(user.role, "/console"))


def _who(outcome: LoginOutcome, username: str) -> str:
    """A failed log-in's username for the log: only a staff account's (it may be a password typed in the wrong
    field)."""
    return repr(username[:64]) if outcome.known_username else "a username that is no staff account"


async def logout(request: web.Request) -> web.StreamResponse:
    agent = _agent(request)
    # Away, and every session of this user ends, not only this cookie: a copy of it is worthless now,
    # and its open sockets close (auth.end_session).
    await end_session(request)
    request.config_dict[HUB].desk_changed()
    log.info("console: %s logged out", agent.username)
    raise web.HTTPSeeOther("/console/login")


# --- pages --------------------------------------------------------------------------------------
async def dashboard(request: web.Request) -> web.Response:
    snapshot = await request.config_dict[DATABASE].run(reads.snapshot, _agent(request).username)
    return _page(request, "queue.html", await _context(request, snapshot=snapshot))


async def conversation(request: web.Request) -> web.Response:
    agent = _agent(request)
    view = await request.config_dict[DATABASE].run(reads.conversation_view, _conversation_id(request), agent.username)
    if view is None:
        log.warning("console: %s may not see conversation %s", agent.username, _conversation_id(request))
        context = await _context(request, message="This conversation is not one of yours.", back="/console")
        return _page(request, "message.html", context, status=403)
    context = await _context(
        request, view=view, canned=canned_replies(agent.name, view["language"]), resolutions=RESOLUTIONS
    )
    return _page(request, "conversation.html", context)


async def ticket(request: web.Request) -> web.Response:
    ticket_id = path_id(request, "ticket_id")
    agent = _agent(request)
    view = await request.config_dict[DATABASE].run(reads.ticket_view, ticket_id, agent.username)
    if view is None:  # none, or answered by someone else (reads.ticket_view): the same 404 either way
        log.info("console: %s asked for ticket %d: none they may open", agent.username, ticket_id)
        raise web.HTTPNotFound()
    return _page(request, "ticket.html", await _context(request, view=view))


# --- actions ------------------------------------------------------------------------------------
async def availability(request: web.Request) -> web.StreamResponse:
    choice = (await _form(request)).get("availability", "")
    if choice not in AVAILABILITY:
        return await _done(request, "/console", 400, error=f"availability is one of {', '.join(AVAILABILITY)}")
    await request.config_dict[DESK].set_availability(_agent(request), choice)
    return await _done(request, "/console", availability=choice)


async def claim(request: web.Request) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    outcome = await request.config_dict[DESK].claim(_agent(request), conversation_id)
    url = f"/console/conversations/{conversation_id}"
    if outcome.won:
        return await _done(request, url, claimed=True, url=url)
    if outcome.state is None:
        return await _done(request, "/console", 404, claimed=False, error="That conversation does not exist.")
    if outcome.state == ConversationState.AGENT:
        who = "You have" if outcome.holder == _agent(request).username else f"{outcome.holder_name} has"
        error = f"{who} already taken this conversation."
    else:
        error = "This conversation is no longer in the queue."
    return await _done(request, "/console", 409, claimed=False, error=error, holder=outcome.holder_name)


async def post_message(request: web.Request) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    body = (await _form(request)).get("text", "")
    stored = await request.config_dict[DESK].reply(_agent(request), conversation_id, body)
    back = f"/console/conversations/{conversation_id}"
    if stored is None:
        return await _done(
            request, back, 409, error="You can write only in a conversation you have, and not an empty message."
        )
    return await _done(request, back, seq=stored.seq)


async def post_note(request: web.Request) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    note = await request.config_dict[DESK].add_note(
        _agent(request), conversation_id, (await _form(request)).get("text", "")
    )
    back = f"/console/conversations/{conversation_id}"
    if note is None:
        return await _done(request, back, 403, error="Notes go on a conversation of yours, and can't be empty.")
    return await _done(request, back, note=note)


async def hand_back(request: web.Request) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    if not await request.config_dict[DESK].hand_back(_agent(request), conversation_id):
        return await _done(request, "/console", 409, error="This conversation is not yours to hand back.")
    return await _done(request, "/console", handed_back=True)


async def close(request: web.Request) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    form = await _form(request)
    resolution = form.get("resolution", "")
    if resolution not in RESOLUTIONS:
        back = f"/console/conversations/{conversation_id}"
        return await _done(request, back, 400, error="Choose how the conversation ended.")
    if not await request.config_dict[DESK].close(_agent(request), conversation_id, resolution, form.get("note")):
        return await _done(request, "/console", 409, error="This conversation is not yours to close.")
    return await _done(request, "/console", closed=True)


async def ticket_done(request: web.Request) -> web.StreamResponse:
    ticket_id = path_id(request, "ticket_id")
    if not await request.config_dict[DESK].ticket_done(_agent(request), ticket_id):
        return await _done(request, "/console", 409, error="That ticket is not open.")
    return await _done(request, "/console", done=True)
