"""`python -m bot up --rasa N --gateways N --actions N`: the scaled stack on this machine until Ctrl-C.

PostgreSQL (database `varde_scaled`, made, migrated and seeded when missing, unless BOT_DATABASE_URL is a
PostgreSQL URL already), a Redis of the stack's own unless `--redis URL`, RabbitMQ from
BOT_EVENT_BROKER_URL; generated files, ports and logs under var/scale/. A part that dies is started again
on its port, as an orchestrator would, and the log says so.
"""

from __future__ import annotations

import json
import logging
import signal
import threading

from bot.gateway.local import check_bind
from bot.scale.config import check_event_broker
from bot.scale.services import create_database
from bot.scale.stack import ScaledStack, Size
from bot.settings import PROJECT_ROOT, get_settings

log = logging.getLogger("bot.scale")

FOLDER = PROJECT_ROOT / "var" / "scale"
DATABASE = "varde_scaled"
RESTART_PAUSE_SECONDS = 1.0


def database_for_scale() -> str:
    """BOT_DATABASE_URL when it is PostgreSQL (several processes write at once: SQLite would not do)."""
    url = get_settings().database_url
    if url.startswith("postgresql"):
        from bot.scale.services import prepare

        prepare(url)
        return url
    return create_database(DATABASE, exist_ok=True)


def run_scaled(size: Size, redis_url: str | None = None) -> int:
    settings = get_settings()
    settings.check_production()
    check_bind(settings)  # HAProxy serves on BOT_GATEWAY_HOST; the gateways behind it on loopback
    check_event_broker(settings)
    stack = ScaledStack(
        FOLDER, database_for_scale(), size, redis_url=redis_url, public_port=settings.gateway_port,
        public_host=settings.gateway_host,
    )  # fmt: skip
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda _s, _f: stopping.set())
    signal.signal(signal.SIGTERM, lambda _s, _f: stopping.set())
    (FOLDER / "ports.json").write_text(json.dumps(stack.ports.as_dict(), indent=2))
    try:
        stack.start()
        log.info("started %s; logs in %s", ", ".join(stack.names()), FOLDER / "logs")
        seconds = stack.wait_ready()
        log.info("all parts healthy after %.0f s", seconds)
        print(f"\n  Varde (scaled: {size}) is running: {stack.public_url}/  (Ctrl-C stops it)\n", flush=True)
        while not stopping.wait(RESTART_PAUSE_SECONDS):
            for name in stack.dead():
                log.error("%s stopped (exit %s); starting it again. Last lines:\n%s",
                          name, stack.children[name].returncode, stack.log_tail(name, 10))  # fmt: skip
                stack.restart(name)
        return 0
    finally:
        stack.stop()
        log.info("all parts stopped")
