"""Rasa's Redis lock store with issuing and cleaning up as one atomic script each (bot/lock_store.py),
against the machine's real Redis: the same tickets and the same lock as Rasa's own store, which Rasa's
reading code still understands; one ticket per message even when many are issued at the same moment; and
three commands a message instead of seven."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore

from bot import lock_store

# Rasa 3.6.21's methods these two replace: LockStore.issue_ticket, cleanup, finish_serving and
# is_someone_waiting, and TicketLock.issue_ticket and remove_expired_tickets.
RASA_LOCK_SHA256 = "94ed3fda7c92e9dfceeb1ce37ca737e1758dc84f0e46ea2a8bd7935b634209b5"


class Atomic(RedisLockStore):
    issue_ticket = lock_store.issue_ticket
    cleanup = lock_store.cleanup


@pytest.fixture
def prefixes() -> Iterator[tuple[str, str]]:
    run = uuid.uuid4().hex[:12]
    yield f"rasa{run}", f"ours{run}"
    cleaner = RedisLockStore(db=1)
    for key in cleaner.red.scan_iter(f"*{run}*"):
        cleaner.red.delete(key)


def tickets(store: RedisLockStore, conversation: str) -> list[int] | None:
    lock = store.get_lock(conversation)
    return None if lock is None else [ticket.number for ticket in lock.tickets]


def test_rasas_lock_methods_are_the_ones_bot_lock_store_replaces() -> None:
    methods = (
        LockStore.issue_ticket,
        LockStore.cleanup,
        LockStore.finish_serving,
        LockStore.is_someone_waiting,
        TicketLock.issue_ticket,
        TicketLock.remove_expired_tickets,
    )
    digest = hashlib.sha256("".join(inspect.getsource(m) for m in methods).encode()).hexdigest()
    assert digest == RASA_LOCK_SHA256, "Rasa's ticket lock changed: check bot/lock_store.py"


def test_the_same_tickets_and_locks_as_rasas_store(prefixes: tuple[str, str]) -> None:
    rasas, ours = RedisLockStore(db=1, key_prefix=prefixes[0]), Atomic(db=1, key_prefix=prefixes[1])
    for store in (rasas, ours):
        store.issue_ticket("c1", 0.3)  # expires soon: gone at the next step that looks
    time.sleep(0.4)
    steps = [
        ("issue", "c1"), ("issue", "c1"), ("issue", "c2"), ("clean", "c1", 1), ("issue", "c1"),
        ("clean", "c1", 2), ("clean", "c1", 3), ("clean", "c2", 0), ("clean", "nobody", 0), ("issue", "c2"),
    ]  # fmt: skip
    for step in steps:
        numbers = []
        for store in (rasas, ours):
            if step[0] == "issue":
                numbers.append(store.issue_ticket(step[1], 60))
            else:
                store.cleanup(step[1], step[2])
            numbers.append((tickets(store, "c1"), tickets(store, "c2")))
        assert numbers[: len(numbers) // 2] == numbers[len(numbers) // 2 :], step
    assert tickets(ours, "c2") == [0]
    raw = json.loads(ours.red.get(ours.key_prefix + "c2"))  # Rasa's own format: tickets as JSON strings
    assert raw["conversation_id"] == "c2" and json.loads(raw["tickets"][0])["number"] == 0
    assert abs(json.loads(raw["tickets"][0])["expires"] - (time.time() + 60)) < 5


def test_tickets_issued_at_the_same_moment_are_all_different(prefixes: tuple[str, str]) -> None:
    ours = Atomic(db=1, key_prefix=prefixes[1])
    numbers: list[int] = []
    start = threading.Barrier(40)

    def take() -> None:
        start.wait()
        numbers.append(ours.issue_ticket("busy", 60))

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(40))
    assert tickets(ours, "busy") == list(range(40))


@pytest.mark.asyncio(loop_scope="function")
async def test_messages_are_served_one_at_a_time_in_ticket_order(prefixes: tuple[str, str]) -> None:
    ours = Atomic(db=1, key_prefix=prefixes[1])
    commands: list[str] = []
    execute = ours.red.execute_command
    ours.red.execute_command = lambda *args, **kw: commands.append(str(args[0])) or execute(*args, **kw)
    served: list[str] = []

    async def message(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with ours.lock("chat", lock_lifetime=10, wait_time_in_seconds=0.01):
            served.append(f"{name} in")
            await asyncio.sleep(0.05)
            served.append(f"{name} out")

    await message("alone", 0)
    assert len(commands) == 3, commands  # issue, Rasa's check that it is served, clean up (Rasa's: 7)
    await asyncio.gather(message("first", 0), message("second", 0.01), message("third", 0.02))
    assert served[2:] == ["first in", "first out", "second in", "second out", "third in", "third out"]
    assert ours.get_lock("chat") is None  # the last one out deleted it
