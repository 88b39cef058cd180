"""The composition root: one process serves the customers' widget gateway (bot/gateway) and the staff
console (bot/console, a sub-app mounted at /console). Built here, once per process:

- settings; the database (its worker threads); the HTTP client and the Rasa client on it; the broker
  between gateway processes, and the limits per client address they share (bot/web/limits.py);
- the console's hub (agents' open consoles), the relay (bot/web/relay.py, told of desk changes through
  the hub), the desk (what agents do; it asks the relay for the rating question when closing) and its
  watch for absent agents; the trainer pages' Trainer;
- the broker's delivery of other processes' events to the relay and the hub.

This is the only module that imports both web parts; tests/unit/test_layers.py checks it. Lifetimes are
bound to the root app with cleanup_ctx (set up in order, torn down in reverse), in the manner of
aiohttp-demos' polls; everything the console uses lives on the root app and is read through
`request.config_dict`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import weakref
from collections.abc import AsyncIterator

import aiohttp
import uvloop
from aiohttp import WSCloseCode, web

from bot.console.desk import Desk
from bot.console.hub import ConsoleHub
from bot.console.keys import DESK, HUB
from bot.console.routes import PREFIX as CONSOLE_PREFIX
from bot.console.routes import console_app, watch_absent_agents
from bot.console.trainer_views import TRAINER_KEY
from bot.console.training_job import Trainer
from bot.gateway.local import check_bind
from bot.gateway.middlewares import setup_middlewares
from bot.gateway.routes import setup_routes
from bot.services.staff import refuse_demo_passwords
from bot.settings import Settings, get_settings
from bot.store.db import create_schema, session_scope
from bot.training.teaching import training_workspace
from bot.web.broker import CONSOLE, CONVERSATION, make_broker
from bot.web.database import Database
from bot.web.keys import BROKER, DATABASE, HTTP, LIMITER, RASA, RELAY, SETTINGS, SOCKETS
from bot.web.limits import make_limiter
from bot.web.mount import mount
from bot.web.rasa_client import RasaClient
from bot.web.recovery import keep_sweeping
from bot.web.relay import Relay

log = logging.getLogger(__name__)

# Below Sanic's 5 s keep-alive, so the gateway never reuses a connection Rasa is about to close.
RASA_KEEPALIVE_SECONDS = 4.0
# After the turns in flight finished and the sockets were closed: requests still running get this long.
SHUTDOWN_SECONDS = 3.0


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


async def limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    """Limits per client address: in Redis with the broker (every process counts together), else here."""
    limiter = make_limiter(app[SETTINGS].broker_url)
    app[LIMITER] = limiter
    yield
    await limiter.close()


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    app[HUB] = ConsoleHub(app[BROKER])
    yield


async def relay_ctx(app: web.Application) -> AsyncIterator[None]:
    relay = Relay(app[DATABASE], app[RASA], app[SETTINGS], app[BROKER], desk=app[HUB])
    app[RELAY] = relay
    yield
    await relay.close()


async def desk_ctx(app: web.Application) -> AsyncIterator[None]:
    desk = Desk(app[DATABASE], app[RELAY], app[RASA], app[HUB], app[SETTINGS])
    app[DESK] = desk
    watcher = asyncio.create_task(watch_absent_agents(desk, app[SETTINGS]), name="absent-agents")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


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


async def recovery_ctx(app: web.Application) -> AsyncIterator[None]:
    """Turns a stopped gateway left open: re-driven or closed once Rasa is up, and swept again while this runs."""
    rasa = app[RASA]

    async def rasa_ready() -> bool:
        try:
            await rasa.status()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return False
        return True

    sweeper = asyncio.create_task(
        keep_sweeping(app[DATABASE], app[RELAY], app[SETTINGS], rasa_ready), name="turn-recovery"
    )
    yield
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper


async def finish_turns(app: web.Application) -> None:
    """On shutdown (SIGTERM; the listening socket is closed already): no new turns, and the ones in flight
    finish within BOT_SHUTDOWN_GRACE_SECONDS. What is left stays open in the database for a start-up."""
    relay, grace = app[RELAY], app[SETTINGS].shutdown_grace_seconds
    relay.stop_taking()
    if relay.in_flight():
        log.info("stopping: waiting up to %.0f s for %d conversation(s) in flight", grace, relay.in_flight())
    if not await relay.finish(grace):
        log.warning("stopping: %d conversation(s) still in flight after %.0f s; left for a start-up to recover",
                    relay.in_flight(), grace)  # fmt: skip


async def close_sockets(app: web.Application) -> None:
    """On shutdown, let every widget know to reconnect (to this gateway's successor): all at once, so one
    slow browser's close handshake holds up no one else's."""
    sockets = app[SOCKETS]
    closing = [ws.close(code=WSCloseCode.GOING_AWAY, message=b"gateway shutting down") for ws in list(sockets)]
    await asyncio.gather(*closing, return_exceptions=True)


def init_app(settings: Settings | None = None) -> web.Application:
    settings = settings or get_settings()
    check_bind(settings)
    if settings.demo_tokens and not settings.is_production:
        log.warning("demo tokens are on (BOT_DEMO_TOKENS=1): POST /demo/token signs one for any customer, on loopback")
    app = web.Application()
    app[SETTINGS] = settings
    app[SOCKETS] = weakref.WeakSet()
    trainer = Trainer(training_workspace(settings))
    app[TRAINER_KEY] = trainer
    log.info("trainer pages: training files in %s", trainer.workspace.root)
    app.cleanup_ctx.extend(
        [database_ctx, http_ctx, broker_ctx, limiter_ctx, hub_ctx, relay_ctx, desk_ctx, events_ctx, recovery_ctx]
    )
    app.on_shutdown.extend([finish_turns, close_sockets])  # type: ignore[list-item]  # aiohttp 3.9 mistypes Signal
    setup_routes(app)
    setup_middlewares(app)
    mount(app, CONSOLE_PREFIX, console_app(settings))
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
    # uvloop, as under Rasa's and the action server's Sanic: its sockets and its wake-ups for the database
    # threads' results cost less than asyncio's own loop. Gateway CPU per turn 11.6 -> 11.0 and 10.1 -> 9.6 ms
    # (bench.ab, two paired runs).
    uvloop.run(serve(init_app(settings), settings.gateway_host, port))


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop in order: stop listening; take no new turns while the open
    sockets are still read (a message sent now closes its socket with "going away", and the widget sends it
    again after reconnecting: to another gateway, or this one's successor); finish the turns in flight
    within BOT_SHUTDOWN_GRACE_SECONDS; close the sockets; tear down.

    Not web.run_app: its runner stops reading the sockets' frames as soon as it starts shutting down, so
    a customer's message during the grace period would get no answer at all."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("stopping: no new connections or turns")
        await site.stop()
        await finish_turns(app)
        await close_sockets(app)
    finally:
        await runner.cleanup()
