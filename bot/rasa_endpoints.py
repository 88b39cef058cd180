"""Rasa's calls to the action server over kept-alive connections.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, so a new TCP connection, for every
custom action call, and closes it after the answer: connecting took 2 % of a Rasa server's CPU on the
scaled stack (py-spy, 2 Rasa servers under load), and the action server accepted and closed a connection
per call too. Here each endpoint configuration keeps one session per event loop, and its connections stay
open between calls. Everything else is Rasa's: the same headers, parameters, timeout, TLS context, errors
(`ClientResponseError` for a status of 400 or more) and result (the JSON answer, or None).

The sessions are closed when the Rasa server stops (`close_sessions`, called by bot/rasa_main.py after
Rasa's own `close_resources`).

A kept connection is reused only while it has been idle less than KEEPALIVE_SECONDS, below what the
servers in front of it keep an idle connection open (Sanic, which serves rasa_sdk: 5 s; HAProxy in the
scaled stack: 10 s), so a call is not sent on a connection the server is closing.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import aiohttp

KEEPALIVE_SECONDS = 3.0

# (event loop id, endpoint's settings) -> (the loop, its session); the loop is kept to tell a reused id apart.
_sessions: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def _settings(endpoint: Any) -> tuple[Any, ...]:
    return (
        endpoint.url,
        tuple(sorted((endpoint.headers or {}).items())),
        tuple(sorted((endpoint.basic_auth or {}).items())),
    )


def session_for(endpoint: Any) -> aiohttp.ClientSession:
    """This endpoint's session on the running loop, made as Rasa's `EndpointConfig.session` makes one."""
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

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
    )
    _sessions[key] = (loop, session)
    return session


async def request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """EndpointConfig.request on the endpoint's kept session (Rasa 3.6.21's body otherwise)."""
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)

    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e

    async with session_for(self).request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json()
        except aiohttp.ContentTypeError:
            return None


async def close_sessions() -> None:
    """Close the kept sessions of the running loop (the server is stopping)."""
    loop = asyncio.get_running_loop()
    for key, (owner, session) in list(_sessions.items()):
        if owner is loop:
            del _sessions[key]
            await session.close()
