"""Every URL of the gateway in one place."""

from __future__ import annotations

from aiohttp import web

from bot.gateway import views
from bot.gateway.metrics_view import metrics_page
from bot.gateway.socket import widget_socket


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", views.index)
    app.router.add_get("/widget.js", views.widget_js)
    app.router.add_get("/ws", widget_socket)
    app.router.add_get("/health", views.health)
    app.router.add_get("/metrics", metrics_page)  # Prometheus: loopback, or BOT_METRICS_TOKEN
    app.router.add_post("/demo/token", views.demo_token)
    app.router.add_static("/static/", views.STATIC_DIR, show_index=False, follow_symlinks=False)
