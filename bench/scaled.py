"""`python -m bot bench --scale`: answered messages per second with 1, 2 (and 4) Rasa servers, side by side
in one run, on the scaled stack (bot/scale/): 2 gateways and 2 action servers behind HAProxy, PostgreSQL,
a Redis of the stack's own, RabbitMQ.

Side by side: one stack with every Rasa server started; HAProxy's runtime API puts all but N of them in
maintenance for each measurement, and the levels take turns over several rounds, so whatever else the
machine does weighs on each level alike. Customers are closed-loop widgets through HAProxy's public port
(bench.load.concurrent on the gateway path), each sending its next message once the last is answered.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from bench import cpu_split
from bench.clients import Endpoints
from bench.load import concurrent
from bench.machine import load_average, machine_info
from bench.scripts import LONG_CONVERSATION
from bot.scale.services import create_database, drop_database, drop_queue
from bot.scale.stack import ScaledStack, Size
from bot.settings import get_settings

# Closed-loop benchmark customers send far faster than people and all come from 127.0.0.1 (bench/stack.py).
BENCH_LIMITS = {
    "BOT_MAX_MESSAGES_PER_MINUTE": "100000",
    "BOT_MAX_NEW_CONVERSATIONS_PER_ADDRESS": "1000000",
    "BOT_MAX_MESSAGES_PER_ADDRESS": "1000000",
    "BOT_MAX_SOCKETS_PER_ADDRESS": "100000",
    "BOT_MAX_HELLOS_PER_SOCKET": "100000",
}


@contextmanager
def scaled_stack(
    size: Size, progress: Callable[[str], None], env: dict[str, str] | None = None
) -> Iterator[ScaledStack]:
    """A scaled stack of the benchmark's own (database, Redis, event queue), removed afterwards; `env`
    adds settings for its processes."""
    name = f"varde_bench_scale_{secrets.token_hex(4)}"
    folder = Path(tempfile.mkdtemp(prefix="varde-scale-"))
    progress(f"database {name}, migrated and seeded")
    queue, extra_env = f"varde_events_{name}", {**BENCH_LIMITS, **(env or {})}
    stack = ScaledStack(folder, create_database(name), size, event_queue=queue, extra_env=extra_env)
    try:
        progress(f"starting {', '.join(stack.names())} (logs in {folder}/logs)")
        stack.start()
        seconds = stack.wait_ready()
        progress(f"ready after {seconds:.0f} s")
        yield stack
    finally:
        stack.stop()
        drop_database(name)
        drop_queue(get_settings().event_broker_url, str(stack.event_queue))


def endpoints(stack: ScaledStack) -> Endpoints:
    public = stack.public_url
    return Endpoints(
        rest=f"{stack.rasa_url}/webhooks/rest/webhook",
        channel=f"{stack.rasa_url}/webhooks/gateway/webhook",
        gateway_ws=public.replace("http://", "ws://") + "/ws",
        gateway_origin=public,
        rasa_headers=stack.rasa_headers(),
    )


async def _throughput(
    stack: ScaledStack, levels: tuple[int, ...], customers: int, seconds: float, rounds: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:  # fmt: skip
    per_level: dict[int, list[dict[str, Any]]] = {level: [] for level in levels}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        progress("warming up every Rasa server (first turns are slow)")
        stack.serve_with(stack.size.rasa)
        await concurrent(http, endpoints(stack), "gateway", 2 * stack.size.rasa, 10, first=900)
        first = 0
        for round_number in range(rounds):
            order = levels if round_number % 2 == 0 else tuple(reversed(levels))
            for level in order:
                stack.serve_with(level)
                await asyncio.sleep(2.5)  # HAProxy applies it at once; let the previous turns drain
                before = cpu_split.snapshot(stack_parts(stack))
                try:
                    run = await concurrent(http, endpoints(stack), "gateway", customers, seconds, first=first)
                except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError) as error:
                    # A customer who could not connect ends this measurement; it is reported, the run goes on.
                    progress(f"round {round_number + 1}: {level} Rasa failed: {type(error).__name__}: {error}")
                    per_level[level].append({"error": repr(error), "latency": {}, "delivery": {}})
                    continue
                first += customers
                summary: dict[str, Any] = run.summary()
                after = cpu_split.snapshot(stack_parts(stack))
                summary["cpu_ms_per_message"] = cpu_split.per_message(before, after, sum(t.ok for t in run.turns))
                per_level[level].append(summary)
                progress(
                    f"round {round_number + 1}: {level} Rasa: {summary.get('throughput_msg_s')} answered msg/s, "
                    f"p50 {summary['latency'].get('p50_ms')} ms, delivery {summary['delivery']}"
                )
        stack.serve_with(stack.size.rasa)
    result: dict[str, Any] = {}
    for level, runs in per_level.items():
        rates = [float(run.get("throughput_msg_s") or 0) for run in runs]
        result[str(level)] = {
            "throughput_msg_s": round(sum(rates) / len(rates), 2),
            "rounds_msg_s": rates,
            "p50_ms": [run["latency"].get("p50_ms") for run in runs],
            "p95_ms": [run["latency"].get("p95_ms") for run in runs],
            "delivery": [run["delivery"] for run in runs],
            "cpu_ms_per_message": _mean_split([run.get("cpu_ms_per_message") or {} for run in runs]),
        }
    base = result[str(levels[0])]["throughput_msg_s"] or 1
    for level in levels:
        result[str(level)]["vs_one"] = round(result[str(level)]["throughput_msg_s"] / base, 2)
    return result


def stack_parts(stack: ScaledStack) -> dict[str, list[int]]:
    """The stack's processes by part: rasa, actions, gateway, haproxy, redis (numbered names grouped)."""
    parts: dict[str, list[int]] = {}
    for name, child in stack.children.items():
        parts.setdefault(name.rstrip("0123456789"), []).append(child.process.pid)
    return parts


