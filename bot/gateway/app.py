"""The gateway's app factory: settings, database, HTTP client to Rasa, the relay, routes and middlewares.

Lifetimes are bound to the app with cleanup_ctx (set up in order, torn down in reverse), in the
manner of aiohttp-demos' polls.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import WSCloseCode, web

from bot.console.keys import HUB
from bot.console.routes import console_ctx, setup_console
from bot.gateway.broker import CONSOLE, CONVERSATION, make_broker
from bot.gateway.database import Database
from bot.gateway.keys import BROKER, DATABASE, HTTP, RASA, RELAY, SETTINGS, SOCKETS
from bot.gateway.middlewares import setup_middlewares
from bot.gateway.rasa_client import RasaClient
from bot.gateway.relay import Relay
from bot.gateway.routes import setup_routes
from bot.services.staff import refuse_demo_passwords
from bot.settings import Settings, get_settings
from bot.store.db import create_schema, session_scope

log = logging.getLogger(__name__)

# Below Sanic's 5 s keep-alive, so the gateway never reuses a connection Rasa is about to close.
RASA_KEEPALIVE_SECONDS = 4.0


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[SETTINGS].database_url)
    await db.create_schema()
    app[DATABASE] = db
    yield
    db.close()


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=RASA_KEEPALIVE_SECONDS)
    async with aiohttp.ClientSession(connector=connector) as http:
        app[HTTP] = http
        app[RASA] = RasaClient(http, settings.rasa_url, settings.rasa_jwt_secret)
        yield


async def broker_ctx(app: web.Application) -> AsyncIterator[None]:
    broker = make_broker(app[SETTINGS].broker_url)
    app[BROKER] = broker
    yield
    await broker.close()


async def relay_ctx(app: web.Application) -> AsyncIterator[None]:
    relay = Relay(app[DATABASE], app[RASA], app[SETTINGS], app[BROKER])
    app[RELAY] = relay
    yield
    await relay.close()


async def events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Other gateway processes' events, once everything that delivers them exists."""
    relay, hub = app[RELAY], app[HUB]

    def deliver(topic: str, event: dict) -> None:
        if topic == CONVERSATION:
            relay.deliver_remote(event)
        elif topic == CONSOLE:
            hub.deliver_remote(event)

    await app[BROKER].start(deliver)
    yield


async def close_sockets(app: web.Application) -> None:
    """On shutdown, let every widget know to reconnect (to this gateway's successor)."""
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"gateway shutting down")


def init_app(settings: Settings | None = None) -> web.Application:
    settings = settings or get_settings()
    app = web.Application()
    app[SETTINGS] = settings
    app[SOCKETS] = weakref.WeakSet()
    app.cleanup_ctx.extend([database_ctx, http_ctx, broker_ctx, relay_ctx, console_ctx, events_ctx])
    app.on_shutdown.append(close_sockets)
    setup_routes(app)
    setup_middlewares(app)
    setup_console(app, settings)
    return app


def run(port: int | None = None) -> None:
    settings = get_settings()
    settings.check_production()
    if settings.is_production:
        create_schema(settings.database_url)
        with session_scope(settings.database_url) as session:
            refuse_demo_passwords(session)
    port = port or settings.gateway_port
    log.info("gateway on http://%s:%d (Rasa %s, action server %s, %s); agent console at /console",
             settings.gateway_host, port, settings.rasa_url, settings.action_server_url,
             "broker " + settings.broker_url.split("@")[-1] if settings.broker_url else "one process")  # fmt: skip
    web.run_app(init_app(settings), host=settings.gateway_host, port=port, print=None)
