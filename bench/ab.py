"""`python -m bench.ab CHECKOUT [CHECKOUT ...]`: the same conversations through several checkouts at once.

For a change's effect on latency, on a machine others use too: each checkout (e.g. `git worktree add`
of two commits, each with its models/varde.tar.gz) gets a whole stack of its own (action server, Rasa,
gateway, database); then every turn of every scripted conversation goes through each checkout's REST
channel, our channel and gateway in turn, so whatever else the machine does hits them all alike. The
delivery checks of bench.verify run on all of them. Prints p50/p95 per checkout and path, as JSON too,
and each part's CPU per turn (ms, /proc): the action server's, Rasa's and (with --database postgresql)
the checkout's PostgreSQL backends' over the measured turns of all paths, the gateway's over its own
path's. Turns take turns, so a busy neighbour slows every checkout alike and the difference is the
change's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from bench.clients import PATHS, Conversation, Endpoints, TurnResult, new_conversation
from bench.cpu_split import Snapshot, per_message, snapshot
from bench.ledger import Ledger
from bench.machine import load_average
from bench.scripts import script_for
from bench.stack import PARTS, Database, Stack
from bench.stats import summarize
from bench.verify import verify

WARM_UP_CONVERSATIONS = 4


def endpoints(stack: Stack) -> Endpoints:
    rasa, gateway = stack.rasa_url, stack.gateway_url
    return Endpoints(
        f"{rasa}/webhooks/rest/webhook",
        f"{rasa}/webhooks/gateway/webhook",
        gateway.replace("http://", "ws://") + "/ws",
        gateway,
        stack.rasa_headers(),
    )


async def interleaved(stacks: dict[str, Stack], conversations: int) -> dict[str, Any]:
    turns: dict[tuple[str, str], list[TurnResult]] = {(n, p): [] for n in stacks for p in PATHS}
    ledgers = {name: Ledger() for name in stacks}
    made: dict[str, list[Conversation]] = {name: [] for name in stacks}
    cpu_before: dict[str, Snapshot] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for number in range(-WARM_UP_CONVERSATIONS, conversations):
            script = script_for(number)
            if number == 0:
                cpu_before = {name: parts_cpu(stack) for name, stack in stacks.items()}
            now: dict[tuple[str, str], Conversation] = {}
            for name, stack in stacks.items():
                for path in PATHS:
                    conversation = new_conversation(path, http, endpoints(stack), script, ledgers[name])
                    await conversation.open()
                    now[(name, path)] = conversation
                    made[name].append(conversation)
            keys = list(now)
            for index, text in enumerate(script.turns):
                shift = (number * len(script.turns) + index) % len(keys)
                for key in keys[shift:] + keys[:shift]:
                    turn = await now[key].turn(text)
                    if number >= 0 and turn.ok:
                        turns[key].append(turn)
            for conversation in now.values():
                await conversation.close()
        cpu_after = {name: parts_cpu(stack) for name, stack in stacks.items()}
        for name, stack in stacks.items():
            await verify(http, endpoints(stack), stack.rasa_url, made[name], ledgers[name])
    result: dict[str, Any] = {}
    for (name, path), results in turns.items():
        result.setdefault(name, {})[path] = summarize([t.latency for t in results])
    for name in stacks:
        result[name]["delivery"] = ledgers[name].as_dict()
        every_path = per_message(cpu_before[name], cpu_after[name], sum(len(turns[(name, p)]) for p in PATHS))
        gateway_path = per_message(cpu_before[name], cpu_after[name], len(turns[(name, "gateway")]))
        result[name]["cpu_ms_per_turn"] = {
            "actions": every_path["actions"],
            "rasa": every_path["rasa"],
            "gateway (its path)": gateway_path["gateway"],
            "postgresql backends": every_path[BACKENDS],
        }
    return result


BACKENDS = "postgresql_backends"


def parts_cpu(stack: Stack) -> Snapshot:
    """The stack's processes and, on PostgreSQL, the server processes of its database's connections (the
    pools are warm by then, so they are the ones the measured turns use)."""
    return snapshot({**{part: [stack.pid(part)] for part in PARTS}, BACKENDS: backends(stack.database)})


def backends(database: Database) -> list[int]:
    if database.kind != "postgresql":
        return []
    from sqlalchemy import text

    from bot.store.db import get_engine
    from bot.store.postgres_admin import POSTGRES_ADMIN_URL

    query = text("SELECT pid FROM pg_stat_activity WHERE datname = :name")
    with get_engine(POSTGRES_ADMIN_URL).connect() as connection:
        return list(connection.execute(query, {"name": make_url(database.url).database}).scalars())


def start(checkouts: dict[str, Path], database: str, stacks: dict[str, Stack]) -> None:
    """Fills `stacks` as it goes, so the caller stops what was started when one part fails to start."""
    for name, root in checkouts.items():
        work = Path(tempfile.mkdtemp(prefix=f"varde-ab-{name}-"))
        stack = Stack(work, Database.create(database, work), root=root)
        stacks[name] = stack
        seed = [sys.executable, "-m", "bot", "seed"]  # with the checkout's own code and schema
        subprocess.run(seed, cwd=root, env=stack.env(), check=True, capture_output=True)
    for stack in stacks.values():
        stack.start()
    for stack in stacks.values():
        stack.wait_ready()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--conversations", type=int, default=16, help="per checkout and path (7 turns each)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    checkouts = {f"{i}:{path.name}": path.resolve() for i, path in enumerate(args.checkouts)}
    stacks: dict[str, Stack] = {}
    try:
        start(checkouts, args.database, stacks)
        load = load_average()
        result = asyncio.run(interleaved(stacks, args.conversations))
    finally:
        for stack in stacks.values():
            stack.stop()
            stack.database.drop()
    for name, paths in result.items():
        cells = [f"{p} p50 {paths[p]['p50_ms']:.0f} p95 {paths[p]['p95_ms']:.0f} ms" for p in PATHS]
        ratio = paths["gateway"]["p50_ms"] / paths["rest"]["p50_ms"] if paths["rest"]["p50_ms"] else 0
        print(f"{name}: {'; '.join(cells)}; gateway/REST {ratio:.2f}; lost {paths['delivery']['lost']}")
        cpu = "; ".join(f"{part} {ms}" for part, ms in paths["cpu_ms_per_turn"].items())
        print(f"{name}: CPU ms per turn: {cpu}")
    print(json.dumps({"load_average": [load, load_average()], **result}, indent=1))
    clean = all(
        paths["delivery"][kind] == 0 for paths in result.values() for kind in ("lost", "duplicated", "out_of_order")
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
