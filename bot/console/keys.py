"""Typed keys for the console's parts (built by the composition root, bot/gateway/app.py, on the root app;
read through `request.config_dict`) and for what it keeps on each request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.console.desk import Desk
    from bot.console.hub import ConsoleHub

HUB: web.AppKey[ConsoleHub] = web.AppKey("console_hub")
DESK: web.AppKey[Desk] = web.AppKey("console_desk")
AGENT = "console_agent"  # request key: the logged-in agent (bot/console/auth.py)
