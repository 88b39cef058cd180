"""bench/cpu_split.py: CPU time per part of the scaled stack, read from /proc, per answered message."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import cpu_split


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


# A part that spins 0.4 s of CPU when told to, says so, then waits to be killed.
_PART = """
import sys, time
sys.stdin.readline()
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
print("done", flush=True)
time.sleep(60)
"""


def test_a_busy_part_and_this_process_show_their_cpu_per_message() -> None:
    part = subprocess.Popen([sys.executable, "-c", _PART], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        parts = {"rasa": [part.pid], "gateway": [os.getpid()]}
        before = cpu_split.snapshot(parts)
        assert part.stdin is not None and part.stdout is not None
        part.stdin.write("go\n")
        part.stdin.flush()
        _spin(0.3)
        assert part.stdout.readline().strip() == "done"
        after = cpu_split.snapshot(parts)
    finally:
        part.kill()
        part.wait()
    split = cpu_split.per_message(before, after, answered=10)
    # /proc counts in clock ticks (10 ms): 0.3-0.4 s of CPU over 10 messages is 30-40 ms each, give or take.
    assert 35 <= split["rasa"] <= 50
    assert 25 <= split["customers"] <= 45  # this process alone
    assert 60 <= split["gateway"] <= 85  # a part counts with its descendants: this process and the spinning one
    assert split["all"] == round(sum(v for k, v in split.items() if k not in ("all", "cores_busy_share")), 1)
    assert 0 < split["cores_busy_share"] <= 1


def test_no_answered_message_gives_no_split() -> None:
    snapshot = cpu_split.snapshot({})
    assert cpu_split.per_message(snapshot, snapshot, answered=0) == {}
