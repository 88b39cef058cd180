"""The gateway's HTTP endpoints: the demo shop page, the widget script, the demo token, health."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from bot.gateway.health import health_report, public_report
from bot.gateway.local import from_this_machine, served_on_loopback
from bot.identity import sign_customer_token
from bot.web.keys import DATABASE, HTTP, RASA, SETTINGS

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Shop customer ids look like C-1001 (bot/identity.py refuses longer subjects).
_CUSTOMER_ID = re.compile(r"C-\d{1,18}")


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "demo.html", headers={"Cache-Control": "no-cache"})


async def widget_js(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC_DIR / "widget.js",
        headers={"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"},
    )


def demo_tokens_served(request: web.Request) -> bool:
    """Only when a developer turned them on (BOT_DEMO_TOKENS=1, which `make run` sets), never in production,
    and only to this machine over loopback: a development build someone exposes signs nothing."""
    settings = request.app[SETTINGS]
    return (
        settings.demo_tokens
        and not settings.is_production
        and served_on_loopback(request)
        and from_this_machine(request)
    )


async def demo_token(request: web.Request) -> web.Response:
    """Demo only: sign a customer token, as a shop's own site would for its signed-in customer."""
    if not demo_tokens_served(request):
        raise web.HTTPNotFound()
    try:
        body = await request.json()
    except ValueError as error:
        raise web.HTTPBadRequest(
            text='{"error": "a JSON body is required"}', content_type="application/json"
        ) from error
    customer_id = body.get("customer_id") if isinstance(body, dict) else None
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id):
        raise web.HTTPBadRequest(text='{"error": "customer_id like C-1001"}', content_type="application/json")
    return web.json_response({"token": sign_customer_token(customer_id)})


async def health(request: web.Request) -> web.Response:
    """Everyone learns ok or not per part; the details (which model, its file, what failed) only a request
    from this machine itself (`python -m bot up`'s supervisor, an operator's curl on the host)."""
    app = request.app
    report = await health_report(app[RASA], app[HTTP], app[SETTINGS].action_server_url, app[DATABASE])
    status = 200 if report["status"] == "ok" else 503
    return web.json_response(report if from_this_machine(request) else public_report(report), status=status)
