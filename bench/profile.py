"""`python -m bench.profile [--conversations 12]`: where a customer turn's time goes, process by process.

Starts the stack (bench.stack: action server, Rasa, gateway, a fresh SQLite database), warms it up,
then sends scripted conversations one turn at a time, each turn through Rasa's REST channel, our
channel and the gateway in turn (bench.load.sequential), while py-spy samples the three processes.
py-spy is a sampling profiler outside the project's dependencies: `pip install py-spy` (it is only
needed here). For each process it prints the share of its busy samples spent in the functions that
matter, and the p50 latency of each path measured during the same run; the raw stacks stay in
bench/results/profile/ (collapsed format: one stack and its sample count per line).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.clients import PATHS, Endpoints
from bench.load import sequential
from bench.stack import Database, Stack
from bench.stats import summarize
from bot.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "bench" / "results" / "profile"
SAMPLES_PER_SECOND = 250
TOP = 25


def collapsed(path: Path) -> Counter[str]:
    stacks: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def frame_name(frame: str) -> str:
    """'send_json (aiohttp/web_ws.py:312)' -> 'aiohttp/web_ws.py:send_json'."""
    name, _, where = frame.partition(" (")
    file = where.split(":")[0].rstrip(")")
    for marker in ("site-packages/", "/work/", "lib/python3.10/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{file}:{name}"


# Leaf frames of a waiting thread that py-spy can't tell from a busy one: the database threads' queue,
# and the uvloop event loops of Sanic and of the gateway (uvloop waits in C, under these Python frames; its
# own C work lands there too, so a share of the loop's socket work is left out with the waits).
# Likewise a thread waiting on PostgreSQL or Redis inside the driver's C code: py-spy counted a loop of
# `SELECT pg_sleep(1)` as busy in do_execute for every sample, at 0.2 % CPU. On the scaled stack these
# leaves were 18 % of a Rasa server's samples and most of the gateway's (its database threads).
IDLE_LEAVES = (
    "concurrent/futures/thread.py:_worker",
    "sanic/server/runners.py:serve",
    "uvloop/__init__.py:run",
    "sqlalchemy/engine/default.py:do_execute",
    "sqlalchemy/engine/default.py:do_commit",
    "sqlalchemy/engine/default.py:do_rollback",
    "sqlalchemy/dialects/postgresql/psycopg2.py:do_ping",
    "psycopg2/extras.py:execute_values",
    "redis/connection.py:_read_from_socket",
)


def busy(stacks: Counter[str]) -> Counter[str]:
    return Counter({s: n for s, n in stacks.items() if frame_name(s.split(";")[-1]) not in IDLE_LEAVES})


def report(process: str, stacks: Counter[str]) -> list[str]:
    """Inclusive share of busy samples per function (a function counts once per stack)."""
    stacks = busy(stacks)
    total = sum(stacks.values())
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        for name in {frame_name(frame) for frame in stack.split(";")}:
            inclusive[name] += count
    lines = [f"== {process}: {total} busy samples ({total / SAMPLES_PER_SECOND:.1f} s of CPU)"]
    for name, count in inclusive.most_common(TOP):
        lines.append(f"  {100 * count / total:5.1f} %  {name}")
    return lines


_ANSWERED = re.compile(r"answered seq=\d+ with \d+ message\(s\) in (\d+) ms \(Rasa (\d+) ms, gateway (\d+) ms")


def gateway_split(log_file: Path) -> str:
    """Medians of the gateway's own per-turn timing log (bot/web/relay.py)."""
    found = [tuple(map(int, m.groups())) for m in _ANSWERED.finditer(log_file.read_text(errors="replace"))]
    if not found:
        return "gateway log: no timed turns"
    total, rasa, own = (statistics.median(column) for column in zip(*found, strict=True))
    return f"gateway log, median of {len(found)} turns: {total:.0f} ms in all, Rasa {rasa:.0f} ms, gateway {own:.0f} ms"


def endpoints(stack: Stack) -> Endpoints:
    return Endpoints(
        rest=f"{stack.rasa_url}/webhooks/rest/webhook",
        channel=f"{stack.rasa_url}/webhooks/gateway/webhook",
        gateway_ws=stack.gateway_url.replace("http://", "ws://") + "/ws",
        gateway_origin=stack.gateway_url,
        rasa_headers=stack.rasa_headers(),
    )


def py_spy() -> str | None:
    """py-spy on PATH, or installed in the virtual environment running this."""
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def start_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    command = [
        py_spy() or "py-spy", "record", "--pid", str(pid), "--rate", str(SAMPLES_PER_SECOND),
        "--format", "raw", "--output", str(output), "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def drive(stack: Stack, conversations: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        await sequential(http, endpoints(stack), PATHS, 3)  # warm-up, not measured
        spies = {part: start_spy(stack.pid(part), OUT / f"{part}.txt") for part in ("gateway", "rasa", "actions")}
        time.sleep(1)  # py-spy attaches
        runs = await sequential(http, endpoints(stack), PATHS, conversations, first=10)
        for spy in spies.values():
            spy.send_signal(2)  # SIGINT: py-spy writes what it has
        for spy in spies.values():
            spy.wait(timeout=30)
    return {path: float(summarize([t.latency for t in run.turns if t.ok])["p50_ms"]) for path, run in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--conversations", type=int, default=12, help="per path, 7 turns each")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    options = parser.parse_args()
    if py_spy() is None:
        raise SystemExit("py-spy is needed: pip install py-spy")
    OUT.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="varde-profile-"))
    database = Database.create(options.database, work_dir)
    stack = Stack(work_dir, database)
    from bot.store.seed import seed_demo

    seed_demo(database.url)
    stack.start()
    try:
        stack.wait_ready()
        p50 = asyncio.run(drive(stack, options.conversations))
    finally:
        stack.stop()
        database.drop()
    lines = ["p50 ms per path during the profile: " + ", ".join(f"{p} {v:.0f}" for p, v in p50.items())]
    lines.append(gateway_split(work_dir / "gateway.log"))
    for part in ("gateway", "rasa", "actions"):
        lines += report(part, collapsed(OUT / f"{part}.txt"))
    text = "\n".join(lines)
    (OUT / "summary.txt").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
