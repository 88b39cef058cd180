"""Typed keys (aiohttp's AppKey) for what the app holds: settings, database, HTTP and Rasa clients, relay,
broker, sockets."""

from __future__ import annotations

import weakref

import aiohttp
from aiohttp import web

from bot.gateway.broker import Broker
from bot.gateway.database import Database
from bot.gateway.rasa_client import RasaClient
from bot.gateway.relay import Relay
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
RELAY = web.AppKey("relay", Relay)
BROKER: web.AppKey[Broker] = web.AppKey("broker")  # events between gateway processes
SOCKETS = web.AppKey("sockets", weakref.WeakSet)  # open widget sockets, closed on shutdown