def _mean_split(splits: list[dict[str, float]]) -> dict[str, float]:
    splits = [split for split in splits if split]
    keys = sorted({key for split in splits for key in split})
    return {key: round(sum(split.get(key, 0.0) for split in splits) / len(splits), 3) for key in keys} if splits else {}


def throughput(short: bool, rasa_levels: tuple[int, ...], progress: Callable[[str], None]) -> dict[str, Any]:
    customers, seconds, rounds = (20, 10.0, 1) if short else (40, 30.0, 2)
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "plan": {"rasa_levels": rasa_levels, "customers": customers, "seconds_per_level": seconds, "rounds": rounds,
                 "gateways": 2, "action_servers": 2},
    }  # fmt: skip
    with scaled_stack(Size(rasa=max(rasa_levels), gateways=2, actions=2), progress) as stack:
        results["throughput"] = asyncio.run(_throughput(stack, rasa_levels, customers, seconds, rounds, progress))
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = load_average()
    return results


async def _length(stack: ScaledStack, turns: int) -> dict[str, Any]:
    """One conversation of `turns` turns straight to Rasa's REST channel; each turn timed."""
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    texts = LONG_CONVERSATION.turns
    sender = f"length-{secrets.token_hex(6)}"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        for index in range(turns):
            body = {"sender": sender, "message": texts[index % len(texts)], "metadata": {"language": "nb"}}
            started = time.monotonic()
            async with http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=60)) as response:
                await response.read()
            latencies.append(time.monotonic() - started)
        async with http.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker?include_events=ALL", headers=stack.rasa_headers()
        ) as response:
            events = (await response.json())["events"]
    ms = np.array(latencies) * 1000
    return {
        "growth_ms_per_100_turns": round(float(np.polyfit(np.arange(len(ms)), ms, 1)[0]) * 100, 1),
        "p50_ms_per_window": [round(float(np.median(ms[i : i + 20])), 1) for i in range(0, len(ms), 20)],
        "sessions": sum(event.get("event") == "session_started" for event in events),
    }


def conversation_length(short: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    """The same long conversation on a stack with one session per conversation (BOT_SESSION_MAX_TURNS=0, as
    before bot/session_rollover.py) and on one that starts a new session at rest every `max_turns`."""
    turns, max_turns = (60, 20) if short else (200, get_settings().session_max_turns)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine_info(), "length": {"turns": turns, "max_turns": max_turns}}
    for name, limit in (("one_session", 0), ("new_session_at_rest", max_turns)):
        size, env = Size(rasa=1, gateways=1, actions=1), {"BOT_SESSION_MAX_TURNS": str(limit)}
        with scaled_stack(size, progress, env) as stack:
            progress(f"{name}: one conversation of {turns} turns (BOT_SESSION_MAX_TURNS={limit})")
            results["length"][name] = asyncio.run(_length(stack, turns))
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = load_average()
    return results
