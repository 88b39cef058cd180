"""Starting and watching child processes: the one copy that `python -m bot up` (bot/supervisor.py), the
benchmark (bench/stack.py) and the tests (tests/support.py) use.

Guarantees:
- A child runs in a session of its own (its own process group): a stop reaches the helpers it started
  too, and a Ctrl-C in the terminal reaches only the parent, which stops its children in order.
- A child's output goes either to a log file of its own (appended, stderr and stdout together) or to our
  stdout, each line prefixed with the child's name.
- `Child.stop` and `stop_all` send SIGTERM to the group, wait the grace period, then SIGKILL the group and
  wait for it, so nothing is left running or unreaped. Stopping a child that has already exited is a no-op.
  `stop_all` stops one child at a time, the last started first: a part stops while those it calls still run.
- The health checks never raise: a part that does not answer, answers an error or answers something
  that is not JSON is simply not ready.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from bot.settings import PROJECT_ROOT

log = logging.getLogger("bot.processes")

GRACE_SECONDS = 20  # from SIGTERM to SIGKILL


def free_port() -> int:
    """A port nothing listens on now, for a server we are about to start."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_command(*args: str) -> list[str]:
    """`python -m bot ARGS` with this interpreter."""
    return [sys.executable, "-m", "bot", *args]


class ChildExited(RuntimeError):
    """A child stopped while we were waiting for it (or for something that needs it)."""


class Child:
    """One named child process, started in a session of its own; see the module's guarantees."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log_path: Path | None, started_at: float):
        self.name = name
        self.process = process
        self.log_path = log_path
        self.started_at = started_at

    @classmethod
    def start(
        cls,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path = PROJECT_ROOT,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> Child:
        """Start `command`. With `log_path` its output is appended to that file; without, each line goes
        to our stdout as `    name | line`."""
        started_at = time.monotonic()
        if log_path is None:
            process = subprocess.Popen(
                list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            threading.Thread(target=_prefix_output, args=(name, process.stdout), daemon=True).start()
        else:
            with log_path.open("ab") as output:  # the child keeps its own copy of the descriptor
                process = subprocess.Popen(
                    list(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        return cls(name, process, log_path, started_at)

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process group's id."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def poll(self) -> int | None:
        """None while it runs, else its exit code."""
        return self.process.poll()

    def raise_if_exited(self) -> None:
        if self.poll() is not None:
            where = f"; log in {self.log_path}:\n{self.log_tail()}" if self.log_path else ""
            raise ChildExited(f"{self.name} exited with {self.returncode}{where}")

    def terminate(self) -> bool:
        """SIGTERM to the group if the child still runs; whether it was sent."""
        if self.poll() is not None:
            return False
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        return True

    def wait_or_kill(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the child to exit, then SIGKILL its group and reap it."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns once the child has exited."""
        if self.terminate():
            self.wait_or_kill(grace)

    def log_text(self) -> str:
        """Everything the child wrote to its log file ('' when it writes to our stdout)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def _prefix_output(name: str, stream: IO[bytes]) -> None:
    for raw in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>8} | {raw.decode(errors='replace')}")
        sys.stdout.flush()


def stop_all(children: Iterable[Child], grace: float = GRACE_SECONDS, logger: logging.Logger = log) -> None:
    """Stop the children one after another in reverse start order, each given `grace` seconds: the gateway
    (started last) finishes the turns it has in flight while Rasa and the action server still answer them,
    instead of losing them to a Rasa that stopped at the same moment."""
    for child in reversed(list(children)):
        if child.poll() is None:
            logger.info("stopping %s", child.name)
            started = time.monotonic()
            child.stop(grace)
            logger.info("%s stopped in %.1f s", child.name, time.monotonic() - started)


def get_json(url: str, headers: dict[str, str] | None = None, timeout: float = 3) -> tuple[int, Any]:
    """GET `url`: its status and JSON body. An HTTP error still gives its status and body (the gateway's 503
    says which parts are up), None when that body is not JSON. Raises OSError when nothing answers, and
    ValueError when a success is not JSON."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, None


def answers(
    url: str, ok: Callable[[int, Any], bool], headers: dict[str, str] | None = None, timeout: float = 3
) -> bool:
    """Whether `url` answers and `ok(status, body)` holds; never raises."""
    try:
        return bool(ok(*get_json(url, headers, timeout)))
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def actions_ready(actions_url: str) -> bool:
    """The action server answers its /health with status ok."""
    return answers(f"{actions_url}/health", lambda status, body: status == 200 and body.get("status") == "ok", None, 2)


def rasa_ready(rasa_url: str, headers: dict[str, str]) -> bool:
    """Rasa answers /status (it needs an admin JWT in `headers`) with a loaded model."""
    return answers(f"{rasa_url}/status", lambda status, body: status == 200 and bool(body.get("model_id")), headers, 2)


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    failure: str,
    watch: Iterable[Child] = (),
    interval: float = 0.2,
) -> None:
    """Poll `ready` every `interval` seconds until it holds. Raises ChildExited as soon as a watched child
    exits, and TimeoutError(failure) after `timeout` seconds."""
    watch = list(watch)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        for child in watch:
            child.raise_if_exited()
        time.sleep(interval)
    raise TimeoutError(failure)
