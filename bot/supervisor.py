"""`python -m bot up`: run the action server, Rasa and the gateway together, like a Procfile runner.

Starts each process, prefixes its output with its name, waits until the gateway's /health says every
part is up, prints the URL, and on Ctrl-C (or when any part dies) stops all of them cleanly.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.settings import PROJECT_ROOT, Settings, get_settings

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


def _pipe_output(name: str, stream) -> None:  # type: ignore[no-untyped-def]
    for raw in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>8} | {raw.decode(errors='replace')}")
        sys.stdout.flush()


def _health(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:  # 503 still carries the parts' status
        try:
            return json.load(error)
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for name, process in reversed(processes.items()):
        if process.poll() is None:
            log.info("stopping %s", name)
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run_all() -> int:
    settings = get_settings()
    settings.check_production()
    processes: dict[str, subprocess.Popen] = {}
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for part in parts(settings):
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *part.args],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C handling stops them in order
        )
        processes[part.name] = process
        threading.Thread(target=_pipe_output, args=(part.name, process.stdout), daemon=True).start()
        log.info("started %s (pid %d)", part.name, process.pid)

    health_url = f"{settings.gateway_url}/health"
    started = time.monotonic()
    announced = False
    try:
        while not stopping.is_set():
            dead = [name for name, process in processes.items() if process.poll() is not None]
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
        _stop(processes)
        log.info("all parts stopped")
