"""The console as an aiohttp sub-app: its URLs, templates, sessions and guard. The composition root
(bot/gateway/app.py) mounts it at /console and builds what it uses (database, relay, hub, desk, trainer);
handlers find those through `request.config_dict`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console import views
from bot.console.auth import CONSOLE, console_guard, console_headers, setup_sessions
from bot.console.desk import Desk
from bot.console.input_guard import refuse_nul
from bot.console.insights_views import add_insights_routes
from bot.console.socket import console_socket
from bot.console.trainer_views import add_trainer_routes
from bot.settings import Settings

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = CONSOLE  # where the composition root mounts the console: every path below is under it


async def watch_absent_agents(desk: Desk, settings: Settings) -> None:
    """Every so often, take conversations back from agents who are gone (Desk.take_back_from_absent_agents)."""
    every = min(30.0, settings.agent_gone_seconds / 4)
    while True:
        await asyncio.sleep(every)
        try:
            await desk.take_back_from_absent_agents()
        except Exception:
            log.exception("taking conversations back from absent agents failed; trying again in %.0f s", every)


def console_app(settings: Settings) -> web.Application:
    """The console's sub-app, to be mounted at PREFIX; its paths are relative to it ("" is /console)."""
    app = web.Application()
    # autoescape on for every template: customer text is only ever shown as text.
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    setup_sessions(app, settings)
    app.middlewares.append(console_guard)
    # After the guard, so no one parses a form for a visitor who isn't logged in; before every handler.
    app.middlewares.append(refuse_nul)
    app.on_response_prepare.append(console_headers)  # type: ignore[arg-type]  # aiohttp 3.9 mistypes Signal

    router = app.router
    router.add_get("/login", views.login_page)
    router.add_post("/login", views.login)
    router.add_post("/logout", views.logout)
    router.add_get("", views.dashboard)
    router.add_post("/availability", views.availability)
    router.add_get("/ws", console_socket)
    router.add_get("/conversations/{conversation_id}", views.conversation)
    router.add_post("/conversations/{conversation_id}/claim", views.claim)
    router.add_post("/conversations/{conversation_id}/messages", views.post_message)
    router.add_post("/conversations/{conversation_id}/notes", views.post_note)
    router.add_post("/conversations/{conversation_id}/handback", views.hand_back)
    router.add_post("/conversations/{conversation_id}/close", views.close)
    router.add_get("/tickets/{ticket_id}", views.ticket)
    router.add_post("/tickets/{ticket_id}/done", views.ticket_done)
    add_trainer_routes(app, PREFIX)
    add_insights_routes(app, PREFIX)
    router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    return app
