"""How latency grows: with the length of one conversation, and with the number of stored conversations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import numpy as np

from bench.clients import Endpoints, new_conversation
from bench.fill import fill, stored_conversations
from bench.load import Run, sequential
from bench.scripts import LONG_CONVERSATION
from bench.stats import summarize

WINDOW = 10  # turns per point of the curve: the median of 10 turns is steadier than one turn
MIN_TURNS_FOR_SLOPE = 50  # a slope over fewer turns is mostly noise


async def long_conversation(
    http: aiohttp.ClientSession, endpoints: Endpoints, paths: Sequence[str], turns: int
) -> tuple[dict[str, Any], dict[str, Run]]:
    """One conversation per path, `turns` long, the paths taking turns; latency per window of turns."""
    runs = {path: Run(path) for path in paths}
    open_now = {path: new_conversation(path, http, endpoints, LONG_CONVERSATION, runs[path].ledger) for path in paths}
    for conversation in open_now.values():
        await conversation.open()
        runs[conversation.path].conversations.append(conversation)
    texts = LONG_CONVERSATION.turns
    for index in range(turns):
        shift = index % len(paths)
        for path in [*paths[shift:], *paths[:shift]]:
            runs[path].turns.append(await open_now[path].turn(texts[index % len(texts)]))
    for conversation in open_now.values():
        await conversation.close()
    result: dict[str, Any] = {"turns": turns, "window": WINDOW, "paths": {}}
    for path, run in runs.items():
        ms = [round(turn.latency * 1000, 1) for turn in run.turns]
        windows = [
            {"turns": f"{start + 1}-{start + WINDOW}", "p50_ms": summarize(
                [t.latency for t in run.turns[start : start + WINDOW]])["p50_ms"]}
            for start in range(0, turns - WINDOW + 1, WINDOW)
        ]  # fmt: skip
        # Least-squares slope over every turn: how much a turn's latency grows per 100 turns before it.
        slope = float(np.polyfit(np.arange(len(ms)), ms, 1)[0]) * 100 if len(ms) >= MIN_TURNS_FOR_SLOPE else None
        result["paths"][path] = {
            "windows": windows,
            "growth_ms_per_100_turns": round(slope, 1) if slope is not None else None,
            "latency_ms": ms,
            "delivery": run.ledger.as_dict(),
        }
    return result, runs


async def stored_conversations_curve(
    http: aiohttp.ClientSession,
    endpoints: Endpoints,
    paths: Sequence[str],
    database_url: str,
    template_id: str,
    checkpoints: Sequence[int],
    conversations_per_point: int,
    progress: Callable[[str], None],
) -> tuple[dict[str, Any], list[Run]]:
    """Latency with the stores holding ever more conversations (copies of a real one, see bench.fill)."""
    points: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    all_runs: list[Run] = []
    for target in checkpoints:
        have = stored_conversations(database_url)["tracker_store"]
        if target > have:
            progress(f"storing {target - have} more conversations (to {target})")
            fills.append(fill(database_url, template_id, target - have))
        stored = stored_conversations(database_url)
        progress(f"measuring with {stored['tracker_store']} conversations stored")
        runs = await sequential(http, endpoints, paths, conversations_per_point, first=target)
        all_runs += runs.values()
        points.append({"stored": stored, **{path: run.summary()["latency"] for path, run in runs.items()}})
    return {"points": points, "fills": fills}, all_runs
