"""The console's URLs, templates, sessions and guard, added to the gateway's app (bot/gateway/app.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console import views
from bot.console.auth import console_guard, console_headers, setup_sessions
from bot.console.desk import ClosedConversation, Desk
from bot.console.hub import ConsoleHub
from bot.console.keys import DESK, HUB
from bot.console.socket import console_socket
from bot.console.trainer_views import add_trainer_routes
from bot.console.training_job import Trainer
from bot.gateway.keys import BROKER, DATABASE, RASA, RELAY, SETTINGS
from bot.settings import Settings
from bot.training.teaching import training_workspace

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


async def console_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = ConsoleHub(app[BROKER])
    app[HUB] = hub
    app[DESK] = Desk(app[DATABASE], app[RELAY], app[RASA], hub, app[SETTINGS])
    app[RELAY].on_desk_change = hub.desk_changed
    relay = app[RELAY]

    async def ask_for_rating(closed: ClosedConversation) -> None:
        await relay.ask_for_rating(closed.conversation_id, f"closed by {closed.agent}")

    app[DESK].close_hooks.append(ask_for_rating)  # an agent's close ends the conversation: ask for a rating
    watcher = asyncio.create_task(watch_absent_agents(app[DESK], app[SETTINGS]), name="absent-agents")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


async def watch_absent_agents(desk: Desk, settings: Settings) -> None:
    """Every so often, take conversations back from agents who are gone (Desk.take_back_from_absent_agents)."""
    every = min(30.0, settings.agent_gone_seconds / 4)
    while True:
        await asyncio.sleep(every)
        try:
            await desk.take_back_from_absent_agents()
        except Exception:
            log.exception("taking conversations back from absent agents failed; trying again in %.0f s", every)


def setup_console(app: web.Application, settings: Settings) -> None:
    # autoescape on for every template: customer text is only ever shown as text.
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    setup_sessions(app, settings)
    app.middlewares.append(console_guard)
    app.on_response_prepare.append(console_headers)

    router = app.router
    router.add_get("/console/login", views.login_page)
    router.add_post("/console/login", views.login)
    router.add_post("/console/logout", views.logout)
    router.add_get("/console", views.dashboard)
    router.add_post("/console/availability", views.availability)
    router.add_get("/console/ws", console_socket)
    router.add_get("/console/conversations/{conversation_id}", views.conversation)
    router.add_post("/console/conversations/{conversation_id}/claim", views.claim)
    router.add_post("/console/conversations/{conversation_id}/messages", views.post_message)
    router.add_post("/console/conversations/{conversation_id}/notes", views.post_note)
    router.add_post("/console/conversations/{conversation_id}/handback", views.hand_back)
    router.add_post("/console/conversations/{conversation_id}/close", views.close)
    router.add_get("/console/tickets/{ticket_id}", views.ticket)
    router.add_post("/console/tickets/{ticket_id}/done", views.ticket_done)
    add_trainer_routes(app, Trainer(training_workspace(settings)))
    router.add_static("/console/static/", STATIC, show_index=False, follow_symlinks=False)
