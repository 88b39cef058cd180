"""`python -m bot bench --chaos [--short]`: customers hold conversations on the scaled stack while parts die.

At random moments (seeded; the seed is reported) it SIGKILLs one Rasa server, one action server and one
gateway, and kills and restarts the stack's Redis; each killed part is started again at once, as an
orchestrator would. Then every customer's stored transcript is read back (bench.chaos_clients.audit):
messages lost, duplicated, out of order, from another conversation; answered, "having trouble", or no
answer; and the p95 latency of the turns sent in the 30 s after each kill, beside the p95 before any.
The short form (CI) makes the same checks with fewer customers for less time, and asserts no timing.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import numpy as np

from bench.chaos_clients import TURN_SECONDS, Audit, ChaosCustomer, Turn
from bench.machine import load_average, machine_info
from bench.scaled import scaled_stack
from bench.scripts import LONG_CONVERSATION
from bot.identity import sign_customer_token
from bot.scale.stack import ScaledStack, Size

AFTER_KILL_SECONDS = 30.0
CUSTOMER_IDS = ("C-1001", "C-1002", "C-1003", "C-1005")
TARGETS = ("rasa", "actions", "gateway", "redis")


def _p95_ms(turns: list[Turn]) -> float | None:
    if not turns:
        return None
    waits = [(t.answered_at - t.sent_at) if t.answered_at else TURN_SECONDS for t in turns]
    return round(float(np.percentile(waits, 95)) * 1000, 1)


def _plan(duration: float, rng: random.Random) -> list[tuple[float, str]]:
    """Each target once, at a random moment in its own slot of the run's middle 80%."""
    order = list(TARGETS)
    rng.shuffle(order)
    slot = 0.8 * duration / len(order)
    return [(0.1 * duration + i * slot + rng.uniform(0, 0.5 * slot), target) for i, target in enumerate(order)]


async def _wait_ready(stack: ScaledStack, name: str, timeout: float = 300) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await asyncio.to_thread(stack.ready, name):
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.5)
    return None


async def run_chaos(
    stack: ScaledStack, customers: int, duration: float, seed: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    rng = random.Random(seed)
    texts = LONG_CONVERSATION.turns
    events: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        people = [
            ChaosCustomer(
                http, stack.public_url, sign_customer_token(CUSTOMER_IDS[n % len(CUSTOMER_IDS)]), "nb", f"c{n}"
            )
            for n in range(customers)
        ]
        started = time.monotonic()
        end = started + duration

        async def customer(person: ChaosCustomer, number: int) -> None:
            await asyncio.sleep(rng.uniform(0, 3))  # not all at once
            await person.open()
            index = number
            while time.monotonic() < end:
                await person.turn(texts[index % len(texts)])
                index += 1
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # a person reads and types

        async def back(event: dict[str, Any]) -> None:
            event["back_after_s"] = await _wait_ready(stack, event["part"])
            progress(f"{event['part']} ready again after {event['back_after_s']} s")

        waiting: list[asyncio.Task[None]] = []

        async def chaos_monkey() -> None:
            for at, target in _plan(duration, rng):
                await asyncio.sleep(max(0.0, started + at - time.monotonic()))
                count = {"rasa": stack.size.rasa, "actions": stack.size.actions, "gateway": stack.size.gateways}
                name = "redis" if target == "redis" else f"{target}{rng.randint(1, count[target])}"
                killed_at = time.monotonic()
                await asyncio.to_thread(stack.kill, name)
                progress(f"SIGKILL {name} at {killed_at - started:.0f} s; starting it again")
                if name == "redis":
                    await asyncio.sleep(1.0)  # a restart, not a crash loop
                await asyncio.to_thread(stack.restart, name)
                events.append({"part": name, "at_s": round(killed_at - started, 1), "killed_at": killed_at})
                waiting.append(asyncio.create_task(back(events[-1])))  # the next kill keeps its moment

        progress(f"{customers} customers for {duration:.0f} s; chaos seed {seed}")
        monkey = asyncio.create_task(chaos_monkey())
        await asyncio.gather(*(customer(person, n) for n, person in enumerate(people)))
        await monkey
        await asyncio.gather(*waiting)
        progress("the customers are done; reading every transcript back")
        for person in people:
            await person.close()
        total = Audit()
        for person in people:
            total.add(await person.audit())
    turns = [turn for person in people for turn in person.turns]
    first_kill = min((e["killed_at"] for e in events), default=end)
    for event in events:
        window = [t for t in turns if event["killed_at"] <= t.sent_at < event["killed_at"] + AFTER_KILL_SECONDS]
        event["p95_ms_next_30_s"] = _p95_ms(window)
        event["turns_next_30_s"] = len(window)
        event["trouble_next_30_s"] = sum(1 for t in window if t.outcome == "trouble")
        del event["killed_at"]
    live = {outcome: sum(1 for t in turns if t.outcome == outcome) for outcome in ("answered", "trouble", "none")}
    return {
        "customers": customers,
        "seconds": duration,
        "seed": seed,
        "turns": len(turns),
        "p95_ms_before_any_kill": _p95_ms([t for t in turns if t.sent_at < first_kill]),
        "events": events,
        "live_outcomes": live,
        "resends": sum(t.resends for t in turns),
        "reconnects": sum(person.reconnects for person in people),
        "transcripts": total.as_dict(),
    }


def chaos(short: bool, progress: Callable[[str], None], seed: int | None = None) -> dict[str, Any]:
    customers, duration = (10, 60.0) if short else (50, 180.0)
    seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine_info(), "short": short}
    with scaled_stack(Size(rasa=2, gateways=2, actions=2), progress) as stack:
        results["chaos"] = asyncio.run(run_chaos(stack, customers, duration, seed, progress))
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = load_average()
    return results


def clean(results: dict[str, Any]) -> bool:
    """Nothing lost, duplicated, out of order or from another conversation, and every message answered
    (by the bot, or honestly by the "having trouble" message)."""
    audit = results["transcripts"]
    return not any(audit[k] for k in ("lost", "duplicated", "out_of_order", "foreign", "unanswered"))
