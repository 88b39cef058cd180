"""Text the console takes from a browser holds no NUL character (found by the fuzzer, tests/gateway/test_fuzz.py).

PostgreSQL refuses NUL in text, so a NUL in a log-in name, a reply, a note or a query reached the database
driver as an error, and the page as a 500. No one types one: a request carrying one in its path, query
or form gets a plain 400, after the guard (which reads only the encrypted session cookie and the CSRF
token) and before any handler reads it.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(values: object) -> bool:
    return any(isinstance(value, str) and "\x00" in value for value in values)  # type: ignore[attr-defined]


@web.middleware
async def refuse_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    found = _carries_nul(request.match_info.values()) or _carries_nul(request.query.values())
    if not found and request.method == "POST" and request.content_type in FORM_TYPES:
        found = _carries_nul((await request.post()).values())
    if found:
        raise web.HTTPBadRequest(text="The request holds a character no one types (NUL).")
    return await handler(request)
