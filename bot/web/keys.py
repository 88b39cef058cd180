"""Typed keys (aiohttp's AppKey) for what the composition root (bot/gateway/app.py) puts on the root app:
settings, database, HTTP and Rasa clients, relay, broker, sockets. Handlers of a sub-app (the console)
read them through `request.config_dict`."""

from __future__ import annotations

import weakref

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.web.broker import Broker
from bot.web.database import Database
from bot.web.limits import Limiter
from bot.web.rasa_client import RasaClient
from bot.web.relay import Relay

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
RELAY = web.AppKey("relay", Relay)
BROKER: web.AppKey[Broker] = web.AppKey("broker")  # events between gateway processes
LIMITER: web.AppKey[Limiter] = web.AppKey("limiter")  # limits per client address (bot/web/limits.py)
# Open widget and console sockets, closed on shutdown.
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets", weakref.WeakSet)
