"""The Redis broker between gateway processes (bot/web/broker.py), against the machine's real Redis: a burst
of events, written in pipelines, reaches the other process whole and in order, and no process handles its
own events."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from bot.web.broker import RedisBroker

REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def received_all(got: list[Any], count: int, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while len(got) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_burst_reaches_the_other_process_in_order_and_never_its_own() -> None:
    run = uuid.uuid4().hex  # this test's events only: other tests may use the same Redis
    first, second = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    heard_by_first: list[tuple[str, dict[str, Any]]] = []
    heard_by_second: list[tuple[str, dict[str, Any]]] = []
    await first.start(lambda topic, event: heard_by_first.append((topic, event)))
    await second.start(lambda topic, event: heard_by_second.append((topic, event)))
    try:
        for n in range(500):  # published without awaiting: they queue, and go out in pipelines
            topic = "console" if n % 7 == 0 else "conversation"
            # An event that says it came from somewhere else is still this process's own.
            first.publish(topic, {"run": run, "n": n, "text": f"<b>melding</b> {n} æøå", "origin": "elsewhere"})
        second.publish("conversation", {"run": run, "n": "from second"})
        await received_all(heard_by_second, 500)
        await received_all(heard_by_first, 1)
        await asyncio.sleep(0.3)  # time for anything wrongly echoed back to arrive too
    finally:
        await first.close()
        await second.close()
    ours = [(topic, event) for topic, event in heard_by_second if event.get("run") == run]
    assert [event["n"] for _, event in ours] == list(range(500))
    assert all(topic == ("console" if event["n"] % 7 == 0 else "conversation") for topic, event in ours)
    assert ours[3][1]["text"] == "<b>melding</b> 3 æøå"
    assert [event["n"] for _, event in heard_by_first if event.get("run") == run] == ["from second"]
