"""Rasa's calls to the action server over kept-alive connections.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, so a new TCP connection, for every
custom action call, and closes it after the answer: connecting took 2 % of a Rasa server's CPU on the
scaled stack (py-spy, 2 Rasa servers under load), and the action server accepted and closed a connection
per call too. Here each endpoint configuration keeps one session per event loop, and its connections stay
open between calls. Only `EndpointConfig.session` is replaced; `EndpointConfig.request` stays Rasa's, so
the headers, parameters, timeout, TLS context, errors and result are Rasa's own.

Each call's body (the conversation's tracker and the domain, 10-50 kB) is written by ujson, which Sanic
already brings: 3 % of a profiled Rasa server's samples went to the standard library's encoder. ujson
writes the same JSON value; what it can't write (an integer past 64 bits, NaN) goes to `json.dumps`.

The sessions are closed when the Rasa server stops (`close_sessions`, called by bot/rasa_main.py after
Rasa's own `close_resources`).

A kept connection is reused only while it has been idle less than KEEPALIVE_SECONDS, below what the
servers in front of it keep an idle connection open (Sanic, which serves rasa_sdk: 5 s; HAProxy in the
scaled stack: 10 s), so a call is not sent on a connection the server is closing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import ujson
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

KEEPALIVE_SECONDS = 3.0

# (event loop id, endpoint's settings) -> (the loop, its session); the loop is kept to tell a reused id apart.
_sessions: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def _settings(endpoint: Any) -> tuple[Any, ...]:
    return (
        endpoint.url,
        tuple(sorted((endpoint.headers or {}).items())),
        tuple(sorted((endpoint.basic_auth or {}).items())),
    )


def to_json(value: Any) -> str:
    """The request body: ujson's JSON, or the standard library's for what ujson refuses."""
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(value)


def session_for(endpoint: Any) -> aiohttp.ClientSession:
    """This endpoint's session on the running loop, made as Rasa's `EndpointConfig.session` makes one."""
    loop = asyncio.get_running_loop()
    key = (id(loop), *_settings(endpoint))
    kept = _sessions.get(key)
    if kept is not None and kept[0] is loop and not kept[1].closed:
        return kept[1]
    auth = (
        aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        if endpoint.basic_auth
        else None
    )
    session = aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        json_serialize=to_json,
    )
    _sessions[key] = (loop, session)
    return session


class _Kept:
    """What `async with endpoint.session()` gets: the kept session, left open when the block ends."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def kept_session(self: Any) -> _Kept:
    """EndpointConfig.session for Rasa's `async with self.session() as session` (its only use, in
    `EndpointConfig.request` and the model server's pull): the endpoint's kept session on the running loop."""
    return _Kept(session_for(self))


async def close_sessions() -> None:
    """Close the kept sessions of the running loop (the server is stopping)."""
    loop = asyncio.get_running_loop()
    for key, (owner, session) in list(_sessions.items()):
        if owner is loop:
            del _sessions[key]
            await session.close()
