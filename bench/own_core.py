"""`python -m bot bench --own-core`: one Rasa server's rate on the scaled stack with the cores shared, and with a
core of its own (every other process of the stack and the machine's PostgreSQL and RabbitMQ held to the
other cores), taking turns.

Why: issue 15 asks two Rasa servers for 1.6 times one. If one server were held back by sharing the two cores
with the rest of the stack, a core of its own would raise its rate; if it is bound by its own serial work (its
one event loop, with Rasa's synchronous tracker and lock stores), its rate stays, and two servers can give
at most the machine's bound (bench/cpu_split.py) divided by it (README, Scale).

Affinity is set per thread (/proc/<pid>/task) and put back to every core afterwards, also on failure: the
machine's services are shared with everything else that runs here.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench import cpu_split
from bench.load import concurrent
from bench.machine import load_average, machine_info
from bench.procinfo import children, named
from bench.scaled import endpoints, scaled_stack, stack_parts
from bot.scale.stack import ScaledStack, Size

SERVICES = ("postgres", "beam.smp", "epmd")  # the machine's PostgreSQL and RabbitMQ (and its port mapper)


def _threads(pids: Iterable[int]) -> Iterator[int]:
    for pid in pids:
        for process in (pid, *children(pid)):
            try:
                yield from (int(task.name) for task in Path(f"/proc/{process}/task").iterdir())
            except OSError:
                continue  # gone meanwhile


def _set(pids: Iterable[int], cores: set[int]) -> None:
    for thread in _threads(pids):
        try:
            os.sched_setaffinity(thread, cores)
        except OSError:
            continue  # gone meanwhile


@contextmanager
def own_core(rasa: list[int], rest: list[int], services: Iterable[str] = SERVICES) -> Iterator[None]:
    """The Rasa server's threads on core 0, and every other process (this one and the machine's `services`
    too) on the other cores, for the with-block; then every process on every core again."""
    every = set(range(os.cpu_count() or 1))

    def running() -> list[int]:  # a service may have started processes meanwhile (PostgreSQL's backends)
        return [pid for name in services for pid in named(name)]

    try:
        _set(rest + running() + [os.getpid()], every - {0})
        _set(rasa, {0})
        yield
    finally:
        _set(rasa + rest + running() + [os.getpid()], every)


async def _level(stack: ScaledStack, customers: int, seconds: float, first: int) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        before = cpu_split.snapshot(stack_parts(stack))
        run = await concurrent(http, endpoints(stack), "gateway", customers, seconds, first=first)
        after = cpu_split.snapshot(stack_parts(stack))
    summary: dict[str, Any] = run.summary()
    summary["cpu_ms_per_message"] = cpu_split.per_message(before, after, sum(turn.ok for turn in run.turns))
    return summary


def measure(short: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    customers, seconds, rounds = (20, 10.0, 1) if short else (40, 30.0, 2)
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "plan": {"customers": customers, "seconds_per_level": seconds, "rounds": rounds, "gateways": 2,
                 "action_servers": 2, "rasa_servers": 1},
        "shared": [], "own_core": [],
    }  # fmt: skip
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("--own-core needs at least 2 cores")
    with scaled_stack(Size(rasa=1, gateways=2, actions=2), progress) as stack:
        rasa = [stack.children["rasa1"].process.pid]
        rest = [child.process.pid for name, child in stack.children.items() if name != "rasa1"]
        progress("warming up the Rasa server")
        asyncio.run(_level(stack, 2, 10.0, 900))
        first = 0
        for round_number in range(rounds):
            for kind in ("shared", "own_core") if round_number % 2 == 0 else ("own_core", "shared"):
                if kind == "own_core":
                    with own_core(rasa, rest):
                        summary = asyncio.run(_level(stack, customers, seconds, first))
                else:
                    summary = asyncio.run(_level(stack, customers, seconds, first))
                first += customers
                results[kind].append(summary)
                progress(f"round {round_number + 1}, {kind}: {summary.get('throughput_msg_s')} answered msg/s, "
                         f"p50 {summary['latency'].get('p50_ms')} ms, delivery {summary['delivery']}")  # fmt: skip
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = load_average()
    return results
