"""Browser tests: Debian's Chromium, driven by Playwright, against the real gateway, Rasa and action server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT
from tests.support import RasaStack, free_port

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google, and this machine's
# closed network refuses every attempt.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GATEWAY_PORT = int(os.environ.get("BOT_TEST_GATEWAY_PORT", "0")) or free_port()
SHOP_SITE_PORT = int(os.environ.get("BOT_TEST_SHOP_SITE_PORT", "0")) or free_port()
# A shop's own site, elsewhere than the gateway, on the gateway's allow-list. (Served from loopback
# like the gateway: Chromium refuses a public page's requests to a loopback address.)
SHOP_SITE = f"http://127.0.0.1:{SHOP_SITE_PORT}"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, with Debian's Chromium instead of a downloaded browser."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def _health(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None


@contextmanager
def running_gateway(rasa_stack: RasaStack, port: int, name: str = "gateway", **settings: str) -> Iterator[str]:
    """A real gateway process (`python -m bot gateway`) in front of the run's Rasa stack; yields its URL.

    Same database, Rasa and action server as the rest of the run; `settings` are extra BOT_* variables.
    """
    url = f"http://127.0.0.1:{port}"
    env = dict(rasa_stack.env)
    env.update(
        BOT_RASA_URL=rasa_stack.rasa_url,
        BOT_ACTION_SERVER_URL=rasa_stack.actions_url,
        BOT_ALLOWED_ORIGINS=f"{url},{SHOP_SITE}",
        BOT_DEMO_TOKENS="1",  # the demo page's switcher signs in as Kari and the others
        # Every browser test is one client address (127.0.0.1), and together they start more conversations a
        # minute than one shop visitor may; the limits themselves are tested in tests/gateway/test_client_limits.py.
        BOT_MAX_NEW_CONVERSATIONS_PER_ADDRESS="1000",
        BOT_MAX_MESSAGES_PER_ADDRESS="10000",
        **settings,
    )
    log_path = rasa_stack.log_dir / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "gateway", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _health(url) is None:
            if process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gateway did not answer /health within 60 s; see {log_path}")
            time.sleep(0.5)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def gateway(rasa_stack: RasaStack) -> Iterator[str]:
    """The real gateway in front of the test run's Rasa stack; yields its URL."""
    with running_gateway(rasa_stack, GATEWAY_PORT) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept after the run (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def shop_site(gateway: str) -> Iterator[str]:
    """A shop's own page on another origin, with the widget's one script tag and nothing else."""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tindra Sport</title>'
        f'<script src="{gateway}/widget.js" data-gateway="/ws" data-language="en" data-shop-name="Tindra Sport"'
        " async></script></head><body><h1>Tindra Sport</h1></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page if self.path == "/" else b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", SHOP_SITE_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SHOP_SITE
    finally:
        server.shutdown()
        server.server_close()
