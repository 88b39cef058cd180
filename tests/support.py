"""Helpers for tests: a running Rasa stack, REST chat, and rasa_sdk trackers for calling actions directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import jwt
from rasa_sdk import Tracker

from bot.processes import Child, actions_ready, bot_command, rasa_ready, wait_until
from bot.processes import free_port as free_port  # a port nothing listens on now, for a server a test starts
from bot.settings import PROJECT_ROOT

T = TypeVar("T")
# Work that tests only wait for (subprocesses on files of their own), one piece at a time beside the run.
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tests-background")


class BackgroundWork(Generic[T]):
    """A test module's waiting, by test name: started in the background as soon as the run's tests are
    chosen (tests/conftest.py calls the module's `begin_in_background` with its chosen tests), or at the
    latest when the test asks for its result; the test then asserts on what it returned.

    Each test's entry is called at once, in the calling thread, for its set-up, and returns the work to run
    in the background: only subprocesses and files of its own, never this process's databases or
    migrations (alembic keeps one context per process: two threads migrating at once break each other)."""

    def __init__(self, work: dict[str, Callable[[], Callable[[], T]]]) -> None:
        self.work = work
        self.started: dict[str, Future[T]] = {}

    def begin(self, tests: Iterable[str]) -> None:
        for test in tests:
            if test in self.work:
                self._start(test)

    def result(self, test: str) -> T:
        return self._start(test).result()

    def _start(self, test: str) -> Future[T]:
        if test not in self.started:
            self.started[test] = _BACKGROUND.submit(self.work[test]())
        return self.started[test]


def run_bot(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as an operator runs it: this run's environment (its databases) plus `env`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env={**os.environ, **env}, input=stdin,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def rasa_admin_token(secret: str) -> str:
    return jwt.encode({"user": {"username": "tests", "role": "admin"}}, secret, algorithm="HS256")


def http_json(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@dataclass
class RasaStack:
    """Rasa and the action server as real subprocesses, on ports of their own."""

    env: dict[str, str]
    rasa_port: int
    actions_port: int
    log_dir: Path
    processes: dict[str, Child] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def start(self, name: str) -> None:
        """Start "rasa" or "actions", its output appended to <log_dir>/<name>.log, in a session of its own."""
        args = {
            "rasa": ["rasa", "--port", str(self.rasa_port)],
            "actions": ["actions", "--port", str(self.actions_port)],
        }
        self.processes[name] = Child.start(
            name, bot_command(*args[name]), env=self.env, log_path=self.log_dir / f"{name}.log"
        )

    def stop(self, name: str) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s; returns once it has exited."""
        child = self.processes.pop(name, None)
        if child:
            child.stop()

    def healthy(self, name: str) -> bool:
        if name == "actions":
            return actions_ready(self.actions_url)
        token = rasa_admin_token(self.env["BOT_RASA_JWT_SECRET"])
        return rasa_ready(self.rasa_url, {"Authorization": f"Bearer {token}"})

    def wait_healthy(self, name: str, timeout: float = 180) -> None:
        """Until it answers its health check; RuntimeError (ChildExited) if it exits first, TimeoutError after
        `timeout` seconds."""
        child = self.processes.get(name)
        wait_until(
            lambda: self.healthy(name), timeout, f"{name} not healthy after {timeout} s; see {self.log_dir}/{name}.log",
            watch=[child] if child else [], interval=1,
        )  # fmt: skip

    def chat(self, sender: str, text: str, token: str | None = None, language: str = "nb") -> list[dict[str, Any]]:
        """One turn; the replies. A guest's goes through Rasa's REST channel; a signed-in customer's through
        the gateway's channel (bot/rasa_channel.py), the only one that verifies a customer token. That
        channel also takes a "/intent" text as a button click only when the bot's last message offered it."""
        metadata: dict[str, Any] = {"language": language}
        body = {"sender": sender, "message": text, "metadata": metadata}
        if not token:
            return http_json(f"{self.rasa_url}/webhooks/rest/webhook", body)
        metadata["customer_token"] = token
        headers = {"Authorization": f"Bearer {rasa_admin_token(self.env['BOT_RASA_JWT_SECRET'])}"}
        return http_json(f"{self.rasa_url}/webhooks/gateway/webhook", body, headers)["messages"]

    def log_text(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def texts(replies: list[dict[str, Any]]) -> str:
    """All text the customer saw, as one string."""
    return "\n".join(reply.get("text", "") for reply in replies if reply.get("text"))


def make_tracker(
    text: str = "",
    intent: str | None = None,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "test-conversation",
    active_loop: str | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id=sender_id,
        slots={"language": "en", **(slots or {})},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=None,
    )
