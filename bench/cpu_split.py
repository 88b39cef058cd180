"""Where the cores went during a measurement of the scaled stack: CPU time per part, from /proc.

Why: throughput on one machine is bounded by the CPU all the parts need per answered message, not by the
Rasa servers alone. With N Rasa servers on C cores, answered msg/s <= C / (CPU seconds of all parts per
message); one Rasa server (one Python event loop, one core at most) also <= 1 / (its CPU per message). The
split per part says which bound holds and what more Rasa servers can give here (README, Scale).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.procinfo import children, cpu_seconds, named

# Shared services of the machine, found by process name (the stack's own Redis is one of its parts).
SERVICES = {"postgresql": "postgres", "rabbitmq": "beam.smp"}


def _machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot, from /proc/stat's first line."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True)
class Snapshot:
    seconds: dict[str, float]  # CPU seconds used so far, per part
    busy_ticks: int
    all_ticks: int


def snapshot(parts: Mapping[str, Iterable[int]]) -> Snapshot:
    """CPU seconds so far of each part (its processes and their descendants), the shared services, this
    process (the benchmark's customers), and the machine's busy and total ticks."""
    seconds = {}
    for part, pids in parts.items():
        seconds[part] = sum(cpu_seconds(pid) + sum(cpu_seconds(c) for c in children(pid)) for pid in pids)
    for part, name in SERVICES.items():
        seconds[part] = sum(cpu_seconds(pid) for pid in named(name))
    seconds["customers"] = cpu_seconds(os.getpid())
    busy, total = _machine_ticks()
    return Snapshot(seconds, busy, total)


def per_message(before: Snapshot, after: Snapshot, answered: int) -> dict[str, float]:
    """ms of CPU per answered message for each part and in all, and the share of the cores that was busy."""
    if answered <= 0:
        return {}
    split = {
        part: round(max(after.seconds.get(part, 0.0) - used, 0.0) * 1000 / answered, 1)
        for part, used in before.seconds.items()
    }
    split["all"] = round(sum(split.values()), 1)
    ticks = after.all_ticks - before.all_ticks
    split["cores_busy_share"] = round((after.busy_ticks - before.busy_ticks) / ticks, 3) if ticks else 0.0
    return split
