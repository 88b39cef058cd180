"""What the fuzzer (tests/gateway/test_fuzz.py) runs on: the real gateway in front of the stand-in Rasa, on an
event loop of its own in a background thread, so hypothesis's examples (plain functions) can drive it, and a
log of every ERROR the gateway writes (a crash in a handler or a task is logged, never raised to a client).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.http_exceptions import HttpProcessingError

from bot.settings import PROJECT_ROOT, get_settings
from bot.training.workspace import TRAINING_FILES
from tests.gateway.conftest import Gateway
from tests.gateway.fake_rasa import FakeRasa, fake_rasa, gateway_before

T = TypeVar("T")
# Every limit per address out of the way (the fuzzer is one address making hundreds of conversations);
# the limits per socket and per conversation stay as they are.
UNLIMITED = {
    "max_new_conversations_per_address": 100_000,
    "max_messages_per_address": 100_000,
    "max_sockets_per_address": 10_000,
}


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any logger: the gateway logs what it could not handle."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not _client_error(record):
            self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]
        self.records.clear()
        return found


def _client_error(record: logging.LogRecord) -> bool:
    """aiohttp's own parser refusing a malformed request (e.g. a URL over 8 KiB): answered 400, but aiohttp
    logs it at ERROR with a traceback. The client's error, not the gateway's."""
    error = record.exc_info[1] if record.exc_info else None
    return record.name == "aiohttp.server" and isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    rasa: FakeRasa
    gateway: Gateway
    training_root: Path
    errors: ErrorLog = field(default_factory=ErrorLog)

    @property
    def database_url(self) -> str:
        return self.gateway.settings.database_url

    def run(self, work: Awaitable[T], timeout: float = 60) -> T:
        """Run a coroutine on the gateway's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def url(self, path: str) -> str:
        return self.gateway.url(path)


def copy_training_files(root: Path) -> None:
    """The trainer pages write examples here, never into the repository's data/nlu."""
    for name in TRAINING_FILES:
        source, target = PROJECT_ROOT / name, root / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@contextmanager
def running_gateway(training_root: Path, **changes: Any) -> Iterator[Harness]:
    """The gateway (this run's database, a copy of the training files) on a loop in a background thread."""
    copy_training_files(training_root)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-gateway", daemon=True)
    thread.start()
    stack = AsyncExitStack()

    async def start() -> tuple[FakeRasa, Gateway]:
        rasa = await stack.enter_async_context(fake_rasa())
        settings = dataclasses.replace(get_settings(), training_root=training_root)
        gateway = await stack.enter_async_context(gateway_before(rasa, settings, **{**UNLIMITED, **changes}))
        return rasa, gateway

    errors = ErrorLog()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        rasa, gateway = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
        yield Harness(loop, rasa, gateway, training_root, errors)
    finally:
        root.removeHandler(errors)
        asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
