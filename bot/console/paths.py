"""Numbers in the console's URLs (a ticket's, a model's, an inbox message's id), read the one safe way."""

from __future__ import annotations

from aiohttp import web

# The largest id any of our tables holds: PostgreSQL's INTEGER. A bigger number is no row's, and handing it
# to the database fails there (SQLite: OverflowError; PostgreSQL: "integer out of range"), a 500.
MAX_ID = 2**31 - 1


def path_id(request: web.Request, name: str) -> int:
    """The URL's `{name}` as a row id; 404 for anything but plain digits within MAX_ID (found by the fuzzer:
    /console/tickets/99999999999999999999 was a 500)."""
    value = request.match_info[name]
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise web.HTTPNotFound()
    return int(value)
