"""Several of each part on one machine: N action servers, N Rasa servers and N gateways, behind HAProxy,
sharing PostgreSQL (shop, transcript and Rasa's tracker store), Redis (Rasa's lock store and the gateways'
broker) and RabbitMQ (Rasa's event broker). Used by `python -m bot up --rasa N`, tests/scale/ and the
benchmark (bench/scaled.py).

Guarantees:
- Every process is a `bot.processes.Child` with its log in `<folder>/logs/<name>.log`; `stop()` stops
  them all (HAProxy first, so no new customer arrives at a gateway that is going away).
- `kill(name)` SIGKILLs one part and `restart(name)` starts it again on the same port with the same
  environment: what an orchestrator does, and what the chaos run does on purpose.
- Nothing of the stack listens beyond 127.0.0.1 unless `public_host` says so (HAProxy's widget port only).
- With `redis_url=None` the stack runs a Redis of its own (no persistence), so restarting it touches no one
  else's; its lock store and broker then live and die with the stack.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jwt

from bot.processes import Child, actions_ready, answers, bot_command, free_port, rasa_ready, stop_all
from bot.scale.config import Ports, endpoints_yaml, event_broker_environment, haproxy_cfg
from bot.settings import PROJECT_ROOT, get_settings

log = logging.getLogger("bot.scale")

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
READY_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Size:
    rasa: int = 2
    gateways: int = 2
    actions: int = 2


@dataclass
class ScaledStack:
    folder: Path
    database_url: str
    size: Size = field(default_factory=Size)
    redis_url: str | None = None  # None: a Redis of the stack's own
    public_port: int | None = None
    public_host: str = "127.0.0.1"
    event_queue: str | None = None  # default: BOT_EVENT_QUEUE
    extra_env: dict[str, str] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    ports: Ports = field(init=False)

    def __post_init__(self) -> None:
        own_redis = self.redis_url is None
        redis_port = free_port() if own_redis else (urlsplit(self.redis_url).port or 6379)
        self.ports = Ports(
            public=self.public_port or free_port(),
            rasa_balancer=free_port(),
            actions_balancer=free_port(),
            gateways=tuple(free_port() for _ in range(self.size.gateways)),
            rasa=tuple(free_port() for _ in range(self.size.rasa)),
            actions=tuple(free_port() for _ in range(self.size.actions)),
            redis=redis_port,
        )
        if own_redis:
            self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.own_redis = own_redis
        self.event_queue = self.event_queue or get_settings().event_queue
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)

    # --- where things are -------------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://{self.public_host}:{self.ports.public}"

    @property
    def rasa_url(self) -> str:
        """The Rasa balancer: what the gateways call."""
        return f"http://127.0.0.1:{self.ports.rasa_balancer}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions_balancer}"

    def gateway_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.gateways[index]}"

    def server_url(self, name: str) -> str:
        """A part's own URL by its name (rasa1, actions2, gateway1, ...)."""
        kind, number = name.rstrip("0123456789"), int(name[len(name.rstrip("0123456789")) :])
        port = {"rasa": self.ports.rasa, "actions": self.ports.actions, "gateway": self.ports.gateways}[kind]
        return f"http://127.0.0.1:{port[number - 1]}"

    @property
    def endpoints_file(self) -> Path:
        return self.folder / "endpoints.yml"

    @property
    def haproxy_file(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def admin_socket(self) -> Path:
        return self.folder / "haproxy.sock"

    def haproxy_command(self, command: str) -> str:
        """One command to HAProxy's runtime API; its answer."""
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.admin_socket))
            connection.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def serve_with(self, rasa_servers: int) -> None:
        """Only the first `rasa_servers` Rasa servers in the balancer's rotation; the rest in maintenance."""
        for number in range(1, self.size.rasa + 1):
            state = "ready" if number <= rasa_servers else "maint"
            self.haproxy_command(f"set server rasa_servers/rasa{number} state {state}")
            self.haproxy_command(f"set server rasa_servers/rasa{number}-open state {state}")  # its fail-open twin

    def rasa_headers(self) -> dict[str, str]:
        token = jwt.encode({"user": {"username": "scale", "role": "admin"}}, get_settings().rasa_jwt_secret, "HS256")
        return {"Authorization": f"Bearer {token}"}

    # --- the processes ----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """What every part of the stack sees: one database, one Redis, the balancers' URLs."""
        settings = get_settings()
        env = dict(os.environ)
        env.update(
            BOT_DATABASE_URL=self.database_url,
            BOT_TRACKER_DATABASE_URL=self.database_url,
            BOT_BROKER_URL=str(self.redis_url),
            BOT_RASA_URL=self.rasa_url,
            BOT_ACTION_SERVER_URL=self.actions_url,
            BOT_GATEWAY_HOST="127.0.0.1",
            BOT_TRUSTED_PROXIES="127.0.0.1",  # HAProxy, which adds X-Forwarded-For
            BOT_EVENT_QUEUE=str(self.event_queue),
            BOT_TRAINING_WARM_RUNNER="0",  # N gateways need no N training processes waiting
            RASA_TELEMETRY_ENABLED="false",
            # A Rasa server killed mid-turn leaves its ticket in the lock store: the conversation's next turns
            # wait for it to expire (Rasa's default 60 s; the chaos run measured p95 77 s after a kill). A turn
            # takes under a second, seconds when the machine is saturated: 20 s is still far above that.
            TICKET_LOCK_LIFETIME=os.environ.get("TICKET_LOCK_LIFETIME", "20"),
            **event_broker_environment(settings.event_broker_url),
        )
        env.update(self.extra_env)
        return env

    def names(self) -> list[str]:
        """Every part, in start order."""
        size = self.size
        return [
            *(["redis"] if self.own_redis else []),
            *(f"actions{n}" for n in range(1, size.actions + 1)),
            *(f"rasa{n}" for n in range(1, size.rasa + 1)),
            "haproxy",
            *(f"gateway{n}" for n in range(1, size.gateways + 1)),
        ]

    def command(self, name: str) -> list[str]:
        if name == "redis":
            return [REDIS_SERVER, "--port", str(self.ports.redis), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        if name == "haproxy":
            return [HAPROXY, "-db", "-f", str(self.haproxy_file)]
        port = self.server_url(name).rsplit(":", 1)[1]
        if name.startswith("rasa"):
            return bot_command("rasa", "--port", port, "--endpoints", str(self.endpoints_file))
        if name.startswith("actions"):
            return bot_command("actions", "--port", port)
        return bot_command("gateway", "--port", port)

    def write_config(self) -> None:
        redis = urlsplit(str(self.redis_url))
        self.endpoints_file.write_text(
            endpoints_yaml(redis.hostname or "127.0.0.1", redis.port or 6379, str(self.event_queue))
        )
        self.haproxy_file.write_text(haproxy_cfg(self.ports, self.public_host, str(self.admin_socket)))
        check = Child.start("haproxy-check", [HAPROXY, "-c", "-q", "-f", str(self.haproxy_file)], log_path=None)
        if check.process.wait(timeout=30) != 0:
            raise RuntimeError(f"HAProxy refuses {self.haproxy_file}")

    def start_part(self, name: str) -> Child:
        child = Child.start(
            name, self.command(name), cwd=PROJECT_ROOT, env=self.env(), log_path=self.folder / "logs" / f"{name}.log"
        )
        self.children[name] = child
        return child

    def start(self) -> None:
        self.write_config()
        for name in self.names():
            self.start_part(name)
            if name == "redis":
                self._wait(lambda: self.ready("redis"), "redis", 30)

    def ready(self, name: str) -> bool:
        """The part answers its own health check."""
        if name == "redis":
            import redis

            try:
                return bool(redis.Redis.from_url(str(self.redis_url), socket_timeout=1).ping())
            except redis.RedisError:
                return False
        if name == "haproxy":
            return answers(f"{self.public_url}/health", lambda status, _body: status in (200, 503))
        url = self.server_url(name)
        if name.startswith("rasa"):
            return rasa_ready(url, self.rasa_headers())
        if name.startswith("actions"):
            return actions_ready(url)
        return answers(f"{url}/health", lambda _s, body: body.get("parts", {}).get("gateway", {}).get("ok") is True)

    def healthy(self) -> bool:
        """The public port answers /health with every part ok."""
        return answers(f"{self.public_url}/health", lambda status, body: status == 200 and body.get("status") == "ok")

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS, names: Iterable[str] | None = None) -> float:
        """Until every named part (default all) answers and the public /health is ok; seconds it took."""
        started = time.monotonic()
        waiting = list(names or self.names())
        deadline = started + timeout
        while waiting or not self.healthy():
            for name in list(waiting):
                self.children[name].raise_if_exited()
                if self.ready(name):
                    waiting.remove(name)
            if time.monotonic() > deadline:
                missing = waiting or "public /health"
                raise TimeoutError(f"not ready after {timeout:.0f} s: {missing}; logs in {self.folder}")
            time.sleep(0.5)
        return time.monotonic() - started

    def _wait(self, ready: object, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            self.children[name].raise_if_exited()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout:.0f} s")
            time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL one part (its whole process group), as a crash would."""
        self.children[name].wait_or_kill(0)

    def restart(self, name: str) -> Child:
        """Start a part again, on its port, with its environment (after `kill`, or after it died)."""
        old = self.children.get(name)
        if old is not None and old.poll() is None:
            old.stop()
        return self.start_part(name)

    def dead(self) -> list[str]:
        return [name for name, child in self.children.items() if child.poll() is not None]

    def stop(self, grace: float = 20) -> None:
        # stop_all stops them one by one in reverse order: HAProxy first (no new customers), then gateways, Rasa,
        # actions, Redis.
        order = [name for name in self.names() if name != "haproxy"] + ["haproxy"]
        stop_all([self.children[name] for name in order if name in self.children], grace, log)
        self.children.clear()

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.folder / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
