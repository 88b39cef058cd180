"""`stop_all` stops a part only after the part started after it has exited: the gateway drains while Rasa
still answers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.processes import Child, stop_all

# On SIGTERM: note the moment, take `linger` seconds (a gateway finishing its turns), note it again, exit.
PART = """
import signal, sys, time
name, linger, folder = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def stop(*_):
    open(f"{folder}/{name}.term", "w").write(repr(time.time()))
    time.sleep(linger)
    open(f"{folder}/{name}.exit", "w").write(repr(time.time()))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(f"{folder}/{name}.ready", "w").close()
while True:
    time.sleep(0.05)
"""


def start(name: str, linger: float, folder: Path) -> Child:
    child = Child.start(name, [sys.executable, "-c", PART, name, str(linger), str(folder)], log_path=folder / "log")
    deadline = time.monotonic() + 20
    while not (folder / f"{name}.ready").exists():
        assert time.monotonic() < deadline and child.poll() is None, child.log_text()
        time.sleep(0.05)
    return child


def moment(folder: Path, name: str, what: str) -> float:
    return float((folder / f"{name}.{what}").read_text())


def test_the_last_started_stops_first_and_the_others_wait_for_it(tmp_path: Path) -> None:
    children = [start("actions", 0, tmp_path), start("rasa", 0, tmp_path), start("gateway", 0.8, tmp_path)]
    stop_all(children, grace=10)
    assert all(child.poll() is not None for child in children)
    # Rasa heard nothing until the gateway had finished; the action server nothing until Rasa had.
    assert moment(tmp_path, "rasa", "term") >= moment(tmp_path, "gateway", "exit")
    assert moment(tmp_path, "actions", "term") >= moment(tmp_path, "rasa", "exit")


def test_a_part_that_ignores_sigterm_is_killed_after_the_grace_and_the_rest_still_stop(tmp_path: Path) -> None:
    children = [start("rasa", 0, tmp_path), start("gateway", 60, tmp_path)]
    started = time.monotonic()
    stop_all(children, grace=1)
    assert time.monotonic() - started < 10
    assert all(child.poll() is not None for child in children)
    assert not (tmp_path / "gateway.exit").exists()  # killed while it lingered
    assert (tmp_path / "rasa.exit").exists()
