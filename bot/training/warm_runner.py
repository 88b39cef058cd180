"""One training process kept ready, so a trainer's retrain doesn't wait for Rasa and TensorFlow to import.

`take()` hands out the ready runner (bot.training.rasa_runner --wait) when there is one for the
workspace, or starts a new one; `prepare()` starts the next one after a job, while nobody waits. Each
runner does one job and exits, so nothing carries over from one training to the next. At most one
runner waits at a time (~0.5 GB): preparing one for another workspace ends the old one.
"""

from __future__ import annotations

import atexit
import logging
import subprocess
import sys
import threading
import time

from bot.settings import get_settings
from bot.training.rasa_runner import READY_MARKER
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")

Runner = subprocess.Popen  # a `rasa_runner --wait` child: write its job to stdin, read its output

_lock = threading.Lock()
_ready: tuple[tuple[str, ...], Runner] | None = None  # (workspace key, runner)


def _key(workspace: Workspace) -> tuple[str, ...]:
    env = workspace.rasa_env()
    return (str(workspace.root), *(f"{name}={env[name]}" for name in sorted(env)))


def _start(workspace: Workspace) -> Runner:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.training.rasa_runner", "--wait"],
        cwd=workspace.root,
        env=workspace.rasa_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
    )


def take(workspace: Workspace) -> tuple[Runner, bool]:
    """A runner for a job, and whether it was started ahead (warm); the job goes to its stdin."""
    global _ready
    with _lock:
        ready, _ready = _ready, None
    if ready is not None:
        key, runner = ready
        if key == _key(workspace) and runner.poll() is None:
            return runner, True
        _stop(runner)
    return _start(workspace), False


def prepare(workspace: Workspace) -> None:
    """Have a runner ready for the workspace's next job (no-op when one is, or when turned off)."""
    global _ready
    if not get_settings().training_warm_runner:
        return
    key = _key(workspace)
    with _lock:
        if _ready is not None and _ready[0] == key and _ready[1].poll() is None:
            return
        old, _ready = _ready, (key, _start(workspace))
    if old is not None:
        _stop(old[1])
    log.info("a training process is warming up for the next retrain in %s", workspace.root)


def wait_ready(workspace: Workspace, timeout: float = 120) -> bool:
    """Wait until the kept runner for the workspace has imported everything (for measurements: a trainer
    on the models page gives it that time). Its start-up output so far is skipped, not logged."""
    with _lock:
        ready = _ready
    if ready is None or ready[0] != _key(workspace) or ready[1].stdout is None:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = ready[1].stdout.readline()
        if not line:
            return False  # it ended
        if line.startswith(READY_MARKER):
            return True
    return False


def _stop(runner: Runner) -> None:
    """End a waiting runner; it has no job, so nothing is lost."""
    runner.kill()
    runner.wait()
    for pipe in (runner.stdin, runner.stdout):
        if pipe is not None:
            pipe.close()


@atexit.register
def discard() -> None:
    """Let the waiting runner go (at exit, and in tests)."""
    global _ready
    with _lock:
        ready, _ready = _ready, None
    if ready is not None:
        _stop(ready[1])
