"""Is a request from this machine itself? For what only a developer or an operator on the host may see
or do: the demo token (bot/gateway/views.py) and /health's details. And check_bind: what a gateway bound
beyond loopback must not have at all.

From this machine means: the peer is a loopback address and the request carries no forwarding header. A
reverse proxy on the same host (nginx in front of 127.0.0.1:8000) makes every request's peer loopback,
but it adds X-Forwarded-For, Forwarded or X-Real-IP, so its requests count as from elsewhere. (A proxy
that adds none of them is not one this project supports: BOT_TRUSTED_PROXIES relies on X-Forwarded-For.)
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.settings import Settings, SettingsError

FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or "localhost"; any other name or address (0.0.0.0 and :: included) is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def from_this_machine(request: web.Request) -> bool:
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    return bool(request.remote) and is_loopback_host(str(request.remote))


def served_on_loopback(request: web.Request) -> bool:
    """The socket this request came in on is a loopback address (what the gateway is bound to, or part of it)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sockname is not None and is_loopback_host(str(sockname[0]))


def check_bind(settings: Settings) -> None:
    """What only this machine may have, refused when the gateway binds beyond loopback: BOT_DEMO_TOKENS (a
    token for any customer), and the demo secrets, public in README, with which anyone could sign a
    customer's token or a console session (in production they are refused anyway: Settings)."""
    if is_loopback_host(settings.gateway_host):
        return
    if settings.demo_tokens:
        raise SettingsError(
            "Refusing to start: BOT_DEMO_TOKENS=1 (a demo token for any customer) with the gateway bound to "
            f"{settings.gateway_host}, beyond loopback. Bind it to 127.0.0.1 (BOT_GATEWAY_HOST) or unset "
            "BOT_DEMO_TOKENS."
        )
    if demo := settings.demo_secrets():
        raise SettingsError(
            f"Refusing to start: the gateway is bound to {settings.gateway_host}, beyond loopback, while "
            f"{', '.join(demo)} still have their demo values, which README makes public. Set them (and "
            "BOT_ENV=production), or bind it to 127.0.0.1 (BOT_GATEWAY_HOST)."
        )
