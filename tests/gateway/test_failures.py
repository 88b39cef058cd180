"""Rasa or the action server down or hung in the middle of a conversation (issue 3, "When things go wrong").

The customer hears something within 10 s: the clear system message when a part is down, or, when it
hangs, that the answer is taking longer, and then the late answer once the part is back (issue 15:
Rasa's state has moved on with it). Nothing they wrote is lost, and the same conversation works again.
The stack is shared by the whole run: every test puts back what it stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.identity import sign_customer_token
from bot.store.conversations import Message
from bot.store.db import get_engine
from tests.gateway.conftest import Gateway, gateway_settings, start_gateway, stop_gateway
from tests.gateway.test_socket import transcript
from tests.gateway.widget_client import WidgetClient, messages, texts
from tests.support import RasaStack

pytestmark = pytest.mark.server

PROMISE_SECONDS = 10
TROUBLE_NB = "Jeg har litt problemer akkurat nå"
SLOW_NB = "Dette tar litt lengre tid enn vanlig"
TRACKING = "70712345678901234"
ORDER_QUESTION = "hvor er ordre 10234?"


async def kari(gateway: Gateway) -> WidgetClient:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token("C-1001"))
    assert "Kari" in texts(await widget.turn("Hei!"))
    return widget


async def ask_and_get_the_trouble_message(widget: WidgetClient) -> float:
    started = time.monotonic()
    frames = await widget.turn(ORDER_QUESTION, timeout=PROMISE_SECONDS + 5)
    elapsed = time.monotonic() - started
    system = messages(frames, "system")
    assert len(system) == 1 and system[0]["text"].startswith(TROUBLE_NB), frames
    assert not messages(frames, "bot")
    assert elapsed < PROMISE_SECONDS, f"the customer waited {elapsed:.1f} s"
    return elapsed


async def ask_and_hear_it_is_slow(widget: WidgetClient) -> float:
    """A hung part: within the promise the customer hears the answer is taking longer (not a failure)."""
    started = time.monotonic()
    await widget.say(ORDER_QUESTION)
    frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "system", PROMISE_SECONDS + 5)
    elapsed = time.monotonic() - started
    assert messages(frames, "system")[0]["text"].startswith(SLOW_NB), frames
    assert not messages(frames, "bot")
    assert elapsed < PROMISE_SECONDS, f"the customer waited {elapsed:.1f} s"
    return elapsed


async def the_late_answer(widget: WidgetClient) -> float:
    """Once the part is back, the answer Rasa was working on arrives on its own."""
    started = time.monotonic()
    frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "bot", 60)
    frames += await widget.until(lambda f: f["type"] == "typing" and f["on"] is False, 30)
    assert TRACKING in texts(frames), frames
    return time.monotonic() - started


async def health(gateway: Gateway) -> tuple[int, dict]:
    async with gateway.http.get(gateway.url("/health")) as response:
        return response.status, await response.json()


async def works_again(widget: WidgetClient) -> float:
    started = time.monotonic()
    frames = await widget.turn(ORDER_QUESTION, timeout=30)
    assert TRACKING in texts(frames), frames
    return time.monotonic() - started


def assert_nothing_lost(conversation_id: str) -> list[Message]:
    """Every customer turn is stored, in order; the failed one is answered by the system message."""
    rows = transcript(conversation_id)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.text for r in rows if r.role == "customer"] == ["Hei!", ORDER_QUESTION, ORDER_QUESTION]
    roles = [r.role for r in rows]
    failed = roles.index("customer", 1 + roles.index("customer"))
    assert roles[failed + 1] == "system"
    assert roles[-1] == "bot"
    return rows


@contextmanager
def frozen(stack: RasaStack, name: str) -> Iterator[None]:
    """The part hangs (SIGSTOP): it accepts connections and never answers, like a badly overloaded one."""
    group = stack.processes[name].pid
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


async def restart(stack: RasaStack, name: str) -> None:
    # In a thread: the gateway under test shares this event loop.
    await asyncio.to_thread(stack.start, name)
    await asyncio.to_thread(stack.wait_healthy, name)


async def test_rasa_down_then_back(gateway: Gateway, warm_stack: RasaStack) -> None:
    widget = await kari(gateway)
    await asyncio.to_thread(warm_stack.stop, "rasa")
    try:
        elapsed = await ask_and_get_the_trouble_message(widget)
        status, report = await health(gateway)
        assert status == 503 and not report["parts"]["rasa"]["ok"] and report["parts"]["database"]["ok"]
    finally:
        await restart(warm_stack, "rasa")
    assert (await health(gateway))[0] == 200
    recovered = await works_again(widget)
    assert_nothing_lost(widget.conversation_id)
    print(f"\nRasa down: system message after {elapsed:.2f} s; first answer after restart {recovered:.2f} s")


async def test_rasa_hung_then_back(gateway: Gateway, warm_stack: RasaStack) -> None:
    widget = await kari(gateway)
    with frozen(warm_stack, "rasa"):
        elapsed = await ask_and_hear_it_is_slow(widget)
    late = await the_late_answer(widget)
    recovered = await works_again(widget)
    assert_nothing_lost(widget.conversation_id)
    print(f"\nRasa hung: 'taking longer' after {elapsed:.2f} s; late answer {late:.2f} s after it came back; "
          f"next answer {recovered:.2f} s")  # fmt: skip


async def test_action_server_down_then_back(gateway: Gateway, warm_stack: RasaStack) -> None:
    widget = await kari(gateway)
    await asyncio.to_thread(warm_stack.stop, "actions")
    try:
        elapsed = await ask_and_get_the_trouble_message(widget)
        status, report = await health(gateway)
        assert status == 503 and not report["parts"]["action_server"]["ok"] and report["parts"]["rasa"]["ok"]
    finally:
        await restart(warm_stack, "actions")
    recovered = await works_again(widget)
    rows = assert_nothing_lost(widget.conversation_id)
    failed_turn = [r for r in rows if r.role == "customer"][1]
    assert failed_turn.intent == "order_status"  # NLU still ran; only the actions failed
    print(f"\naction server down: system message after {elapsed:.2f} s; first answer after restart {recovered:.2f} s")


async def test_action_server_hung_then_back(gateway: Gateway, warm_stack: RasaStack) -> None:
    widget = await kari(gateway)
    with frozen(warm_stack, "actions"):
        elapsed = await ask_and_hear_it_is_slow(widget)
    late = await the_late_answer(widget)
    recovered = await works_again(widget)
    assert_nothing_lost(widget.conversation_id)
    print(f"\naction server hung: 'taking longer' after {elapsed:.2f} s; late answer {late:.2f} s after it came "
          f"back; next answer {recovered:.2f} s")  # fmt: skip


async def test_database_unavailable_the_message_is_kept_and_answered_when_it_is_back(
    warm_stack: RasaStack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'transcript.db'}"
    gateway = await start_gateway(gateway_settings(warm_stack, database_url=url))
    try:
        widget = await gateway.widget()
        await widget.hello(language="en")
        Message.__table__.drop(get_engine(url))  # the transcript can't be written now
        client_id = await widget.say("what are your opening hours?")
        held = await widget.quiet_for(1.5)
        assert not [f for f in held if f["type"] == "error"], held  # kept by the gateway: the widget waits
        Message.__table__.create(get_engine(url))  # back: stored and answered without a resend
        frames = await widget.until(lambda f: f["type"] == "typing" and f["on"] is False, 30)
        assert messages(frames)[0]["client_id"] == client_id and texts(frames)
        await widget.close()
    finally:
        await stop_gateway(gateway)


async def test_a_message_sent_while_one_waits_is_answered_after_it_in_order(
    gateway: Gateway, warm_stack: RasaStack
) -> None:
    widget = await kari(gateway)
    with frozen(warm_stack, "rasa"):
        started = time.monotonic()
        await widget.say(ORDER_QUESTION)
        await asyncio.sleep(1)
        await widget.say("hallo?")
        frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "system", PROMISE_SECONDS + 5)
        assert time.monotonic() - started < PROMISE_SECONDS
        frames += await widget.quiet_for(2)
    assert [m["text"] for m in messages(frames, "customer")] == [ORDER_QUESTION, "hallo?"]
    assert len(messages(frames, "system")) == 1  # one "taking longer" for both
    # Back: the late answer to the first, then the second is taken, in order.
    frames = await widget.until(lambda f: f["type"] == "message" and f["role"] == "bot", 60)
    assert TRACKING in texts(frames)
    await widget.until(lambda f: f["type"] == "typing" and f["on"] is False, 30)
    await widget.until(lambda f: f["type"] == "typing" and f["on"] is False, 30)  # "hallo?" answered
    await works_again(widget)
