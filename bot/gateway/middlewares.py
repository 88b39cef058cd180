"""Cross-cutting behaviour of every response: errors as short JSON, and safe default headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected error is logged here and answered without internals (no traceback to the browser)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


def setup_middlewares(app: web.Application) -> None:
    app.middlewares.append(error_middleware)
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]  # aiohttp 3.9 mistypes Signal
