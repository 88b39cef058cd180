"""Driving the paths: sequential turns interleaved across paths, and closed-loop customers at once.

Sequential: one turn at a time, the paths taking turns (rest, channel, gateway, in rotating order),
so that whatever else the machine is doing disturbs each path alike; the ratio of their p50s is the
gateway's overhead. Concurrent: N customers on one path, each sending its next message as soon as the
previous one is answered (no think time), for a fixed time; turns per second is the throughput.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.clients import Conversation, Endpoints, TurnResult, new_conversation
from bench.ledger import Ledger
from bench.scripts import script_for
from bench.stats import summarize


@dataclass
class Run:
    """The turns of one path in one measurement, with its ledger and conversations (for the checks)."""

    path: str
    turns: list[TurnResult] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    conversations: list[Conversation] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        ok = [turn.latency for turn in self.turns if turn.ok]
        # What the customers waited, answered or told "having trouble" (the gateway gives up after
        # BOT_RASA_TIMEOUT); the throughput counts real answers only.
        result: dict[str, object] = {"latency": summarize([turn.latency for turn in self.turns])}
        for span in ("echo", "typing_on", "first_reply"):
            values = [getattr(t, span) for t in self.turns if t.ok and getattr(t, span) is not None]
            if values:
                result[span] = summarize(values)
        if self.seconds > 0:
            result["seconds"] = round(self.seconds, 2)
            result["throughput_msg_s"] = round(len(ok) / self.seconds, 2)
        result["delivery"] = self.ledger.as_dict()
        return result


async def sequential(
    http: aiohttp.ClientSession, endpoints: Endpoints, paths: Sequence[str], conversations: int, first: int = 0
) -> dict[str, Run]:
    """`conversations` whole scripted conversations per path, turn by turn, the paths interleaved."""
    runs = {path: Run(path) for path in paths}
    for number in range(first, first + conversations):
        script = script_for(number)
        open_now = {path: new_conversation(path, http, endpoints, script, runs[path].ledger) for path in paths}
        for conversation in open_now.values():
            await conversation.open()
            runs[conversation.path].conversations.append(conversation)
        for index, text in enumerate(script.turns):
            shift = (number + index) % len(paths)  # no path always goes first (right after another's turn)
            for path in [*paths[shift:], *paths[:shift]]:
                runs[path].turns.append(await open_now[path].turn(text))
        for conversation in open_now.values():
            await conversation.close()
    return runs


async def concurrent(
    http: aiohttp.ClientSession, endpoints: Endpoints, path: str, customers: int, seconds: float, first: int = 0
) -> Run:
    """`customers` at once on one path for `seconds`; each starts a new conversation when its script ends."""
    import asyncio

    run = Run(path)
    started = time.monotonic()
    stop_at = started + seconds

    async def customer(number: int) -> None:
        script = script_for(number)
        while time.monotonic() < stop_at:
            conversation = new_conversation(path, http, endpoints, script, run.ledger)
            run.conversations.append(conversation)
            await conversation.open()
            try:
                for text in script.turns:
                    if time.monotonic() >= stop_at:
                        break
                    run.turns.append(await conversation.turn(text))
            finally:
                await conversation.close()

    await asyncio.gather(*(customer(first + number) for number in range(customers)))
    run.seconds = time.monotonic() - started
    return run
