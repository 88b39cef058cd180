"""`python -m bot up`: run the action server, Rasa and the gateway together, like a Procfile runner.

Starts each process, prefixes its output with its name, waits until the gateway's /health says every
part is up, prints the URL, and on Ctrl-C (or when any part dies) stops all of them cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.processes import Child, bot_command, get_json, stop_all
from bot.settings import Settings, get_settings

log = logging.getLogger("bot.supervisor")

HEALTH_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Part:
    name: str
    args: tuple[str, ...]


def parts(settings: Settings) -> tuple[Part, ...]:
    """Each part on the port its URL setting names, so the gateway finds Rasa and Rasa the actions."""
    actions_port = urlsplit(settings.action_server_url).port or 5055
    rasa_port = urlsplit(settings.rasa_url).port or 5005
    return (
        Part("actions", ("actions", "--port", str(actions_port))),
        Part("rasa", ("rasa", "--port", str(rasa_port))),
        Part("gateway", ("gateway",)),
    )


def _health(url: str) -> dict | None:
    """The gateway's /health body, also from a 503 (it still carries the parts' status); None when it does
    not answer or answers something that is not JSON."""
    try:
        return get_json(url)[1]
    except (OSError, ValueError):
        return None


def run_all() -> int:
    settings = get_settings()
    settings.check_production()
    children: list[Child] = []
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for part in parts(settings):
        # Output prefixed with the part's name; a session of its own, so our Ctrl-C handling stops them in order.
        child = Child.start(part.name, bot_command(*part.args))
        children.append(child)
        log.info("started %s (pid %d)", part.name, child.pid)

    health_url = f"{settings.gateway_url}/health"
    started = time.monotonic()
    announced = False
    try:
        while not stopping.is_set():
            dead = [child.name for child in children if child.poll() is not None]
            if dead:
                log.error("%s stopped unexpectedly; stopping everything", ", ".join(dead))
                return 1
            if not announced:
                health = _health(health_url)
                if health and health.get("status") == "ok":
                    log.info("all parts healthy after %.0f s", time.monotonic() - started)
                    print(f"\n  Varde is running: {settings.gateway_url}/  (Ctrl-C stops it)\n", flush=True)
                    announced = True
                elif time.monotonic() - started > HEALTH_TIMEOUT_SECONDS:
                    log.error("not healthy after %d s: %s", HEALTH_TIMEOUT_SECONDS, health)
                    return 1
            stopping.wait(1)
        return 0
    finally:
        stop_all(children, logger=log)
        log.info("all parts stopped")
