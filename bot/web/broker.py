"""How gateway processes tell each other what happened: a customer on one process, the agent on another.

Each process delivers to its own sockets directly, then publishes the event for the others. Two
implementations behind one small interface:

- LocalBroker: one gateway process; publishing goes nowhere (there is no one else to tell).
- RedisBroker: several processes (setting BOT_BROKER_URL=redis://...); Redis pub/sub on two channels,
  `varde:conversation` (transcript messages, typing, state of a conversation) and `varde:console`
  (the queue, tickets, notes). A process skips its own events, which it delivered already.

Pub/sub is fire-and-forget: a process that is down or reconnecting misses events. Nothing is lost by
that, because the database has the truth: sockets fill any gap in seqs from the transcript, and the
console reloads its queue snapshot from the database on every event and on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CONVERSATION = "conversation"
CONSOLE = "console"
TOPICS = (CONVERSATION, CONSOLE)
_PREFIX = "varde:"
RECONNECT_SECONDS = (0.5, 1, 2, 5)
WRITE_BATCH = 100  # events per pipeline at most
MAX_OUTGOING = 10_000  # events waiting for Redis before new ones are dropped (and caught up later)

Handler = Callable[[str, dict[str, Any]], None]


class Broker(Protocol):
    async def start(self, handler: Handler) -> None:
        """Begin delivering other processes' events to `handler(topic, event)` (on the event loop)."""

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Tell the other processes, in the order published; never blocks or raises (a lost event is
        caught up from the database)."""

    async def close(self) -> None: ...


class LocalBroker:
    """One gateway process: every socket is here, so there is no one else to tell."""

    async def start(self, handler: Handler) -> None:
        return None

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisBroker:
    def __init__(self, url: str) -> None:
        self._url = url
        self._origin = uuid.uuid4().hex  # this process
        self._own_prefix = json.dumps({"origin": self._origin})[:-1].encode()  # how its events begin
        self._client: redis.Redis = redis.from_url(url)
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._outgoing: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=MAX_OUTGOING)
        self._subscribed = asyncio.Event()

    async def start(self, handler: Handler) -> None:
        self._reader = asyncio.create_task(self._read(handler), name="broker-reader")
        self._writer = asyncio.create_task(self._write(), name="broker-writer")
        try:
            await asyncio.wait_for(self._subscribed.wait(), 5)
        except asyncio.TimeoutError:
            log.warning("broker: Redis at %s not reachable yet; retrying in the background", self._url)

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        # The origin first: each process reads its own events back, and skips them by this prefix unread.
        data = json.dumps({"origin": self._origin, **{k: v for k, v in event.items() if k != "origin"}})
        try:
            self._outgoing.put_nowait((_PREFIX + topic, data))
        except asyncio.QueueFull:
            log.warning("broker: Redis is not keeping up; a %s event is dropped", topic)

    async def _write(self) -> None:
        """One writer, so other processes get this one's events in the order they happened. The events
        waiting by then go in one pipeline: a turn publishes several at once (the message, typing, the
        replies), and each command on its own cost the gateway more CPU than the rest of the broker."""
        while True:
            batch = [await self._outgoing.get()]
            while len(batch) < WRITE_BATCH and not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            try:
                if len(batch) == 1:
                    await self._client.publish(*batch[0])
                    continue
                pipeline = self._client.pipeline(transaction=False)
                for channel, data in batch:
                    pipeline.publish(channel, data)
                await pipeline.execute()
            except (RedisError, OSError) as error:
                log.warning("broker: could not publish %d event(s) (%s)", len(batch), error)

    async def _read(self, handler: Handler) -> None:
        attempt = 0
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*(_PREFIX + topic for topic in TOPICS))
                self._subscribed.set()
                if attempt:
                    log.info("broker: subscribed to Redis again")
                attempt = 0
                async for message in pubsub.listen():
                    self._dispatch(handler, message)
            except (RedisError, OSError) as error:
                delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("broker: lost Redis (%s); reconnecting in %.1f s", error, delay)
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.reset()

    def _dispatch(self, handler: Handler, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        data = message["data"]
        if isinstance(data, bytes) and data.startswith(self._own_prefix):
            return
        try:
            event = json.loads(data)
        except (ValueError, TypeError):
            log.warning("broker: unreadable event on %s", channel)
            return
        if not isinstance(event, dict) or event.get("origin") == self._origin:
            return
        try:
            handler(channel.removeprefix(_PREFIX), event)
        except Exception:  # one bad event must not stop the reader
            log.exception("broker: handling an event from %s failed", channel)

    async def close(self) -> None:
        tasks = [task for task in (self._reader, self._writer) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._client.close()


def publish_from_outside(url: str, topic: str, event: dict[str, Any], timeout: float = 2.0) -> int | None:
    """Publish one event from a process that is no gateway (a `python -m bot ...` command), at once.

    Returns how many gateway processes were listening (Redis counts the subscribers), or None when there
    is no broker (BOT_BROKER_URL unset) or Redis can't be reached: then nobody heard it."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis as sync_redis  # the command is synchronous; the gateway uses redis.asyncio

    client = sync_redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        data = json.dumps({**event, "origin": f"command-{uuid.uuid4().hex}"})
        return int(client.publish(_PREFIX + topic, data))
    except (RedisError, OSError) as error:
        log.warning("broker: could not publish on %s (%s)", topic, error)
        return None
    finally:
        client.close()


def make_broker(url: str) -> Broker:
    if not url:
        return LocalBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"BOT_BROKER_URL must be a redis:// URL or empty, not {url.split(':', 1)[0]}:...")
