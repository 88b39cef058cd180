"""Two Rasa servers and two gateways behind HAProxy, on PostgreSQL, Redis and RabbitMQ (bot/scale/).

One conversation, two sockets on different gateways, two messages sent at once: each gateway sends its turn
to the Rasa balancer, which hands them to different Rasa servers; Rasa's Redis lock store makes the second
wait for the first. The transcript stores both messages as they arrived, then the answers: the first
message's, then the second's, in the order Rasa gave them; Rasa's tracker holds one turn after the other,
in the transcript's order. The stack shares the run's trained model (no training)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bench.chaos import clean, run_chaos
from bench.scaled import BENCH_LIMITS
from bot.identity import sign_customer_token
from bot.rasa_channel import NOT_HANDLED
from bot.scale.services import create_database, drop_database, drop_queue, queue_depth
from bot.scale.stack import ScaledStack, Size
from bot.settings import get_settings
from tests.gateway.desk_support import OPEN
from tests.gateway.widget_client import Frame, WidgetClient, messages
from tests.support import http_json

pytestmark = pytest.mark.server

FIRST, SECOND = "hvor mange poeng har jeg?", "hvilke betalingsmåter har dere?"
CHAOS_CUSTOMERS, CHAOS_SECONDS = 6, 40.0  # the short chaos run of CI: what it checks, not how fast


@pytest.fixture(scope="module")
def scaled(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledStack]:
    name = f"varde_scale_test_{secrets.token_hex(4)}"
    stack = ScaledStack(
        tmp_path_factory.mktemp("scale"), create_database(name), Size(rasa=2, gateways=2, actions=1),
        event_queue=f"varde_events_test_{secrets.token_hex(4)}", extra_env={"BOT_CLOCK": OPEN, **BENCH_LIMITS},
    )  # fmt: skip
    try:
        stack.start()
        stack.wait_ready(timeout=240)
        yield stack
    finally:
        stack.stop()
        drop_database(name)
        drop_queue(get_settings().event_broker_url, str(stack.event_queue))


async def widget(http: aiohttp.ClientSession, url: str) -> WidgetClient:
    ws = await http.ws_connect(url.replace("http://", "ws://") + "/ws", headers={"Origin": url})
    return WidgetClient(ws)


async def replay(http: aiohttp.ClientSession, url: str, client: WidgetClient, token: str) -> list[Frame]:
    """The stored conversation, as a fresh socket (through `url`) gets it after a reload."""
    fresh = await widget(http, url)
    await fresh.hello(client.conversation_id, 0, token=token, resume_secret=client.resume_secret)
    frames = messages(await fresh.quiet_for(1.0))
    await fresh.close()
    return frames


async def answered_transcript(http: aiohttp.ClientSession, url: str, client: WidgetClient, token: str) -> list[Frame]:
    """The stored conversation once both customer messages are in it and the last message is the bot's
    (read again a moment later, so a turn's second reply is in it too)."""
    for _ in range(60):
        frames = await replay(http, url, client, token)
        customers = [f for f in frames if f["role"] == "customer"]
        if len(customers) == 2 and frames[-1]["role"] in ("bot", "system"):
            await asyncio.sleep(1.5)
            return await replay(http, url, client, token)
    raise AssertionError(f"the two messages were never both answered: {frames}")


async def test_two_messages_at_once_through_two_gateways_are_answered_in_turn(scaled: ScaledStack) -> None:
    token = sign_customer_token("C-1001")
    async with aiohttp.ClientSession() as http:
        one = await widget(http, scaled.gateway_url(0))
        await one.hello(token=token)
        two = await widget(http, scaled.gateway_url(1))
        await two.hello(one.conversation_id, 0, token=token, resume_secret=one.resume_secret)
        assert two.conversation_id == one.conversation_id
        await asyncio.gather(one.say(FIRST), two.say(SECOND))
        # Through HAProxy: the public port carries the socket too.
        frames = await answered_transcript(http, scaled.public_url, one, token)
        await one.close()
        await two.close()

    assert not [f for f in frames if f["role"] == "system"], "a turn failed: 'having trouble'"
    assert [f["seq"] for f in frames] == list(range(frames[0]["seq"], frames[0]["seq"] + len(frames)))
    customer = [f["text"] for f in frames if f["role"] == "customer"]
    assert sorted(customer) == sorted([FIRST, SECOND])

    # Rasa's tracker, read through the balancer: one turn after the other, never interleaved.
    tracker = http_json(f"{scaled.rasa_url}/conversations/{one.conversation_id}/tracker", None, scaled.rasa_headers())
    events = tracker["events"]
    users = [index for index, event in enumerate(events) if event["event"] == "user"]
    assert [events[index]["text"] for index in users] == customer, "Rasa took them in another order than stored"
    answers = [[e["text"] for e in events[start + 1 : end] if e["event"] == "bot" and e.get("text")]
               for start, end in zip(users, [*users[1:], len(events)], strict=True)]  # fmt: skip
    assert all(answers), f"a message without its answer in Rasa: {answers}"
    # The customer got every answer, in the order Rasa gave them: the first message's, then the second's.
    assert [f["text"] for f in frames if f["role"] == "bot"][-len(answers[0]) - len(answers[1]) :] == [
        *answers[0],
        *answers[1],
    ]
    # Rasa's event broker carried the conversation's events to the stack's queue in RabbitMQ.
    depth = await asyncio.to_thread(queue_depth, get_settings().event_broker_url, str(scaled.event_queue))
    assert (depth or 0) >= len(events) // 2


async def test_a_message_sent_while_redis_is_down_is_answered_once_it_is_back(scaled: ScaledStack) -> None:
    """Rasa's lock store lives in Redis. While Redis is down a Rasa server takes no lock, so it does nothing
    with a turn and its channel says so (503, handled false); the gateway sends the turn again until Redis
    is back, and the customer gets the bot's answer, once, not "having trouble"."""
    token = sign_customer_token("C-1001")
    async with aiohttp.ClientSession() as http:
        client = await widget(http, scaled.gateway_url(0))
        await client.hello(token=token)
        scaled.kill("redis")
        try:
            probe = {"sender": f"redis-down-{secrets.token_hex(4)}", "message": "hei", "metadata": {}}
            rasa1 = f"{scaled.server_url('rasa1')}/webhooks/gateway/webhook"
            async with http.post(rasa1, json=probe, headers=scaled.rasa_headers()) as refused:
                assert (refused.status, await refused.json()) == (503, NOT_HANDLED)
            await client.say(FIRST)
            await asyncio.sleep(1.5)  # sent, refused and sent again meanwhile
        finally:
            scaled.restart("redis")
            await asyncio.to_thread(scaled.wait_ready, 30, ["redis"])
        frames = await client.until(lambda f: f["type"] == "message" and f["role"] in ("bot", "system"), 30)
        frames += await client.until(lambda f: f["type"] == "typing" and f["on"] is False, 30)
        await client.close()
    assert messages(frames, "system") == [], "the customer was told 'having trouble'"
    assert messages(frames, "bot"), "no answer"
    tracker_url = f"{scaled.rasa_url}/conversations/{client.conversation_id}/tracker"
    tracker = http_json(tracker_url, None, scaled.rasa_headers())
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [FIRST]  # handled once


async def test_chaos_short_loses_duplicates_and_reorders_nothing(scaled: ScaledStack) -> None:
    """`python -m bot bench --chaos`, short: customers talk while a Rasa server, the action server and a
    gateway are SIGKILLed and Redis restarts (each started again at once). Afterwards every stored transcript
    holds each customer message once, in the order sent, answered by the bot or by the honest "having
    trouble" message, and nothing from another conversation. No timing is asserted (bench/results/ has it)."""
    results = await run_chaos(scaled, CHAOS_CUSTOMERS, CHAOS_SECONDS, seed=15, progress=print)
    assert len(results["events"]) == 4
    assert clean(results), results["transcripts"]
