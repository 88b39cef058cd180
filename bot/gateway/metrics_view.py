"""GET /metrics: this gateway process's Prometheus metrics (bot/web/metrics.py), in the text format.

Who may read it: a request with `Authorization: Bearer <BOT_METRICS_TOKEN>` when that setting is set,
else only a request from this machine itself (loopback, no forwarding header: bot/gateway/local.py).
The queue, the agents available and the open sockets are read when scraped.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.gateway.local import from_this_machine
from bot.services.staff import available_agents
from bot.store.conversations import Conversation, ConversationState
from bot.web.keys import DATABASE, SETTINGS, SOCKETS
from bot.web.metrics import AGENTS_AVAILABLE, OPEN_SOCKETS, QUEUE_LENGTH, REGISTRY


def _desk_now(session: Session) -> tuple[int, int]:
    queued = session.execute(
        select(func.count(Conversation.id)).where(Conversation.state == ConversationState.QUEUED)
    ).scalar_one()
    return int(queued), len(available_agents(session))


def may_read(request: web.Request) -> bool:
    token = request.app[SETTINGS].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return from_this_machine(request)


async def metrics_page(request: web.Request) -> web.Response:
    if not may_read(request):
        raise web.HTTPForbidden(text="Metrics are for this machine, or with the metrics token.")
    queued, agents = await request.app[DATABASE].run(_desk_now)
    QUEUE_LENGTH.set(queued)
    AGENTS_AVAILABLE.set(agents)
    sockets = request.app[SOCKETS]
    open_sockets = 0
    for ws in list(sockets):  # closed ones stay in the WeakSet until collected
        open_sockets += 0 if ws.closed else 1
    OPEN_SOCKETS.set(open_sockets)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
