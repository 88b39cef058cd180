"""bench/cpu_split.py: CPU time per part of the scaled stack, read from /proc, per answered message."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import cpu_split
from bench.procinfo import children


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


# A part that says it has started (with its process id), spins 0.4 s of CPU when told to, says so, then
# waits to be killed; run under a parent that only waits for it, so the parent's part counts it too.
_SPINNER = """
import os, sys, time
print(os.getpid(), flush=True)
sys.stdin.readline()
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
print("done", flush=True)
time.sleep(60)
"""
_PARENT = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]])"


def test_a_busy_part_and_this_process_show_their_cpu_per_message() -> None:
    command = [sys.executable, "-c", _PARENT, _SPINNER]
    parent = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdin is not None and parent.stdout is not None
        spinner = int(parent.stdout.readline())  # both interpreters have started: their start-up is not counted
        parts = {"rasa": [spinner], "gateway": [parent.pid]}
        before = cpu_split.snapshot(parts)
        parent.stdin.write("go\n")
        parent.stdin.flush()
        _spin(0.3)
        assert parent.stdout.readline().strip() == "done"
        after = cpu_split.snapshot(parts)
    finally:
        for pid in children(parent.pid):
            os.kill(pid, 9)
        parent.kill()
        parent.wait()
    split = cpu_split.per_message(before, after, answered=10)
    # /proc counts in clock ticks (10 ms): 0.3-0.4 s of CPU over 10 messages is 30-40 ms each, give or take.
    assert 35 <= split["rasa"] <= 50
    assert 25 <= split["customers"] <= 45  # this process alone
    assert 35 <= split["gateway"] <= 50  # a part counts with its descendants: the parent waits, its child spins
    assert split["all"] == round(sum(v for k, v in split.items() if k not in ("all", "cores_busy_share")), 1)
    assert 0 < split["cores_busy_share"] <= 1


def test_no_answered_message_gives_no_split() -> None:
    snapshot = cpu_split.snapshot({})
    assert cpu_split.per_message(snapshot, snapshot, answered=0) == {}
