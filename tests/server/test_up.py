"""`python -m bot up`, the last step of `make run`: the whole service from one command, answering a customer.

Its own ports and database, so it runs beside the test run's Rasa stack; stopped the way a person
stops it (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from bot.identity import sign_customer_token
from bot.settings import PROJECT_ROOT
from bot.store.seed import seed_demo
from tests.gateway.widget_client import WidgetClient, texts
from tests.support import free_port, http_json

pytestmark = pytest.mark.server

START_TIMEOUT = 240


def start_up(tmp_path: Path) -> tuple[subprocess.Popen, list[str], dict[str, int]]:
    ports = {name: free_port() for name in ("rasa", "actions", "gateway")}
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_demo(database)
    env = {
        **os.environ,
        "BOT_DATABASE_URL": database,
        "BOT_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "BOT_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "BOT_ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}",
        "BOT_GATEWAY_PORT": str(ports["gateway"]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "up"], cwd=PROJECT_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    return process, lines, ports


async def ask(gateway: str, text: str) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(gateway.replace("http://", "ws://") + "/ws", headers={"Origin": gateway})
        widget = WidgetClient(ws)
        await widget.hello(token=sign_customer_token("C-1001"), language="nb")
        frames = await widget.turn(text, timeout=30)
        await widget.close()
        return frames


def test_one_command_starts_every_part_and_a_customer_gets_an_answer(trained_model: Path, tmp_path: Path) -> None:
    process, lines, ports = start_up(tmp_path)
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not any("Varde is running" in line for line in lines):
            assert process.poll() is None, "".join(lines[-40:])
            assert time.monotonic() < deadline, "not running after 240 s:\n" + "".join(lines[-40:])
            time.sleep(0.5)
        assert f"Varde is running: {gateway}/" in "".join(lines)
        health = http_json(f"{gateway}/health")
        assert health["status"] == "ok", health
        frames = asyncio.run(ask(gateway, "hvor er ordre 10234?"))
        assert "70712345678901234" in texts(frames) and "Fjellsko Tinde GTX" in texts(frames), texts(frames)
        # Ctrl-C stops every part, and nothing is left listening.
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(lines[-40:])
        assert any("all parts stopped" in line for line in lines)
        for port in ports.values():
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if process.poll() is None:  # a failed check above: still stop the parts, not only the supervisor
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
