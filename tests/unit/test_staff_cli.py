"""`python -m bot staff ...` as an operator runs it, and a production start that refuses demo passwords."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.store.seed import seed_demo
from tests.support import free_port, run_bot

PRODUCTION = {
    "BOT_ENV": "production",
    "BOT_IDENTITY_SECRET": "an identity secret of more than thirty-two characters",
    "BOT_RASA_JWT_SECRET": "a rasa api secret of more than thirty-two characters",
    "BOT_SESSION_SECRET": "a session secret of more than thirty-two characters",
    # The project's credentials.yml keeps Rasa's `rest:` for development (tests/unit/test_settings.py
    # checks that production refuses it without this).
    "BOT_ALLOW_REST_CHANNEL": "1",
}


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    seed_demo(url)
    return url


def bot(database: str, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_bot(*args, stdin=stdin, BOT_DATABASE_URL=database, **(env or {}))


def test_add_list_password_and_sign_out(database: str) -> None:
    added = bot(
        database,
        "staff",
        "add",
        "agent.ingrid",
        "--name",
        "Ingrid",
        "--role",
        "agent",
        stdin="ingrids own long secret\n",
    )
    assert added.returncode == 0 and "added agent agent.ingrid" in added.stdout, added.stderr
    listed = bot(database, "staff", "list")
    assert listed.returncode == 0
    assert [line.split()[:3] for line in listed.stdout.splitlines() if "ingrid" in line] == [
        ["agent.ingrid", "agent", "Ingrid"]
    ]
    assert "ingrids own long secret" not in listed.stdout
    short = bot(database, "staff", "password", "agent.ingrid", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    unknown = bot(database, "staff", "sign-out", "nobody")
    assert unknown.returncode == 1 and "no staff user 'nobody'" in unknown.stderr
    assert bot(database, "staff", "sign-out", "agent.ingrid").returncode == 0


def test_a_production_gateway_refuses_demo_staff_passwords_until_they_are_changed(database: str) -> None:
    port = str(free_port())
    refused = bot(database, "gateway", "--port", port, env=PRODUCTION)
    assert refused.returncode == 2
    assert "agent.anne, agent.per, trainer.tor, lead.liv still have their demo password" in refused.stderr
    assert "Traceback" not in refused.stderr
    usernames = ["agent.anne", "agent.per", "trainer.tor", "lead.liv"]

    def change(username: str) -> subprocess.CompletedProcess:
        return bot(database, "staff", "password", username, stdin=f"{username} has a real password\n")

    with ThreadPoolExecutor(len(usernames)) as operators:  # at once (one after another took 3.4 s)
        changed = list(operators.map(change, usernames))
    assert [result.returncode for result in changed] == [0, 0, 0, 0], [result.stderr for result in changed]
    environment = {**os.environ, "BOT_DATABASE_URL": database, **PRODUCTION}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "bot", "gateway", "--port", port], cwd=PROJECT_ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert gateway.poll() is None, gateway.stderr.read() if gateway.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login", timeout=2) as page:
                    assert page.status == 200 and "Log in to the console" in page.read().decode()
                    break
            except OSError:
                assert time.monotonic() < deadline, "the production gateway did not start"
                time.sleep(0.1)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
