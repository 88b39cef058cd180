"""The real service for the benchmark: action server, Rasa and gateway as subprocesses on free ports of their
own, with a database of their own (a temporary SQLite file, or a temporary PostgreSQL database).

Started the way `python -m bot up` starts them (all three at once, `python -m bot <part>`), so start-up
times include the contention a real start has on this machine.

`start_stock()` then starts a fourth process beside them: Rasa as shipped (`python -m rasa run`, the
same model, action server and settings, a tracker store of its own), the baseline "raw Rasa" path. Ours
runs through bot/rasa_main.py, which validates action responses without re-checking the schema.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from bench.procinfo import memory_mib
from bot.processes import Child, actions_ready, answers, bot_command, free_port, get_json, rasa_ready, wait_until
from bot.rasa_process import with_serving_threads
from bot.settings import PROJECT_ROOT, get_settings

PARTS = ("actions", "rasa", "gateway")
STOCK = "stock"  # Rasa as shipped, for the baseline path


def http_json(url: str, headers: dict[str, str] | None = None, timeout: float = 3) -> tuple[int, Any]:
    """Status and JSON body, also of an HTTP error: the gateway's 503 still says which parts are up."""
    return get_json(url, headers, timeout)


@dataclass
class Database:
    """A database of the benchmark's own: made before the stack starts, removed when it stops."""

    url: str
    kind: str
    _drop: str | None = None  # PostgreSQL: the database to drop at the end

    @classmethod
    def create(cls, kind: str, work_dir: Path, name: str = "varde") -> Database:
        if kind == "sqlite":
            return cls(f"sqlite:///{work_dir / f'{name}.db'}", kind)
        from bot.store.postgres_admin import create_database

        name = f"varde_bench_{secrets.token_hex(4)}"
        return cls(create_database(name), kind, name)

    def drop(self) -> None:
        if not self._drop:
            return
        from bot.store.postgres_admin import drop_database

        drop_database(self._drop)


@dataclass
class Stack:
    work_dir: Path
    database: Database
    root: Path = PROJECT_ROOT  # the checkout whose `python -m bot` runs (another one for A/B comparisons)
    stock: Database | None = None  # Rasa as shipped keeps its trackers here (start_stock)
    ports: dict[str, int] = field(default_factory=lambda: {part: free_port() for part in (*PARTS, STOCK)})
    processes: dict[str, Child] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    ready_after: dict[str, float] = field(default_factory=dict)

    @property
    def parts(self) -> tuple[str, ...]:
        return (*PARTS, STOCK) if STOCK in self.processes else PARTS

    @property
    def stock_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[STOCK]}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['actions']}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def jwt_secret(self) -> str:
        return get_settings().rasa_jwt_secret

    def rasa_headers(self) -> dict[str, str]:
        token = jwt.encode({"user": {"username": "bench", "role": "admin"}}, self.jwt_secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            BOT_ENV="development",
            BOT_DATABASE_URL=self.database.url,
            BOT_TRACKER_DATABASE_URL=self.database.url,  # as shipped: one database for both
            BOT_RASA_URL=self.rasa_url,
            BOT_ACTION_SERVER_URL=self.actions_url,
            BOT_GATEWAY_HOST="127.0.0.1",
            BOT_GATEWAY_PORT=str(self.ports["gateway"]),
            # A 200-turn conversation and closed-loop customers send far more than a person types; the
            # per-conversation limit (20/min) would refuse them, and a refusal is not what is measured.
            BOT_MAX_MESSAGES_PER_MINUTE="100000",
            # Every benchmark customer comes from 127.0.0.1: the limits per address (issue 16) would
            # make them one client, and cap what is measured.
            BOT_MAX_NEW_CONVERSATIONS_PER_ADDRESS="1000000",
            BOT_MAX_MESSAGES_PER_ADDRESS="1000000",
            BOT_MAX_SOCKETS_PER_ADDRESS="100000",
            RASA_TELEMETRY_ENABLED="false",
        )
        return env

    def command(self, part: str) -> tuple[list[str], dict[str, str]]:
        if part != STOCK:
            return bot_command(part, "--port", str(self.ports[part])), self.env()
        from bot.training.model_files import latest_model

        assert self.stock is not None
        env = self.env()
        env.update(
            BOT_TRACKER_DATABASE_URL=self.stock.url,
            BOT_ACTION_SERVER_WEBHOOK=f"{self.actions_url}/webhook",
            PYTHONPATH=str(self.root),
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),  # as bot.cli.rasa_environment: same model, same cost
        )
        env = with_serving_threads(env)  # as our Rasa server: same model, same cost
        command = [
            sys.executable, "-m", "rasa", "run", "--model", str(latest_model()), "--port", str(self.ports[STOCK]),
            "--interface", "127.0.0.1", "--enable-api", "--jwt-secret", self.jwt_secret, "--jwt-method", "HS256",
        ]  # fmt: skip
        return command, env

    def start(self) -> None:
        for part in PARTS:
            self._spawn(part)

    def start_stock(self, database: Database, timeout: float = 300) -> float:
        """Start Rasa as shipped once the stack is up (its start must not weigh on the stack's start-up
        figures); seconds until it answers."""
        self.stock = database
        self._spawn(STOCK)
        wait_until(
            lambda: self._ready(STOCK), timeout, f"stock Rasa not ready after {timeout} s; log in {self.work_dir}",
            watch=[self.processes[STOCK]],
        )  # fmt: skip
        return round(time.monotonic() - self.started_at[STOCK], 2)

    def _spawn(self, part: str) -> None:
        """Output to <work_dir>/<part>.log; a session of its own, so it is stopped as a group, helpers included."""
        command, env = self.command(part)
        child = Child.start(part, command, cwd=self.root, env=env, log_path=self.work_dir / f"{part}.log")
        self.processes[part] = child
        self.started_at[part] = child.started_at

    def _ready(self, part: str) -> bool:
        if part == "actions":
            return actions_ready(self.actions_url)
        if part in ("rasa", STOCK):
            return rasa_ready(self.rasa_url if part == "rasa" else self.stock_url, self.rasa_headers())
        return answers(
            f"{self.gateway_url}/health",
            lambda _status, body: isinstance(body, dict) and body.get("parts", {}).get("gateway", {}).get("ok") is True,
        )

    def wait_ready(self, timeout: float = 300) -> dict[str, float]:
        """Seconds from start until each part answers its own health check, then until /health says all ok."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for part in PARTS:
                if part not in self.ready_after and self._ready(part):
                    self.ready_after[part] = round(time.monotonic() - self.started_at[part], 2)
                self.processes[part].raise_if_exited()
            if len(self.ready_after) == len(PARTS):
                status, body = http_json(f"{self.gateway_url}/health")
                if status == 200 and body.get("status") == "ok":
                    self.ready_after["all"] = round(time.monotonic() - min(self.started_at[p] for p in PARTS), 2)
                    return dict(self.ready_after)
            time.sleep(0.2)
        raise TimeoutError(f"not ready after {timeout} s: {self.ready_after}; logs in {self.work_dir}")

    def pid(self, part: str) -> int:
        return self.processes[part].pid

    def memory(self) -> dict[str, dict[str, float]]:
        return {part: memory_mib(self.pid(part)) for part in self.parts if part in self.processes}

    def log_tail(self, part: str, lines: int = 20) -> str:
        path = self.work_dir / f"{part}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        """One part after the other, the gateway first: SIGTERM, SIGKILL after 20 s."""
        for part in reversed(self.parts):
            child = self.processes.pop(part, None)
            if child is not None:
                child.stop()
