"""bench/own_core.py: one process's threads held to core 0 and the others' to the rest, then all set free."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.own_core import own_core

# A process with a second thread, both waiting: affinity is per thread, so both must move.
_TWO_THREADS = """
import threading, time
threading.Thread(target=time.sleep, args=(60,)).start()
print(1, flush=True)
time.sleep(60)
"""

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")


@pytest.fixture
def two() -> Iterator[tuple[int, int]]:
    processes = [subprocess.Popen([sys.executable, "-c", _TWO_THREADS], stdout=subprocess.PIPE) for _ in range(2)]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline()  # its thread has started
        yield processes[0].pid, processes[1].pid
    finally:
        for process in processes:
            process.kill()
            process.wait()


def affinities(pid: int) -> list[set[int]]:
    return [os.sched_getaffinity(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()]


def test_the_rasa_server_gets_core_0_and_everything_else_the_other_cores_until_the_end(two: tuple[int, int]) -> None:
    rasa, other = two
    every = set(range(os.cpu_count() or 1))
    with own_core([rasa], [other], services=()):
        assert affinities(rasa) == [{0}, {0}]
        assert affinities(other) == [every - {0}, every - {0}]
        assert os.sched_getaffinity(0) == every - {0}  # the benchmark's customers too
    assert affinities(rasa) == affinities(other) == [every, every]
    assert os.sched_getaffinity(0) == every


def test_every_core_is_given_back_when_the_measurement_fails(two: tuple[int, int]) -> None:
    rasa, other = two
    every = set(range(os.cpu_count() or 1))
    with pytest.raises(RuntimeError), own_core([rasa], [other], services=()):
        raise RuntimeError("the measurement failed")
    assert affinities(rasa) == affinities(other) == [every, every]
    assert os.sched_getaffinity(0) == every
