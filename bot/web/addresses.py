"""Who is at the other end of a request, also behind the shop's reverse proxy (BOT_TRUSTED_PROXIES)."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import SETTINGS


def client_address_of(peer: str | None, forwarded_for: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the last address in
    X-Forwarded-For that is not one (the ones before it were written by the client, and may be forged)."""
    address = peer or "unknown"
    if address not in trusted_proxies or not forwarded_for:
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if hop and hop not in trusted_proxies:
            return hop[:64]
    return address


def client_address(request: web.Request) -> str:
    trusted = request.config_dict[SETTINGS].trusted_proxies
    return client_address_of(request.remote, request.headers.get("X-Forwarded-For"), trusted)
