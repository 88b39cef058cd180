"""`python -m bot staff ...` as an operator runs it, and a production start that refuses demo passwords.

Both tests' commands only wait on subprocesses, on a database of their own: they run in the background
(tests/support.py BackgroundWork) from the start of the run, and each test then checks what they did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from bot.settings import PROJECT_ROOT
from bot.store.seed import seed_demo
from tests.conftest import RUN_DIR
from tests.support import BackgroundWork, free_port, run_bot

PRODUCTION = {
    "BOT_ENV": "production",
    "BOT_IDENTITY_SECRET": "an identity secret of more than thirty-two characters",
    "BOT_RASA_JWT_SECRET": "a rasa api secret of more than thirty-two characters",
    "BOT_SESSION_SECRET": "a session secret of more than thirty-two characters",
    # The project's credentials.yml keeps Rasa's `rest:` for development (tests/unit/test_settings.py
    # checks that production refuses it without this).
    "BOT_ALLOW_REST_CHANNEL": "1",
}
DEMO_STAFF = ["agent.anne", "agent.per", "trainer.tor", "lead.liv"]


def new_database() -> str:
    """A freshly seeded demo shop of the test's own."""
    url = f"sqlite:///{tempfile.mkdtemp(prefix='staff-cli-', dir=RUN_DIR)}/staff.db"
    seed_demo(url)
    return url


def bot(database: str, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_bot(*args, stdin=stdin, BOT_DATABASE_URL=database, **(env or {}))


def add_list_password_and_sign_out(database: str) -> dict[str, subprocess.CompletedProcess]:
    return {
        "added": bot(
            database, "staff", "add", "agent.ingrid", "--name", "Ingrid", "--role", "agent",
            stdin="ingrids own long secret\n",
        ),
        "listed": bot(database, "staff", "list"),
        "short": bot(database, "staff", "password", "agent.ingrid", stdin="short\n"),
        "unknown": bot(database, "staff", "sign-out", "nobody"),
        "signed_out": bot(database, "staff", "sign-out", "agent.ingrid"),
    }  # fmt: skip


def production_start(database: str) -> dict[str, Any]:
    """A production gateway started before and after the four demo passwords are changed (at once, as
    four operators could)."""
    port = str(free_port())
    refused = bot(database, "gateway", "--port", port, env=PRODUCTION)

    def change(username: str) -> subprocess.CompletedProcess:
        return bot(database, "staff", "password", username, stdin=f"{username} has a real password\n")

    with ThreadPoolExecutor(len(DEMO_STAFF)) as operators:
        changed = list(operators.map(change, DEMO_STAFF))
    environment = {**os.environ, "BOT_DATABASE_URL": database, **PRODUCTION}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "bot", "gateway", "--port", port], cwd=PROJECT_ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if gateway.poll() is not None:  # it stopped: what it said
                started: tuple[Any, ...] = ("exited", gateway.stderr.read() if gateway.stderr else "")
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login", timeout=2) as page:
                    started = ("served", page.status, page.read().decode())
                    break
            except OSError:
                if time.monotonic() >= deadline:
                    started = ("not started after 60 s",)
                    break
                time.sleep(0.1)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    return {"refused": refused, "changed": changed, "started": started}


WORK: BackgroundWork[dict[str, Any]] = BackgroundWork(
    {
        # Seeded here, in the calling thread; only the commands run in the background.
        "test_add_list_password_and_sign_out": lambda: partial(add_list_password_and_sign_out, new_database()),
        "test_a_production_gateway_refuses_demo_staff_passwords_until_they_are_changed": lambda: partial(
            production_start, new_database()
        ),
    }
)


def begin_in_background(tests: list[str]) -> None:
    WORK.begin(tests)


def test_add_list_password_and_sign_out() -> None:
    run = WORK.result("test_add_list_password_and_sign_out")
    added = run["added"]
    assert added.returncode == 0 and "added agent agent.ingrid" in added.stdout, added.stderr
    listed = run["listed"]
    assert listed.returncode == 0
    assert [line.split()[:3] for line in listed.stdout.splitlines() if "ingrid" in line] == [
        ["agent.ingrid", "agent", "Ingrid"]
    ]
    assert "ingrids own long secret" not in listed.stdout
    short = run["short"]
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    unknown = run["unknown"]
    assert unknown.returncode == 1 and "no staff user 'nobody'" in unknown.stderr
    assert run["signed_out"].returncode == 0


def test_a_production_gateway_refuses_demo_staff_passwords_until_they_are_changed() -> None:
    run = WORK.result("test_a_production_gateway_refuses_demo_staff_passwords_until_they_are_changed")
    refused = run["refused"]
    assert refused.returncode == 2
    assert "agent.anne, agent.per, trainer.tor, lead.liv still have their demo password" in refused.stderr
    assert "Traceback" not in refused.stderr
    changed = run["changed"]
    assert [result.returncode for result in changed] == [0, 0, 0, 0], [result.stderr for result in changed]
    started = run["started"]
    assert started[0] == "served", started
    assert started[1] == 200 and "Log in to the console" in started[2]
