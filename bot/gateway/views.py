"""The gateway's HTTP endpoints: the demo shop page, the widget script, the demo token, health."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from bot.gateway.health import health_report
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


async def demo_token(request: web.Request) -> web.Response:
    """Demo only: sign a customer token, as a shop's own site would for its signed-in customer."""
    if request.app[SETTINGS].is_production:
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
    app = request.app
    report = await health_report(app[RASA], app[HTTP], app[SETTINGS].action_server_url, app[DATABASE])
    return web.json_response(report, status=200 if report["status"] == "ok" else 503)
